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
// A refused device gets CONNACK "not authorized" (MQTT 3.1.1 return code 5,
// MQTT 5 reason 0x87), and ltk_target_connects_refused_total{reason} counts
// why (see Reasons). An accepted connection is closed when its JWT expires.
//
// With Auth "none" any client id connects without a password.
//
// # Topics
//
// Device D (the last element of an IoT-Core client id, else the whole id) may
// publish to /devices/D/events, /devices/D/events/... and /devices/D/state,
// and subscribe to /devices/D/commands, /devices/D/commands/... and
// /devices/D/config. Back-end clients (BackendPrefix, BackendToken) and the
// in-process echo app may use any topic.
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
// ltk_target_jwt_expired_disconnects_total and
// the echo app's ltk_echo_* metrics, served on MetricsAddr at /metrics.
//
// Tests start a target with package targettest.
package target
