package scenario

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// base is a valid scenario; tests break one part of it.
const base = `version: 1
name: t
columns: [site]
kinds:
  sensor:
    weight: 3
    subscribe:
      - topic: /devices/{{device}}/commands/#
        qos: 1
    publish:
      - name: telemetry
        topic: /devices/{{device}}/events
        payload: '{"site":"{{column "site"}}","seq":{{seq}}}'
        every: 2s..8s
        expect:
          topic: /devices/{{device}}/commands/#
          correlate: seq
          timeout: 30s
`

// TestLoadMQTT5QoS2: a kind may speak MQTT 5 and publish at QoS 2.
func TestLoadMQTT5QoS2(t *testing.T) {
	t.Parallel()
	src := strings.Replace(strings.Replace(base, "    weight: 3\n", "    weight: 3\n    connect: {mqtt_version: \"5\"}\n", 1), "        qos: 1", "        qos: 2", 1)
	s, err := Load("t.yaml", []byte(src))
	require.NoError(t, err)
	p := s.Plan().Kinds[0]
	require.Equal(t, "5", p.MQTTVersion)
	require.Equal(t, byte(2), p.Subscribe[0].QoS)
}

func TestLoadValid(t *testing.T) {
	t.Parallel()
	s, err := Load("t.yaml", []byte(base))
	require.NoError(t, err)
	require.Equal(t, "t", s.Name)
	require.Equal(t, []string{"site"}, s.Plan().Columns)
	p := s.Plan().Kinds[0]
	require.Equal(t, "sensor", p.Kind)
	require.Empty(t, p.MQTTVersion, "the run's MQTT version unless the kind names one")
	require.Len(t, p.Periodic, 1)
	pub := p.Periodic[0]
	require.True(t, pub.Jitter, "periodic publishes start at a random offset by default")
	require.Equal(t, byte(0), pub.QoS)
	names := s.Plan().Events
	require.Equal(t, "telemetry", names[pub.Event].Name)
	require.Equal(t, "sensor", names[pub.Event].Type, "the type defaults to the kind's name")
	require.Equal(t, "telemetry reply", names[pub.Expect.Match].Name)
	require.Equal(t, "telemetry timeout", names[pub.Expect.Miss].Name)
	require.Equal(t, "telemetry late", names[pub.Expect.Late].Name)
	require.Equal(t, pub.Expect.Miss, pub.Expect.LastMiss)
	for range 100 {
		d := pub.Every(float64(len(names)%7) / 7)
		require.True(t, d >= 2e9 && d <= 8e9, d)
	}
}

