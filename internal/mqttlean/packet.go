package mqttlean

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MQTT control packet types, the high nibble of the fixed header; the
// values are those of paho's packets package (and MQTT 5's AUTH).
const (
	typeConnect    = 1
	typeConnack    = 2
	typePublish    = 3
	typePuback     = 4
	typePubrec     = 5
	typePubrel     = 6
	typePubcomp    = 7
	typeSubscribe  = 8
	typeSuback     = 9
	typePingreq    = 12
	typePingresp   = 13
	typeDisconnect = 14
	typeAuth       = 15
)

// Protocol levels of the CONNECT packet (Options.Version).
const (
	Version311 = 4 // MQTT 3.1.1
	Version5   = 5 // MQTT 5.0
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

// appendConnect appends the CONNECT of o (MQTT 3.1.1, or 5 with its
// properties), with keepAlive in seconds. The user name flag is set when
// the user name or the password is non-empty (3.1.1 allows no password
// without a user name); the password flag when the password is; the will
// flags when o.Will is not nil.
func appendConnect(dst []byte, o *Options, keepAlive uint16) []byte {
	var flags byte
	if !o.KeepSession {
		flags = 0x02
	}
	v5 := o.Version == Version5
	n := 10 + 2 + len(o.ClientID)
	var props, willProps int
	if v5 {
		props = connectPropsSize(o)
		n += sizeLength(props) + props
	}
	will := o.Will
	if will != nil {
		flags |= 0x04 | will.QoS<<3
		if will.Retain {
			flags |= 0x20
		}
		n += 2 + len(will.Topic) + 2 + len(will.Payload)
		if v5 {
			willProps = will.Properties.size(0)
			n += sizeLength(willProps) + willProps
		}
	}
	if o.Username != "" || o.Password != "" {
		flags |= 0x80
		n += 2 + len(o.Username)
	}
	if o.Password != "" {
		flags |= 0x40
		n += 2 + len(o.Password)
	}
	level := byte(Version311)
	if v5 {
		level = Version5
	}
	dst = append(dst, typeConnect<<4)
	dst = appendLength(dst, n)
	dst = append(dst, 0, 4, 'M', 'Q', 'T', 'T', level, flags)
	dst = binary.BigEndian.AppendUint16(dst, keepAlive)
	if v5 {
		dst = appendConnectProps(appendLength(dst, props), o)
	}
	dst = appendString(dst, o.ClientID)
	if will != nil {
		if v5 {
			dst = will.Properties.append(appendLength(dst, willProps), 0)
		}
		dst = appendString(dst, will.Topic)
		dst = appendString(dst, will.Payload)
	}
	if flags&0x80 != 0 {
		dst = appendString(dst, o.Username)
	}
	if flags&0x40 != 0 {
		dst = appendString(dst, o.Password)
	}
	return dst
}

// connectPropsSize is the size of the MQTT 5 CONNECT properties of o.
func connectPropsSize(o *Options) int {
	n := 0
	if o.SessionExpiry != 0 {
		n += 5
	}
	if o.ReceiveMaximum != 0 {
		n += 3
	}
	if o.MaxPacketSize != 0 {
		n += 5
	}
	if o.RequestResponseInfo {
		n += 2
	}
	for _, u := range o.UserProperties {
		n += 1 + 2 + len(u.Key) + 2 + len(u.Value)
	}
	return n
}

// appendConnectProps appends the MQTT 5 CONNECT properties of o.
func appendConnectProps(dst []byte, o *Options) []byte {
	if o.SessionExpiry != 0 {
		dst = binary.BigEndian.AppendUint32(append(dst, propSessionExpiry), o.SessionExpiry)
	}
	if o.ReceiveMaximum != 0 {
		dst = binary.BigEndian.AppendUint16(append(dst, propReceiveMaximum), o.ReceiveMaximum)
	}
	if o.MaxPacketSize != 0 {
		dst = binary.BigEndian.AppendUint32(append(dst, propMaximumPacketSize), o.MaxPacketSize)
	}
	if o.RequestResponseInfo {
		dst = append(dst, propRequestRespInfo, 1)
	}
	return appendUser(dst, o.UserProperties)
}

// appendSubscribe appends a SUBSCRIBE to one filter with options so (MQTT
// 3.1.1 takes its QoS only; MQTT 5 its other options too, and an empty
// property list).
func appendSubscribe(dst []byte, id uint16, filter string, so SubscribeOptions, v5 bool) []byte {
	opts := so.QoS
	n := 2 + 2 + len(filter) + 1
	if v5 {
		n++ // no properties
		if so.NoLocal {
			opts |= 0x04
		}
		if so.RetainAsPublished {
			opts |= 0x08
		}
		opts |= so.RetainHandling << 4
	}
	dst = append(dst, typeSubscribe<<4|0x02) // reserved flags 0010
	dst = appendLength(dst, n)
	dst = binary.BigEndian.AppendUint16(dst, id)
	if v5 {
		dst = append(dst, 0)
	}
	dst = appendString(dst, filter)
	return append(dst, opts)
}

// appendPublish appends an MQTT 3.1.1 PUBLISH; id is written only for QoS > 0.
func appendPublish[T ~string | ~[]byte](dst []byte, topic T, qos byte, retain bool, id uint16, payload []byte) []byte {
	return appendPublishV(dst, topic, qos, retain, id, payload, false, nil, 0)
}

// appendPublishV appends a PUBLISH; id is written only for QoS > 0. With
// v5 it carries props and alias (0 = none) as its MQTT 5 properties.
func appendPublishV[T ~string | ~[]byte](dst []byte, topic T, qos byte, retain bool, id uint16, payload []byte, v5 bool, props *Properties, alias uint16) []byte {
	n := 2 + len(topic) + len(payload)
	if qos > 0 {
		n += 2
	}
	var pn int
	if v5 {
		pn = props.size(alias)
		n += sizeLength(pn) + pn
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
	if v5 {
		dst = props.append(appendLength(dst, pn), alias)
	}
	return append(dst, payload...)
}

// appendPuback appends a PUBACK for id.
func appendPuback(dst []byte, id uint16) []byte { return appendAck(dst, typePuback, id) }

// appendAck appends a PUBACK, PUBREC, PUBREL or PUBCOMP for id with reason
// code 0: the short form both versions read.
func appendAck(dst []byte, typ byte, id uint16) []byte {
	header := typ << 4
	if typ == typePubrel {
		header |= 0x02 // reserved flags 0010
	}
	return append(dst, header, 2, byte(id>>8), byte(id))
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

// parsePublish decodes a PUBLISH body. topic and payload alias body. With
// v5, the properties between them go to p (which then aliases body too).
func parsePublish(header byte, body []byte, v5 bool, p *props) (topic []byte, qos byte, id uint16, payload []byte, err error) {
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
		if id == 0 {
			return nil, 0, 0, nil, fmt.Errorf("%w: PUBLISH with packet id 0", errMalformed)
		}
	}
	if v5 {
		if rest, err = parseProps(rest, p); err != nil {
			return nil, 0, 0, nil, err
		}
	}
	return topic, qos, id, rest, nil
}

// parseAck decodes a PUBACK, PUBREC, PUBREL or PUBCOMP body: the packet id
// and, from an MQTT 5 broker, the reason code and reason string that may
// follow (p receives the properties).
func parseAck(body []byte, v5 bool, p *props) (uint16, ReasonCode, error) {
	id, err := parseID(body)
	if err != nil || !v5 || len(body) < 3 {
		return id, 0, err
	}
	code := ReasonCode(body[2])
	if len(body) > 3 {
		if _, err := parseProps(body[3:], p); err != nil {
			return 0, 0, err
		}
	}
	return id, code, nil
}

// parseID decodes the packet id that starts a PUBACK or SUBACK body.
func parseID(body []byte) (uint16, error) {
	if len(body) < 2 {
		return 0, fmt.Errorf("%w: acknowledgement without a packet id", errMalformed)
	}
	return binary.BigEndian.Uint16(body), nil
}
