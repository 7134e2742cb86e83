// Package e2e holds ltk's end-to-end tests: real ltk processes (master,
// workers) built once per run, talking gRPC and MQTT on loopback, against
// the embedded target, with crashes, restarts and network cuts.
package e2e
