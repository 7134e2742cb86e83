package scenario

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/mqttlean"
	"github.com/ltk-dev/ltk/internal/sim"
)

// v5Base is base with MQTT 5 properties, subscription options and
// correlation by correlation data; v5Off is the line that makes the kind
// MQTT 5, for tests that take it away.
const (
	v5Off  = "    connect: {mqtt_version: 5}\n"
	v5Base = `version: 1
name: t
kinds:
  sensor:
    weight: 3
` + v5Off + `    subscribe:
      - topic: /devices/{{device}}/commands/#
        qos: 1
        no_local: true
        retain_as_published: true
        retain_handling: 2
    publish:
      - name: request
        topic: /devices/{{device}}/events
        payload: '{"seq":{{seq}}}'
        every: 2s
        properties:
          content_type: application/json
          payload_format: utf8
          message_expiry: 1m
          response_topic: /devices/{{device}}/commands/replies
          correlation_data: '{{device}}-{{seq}}'
          user_properties: {site: berlin, kind: '{{kind}}'}
        expect:
          topic: /devices/{{device}}/commands/replies
          correlate: correlation_data
          timeout: 30s
`
)

// TestLoadMQTT5Properties: a publish's properties, a subscription's options
// and the expectation's correlation compile and render.
func TestLoadMQTT5Properties(t *testing.T) {
	t.Parallel()
	s, err := Load("t.yaml", []byte(v5Base))
	require.NoError(t, err)
	p := s.Plan().Kinds[0]
	sub := p.Subscribe[0]
	require.True(t, sub.NoLocal)
	require.True(t, sub.RetainAsPublished)
	require.Equal(t, byte(2), sub.RetainHandling)

	pub := p.Periodic[0]
	props := pub.Props
	require.NotNil(t, props)
	v := testVars()
	require.Equal(t, byte(1), props.PayloadFormat)
	require.Equal(t, uint32(60), props.MessageExpiry)
	require.Equal(t, "application/json", string(props.ContentType.Append(nil, v)))
	require.Equal(t, "/devices/LTK00042/commands/replies", string(props.ResponseTopic.Append(nil, v)))
	require.Equal(t, "LTK00042-17", string(props.CorrelationData.Append(nil, v)))
	require.Len(t, props.User, 2)
	require.Equal(t, "site", props.User[0].Key)
	require.Equal(t, "berlin", string(props.User[0].Value.Append(nil, v)))
	require.Equal(t, "kind", props.User[1].Key)
	require.Equal(t, "sensor", string(props.User[1].Value.Append(nil, v)))

	x := pub.Expect
	v.CorrelationData = props.CorrelationData.Append(nil, v)
	sent, ok := x.SentKey(v)
	require.True(t, ok)
	v.Payload = []byte("anything") // the reply's payload does not matter
	recv, ok := x.RecvKey(v)
	require.True(t, ok)
	require.Equal(t, sent, recv)
	v.CorrelationData = []byte("LTK00042-18")
	other, _ := x.RecvKey(v)
	require.NotEqual(t, sent, other)
	v.CorrelationData = nil
	_, ok = x.RecvKey(v)
	require.False(t, ok, "a message without correlation data is no reply")

	est, err := Check(s, 10)
	require.NoError(t, err)
	require.Equal(t, []string{
		"subscribe /devices/{{device}}/commands/#: no_local, retain_as_published, retain_handling 2",
		"publish request: properties content_type, payload_format, message_expiry, response_topic, correlation_data, user_properties",
		"publish request: expect.correlate: correlation_data",
	}, est.Kinds[0].MQTT5)
	var out strings.Builder
	require.NoError(t, est.Write(&out))
	require.Contains(t, out.String(), "MQTT 5 (the kinds connect with connect.mqtt_version: 5")
	require.Contains(t, out.String(), "  sensor  subscribe /devices/{{device}}/commands/#: no_local")
}

