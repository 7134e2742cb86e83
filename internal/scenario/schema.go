package scenario

import (
	"go.yaml.in/yaml/v3"
)

// The scenario file, as the YAML decoder fills it. Every leaf is a value:
// the raw node, so that the compiler parses it itself and every error it
// finds carries the line and column. The structs' yaml tags are the schema;
// the key check (keys.go) reads them, so a key is valid exactly when a
// field here has its tag.

// fileSpec is a whole scenario file.
type fileSpec struct {
	Version     value    `yaml:"version"`
	Name        value    `yaml:"name"`
	Description value    `yaml:"description"`
	Columns     []value  `yaml:"columns"`
	Kinds       kindsMap `yaml:"kinds"`
}

// kindSpec is one device kind.
type kindSpec struct {
	node      *yaml.Node      // the mapping, for errors about what it lacks
	Weight    value           `yaml:"weight"`
	Count     value           `yaml:"count"`
	Connect   *connectSpec    `yaml:"connect"`
	Subscribe []subscribeSpec `yaml:"subscribe"`
	Publish   []publishSpec   `yaml:"publish"`
	React     []reactSpec     `yaml:"react"`
}

// connectSpec is a kind's MQTT connection.
type connectSpec struct {
	ClientID     value        `yaml:"client_id"`
	Username     value        `yaml:"username"`
	Password     value        `yaml:"password"`
	KeepAlive    value        `yaml:"keepalive"`
	CleanSession value        `yaml:"clean_session"`
	MQTTVersion  value        `yaml:"mqtt_version"`
	Will         *messageSpec `yaml:"will"`
}

// messageSpec is a message to send: a will or a reaction's reply.
type messageSpec struct {
	Topic      value           `yaml:"topic"`
	Payload    value           `yaml:"payload"`
	QoS        value           `yaml:"qos"`
	Retain     value           `yaml:"retain"`
	Properties *propertiesSpec `yaml:"properties"`
}

// propertiesSpec is a message's MQTT 5 properties.
type propertiesSpec struct {
	node            *yaml.Node // the mapping, where a kind without MQTT 5 is told
	ContentType     value      `yaml:"content_type"`
	PayloadFormat   value      `yaml:"payload_format"`
	MessageExpiry   value      `yaml:"message_expiry"`
	ResponseTopic   value      `yaml:"response_topic"`
	CorrelationData value      `yaml:"correlation_data"`
	UserProperties  value      `yaml:"user_properties"` // a mapping of names to templates
}

// subscribeSpec is one subscription.
type subscribeSpec struct {
	node              *yaml.Node // the mapping, for errors about what it lacks
	Topic             value      `yaml:"topic"`
	QoS               value      `yaml:"qos"`
	NoLocal           value      `yaml:"no_local"`
	RetainAsPublished value      `yaml:"retain_as_published"`
	RetainHandling    value      `yaml:"retain_handling"`
}

// publishSpec is one named publish step.
type publishSpec struct {
	node        *yaml.Node // the mapping, for errors about what it lacks
	Name        value      `yaml:"name"`
	Type        value      `yaml:"type"`
	messageSpec `yaml:",inline"`
	On          value       `yaml:"on"`
	Every       value       `yaml:"every"`
	Jitter      value       `yaml:"jitter"`
	Burst       value       `yaml:"burst"`
	BurstGap    value       `yaml:"burst_gap"`
	Expect      *expectSpec `yaml:"expect"`
}

// expectSpec is the reply a publish awaits.
type expectSpec struct {
	node      *yaml.Node // the mapping, for errors about what it lacks
	Topic     value      `yaml:"topic"`
	Correlate value      `yaml:"correlate"`
	Timeout   value      `yaml:"timeout"`
	Wait      value      `yaml:"wait"`
	Type      value      `yaml:"type"`
	Name      value      `yaml:"name"`
	Miss      value      `yaml:"miss"`
	Late      value      `yaml:"late"`
	LastMiss  value      `yaml:"last_miss"`
}

// reactSpec is one named reaction.
type reactSpec struct {
	node   *yaml.Node  // the mapping, for errors about what it lacks
	Name   value       `yaml:"name"`
	Type   value       `yaml:"type"`
	Topic  value       `yaml:"topic"`
	When   value       `yaml:"when"`
	Delay  value       `yaml:"delay"`
	Reply  messageSpec `yaml:"reply"`
	Expect *expectSpec `yaml:"expect"`
}

// correlateSpec is the mapping form of expect.correlate.
type correlateSpec struct {
	Field    value `yaml:"field"`
	Sent     value `yaml:"sent"`
	Received value `yaml:"received"`
}

// value is one leaf of the file: the YAML node as written, or nil when the
// key is absent. It never fails to decode, so that one bad value does not
// hide the others: the compiler reports each with its position.
type value struct{ n *yaml.Node }

// UnmarshalYAML keeps the node.
func (v *value) UnmarshalYAML(n *yaml.Node) error {
	v.n = n
	return nil
}

// set reports whether the key was given (a null counts as absent).
func (v value) set() bool {
	return v.n != nil && (v.n.Kind != yaml.ScalarNode || v.n.ShortTag() != "!!null")
}

// kindsMap is the kinds mapping in file order: a kind's place decides
// which devices are of it, so the order must survive decoding.
type kindsMap struct{ n *yaml.Node }

// UnmarshalYAML keeps the node; keys.go checks it and the compiler decodes
// each kind in turn.
func (k *kindsMap) UnmarshalYAML(n *yaml.Node) error {
	k.n = n
	return nil
}

// The specs keep their own node, for errors about a missing key. (A
// messageSpec does not: publishSpec inlines it, and its method would be
// promoted.)

// UnmarshalYAML decodes s and keeps its node.
func (s *kindSpec) UnmarshalYAML(n *yaml.Node) error {
	type plain kindSpec
	s.node = n
	return n.Decode((*plain)(s))
}

// UnmarshalYAML decodes s and keeps its node.
func (s *propertiesSpec) UnmarshalYAML(n *yaml.Node) error {
	type plain propertiesSpec
	s.node = n
	return n.Decode((*plain)(s))
}

// UnmarshalYAML decodes s and keeps its node.
func (s *subscribeSpec) UnmarshalYAML(n *yaml.Node) error {
	type plain subscribeSpec
	s.node = n
	return n.Decode((*plain)(s))
}

// UnmarshalYAML decodes s and keeps its node.
func (s *publishSpec) UnmarshalYAML(n *yaml.Node) error {
	type plain publishSpec
	s.node = n
	return n.Decode((*plain)(s))
}

// UnmarshalYAML decodes s and keeps its node.
func (s *expectSpec) UnmarshalYAML(n *yaml.Node) error {
	type plain expectSpec
	s.node = n
	return n.Decode((*plain)(s))
}

// UnmarshalYAML decodes s and keeps its node.
func (s *reactSpec) UnmarshalYAML(n *yaml.Node) error {
	type plain reactSpec
	s.node = n
	return n.Decode((*plain)(s))
}
