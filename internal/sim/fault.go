package sim

import (
	"errors"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// A Fault is why an event failed, as a Recorder gets it: what failed, and
// the broker's refusal where it sent one (a CONNACK, PUBACK or SUBACK
// return or reason code and, in MQTT 5, a reason string). Message makes the
// failures table's row of it, so Msg, Packet and Code should come from small
// sets: a row per distinct message.
type Fault struct {
	Msg    string // what failed, such as "connection refused: not authorized"
	Packet string // the refusing packet ("CONNACK", "PUBACK", "SUBACK"); "" if the broker refused nothing
	Code   byte   // its return or reason code; meaningful when Packet is set
	Reason string // its reason string (MQTT 5); "" if none
}

// Message returns the fault as a failure row's message: Msg, followed by
// the packet's code and reason string if the broker refused:
// "connection refused: not authorized (CONNACK 0x05)". It allocates only
// for a refusal.
func (f Fault) Message() string {
	if f.Packet == "" {
		return f.Msg
	}
	s := f.Msg + " (" + f.Packet + " 0x" + hex2(f.Code)
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s + ")"
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&0xf]})
}

// faultMsg is a Fault with only a message.
func faultMsg(msg string) Fault { return Fault{Msg: msg} }

// A ReasonCoder is an error of an MQTT client that carries the broker's
// refusal: the packet, its return or reason code and its reason string
// ("" in MQTT 3.1.1). FaultOf turns it into a Fault, so that a client that
// implements it (the lean client's MQTT 5 reason codes, for instance) gets
// its codes into the failures table.
type ReasonCoder interface {
	error
	Packet() string
	ReasonCode() byte
	ReasonString() string
}

// connackWords are the MQTT 3.1.1 CONNACK return codes in words, as the
// specification names them.
var connackWords = [...]string{
	packets.ErrRefusedBadProtocolVersion:    "unacceptable protocol version",
	packets.ErrRefusedIDRejected:            "identifier rejected",
	packets.ErrRefusedServerUnavailable:     "server unavailable",
	packets.ErrRefusedBadUsernameOrPassword: "bad user name or password",
	packets.ErrRefusedNotAuthorised:         "not authorized",
}

// FaultOf returns the Fault of err: the broker's code where err carries one
// (a ReasonCoder, or a refusing CONNACK's return code as both of ltk's MQTT
// 3.1.1 clients report it: paho's errors), else err's text.
func FaultOf(err error) Fault {
	var rc ReasonCoder
	if errors.As(err, &rc) {
		msg := rc.Packet() + " refused"
		switch rc.Packet() {
		case "CONNACK":
			msg = "connection refused"
		case "PUBACK":
			msg = "publish refused"
		case "SUBACK":
			msg = "subscription refused"
		}
		return Fault{Msg: msg, Packet: rc.Packet(), Code: rc.ReasonCode(), Reason: rc.ReasonString()}
	}
	for code, words := range connackWords {
		if words != "" && errors.Is(err, packets.ConnErrors[byte(code)]) {
			return Fault{Msg: "connection refused: " + words, Packet: "CONNACK", Code: byte(code)}
		}
	}
	return Fault{Msg: err.Error()}
}
