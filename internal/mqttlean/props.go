package mqttlean

import (
	"encoding/binary"
	"fmt"
)

// MQTT 5 property identifiers (MQTT 5.0 §2.2.2.2).
const (
	propPayloadFormat      = 0x01
	propMessageExpiry      = 0x02
	propContentType        = 0x03
	propResponseTopic      = 0x08
	propCorrelationData    = 0x09
	propSubscriptionID     = 0x0B
	propSessionExpiry      = 0x11
	propAssignedClientID   = 0x12
	propServerKeepAlive    = 0x13
	propAuthMethod         = 0x15
	propAuthData           = 0x16
	propRequestProblemInfo = 0x17
	propWillDelay          = 0x18
	propRequestRespInfo    = 0x19
	propResponseInfo       = 0x1A
	propServerReference    = 0x1C
	propReasonString       = 0x1F
	propReceiveMaximum     = 0x21
	propTopicAliasMaximum  = 0x22
	propTopicAlias         = 0x23
	propMaximumQoS         = 0x24
	propRetainAvailable    = 0x25
	propUser               = 0x26
	propMaximumPacketSize  = 0x27
	propWildcardAvailable  = 0x28
	propSubIDAvailable     = 0x29
	propSharedAvailable    = 0x2A
)

// Properties are the MQTT 5 properties of a PUBLISH (or of a will): what
// PublishMessage sends with Message.Properties, and what
// Conn.ReceivedProperties shows during Handler.Message. Zero fields are
// absent. On a received message the slices alias the read buffer and are
// valid only during the Message call.
type Properties struct {
	// PayloadFormat is 1 when the payload is UTF-8 text; 0 = unspecified
	// bytes (absent).
	PayloadFormat byte
	// MessageExpiry is the message's lifetime in seconds; 0 = absent (it
	// does not expire).
	MessageExpiry uint32
	// ContentType is the payload's MIME type, such as application/json.
	ContentType []byte
	// ResponseTopic and CorrelationData are MQTT 5's request/response
	// pair: where to reply, and what the reply carries back to match it.
	ResponseTopic, CorrelationData []byte
	// User are the message's user properties, in order.
	User []UserProperty
	// TopicAlias is the alias the message arrived with (received only: a
	// Conn assigns the aliases it sends itself, see Options.TopicAliases).
	TopicAlias uint16
}

// UserProperty is one MQTT 5 user property: a name and a value.
type UserProperty struct{ Key, Value []byte }

// size returns the encoded size of p's properties, with alias as its
// topic alias (0 = none).
func (p *Properties) size(alias uint16) int {
	n := 0
	if p != nil {
		if p.PayloadFormat != 0 {
			n += 2
		}
		if p.MessageExpiry != 0 {
			n += 5
		}
		n += sizeBytesProp(p.ContentType) + sizeBytesProp(p.ResponseTopic) + sizeBytesProp(p.CorrelationData)
		for _, u := range p.User {
			n += 1 + 2 + len(u.Key) + 2 + len(u.Value)
		}
	}
	if alias != 0 {
		n += 3
	}
	return n
}

// append appends p's properties (without their length), with alias as
// its topic alias (0 = none); p may be nil.
func (p *Properties) append(dst []byte, alias uint16) []byte {
	if p != nil {
		if p.PayloadFormat != 0 {
			dst = append(dst, propPayloadFormat, p.PayloadFormat)
		}
		if p.MessageExpiry != 0 {
			dst = binary.BigEndian.AppendUint32(append(dst, propMessageExpiry), p.MessageExpiry)
		}
		dst = appendBytesProp(dst, propContentType, p.ContentType)
		dst = appendBytesProp(dst, propResponseTopic, p.ResponseTopic)
		dst = appendBytesProp(dst, propCorrelationData, p.CorrelationData)
	}
	if alias != 0 {
		dst = binary.BigEndian.AppendUint16(append(dst, propTopicAlias), alias)
	}
	if p != nil {
		dst = appendUser(dst, p.User)
	}
	return dst
}

// sizeBytesProp is the size of a string or binary property holding b; 0
// when b is empty (absent).
func sizeBytesProp(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	return 1 + 2 + len(b)
}

// appendBytesProp appends a string or binary property unless b is empty.
func appendBytesProp[T ~string | ~[]byte](dst []byte, id byte, b T) []byte {
	if len(b) == 0 {
		return dst
	}
	return appendString(append(dst, id), b)
}

// appendUser appends user properties.
func appendUser(dst []byte, user []UserProperty) []byte {
	for _, u := range user {
		dst = appendString(appendString(append(dst, propUser), u.Key), u.Value)
	}
	return dst
}

// sizeLength returns the size of MQTT's variable-length encoding of n.
func sizeLength(n int) int {
	switch {
	case n < 128:
		return 1
	case n < 16384:
		return 2
	case n < 2097152:
		return 3
	}
	return 4
}

