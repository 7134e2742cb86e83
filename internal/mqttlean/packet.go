package mqttlean

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MQTT 3.1.1 control packet types, the high nibble of the fixed header; the
// values are those of paho's packets package.
const (
	typeConnect    = 1
	typeConnack    = 2
	typePublish    = 3
	typePuback     = 4
	typeSubscribe  = 8
	typeSuback     = 9
	typePingreq    = 12
	typePingresp   = 13
	typeDisconnect = 14
)

// maxPacket bounds an incoming packet. A larger remaining length is treated
// as a protocol error rather than buffered.
const maxPacket = 16 << 20

// Fixed two-byte packets.
var (
	pingreqPacket    = []byte{typePingreq << 4, 0}
	disconnectPacket = []byte{typeDisconnect << 4, 0}
)

// errMalformed is wrapped by every decoding error.
var errMalformed = errors.New("malformed packet from the broker")

// appendLength appends MQTT's variable-length remaining length.
func appendLength(dst []byte, n int) []byte {
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			b |= 0x80
		}
		dst = append(dst, b)
		if n == 0 {
			return dst
		}
	}
}

// appendString appends a length-prefixed UTF-8 string.
func appendString[T ~string | ~[]byte](dst []byte, s T) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
	return append(dst, s...)
}

// appendConnect appends an MQTT 3.1.1 CONNECT, with a clean session when
// clean is true. The user name flag is set when username or password is non-empty (3.1.1 allows
// no password without a user name); the password flag when password is; the
// will flags when will is not nil.
func appendConnect(dst []byte, clientID, username, password string, keepAlive uint16, will *Message, clean bool) []byte {
	var flags byte
	if clean {
		flags = 0x02
	}
	n := 10 + 2 + len(clientID)
	if will != nil {
		flags |= 0x04 | will.QoS<<3
		if will.Retain {
			flags |= 0x20
		}
		n += 2 + len(will.Topic) + 2 + len(will.Payload)
	}
	if username != "" || password != "" {
		flags |= 0x80
		n += 2 + len(username)
	}
	if password != "" {
		flags |= 0x40
		n += 2 + len(password)
	}
	dst = append(dst, typeConnect<<4)
	dst = appendLength(dst, n)
	dst = append(dst, 0, 4, 'M', 'Q', 'T', 'T', 4, flags)
	dst = binary.BigEndian.AppendUint16(dst, keepAlive)
	dst = appendString(dst, clientID)
	if will != nil {
		dst = appendString(dst, will.Topic)
		dst = appendString(dst, will.Payload)
	}
	if flags&0x80 != 0 {
		dst = appendString(dst, username)
	}
	if flags&0x40 != 0 {
		dst = appendString(dst, password)
	}
	return dst
}

// appendSubscribe appends a SUBSCRIBE to one filter.
func appendSubscribe(dst []byte, id uint16, filter string, qos byte) []byte {
	dst = append(dst, typeSubscribe<<4|0x02) // reserved flags 0010
	dst = appendLength(dst, 2+2+len(filter)+1)
	dst = binary.BigEndian.AppendUint16(dst, id)
	dst = appendString(dst, filter)
	return append(dst, qos)
}

// appendPublish appends a PUBLISH; id is written only for QoS > 0.
func appendPublish[T ~string | ~[]byte](dst []byte, topic T, qos byte, retain bool, id uint16, payload []byte) []byte {
	n := 2 + len(topic) + len(payload)
	if qos > 0 {
		n += 2
	}
	header := typePublish<<4 | qos<<1
	if retain {
		header |= 0x01
	}
	dst = append(dst, header)
	dst = appendLength(dst, n)
	dst = appendString(dst, topic)
	if qos > 0 {
		dst = binary.BigEndian.AppendUint16(dst, id)
	}
	return append(dst, payload...)
}

// appendPuback appends a PUBACK for id.
func appendPuback(dst []byte, id uint16) []byte {
	return append(dst, typePuback<<4, 2, byte(id>>8), byte(id))
}

// split returns the first whole packet of b: its fixed header byte, its body
// (the bytes after the remaining length) and its total size n. n is 0 when b
// does not yet hold a whole packet. It fails on a remaining length longer
// than four bytes or above maxPacket. It does not allocate.
func split(b []byte) (header byte, body []byte, n int, err error) {
	if len(b) < 2 {
		return 0, nil, 0, nil
	}
	length, shift := 0, 0
	i := 1
	for {
		if i >= len(b) {
			return 0, nil, 0, nil
		}
		if i > 4 {
			return 0, nil, 0, fmt.Errorf("%w: remaining length longer than 4 bytes", errMalformed)
		}
		c := b[i]
		length |= int(c&0x7f) << shift
		i++
		if c&0x80 == 0 {
			break
		}
		shift += 7
	}
	if length > maxPacket {
		return 0, nil, 0, fmt.Errorf("%w: %d bytes is above the %d-byte limit", errMalformed, length, maxPacket)
	}
	if len(b)-i < length {
		return 0, nil, 0, nil
	}
	return b[0], b[i : i+length], i + length, nil
}

// parsePublish decodes a PUBLISH body. topic and payload alias body.
func parsePublish(header byte, body []byte) (topic []byte, qos byte, id uint16, payload []byte, err error) {
	qos = header >> 1 & 0x03
	if qos > 2 {
		return nil, 0, 0, nil, fmt.Errorf("%w: PUBLISH with QoS 3", errMalformed)
	}
	if len(body) < 2 {
		return nil, 0, 0, nil, fmt.Errorf("%w: PUBLISH without a topic", errMalformed)
	}
	tl := int(binary.BigEndian.Uint16(body))
	rest := body[2:]
	if len(rest) < tl {
		return nil, 0, 0, nil, fmt.Errorf("%w: PUBLISH topic longer than the packet", errMalformed)
	}
	topic, rest = rest[:tl], rest[tl:]
	if qos > 0 {
		if len(rest) < 2 {
			return nil, 0, 0, nil, fmt.Errorf("%w: PUBLISH without a packet id", errMalformed)
		}
		id, rest = binary.BigEndian.Uint16(rest), rest[2:]
	}
	return topic, qos, id, rest, nil
}

// parseID decodes the packet id that starts a PUBACK or SUBACK body.
func parseID(body []byte) (uint16, error) {
	if len(body) < 2 {
		return 0, fmt.Errorf("%w: acknowledgement without a packet id", errMalformed)
	}
	return binary.BigEndian.Uint16(body), nil
}
