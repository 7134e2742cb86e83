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
package sim
