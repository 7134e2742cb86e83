// Package sim simulates one MQTT device the way the ltk tutorial's Locust
// workers did: connect (with a JWT password when the target asks for one),
// subscribe to the device's command topic, then run a Behavior, by default
// the echo behaviour that publishes a numbered message every wait interval and
// measures the round trip until the back end echoes it to the command topic.
//
// The engine (Device.Run) owns the connection: it connects, reconnects with
// backoff after a lost connection, reconnects ahead of credential expiry, and
// stops gracefully. Behaviours see only a Session and stay a few dozen lines.
// Every measured event goes to a Recorder, which the caller supplies; sim has
// no opinion about how events are aggregated.
//
// A device runs on one of two MQTT clients (Config.Client), which record the
// same events in the same cases. The lean client (the default) is ltk's own
// (package mqttlean): a device and its built-in behaviour are a state machine
// driven by its socket's events, served by shared event loops, and by one
// timing wheel for every device's timers, so a running device holds no
// goroutine and about 2 KB (lean.go, lean_conn.go, lean_behavior.go). The
// paho client runs the Eclipse Paho Go client with a supervisor and a
// behaviour goroutine per device (device.go, conn.go, session.go, echo.go),
// the reference the lean client is measured against.
package sim
