package scenario

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ltk-dev/ltk/internal/sim"
)

// MQTT 5 in a scenario: a message's properties, a subscription's options,
// the {{response_topic}} and {{correlation_data}} of a received message,
// and correlate: correlation_data. Each needs the kind to connect with
// connect.mqtt_version: 5; a kind that does not is told where.

// mqtt5 reports whether the kind connects with MQTT 5, and records an error
// at n about what (a key) needing it when it does not.
func (k *kindCompiler) mqtt5(n *yaml.Node, what string) bool {
	if !k.v5 {
		k.e.at(n, "%s is MQTT 5: set connect.mqtt_version: 5 in kind %s (MQTT 3.1.1 has no such thing)", what, k.info.name)
	}
	return k.v5
}

// properties compiles a message's MQTT 5 properties; their templates read
// what the message's payload may (sc: a reply reads the received message).
func (k *kindCompiler) properties(ps *propertiesSpec, where string, sc scope) *sim.Props {
	if !k.mqtt5(ps.node, where) {
		return nil
	}
	if ps.node.Kind != yaml.MappingNode {
		k.e.at(ps.node, "%s must be a mapping, such as {response_topic: ..., correlation_data: ...}", where)
		return nil
	}
	p := &sim.Props{}
	textSc := scope{what: "property", noPad: true, message: sc.message}
	binSc := scope{what: "correlation data", message: sc.message}
	p.ContentType = tmpl(k.template(ps.ContentType, where+".content_type", textSc))
	if f, ok := k.e.scalar(ps.PayloadFormat, where+".payload_format"); ok {
		switch f {
		case "utf8":
			p.PayloadFormat = 1
		case "bytes":
		default:
			k.e.at(ps.PayloadFormat.n, "%s.payload_format %q: use utf8 (the payload is UTF-8 text) or bytes (unspecified)%s", where, f, suggest(f, []string{"utf8", "bytes"}))
		}
	}
	if d := k.e.duration(ps.MessageExpiry, where+".message_expiry", 0); d > 0 {
		switch {
		case d%time.Second != 0:
			k.e.at(ps.MessageExpiry.n, "%s.message_expiry %v: MQTT counts whole seconds: use 1s, 30s, 5m...", where, d)
		case d/time.Second > math.MaxUint32:
			k.e.at(ps.MessageExpiry.n, "%s.message_expiry %v is beyond MQTT's 136 years", where, d)
		default:
			p.MessageExpiry = uint32(d / time.Second)
		}
	}
	if t := k.template(ps.ResponseTopic, where+".response_topic", topicScope); t != nil {
		p.ResponseTopic = t
		if off := wildcardAt(t.src); off >= 0 {
			k.errInside(ps.ResponseTopic.n, off, "%s.response_topic: %q is a wildcard, which a reply's topic cannot hold: name the topic exactly", where, t.src[off:off+1])
		}
	}
	p.CorrelationData = tmpl(k.template(ps.CorrelationData, where+".correlation_data", binSc))
	if u := ps.UserProperties; u.set() {
		if u.n.Kind != yaml.MappingNode {
			k.e.at(u.n, "%s.user_properties must map names to values, such as {source: ltk, device: \"{{device}}\"}", where)
		} else if k.e.noRepeats(u.n, where+".user_properties") {
			for i := 0; i+1 < len(u.n.Content); i += 2 {
				name := u.n.Content[i].Value
				if t := k.template(value{u.n.Content[i+1]}, where+".user_properties."+name, textSc); t != nil {
					p.User = append(p.User, sim.UserProp{Key: name, Value: t})
				}
			}
		}
	}
	k.noteProps(where, ps)
	return p
}

// noteProps notes the properties a message sets, for ltk scenario check.
func (k *kindCompiler) noteProps(where string, ps *propertiesSpec) {
	var keys []string
	for _, f := range []struct {
		v    value
		name string
	}{
		{ps.ContentType, "content_type"}, {ps.PayloadFormat, "payload_format"}, {ps.MessageExpiry, "message_expiry"},
		{ps.ResponseTopic, "response_topic"}, {ps.CorrelationData, "correlation_data"}, {ps.UserProperties, "user_properties"},
	} {
		if f.v.set() {
			keys = append(keys, f.name)
		}
	}
	if len(keys) > 0 {
		k.note(strings.TrimSuffix(where, ".properties") + ": properties " + strings.Join(keys, ", "))
	}
}

// note records an MQTT 5 feature the kind uses, for ltk scenario check;
// where starts with "kind NAME: ", which the note drops.
func (k *kindCompiler) note(what string) {
	k.info.mqtt5 = append(k.info.mqtt5, strings.TrimPrefix(what, "kind "+k.info.name+": "))
}

// subscribeOptions compiles a subscription's MQTT 5 options into sub.
func (k *kindCompiler) subscribeOptions(ss *subscribeSpec, sub *sim.Subscription, where string) {
	for _, o := range []struct {
		v    value
		name string
	}{{ss.NoLocal, "no_local"}, {ss.RetainAsPublished, "retain_as_published"}, {ss.RetainHandling, "retain_handling"}} {
		if o.v.set() && !k.mqtt5(o.v.n, where+"."+o.name) {
			return
		}
	}
	sub.NoLocal = k.e.boolean(ss.NoLocal, where+".no_local", false)
	sub.RetainAsPublished = k.e.boolean(ss.RetainAsPublished, where+".retain_as_published", false)
	sub.RetainHandling = byte(k.e.integer(ss.RetainHandling, where+".retain_handling", 0, 2, 0))
	var opts []string
	if sub.NoLocal {
		opts = append(opts, "no_local")
	}
	if sub.RetainAsPublished {
		opts = append(opts, "retain_as_published")
	}
	if sub.RetainHandling != 0 {
		opts = append(opts, fmt.Sprintf("retain_handling %d", sub.RetainHandling))
	}
	if len(opts) > 0 {
		k.note(fmt.Sprintf("%s %s: %s", where, ss.Topic.n.Value, strings.Join(opts, ", ")))
	}
}

// responder makes a reply of an MQTT 5 kind answer as an MQTT 5 responder
// does: without a topic of its own it goes to the received message's
// response topic, and without correlation data of its own it carries the
// received message's.
func (k *kindCompiler) responder(ms *messageSpec, m *sim.Message, where string) {
	if !k.v5 {
		return
	}
	var copied []string
	if m.Topic == nil && !ms.Topic.set() {
		m.Topic = placeholderTemplate("response_topic", vResponseTopic)
		copied = append(copied, "goes to the request's response topic")
	}
	if m.Props == nil {
		m.Props = &sim.Props{}
	}
	if m.Props.CorrelationData == nil {
		m.Props.CorrelationData = placeholderTemplate("correlation_data", vCorrelationData)
		copied = append(copied, "carries the request's correlation data")
	}
	if len(copied) > 0 {
		k.note(where + " " + strings.Join(copied, " and "))
	}
}

// placeholderTemplate is the template "{{name}}" of part p.
func placeholderTemplate(name string, p part) *Template {
	return &Template{src: "{{" + name + "}}", parts: []part{p}, esc: []bool{false}, pad: -1}
}

// correlationKey is the hash of the message's MQTT 5 correlation data; a
// message without one is not a reply.
func correlationKey(v *sim.Vars) (uint64, bool) {
	return hashBytes(v.CorrelationData), len(v.CorrelationData) > 0
}
