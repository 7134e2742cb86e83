// Package target is ltk's embedded IoT target: an MQTT broker (mochi-mqtt)
// that behaves like Cloud IoT Core's MQTT bridge, plus the echo app in-process.
//
// # Device authentication (Auth "jwt")
//
// A device connects with client id
//
//	projects/PROJECT/locations/REGION/registries/REGISTRY/devices/ID
//
// whose PROJECT, REGION and REGISTRY must be the target's. The username is
// ignored; the password is a JWT signed with the key registered for ID
// (KeyStore): RS256 for an RSA key, ES256 for a P-256 key, nothing else (no
// "none", no HS*). Its aud must be PROJECT, exp in the future, iat no more than
// ClockSkew (1 min) in the future, and exp - iat at most MaxJWTLifetime (24h).
// iat and exp must be JSON numbers. A refused device gets CONNACK "not
// authorized" (MQTT 3.1.1 return code 5, MQTT 5 reason 0x87), or "bad user
// name or password" when it sent no password (4, 0x86), and
// ltk_target_connects_refused_total{reason} counts why (see Reasons). An
// accepted connection is closed when its JWT expires.
//
// With Auth "none" any client id connects without a password.
//
// # Topics
//
// Device D (the last element of an IoT-Core client id, else the whole id) may
// publish to /devices/D/events, /devices/D/events/... and /devices/D/state,
// and subscribe to /devices/D/commands, /devices/D/commands/... and
// /devices/D/config. A Will obeys the same rule: a CONNECT whose Will topic
// the client may not publish to (or that has a wildcard) is refused, and the
// Will is checked again before it is published. Back-end clients
// (BackendPrefix, BackendToken) and the in-process echo app may use any topic.
//
// # Limits
//
// Before authentication a connection must send its whole CONNECT within
// ConnectTimeout, in at most MaxConnectSize bytes (checked from the fixed
// header, before the packet is buffered). Afterwards packets are capped at
// MaxPacketSize, unacknowledged QoS > 0 messages at MaxInflight per client and
// direction, queued messages at MaxPendingWrites, and the retained store at
// MaxRetained messages of at most MaxRetainedSize bytes. Failed accepts (such
// as EMFILE) are retried with back-off rather than ending the listener.
//
// # Echo app
//
// Unless DisableEcho is set, the echo app (package echo) receives every
// /devices/+/events/# message and publishes its payload back to
// /devices/D/commands at the message's QoS (at most 1).
//
// # Metrics
//
// ltk_target_connections, ltk_target_connects_total,
// ltk_target_connects_refused_total{reason}, ltk_target_messages_received_total,
// ltk_target_messages_sent_total, ltk_target_messages_dropped_total,
// ltk_target_jwt_expired_disconnects_total, ltk_target_accept_errors_total,
// ltk_target_wills_dropped_total, ltk_target_retained_refused_total and
// the echo app's ltk_echo_* metrics, served on MetricsAddr at /metrics.
//
// Tests start a target with package targettest.
package target
