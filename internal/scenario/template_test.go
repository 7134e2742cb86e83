package scenario

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/ltk-dev/ltk/internal/sim"
)

// compileTemplate compiles src as a payload template of a kind reading the
// given columns; it fails the test on errors.
func compileTemplate(t testing.TB, src string, sc scope, columns ...string) (*Template, *kindCompiler) {
	t.Helper()
	tpl, k, err := tryTemplate(src, sc, columns...)
	require.NoError(t, err)
	return tpl, k
}

// tryTemplate compiles src and returns the errors.
func tryTemplate(src string, sc scope, columns ...string) (*Template, *kindCompiler, error) {
	e := &errs{file: "t.yaml"}
	c := newCompiler(e)
	for i, col := range columns {
		c.columns[col] = i
		c.columnNames = append(c.columnNames, col)
	}
	k := &kindCompiler{compiler: c, info: &kindInfo{name: "sensor", prog: &sim.Program{Kind: "sensor"}}}
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: src, Line: 1, Column: 1}
	sc.json = sc.json || isJSON(src)
	tpl, _ := k.parseTemplate(n, src, "payload", sc)
	return tpl, k, e.err()
}

// testVars is a device with fixed values and a seeded random source.
func testVars(columns ...string) *sim.Vars {
	return &sim.Vars{
		DeviceID: "LTK00042", ClientID: "projects/p/devices/LTK00042", Index: 41, Kind: "sensor", Worker: 3,
		Columns: columns, Rand: rand.New(rand.NewPCG(7, 9)), Seq: 17,
		Now: time.Date(2026, 11, 25, 20, 0, 1, 123456789, time.UTC),
	}
}

func TestTemplatePlainValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want string }{
		{"/devices/{{device}}/events", "/devices/LTK00042/events"},
		{"{{ client_id }}|{{index}}|{{kind}}|{{worker}}|{{seq}}", "projects/p/devices/LTK00042|41|sensor|3|17"},
		{"{{unix}} {{unix_ms}} {{unix_us}} {{unix_ns}}", "1795636801 1795636801123 1795636801123456 1795636801123456789"},
		{"{{rfc3339}} {{rfc3339nano}}", "2026-11-25T20:00:01Z 2026-11-25T20:00:01.123456789Z"},
		{`{{time "2006-01-02 15h"}}`, "2026-11-25 20h"},
		{`{{column "site"}}/{{column "room"}}`, "berlin/r1"},
		{`a{{"{{"}}b{{ "}" }}`, "a{{b}"},
		{`{{unhex "00ff 10"}}`, "\x00\xff\x10"},
		{`{{unbase64 "AAEC"}}`, "\x00\x01\x02"},
		{"{{= index * 2 + 1}}", "83"},
		{`{{= device + "-" + kind}}`, "LTK00042-sensor"},
		{`{{= column("site") == "berlin"}}`, "true"},
		{"no placeholders", "no placeholders"},
		{"", ""},
	} {
		tpl, _ := compileTemplate(t, tc.src, payloadScope, "site", "room")
		require.Equal(t, tc.want, string(tpl.Append(nil, testVars("berlin", "r1"))), tc.src)
	}
}

func TestTemplateRandomValues(t *testing.T) {
	t.Parallel()
	v := testVars()
	check := func(src string, ok func(string) bool) {
		t.Helper()
		tpl, _ := compileTemplate(t, src, payloadScope)
		for range 200 {
			got := string(tpl.Append(nil, v))
			require.True(t, ok(got), "%s rendered %q", src, got)
		}
	}
	num := func(lo, hi float64) func(string) bool {
		return func(s string) bool {
			f, err := strconv.ParseFloat(s, 64)
			return err == nil && lo <= f && f <= hi
		}
	}
	check("{{int -3 3}}", num(-3, 3))
	check("{{float 1.5 2.5 3}}", func(s string) bool {
		_, frac, _ := strings.Cut(s, ".")
		return num(1.5, 2.5)(s) && len(frac) == 3
	})
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	check("{{uuid}}", uuid.MatchString)
	check("{{hex 5}}", regexp.MustCompile(`^[0-9a-f]{10}$`).MatchString)
	check("{{base64 100}}", func(s string) bool { return len(s) == 136 && strings.HasSuffix(s, "=") })
	check("{{bytes 50}}", func(s string) bool { return len(s) == 50 })
	check(`{{choice "a" "b"}}`, func(s string) bool { return s == "a" || s == "b" })

	// weights: 9 to 1 over 10,000 draws, within a generous margin
	tpl, _ := compileTemplate(t, `{{choice "ok" 9 "bad"}}`, payloadScope)
	ok := 0
	for range 10_000 {
		if string(tpl.Append(nil, v)) == "ok" {
			ok++
		}
	}
	require.InDelta(t, 9_000, ok, 300)

	// ints cover their range, both ends included
	seen := map[string]bool{}
	tpl, _ = compileTemplate(t, "{{int 1 3}}", payloadScope)
	for range 200 {
		seen[string(tpl.Append(nil, v))] = true
	}
	require.Equal(t, map[string]bool{"1": true, "2": true, "3": true}, seen)
}