// TestLoadMQTT5Errors: MQTT 5 in a kind that does not connect with it, and
// bad property values, are errors at their line and column that say what
// to do.
func TestLoadMQTT5Errors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"no MQTT 5", v5Off, "", []string{
			"t.yaml:9:19: kind sensor: subscribe.no_local is MQTT 5: set connect.mqtt_version: 5 in kind sensor",
			"t.yaml:18:11: kind sensor: publish request.properties is MQTT 5: set connect.mqtt_version: 5 in kind sensor",
			"t.yaml:26:22: kind sensor: publish request: expect.correlate: correlation_data is MQTT 5: set connect.mqtt_version: 5 in kind sensor",
		}},
		{"MQTT 3.1.1", v5Off, "    connect: {mqtt_version: \"3.1.1\"}\n", []string{
			"t.yaml:10:19: kind sensor: subscribe.no_local is MQTT 5: set connect.mqtt_version: 5 in kind sensor",
		}},
		{"payload format", "payload_format: utf8", "payload_format: utf-8", []string{
			`t.yaml:20:27: kind sensor: publish request.properties.payload_format "utf-8": use utf8 (the payload is UTF-8 text) or bytes (unspecified) (did you mean "utf8"?)`,
		}},
		{"expiry below a second", "message_expiry: 1m", "message_expiry: 1500ms", []string{
			"t.yaml:21:27: kind sensor: publish request.properties.message_expiry 1.5s: MQTT counts whole seconds",
		}},
		{"wildcard response topic", "commands/replies\n          correlation_data", "commands/+\n          correlation_data", []string{
			`kind sensor: publish request.properties.response_topic: "+" is a wildcard`,
		}},
		{"unknown property", "content_type:", "content_typ:", []string{
			`t.yaml:19:11: kind sensor.publish.properties: unknown key "content_typ" (did you mean "content_type"?)`,
		}},
		{"retain handling", "retain_handling: 2", "retain_handling: 3", []string{
			"t.yaml:12:26: kind sensor: subscribe.retain_handling: 3 is out of range: use 0 to 2",
		}},
		{"user properties", "user_properties: {site: berlin, kind: '{{kind}}'}", "user_properties: [site]", []string{
			"t.yaml:24:28: kind sensor: publish request.properties.user_properties must map names to values",
		}},
		{"correlation without data", "          correlation_data: '{{device}}-{{seq}}'\n", "", []string{
			"t.yaml:26:22: kind sensor: publish request: expect.correlate: correlation_data needs the message to send some: set properties.correlation_data",
		}},
		{"will", v5Off, "    connect:\n      mqtt_version: 5\n      will:\n        topic: /devices/x/events\n        properties: {content_type: x}\n", []string{
			"t.yaml:10:21: kind sensor: connect.will: a will takes no properties here: give them to a publish step or a reply",
		}},
		{"received message outside a reply", "correlation_data: '{{device}}-{{seq}}'", "correlation_data: '{{correlation_data}}'", []string{
			"t.yaml:23:32: kind sensor: publish request.properties.correlation_data: {{correlation_data}}: reads the received message, which only a reaction's reply has",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, 1, strings.Count(v5Base, tc.old), tc.old)
			_, err := Load("t.yaml", []byte(strings.Replace(v5Base, tc.old, tc.new, 1)))
			require.Error(t, err)
			for _, want := range tc.want {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

// TestResponderPlaceholdersNeedMQTT5: {{response_topic}} and
// {{correlation_data}} in a kind without MQTT 5 say what to set.
func TestResponderPlaceholdersNeedMQTT5(t *testing.T) {
	t.Parallel()
	src := `version: 1
name: t
kinds:
  backend:
    count: 1
    subscribe:
      - topic: /devices/+/events
    react:
      - name: answer
        topic: /devices/+/events
        reply: {topic: '{{response_topic}}', payload: ok}
`
	_, err := Load("t.yaml", []byte(src))
	require.ErrorContains(t, err, "t.yaml:11:27: kind backend: react answer: reply.topic: {{response_topic}}: is an MQTT 5 property: set connect.mqtt_version: 5 in kind backend")
	_, err = Load("t.yaml", []byte(strings.Replace(src, "{topic: '{{response_topic}}', payload: ok}", "{payload: ok}", 1)))
	require.ErrorContains(t, err, "kind backend: react answer: reply: needs a topic", "only an MQTT 5 reply goes to the response topic by default")
}

// TestRequestResponseV5RoundTrip plays the request-response-v5 example's
// messages through its compiled programs by hand, properties included: the
// device's request reaches the responder, whose reply goes to the
// request's response topic with its correlation data and matches the
// device's expectation.
func TestRequestResponseV5RoundTrip(t *testing.T) {
	t.Parallel()
	s := loadExample(t, "request-response-v5")
	device, responder := s.Plan().Kinds[0], s.Plan().Kinds[1]
	require.Equal(t, "5", device.MQTTVersion)
	require.Equal(t, "5", responder.MQTTVersion)
	dv, rv := testVars(), testVars()
	rv.DeviceID, rv.Index, rv.Kind = "LTK00000", 0, "responder"

	request := device.Periodic[0]
	require.Equal(t, uint32(30), request.Props.MessageExpiry)
	topic, payload := request.Topic.Append(nil, dv), request.Payload.Append(nil, dv)
	sentProps := renderProps(request.Props, dv)
	dv.CorrelationData = sentProps.CorrelationData
	sent, ok := request.Expect.SentKey(dv)
	require.True(t, ok)
	require.Equal(t, "LTK00042-17", string(sentProps.CorrelationData))

	answer := responder.Reactions[0]
	rv.Topic, rv.Payload = topic, payload
	rv.ResponseTopic, rv.CorrelationData = sentProps.ResponseTopic, sentProps.CorrelationData
	require.True(t, filterCovers(t, answer.Filter, rv, topic))
	replyTopic := answer.Reply.Topic.Append(nil, rv)
	require.Equal(t, "/devices/LTK00042/commands/responses", string(replyTopic))
	replyProps := renderProps(answer.Reply.Props, rv)
	require.Equal(t, "LTK00042-17", string(replyProps.CorrelationData))
	require.Equal(t, "application/json", string(replyProps.ContentType))

	dv.Topic, dv.Payload = replyTopic, answer.Reply.Payload.Append(nil, rv)
	var reply struct {
		Device string
		Seq    int
		Value  *int
	}
	require.NoError(t, json.Unmarshal(dv.Payload, &reply), "%s", dv.Payload)
	require.Equal(t, "LTK00042", reply.Device)
	require.Equal(t, 17, reply.Seq)
	require.NotNil(t, reply.Value)
	dv.ResponseTopic, dv.CorrelationData = nil, replyProps.CorrelationData
	require.True(t, filterCovers(t, request.Expect.Filter, dv, replyTopic))
	recv, ok := request.Expect.RecvKey(dv)
	require.True(t, ok)
	require.Equal(t, sent, recv)
}

// renderProps renders p for v, as a device sends them.
func renderProps(p *sim.Props, v *sim.Vars) mqttlean.Properties {
	var out mqttlean.Properties
	out.PayloadFormat, out.MessageExpiry = p.PayloadFormat, p.MessageExpiry
	if p.ContentType != nil {
		out.ContentType = p.ContentType.Append(nil, v)
	}
	if p.ResponseTopic != nil {
		out.ResponseTopic = p.ResponseTopic.Append(nil, v)
	}
	if p.CorrelationData != nil {
		out.CorrelationData = p.CorrelationData.Append(nil, v)
	}
	return out
}
