// Package clustertls is TLS for the master's gRPC port: the server and client
// configurations a master and its workers build from PEM files (server TLS,
// optionally mutual TLS), a small certificate authority that issues the
// certificates ltk setup puts in a Secret, and the reasons a handshake failed
// in words a person can act on.
//
// The cluster token still authenticates workers over TLS: TLS keeps the
// stream (device keys, the MQTT password) from being read or altered on the
// way and proves the master to the worker; mutual TLS also proves the worker.
package clustertls
