// Package runset holds the run settings: how a test's devices connect and
// behave (broker, TLS, auth, client ids, behaviour, QoS, waits, timeouts,
// payload size, MQTT client). Each setting has its default and its one check
// here; the CLI checks the settings a person gives, a worker checks those a
// master sends, and the device engine (sim), ltk bench and ltk echo call the
// same checks for the fields they share.
//
// The package is a leaf: it imports only the standard library, so that every
// package that needs a setting or its check can import it. The names of the
// device behaviours and MQTT client engines belong to sim, which checks them
// (sim.BehaviorByName, sim.CheckClient); the wire form is ltkv1.EncodeSettings
// and ltkv1.DecodeSettings.
package runset
