// Package sim simulates MQTT devices the way the ltk tutorial's Locust
// workers did, and more: a device runs a Program, the data that says how it
// connects (with a JWT password when the target asks for one), what it
// subscribes to, what it publishes and when, which replies it awaits and how
// it answers messages. The tutorial's echo behaviour (EchoProgram: publish a
// numbered message every wait interval and measure the round trip until the
// back end echoes it to the command topic) and plain telemetry
// (TelemetryProgram) are Programs built in Go; package scenario compiles
// users' scenario files into Programs too.
//
// One engine runs every Program (device.go, machine_conn.go,
// machine_program.go): an event-driven state machine per device run, fed by
// its connection's events (connected, subscribed, message, acked, closed)
// and by one timer on a timing wheel (wheel.go). It connects, reconnects
// with backoff after a lost connection, reconnects ahead of credential
// expiry, and stops gracefully, waiting for the replies and
// acknowledgements in flight. Every measured event goes to a Recorder,
// which the caller supplies; sim has no opinion about how events are
// aggregated.
//
// A device runs on one of two MQTT clients (Config.Client), which feed the
// engine the same events, so they record the same events in the same
// cases. The lean client (the default) is ltk's own (package mqttlean): the
// machine is the connection's Handler, called by epoll loops shared by many
// connections (link_lean.go). The paho client runs the Eclipse Paho Go
// client, whose callbacks deliver the events (link_paho.go): the reference
// the lean client is measured against. Neither holds a goroutine per device
// for the device's behaviour.
//
// Loops and the wheel belong to an Engine, which whoever runs devices (a
// swarm, a worker, ltk bench) makes and gives to its devices
// (Config.Engine); nothing is set up when the package is imported.
package sim