// props is every property a packet from the broker may carry, decoded in
// place: the slices alias the packet. has records which were present.
type props struct {
	Properties
	has             uint64 // bit id&63 set for each property present
	sessionExpiry   uint32
	assignedID      []byte
	serverKeepAlive uint16
	reasonString    []byte
	receiveMaximum  uint16
	topicAliasMax   uint16
	maximumQoS      byte
	maximumPacket   uint32
}

// present reports whether property id was in the packet.
func (p *props) present(id byte) bool { return p.has&(1<<(id&63)) != 0 }

// readVarInt decodes a variable byte integer at the start of b, returning
// it and its size; size 0 means b is malformed.
func readVarInt(b []byte) (v, size int) {
	shift := 0
	for i := 0; i < len(b) && i < 4; i++ {
		v |= int(b[i]&0x7f) << shift
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
		shift += 7
	}
	return 0, 0
}

// parseProps decodes the property list (length first) at the start of b
// into p and returns the bytes after it. p's user property slice is reused.
// It does not allocate once that slice has grown to the packets' needs.
func parseProps(b []byte, p *props) ([]byte, error) {
	*p = props{Properties: Properties{User: p.User[:0]}}
	n, size := readVarInt(b)
	if size == 0 || len(b)-size < n {
		return nil, fmt.Errorf("%w: property length beyond the packet", errMalformed)
	}
	list, rest := b[size:size+n], b[size+n:]
	for len(list) > 0 {
		id := list[0]
		list = list[1:]
		var err error
		switch id {
		case propPayloadFormat, propRequestProblemInfo, propRequestRespInfo, propMaximumQoS,
			propRetainAvailable, propWildcardAvailable, propSubIDAvailable, propSharedAvailable:
			var v byte
			if v, list, err = take1(list); err == nil {
				switch id {
				case propPayloadFormat:
					p.PayloadFormat = v
				case propMaximumQoS:
					p.maximumQoS = v
				}
			}
		case propServerKeepAlive, propReceiveMaximum, propTopicAliasMaximum, propTopicAlias:
			var v uint16
			if v, list, err = take2(list); err == nil {
				switch id {
				case propServerKeepAlive:
					p.serverKeepAlive = v
				case propReceiveMaximum:
					p.receiveMaximum = v
				case propTopicAliasMaximum:
					p.topicAliasMax = v
				case propTopicAlias:
					p.TopicAlias = v
				}
			}
		case propMessageExpiry, propSessionExpiry, propWillDelay, propMaximumPacketSize:
			var v uint32
			if v, list, err = take4(list); err == nil {
				switch id {
				case propMessageExpiry:
					p.MessageExpiry = v
				case propSessionExpiry:
					p.sessionExpiry = v
				case propMaximumPacketSize:
					p.maximumPacket = v
				}
			}
		case propContentType, propResponseTopic, propCorrelationData, propAssignedClientID,
			propAuthMethod, propAuthData, propResponseInfo, propServerReference, propReasonString:
			var v []byte
			if v, list, err = takeBytes(list); err == nil {
				switch id {
				case propContentType:
					p.ContentType = v
				case propResponseTopic:
					p.ResponseTopic = v
				case propCorrelationData:
					p.CorrelationData = v
				case propAssignedClientID:
					p.assignedID = v
				case propReasonString:
					p.reasonString = v
				}
			}
		case propSubscriptionID:
			_, size := readVarInt(list)
			if size == 0 {
				err = fmt.Errorf("%w: bad subscription identifier", errMalformed)
			}
			list = list[size:]
		case propUser:
			var k, v []byte
			if k, list, err = takeBytes(list); err == nil {
				if v, list, err = takeBytes(list); err == nil {
					p.User = append(p.User, UserProperty{Key: k, Value: v})
				}
			}
		default:
			return nil, fmt.Errorf("%w: unknown property 0x%02X", errMalformed, id)
		}
		if err != nil {
			return nil, err
		}
		p.has |= 1 << (id & 63)
	}
	return rest, nil
}

// errShortProperty is the error of a property cut short.
var errShortProperty = fmt.Errorf("%w: property cut short", errMalformed)

func take1(b []byte) (byte, []byte, error) {
	if len(b) < 1 {
		return 0, nil, errShortProperty
	}
	return b[0], b[1:], nil
}

func take2(b []byte) (uint16, []byte, error) {
	if len(b) < 2 {
		return 0, nil, errShortProperty
	}
	return binary.BigEndian.Uint16(b), b[2:], nil
}

func take4(b []byte) (uint32, []byte, error) {
	if len(b) < 4 {
		return 0, nil, errShortProperty
	}
	return binary.BigEndian.Uint32(b), b[4:], nil
}

func takeBytes(b []byte) ([]byte, []byte, error) {
	if len(b) < 2 || len(b)-2 < int(binary.BigEndian.Uint16(b)) {
		return nil, nil, errShortProperty
	}
	n := 2 + int(binary.BigEndian.Uint16(b))
	return b[2:n], b[n:], nil
}
