package mqttlean

import (
	"errors"
	"fmt"
)

// ReasonCode is an MQTT 5 reason code: the outcome a broker gives in
// CONNACK, PUBACK, PUBREC, PUBCOMP, SUBACK and DISCONNECT. Codes from 0x80
// up are failures. As an error it reads as its name and value, such as
// "not authorized (0x87)", and formatting it does not allocate: a failure
// recorded by its text stays one stats entry per code.
type ReasonCode byte //nolint:errname // MQTT's name: a code is an outcome first, an error only from 0x80 up (as mochi's packets.Code)

// reasonNames are the MQTT 5.0 specification's names of the reason codes
// (§2.4), lower case. A code means different things in different packets
// only below 0x80 (0x00: success, normal disconnection, granted QoS 0).
var reasonNames = map[ReasonCode]string{
	0x00: "success", 0x01: "granted QoS 1", 0x02: "granted QoS 2", 0x04: "disconnect with will message",
	0x10: "no matching subscribers", 0x11: "no subscription existed", 0x18: "continue authentication",
	0x19: "re-authenticate", 0x80: "unspecified error", 0x81: "malformed packet", 0x82: "protocol error",
	0x83: "implementation specific error", 0x84: "unsupported protocol version",
	0x85: "client identifier not valid", 0x86: "bad user name or password", 0x87: "not authorized",
	0x88: "server unavailable", 0x89: "server busy", 0x8A: "banned", 0x8B: "server shutting down",
	0x8C: "bad authentication method", 0x8D: "keep alive timeout", 0x8E: "session taken over",
	0x8F: "topic filter invalid", 0x90: "topic name invalid", 0x91: "packet identifier in use",
	0x92: "packet identifier not found", 0x93: "receive maximum exceeded", 0x94: "topic alias invalid",
	0x95: "packet too large", 0x96: "message rate too high", 0x97: "quota exceeded",
	0x98: "administrative action", 0x99: "payload format invalid", 0x9A: "retain not supported",
	0x9B: "QoS not supported", 0x9C: "use another server", 0x9D: "server moved",
	0x9E: "shared subscriptions not supported", 0x9F: "connection rate exceeded",
	0xA0: "maximum connect time", 0xA1: "subscription identifiers not supported",
	0xA2: "wildcard subscriptions not supported",
}

// reasonTexts holds every code's Error text, made once.
var reasonTexts = func() (t [256]string) {
	for i := range t {
		name, ok := reasonNames[ReasonCode(i)]
		if !ok {
			name = "reason code"
		}
		t[i] = fmt.Sprintf("%s (0x%02X)", name, i)
	}
	return t
}()

// Error returns the code's name and value, such as "quota exceeded (0x97)".
func (r ReasonCode) Error() string { return reasonTexts[r] }

// String returns Error.
func (r ReasonCode) String() string { return reasonTexts[r] }

// Failed reports whether r is a failure (0x80 or above).
func (r ReasonCode) Failed() bool { return r >= 0x80 }

// reasonError returns the error of failure code r with the broker's
// reason string, if it gave one: "not authorized (0x87): bad token".
func reasonError(r ReasonCode, reason []byte) error {
	if len(reason) == 0 {
		return r
	}
	return fmt.Errorf("%w: %s", r, quoteControl(reason))
}

// DisconnectError is the reason Handler.Closed gives when an MQTT 5 broker
// ended the connection with a DISCONNECT: its reason code and reason
// string. errors.Is matches its Code (a ReasonCode) and ErrBrokerClosed.
type DisconnectError struct {
	Code   ReasonCode
	Reason string // the broker's reason string; empty if it gave none
}

func (e *DisconnectError) Error() string {
	if e.Reason == "" {
		return "disconnected by the broker: " + e.Code.Error()
	}
	return "disconnected by the broker: " + e.Code.Error() + ": " + e.Reason
}

// Unwrap returns the code and ErrBrokerClosed.
func (e *DisconnectError) Unwrap() []error { return []error{e.Code, ErrBrokerClosed} }

// quoteControl returns b as text, Go-quoted if it holds control characters,
// so that a broker's reason string cannot write to a terminal.
func quoteControl(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return fmt.Sprintf("%q", b)
		}
	}
	return string(b)
}

// ErrInFlightLimit is returned by Publish when the broker's receive maximum
// (MQTT 5) is reached: as many QoS 1 and 2 publishes as it allows await
// their acknowledgement.
var ErrInFlightLimit = errors.New("the broker's receive maximum is reached: too many publishes await their acknowledgement")

// ErrPacketTooLarge is returned by Publish for a message above the
// broker's maximum packet size (MQTT 5); the connection stays up.
var ErrPacketTooLarge = errors.New("the message is above the broker's maximum packet size")