// TestLoadErrors breaks the base scenario in many ways: each error names
// the line and column and says what to do.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"unknown key", "    weight: 3", "    wieght: 3", []string{
			"t.yaml:6:5: kind sensor: unknown key \"wieght\" (did you mean \"weight\"?)",
			"t.yaml:5:3: kind sensor: give a weight"}},
		{"unknown nested key", "          timeout: 30s", "          timout: 30s", []string{
			"t.yaml:18:11: kind sensor.publish.expect: unknown key \"timout\" (did you mean \"timeout\"?)",
			"t.yaml:16:11: kind sensor: publish telemetry: expect: needs a timeout"}},
		{"unknown top key", "name: t", "nmae: t", []string{`t.yaml:2:1: scenario: unknown key "nmae" (did you mean "name"?)`}}, //nolint:misspell // the typo is the test
		{"far from any key", "name: t", "zzzzzzzz: t", []string{`unknown key "zzzzzzzz" (valid: version, name, description, columns, kinds)`}},
		{"template placeholder", "/devices/{{device}}/events", "/devices/{{devce}}/events", []string{
			`t.yaml:12:27: kind sensor: publish telemetry.topic: unknown value {{devce}} (did you mean "device"?)`}},
		{"template not closed", "/devices/{{device}}/events", "/devices/{{device/events", []string{
			`t.yaml:12:25: kind sensor: publish telemetry.topic: {{ is not closed`}},
		{"template argument", `{{column "site"}}`, `{{int 5 x}}`, []string{
			`t.yaml:13:36: kind sensor: publish telemetry.payload: {{int}}: "x" is not a whole number`}},
		{"template arity", `{{column "site"}}`, `{{walk 1 2}}`, []string{`{{walk}}: takes arguments MIN MAX STEP [DECIMALS]`}},
		{"undefined column", `{{column "site"}}`, `{{column "stie"}}`, []string{
			`t.yaml:13:37: kind sensor: publish telemetry.payload: {{column}}: column "stie" is not declared in columns: (did you mean "site"?)`}},
		{"no columns declared", "columns: [site]\n", "", []string{`column "site" is not declared: list the devicelist.csv columns`}},
		{"expression", `{{column "site"}}`, `{{= index +* 2}}`, []string{`t.yaml:13:39: kind sensor: publish telemetry.payload: expression: unexpected token Operator("*")`}},
		{"expression reads a message", `{{column "site"}}`, `{{= field("x")}}`, []string{`field reads the received message, which only reactions have`}},
		{"message outside a reaction", `{{column "site"}}`, `{{field "x"}}`, []string{`{{field}}: reads the received message, which only a reaction's reply has`}},
		{"zero weight", "weight: 3", "weight: 0", []string{`t.yaml:6:13: kind sensor: weight: 0 is out of range: use 1 to 1000000`}},
		{"negative interval", "every: 2s..8s", "every: -5s", []string{`t.yaml:14:16: kind sensor: publish telemetry.every: -5s is negative`}},
		{"zero interval", "every: 2s..8s", "every: 0s", []string{`the wait must be above zero`}},
		{"interval without unit", "every: 2s..8s", "every: 10", []string{`"10" has no unit: write 10s`}},
		{"bad interval", "every: 2s..8s", "every: sometimes", []string{`write a fixed wait (10s), a range (2s..8s) or a mean for Poisson arrivals (poisson 10s)`}},
		{"reversed range", "every: 2s..8s", "every: 8s..2s", []string{`the end of the range is before its start`}},
		{"zero timeout", "timeout: 30s", "timeout: 0s", []string{`t.yaml:18:20: kind sensor: publish telemetry: expect.timeout must be above zero`}},
		{"expect without timeout", "          timeout: 30s\n", "", []string{`t.yaml:16:11: kind sensor: publish telemetry: expect: needs a timeout: how long to wait for each reply, such as timeout: 30s`}},
		{"wildcard in a publish topic", "/devices/{{device}}/events", "/devices/{{device}}/+", []string{
			`t.yaml:12:36: kind sensor: publish telemetry.topic: "+" is a wildcard, which a published topic cannot hold`}},
		{"QoS 3", "        qos: 1", "        qos: 3", []string{`t.yaml:9:14: kind sensor: subscribe.qos: QoS "3": use 0, 1 or 2`}},
		{"MQTT version", "    weight: 3\n", "    weight: 3\n    connect: {mqtt_version: \"5.0\"}\n", []string{`connect.mqtt_version: MQTT version "5.0" is not one of 3.1.1, 5`}},
		{"uncovered expectation", "          topic: /devices/{{device}}/commands/#", "          topic: /devices/{{device}}/replies", []string{
			`expect.topic "/devices/LTK00001/replies" is not covered by a subscription of kind sensor: add it under subscribe:`}},
		{"correlate seq without seq", `"seq":{{seq}}`, `"n":1`, []string{`seq needs {{seq}} in the payload`}},
		{"correlate missing field", "correlate: seq", "correlate: {field: id}", []string{`the payload has no field "id"`}},
		{"correlate bad key", "correlate: seq", "correlate: {feild: id}", []string{`unknown key "feild" (did you mean "field"?)`}},
		{"no when", "        every: 2s..8s\n", "", []string{`say when it publishes: on: connect, or every: 10s`}},
		{"version", "version: 1", "version: 2", []string{`t.yaml:1:10: version 2 is not supported: this ltk reads version 1`}},
		{"no version", "version: 1\n", "", []string{`version: missing`}},
		{"a list for a mapping", "    subscribe:\n      - topic: /devices/{{device}}/commands/#\n        qos: 1\n", "    subscribe: /devices/x\n", []string{`t.yaml:7:16: kind sensor.subscribe must be a list`}},
		{"syntax", "    weight: 3", "    weight: [3", []string{"t.yaml:5: did not find expected ',' or ']'"}},
		{"tab", "    weight: 3", "\tweight: 3", []string{"t.yaml:6: found character that cannot start any token: YAML indents with spaces, not tabs"}},
		{"duplicate key", "    weight: 3", "    weight: 3\n    weight: 4", []string{`key "weight" is given twice`}},
		{"duplicate names", "        expect:", "        expect:\n          name: telemetry", []string{`"telemetry" (type "sensor") already names the step at line 11`}},
		{"reserved names", "      - name: telemetry", "      - name: MQTT connect\n        type: MQTT", []string{`"MQTT connect" (type "MQTT") is recorded by every device itself`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, base, tc.old)
			src := strings.Replace(base, tc.old, tc.new, 1)
			_, err := Load("t.yaml", []byte(src))
			require.Error(t, err, src)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w, src)
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, "t.yaml", e.File)
		})
	}
}

// TestLoadCollectsErrors reports several errors of one file at once, in
// file order.
func TestLoadCollectsErrors(t *testing.T) {
	t.Parallel()
	src := strings.NewReplacer("weight: 3", "weight: -1", "every: 2s..8s", "every: -2s", "qos: 1", "qos: 3",
		"/devices/{{device}}/events", "/devices/#").Replace(base)
	_, err := Load("t.yaml", []byte(src))
	require.Error(t, err)
	list := err.(interface{ Unwrap() []error }).Unwrap()
	require.Len(t, list, 4, err.Error())
	lines := []int{6, 9, 12, 14}
	for i, e := range list {
		var se *Error
		require.ErrorAs(t, e, &se)
		require.Equal(t, lines[i], se.Line, e.Error())
	}
}

// TestTemplateErrorInBlock places an error inside a multi-line payload at
// its own line and column.
func TestTemplateErrorInBlock(t *testing.T) {
	t.Parallel()
	src := strings.Replace(base, `payload: '{"site":"{{column "site"}}","seq":{{seq}}}'`, "payload: |\n          {\"seq\":{{seq}},\n           \"x\":{{nope}}}", 1)
	_, err := Load("t.yaml", []byte(src))
	require.ErrorContains(t, err, "t.yaml:15:18: kind sensor: publish telemetry.payload: unknown value {{nope}}")
}

func TestLoadEmpty(t *testing.T) {
	t.Parallel()
	_, err := Load("e.yaml", nil)
	require.EqualError(t, err, "e.yaml: the file is empty: start from an example (ltk scenario example)")
	_, err = Load("e.yaml", []byte("just text"))
	require.ErrorContains(t, err, "scenario must be a mapping of keys")
}
