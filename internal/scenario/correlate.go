package scenario

import (
	"bytes"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/ltk-dev/ltk/internal/sim"
)

// correlate sets the expectation's keys from expect.correlate:
//
//	seq                             the sequence number, found in the reply after the text before {{seq}} in the payload
//	payload                         the whole payload (the default): the reply is the message itself
//	correlation_data                the MQTT 5 correlation data the message sent, carried back by the reply
//	{field: id}                     a field of the JSON payload, the same in the reply
//	{sent: id, received: req_id}    a field of the sent payload and another of the reply
//
// Keys are 64-bit: a sequence number as is, anything else its FNV-1a hash.
func (k *kindCompiler) correlate(es *expectSpec, x *sim.Expect, sent *sim.Message, where string) {
	where += ".correlate"
	payload, _ := sent.Payload.(*Template)
	v := es.Correlate
	switch {
	case !v.set() || (v.n.Kind == yaml.ScalarNode && v.n.Value == "payload"):
		x.SentKey, x.RecvKey = payloadKey, payloadKey
	case v.n.Kind == yaml.ScalarNode && v.n.Value == "seq":
		anchor, ok := seqAnchor(payload)
		if !ok {
			k.e.at(v.n, "%s: seq needs {{seq}} in the payload, after some text that finds it in the reply (such as \"seq={{seq}}\" or \"\\\"seq\\\":{{seq}}\")", where)
			return
		}
		key := seqKey([]byte(anchor))
		x.SentKey, x.RecvKey = key, key
	case v.n.Kind == yaml.ScalarNode && v.n.Value == "correlation_data":
		if !k.mqtt5(v.n, where+": correlation_data") {
			return
		}
		if sent.Props == nil || sent.Props.CorrelationData == nil {
			k.e.at(v.n, "%s: correlation_data needs the message to send some: set properties.correlation_data, such as \"{{device}}-{{seq}}\"", where)
			return
		}
		x.SentKey, x.RecvKey = correlationKey, correlationKey
		k.note(where + ": correlation_data")
	case v.n.Kind == yaml.MappingNode:
		if !k.e.checkKeys(v.n, reflect.TypeFor[correlateSpec](), where) {
			return
		}
		var cs correlateSpec
		if err := v.n.Decode(&cs); err != nil {
			k.e.at(v.n, "%s: %v", where, err)
			return
		}
		sent, recv := k.e.text(cs.Sent, where+".sent", ""), k.e.text(cs.Received, where+".received", "")
		if f := k.e.text(cs.Field, where+".field", ""); f != "" {
			if sent != "" || recv != "" {
				k.e.at(v.n, "%s: give field: (the same in both) or sent: and received:, not both", where)
			}
			sent, recv = f, f
		}
		if sent == "" || recv == "" {
			k.e.at(v.n, "%s: name the JSON field: {field: id}, or {sent: id, received: request_id}", where)
			return
		}
		if payload != nil && isJSON(payload.src) {
			if !jsonField(payload.Append(nil, k.sample()), sent).Exists() {
				k.e.at(v.n, "%s: the payload has no field %q", where, sent)
			}
		}
		x.SentKey, x.RecvKey = fieldKey(sent), fieldKey(recv)
	default:
		k.e.at(v.n, "%s: use seq, payload, correlation_data, {field: NAME} or {sent: NAME, received: NAME}", where)
	}
}

// seqAnchor returns the literal text just before {{seq}} in t ("" when
// {{seq}} starts it), and false when t has no {{seq}} or a placeholder
// right before it.
func seqAnchor(t *Template) (string, bool) {
	if t == nil {
		return "", false
	}
	for i, p := range t.parts {
		if p != vSeq {
			continue
		}
		if i == 0 {
			return "", true
		}
		l, ok := t.parts[i-1].(lit)
		return string(l), ok && l != ""
	}
	return "", false
}

// seqKey returns a key that parses the decimal number after the first
// anchor in the payload.
func seqKey(anchor []byte) func(*sim.Vars) (uint64, bool) {
	return func(v *sim.Vars) (uint64, bool) {
		b := v.Payload
		if len(anchor) > 0 {
			i := bytes.Index(b, anchor)
			if i < 0 {
				return 0, false
			}
			b = b[i+len(anchor):]
		}
		var n uint64
		i := 0
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
			d := uint64(b[i] - '0')
			if n > (1<<64-1-d)/10 {
				return 0, false
			}
			n = n*10 + d
		}
		return n, i > 0
	}
}

// payloadKey is the hash of the whole payload.
func payloadKey(v *sim.Vars) (uint64, bool) { return hashBytes(v.Payload), true }

// fieldKey returns a key that hashes a JSON field of the payload, as
// written (a string with its quotes), and fails when the field is missing.
func fieldKey(path string) func(*sim.Vars) (uint64, bool) {
	return func(v *sim.Vars) (uint64, bool) {
		r := jsonField(v.Payload, path)
		if !r.Exists() {
			return 0, false
		}
		return hashString(r.Raw), true
	}
}

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func hashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}