func TestTemplateWalk(t *testing.T) {
	t.Parallel()
	tpl, k := compileTemplate(t, "{{walk 10 20 0.5 2}} {{walk 0 1 0.1}}", payloadScope)
	require.Len(t, k.walks, 2)
	v := testVars()
	v.State = make([]float64, len(k.walks))
	v.State[0], v.State[1] = 10, 0.5
	prev, moved := 10.0, 0
	for range 5_000 {
		a, b, _ := strings.Cut(string(tpl.Append(nil, v)), " ")
		x, err := strconv.ParseFloat(a, 64)
		require.NoError(t, err)
		y, err := strconv.ParseFloat(b, 64)
		require.NoError(t, err)
		require.True(t, 10 <= x && x <= 20 && 0 <= y && y <= 1, "%v %v", x, y)
		require.LessOrEqual(t, abs(x-prev), 0.5+0.01, "a step moves at most STEP")
		if x != prev {
			moved++
		}
		prev = x
	}
	require.Greater(t, moved, 4_000)
}

func abs(x float64) float64 { return max(x, -x) }

func TestTemplateReceivedMessage(t *testing.T) {
	t.Parallel()
	v := testVars()
	v.Topic = []byte("/devices/LTK00007/events/x")
	v.Payload = []byte(`{"id":"a\"b","n":5,"deep":{"v":[1,2]}}`)
	sc := payloadScope
	sc.message = true
	for _, tc := range []struct{ src, want string }{
		{"{{topic}}", "/devices/LTK00007/events/x"},
		{"{{topic 2}}|{{topic 4}}|{{topic 9}}", "LTK00007|x|"},
		{`{{field "n"}} {{field "deep.v.1"}} {{field "deep"}} [{{field "missing"}}]`, `5 2 {"v":[1,2]} []`},
		{`{{field "id"}}`, `a"b`},
		{`{"id":"{{field "id"}}"}`, `{"id":"a\"b"}`},
		{`{{payload}}`, string(v.Payload)},
		{`{{= field("n") * 2}} {{= level(2)}} {{= topic}}`, "10 LTK00007 /devices/LTK00007/events/x"},
	} {
		tpl, _ := compileTemplate(t, tc.src, sc)
		require.Equal(t, tc.want, string(tpl.Append(nil, v)), tc.src)
	}
}

func TestTemplateJSONEscapes(t *testing.T) {
	t.Parallel()
	v := testVars("a \"quoted\"\\ \n\t\x01 value")
	tpl, _ := compileTemplate(t, `{"site":"{{column "site"}}","n":{{index}},"s":"x\"{{device}}"}`, payloadScope, "site")
	out := tpl.Append([]byte("prefix:"), v)
	require.True(t, strings.HasPrefix(string(out), "prefix:"))
	var got map[string]any
	require.NoError(t, json.Unmarshal(out[len("prefix:"):], &got), string(out))
	require.Equal(t, map[string]any{"site": "a \"quoted\"\\ \n\t\x01 value", "n": 41.0, "s": `x"LTK00042`}, got)

	// A time layout holding a quote is escaped too; a plain number is not.
	tpl, _ = compileTemplate(t, `{"t":"{{time "15\"04"}}","u":"{{unix}}"}`, payloadScope)
	require.Equal(t, `{"t":"20\"00","u":"1795636801"}`, string(tpl.Append(nil, v))) //nolint:testifylint // the exact bytes are the point: how the quote is escaped

	// Not JSON: values go out as they are.
	tpl, _ = compileTemplate(t, `site "{{column "site"}}"`, payloadScope, "site")
	require.Equal(t, "site \"a \"quoted\"\\ \n\t\x01 value\"", string(tpl.Append(nil, v)))
}

func TestTemplatePad(t *testing.T) {
	t.Parallel()
	tpl, _ := compileTemplate(t, `{"d":"{{device}}","fill":"{{pad 64 "x"}}","seq":{{seq}}}`, payloadScope)
	out := tpl.Append([]byte("keep"), testVars())
	require.Len(t, out, 4+64)
	natural := `{"d":"LTK00042","fill":"","seq":17}`
	require.Equal(t, `keep{"d":"LTK00042","fill":"`+strings.Repeat("x", 64-len(natural))+`","seq":17}`, string(out))

	tpl, _ = compileTemplate(t, "{{device}}{{pad 3}}", payloadScope) // already longer: no padding
	require.Equal(t, "LTK00042", string(tpl.Append(nil, testVars())))
}

// TestFleetPayloadsDoNotAllocate renders every topic and payload of the
// fleet example into a reused buffer: no allocation in steady state.
func TestFleetPayloadsDoNotAllocate(t *testing.T) {
	plan := loadExample(t, "fleet").Plan()
	for _, p := range plan.Kinds {
		v := testVars("berlin")
		v.State = make([]float64, p.StateSize)
		if p.Init != nil {
			p.Init(v)
		}
		for _, pub := range p.Periodic {
			buf := make([]byte, 0, 64<<10)
			allocs := testing.AllocsPerRun(200, func() {
				v.Seq++
				buf = pub.Topic.Append(buf[:0], v)
				buf = pub.Payload.Append(buf[:0], v)
			})
			require.Zero(t, allocs, "kind %s", p.Kind)
			require.NotEmpty(t, buf)
		}
	}
}

func BenchmarkFleetPayloads(b *testing.B) {
	plan := loadExample(b, "fleet").Plan()
	for _, p := range plan.Kinds {
		b.Run(p.Kind, func(b *testing.B) {
			v := testVars("berlin")
			v.State = make([]float64, p.StateSize)
			if p.Init != nil {
				p.Init(v)
			}
			pub := p.Periodic[0]
			buf := make([]byte, 0, 64<<10)
			b.ReportAllocs()
			for b.Loop() {
				v.Seq++
				buf = pub.Payload.Append(buf[:0], v)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}
