package scenario

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/examples/scenarios"
	"github.com/ltk-dev/ltk/internal/sim"
)

// TestEchoExampleIsTheTutorial checks echo.yaml against the built-in echo
// device: the same topics, payload and stats entries.
func TestEchoExampleIsTheTutorial(t *testing.T) {
	t.Parallel()
	plan := loadExample(t, "echo").Plan()
	require.Equal(t, sim.BuiltinEvents(), plan.Events, "echo adds no stats entry of its own")
	require.Len(t, plan.Kinds, 1)
	p := plan.Kinds[0]
	require.Nil(t, p.ClientID, "ltk's own client id, user name and password")
	require.Nil(t, p.Username)
	require.Nil(t, p.Password)
	v := testVars()
	require.Len(t, p.Subscribe, 1)
	require.Equal(t, "/devices/LTK00042/commands/#", string(p.Subscribe[0].Filter.Append(nil, v)))
	require.Equal(t, byte(1), p.Subscribe[0].QoS)

	require.Len(t, p.Periodic, 1)
	pub := p.Periodic[0]
	require.Equal(t, sim.EventPublish, pub.Event)
	require.Equal(t, byte(1), pub.QoS)
	require.False(t, pub.Jitter)
	require.Equal(t, time.Second, pub.Every(0.3))
	require.Equal(t, "/devices/LTK00042/events", string(pub.Topic.Append(nil, v)))
	payload := pub.Payload.Append(nil, v)
	require.Equal(t, "LTK00042 projects/p/devices/LTK00042 payload 17 at 2026-11-25T20:00:01.123456789Z", string(payload))

	x := pub.Expect
	require.Equal(t, "/devices/LTK00042/commands/#", string(x.Filter.Append(nil, v)))
	require.Equal(t, 120*time.Second, x.Timeout)
	require.True(t, x.Exclusive)
	require.Equal(t, []sim.Event{sim.EventEchoReceive, sim.EventEchoTimeout, sim.EventEchoLate, sim.EventLastMessageTimeout},
		[]sim.Event{x.Match, x.Miss, x.Late, x.LastMiss})

	v.Payload = payload // the echo: the same bytes back
	sent, ok := x.SentKey(v)
	require.True(t, ok)
	require.Equal(t, uint64(17), sent)
	recv, ok := x.RecvKey(v)
	require.True(t, ok)
	require.Equal(t, sent, recv)
	for _, bad := range []string{"", "LTK00042 c payload x at", "something else", "payload 99999999999999999999999 at"} {
		v.Payload = []byte(bad)
		_, ok := x.RecvKey(v)
		require.False(t, ok, bad)
	}
}

// TestFleetMix: weights 90, 9 and 1 give exactly 90, 9 and 1 of every 100
// devices, spread out; counted kinds take the first indices.
func TestFleetMix(t *testing.T) {
	t.Parallel()
	plan := loadExample(t, "fleet").Plan()
	counts := make([]int, 3)
	run := 0
	for i := range 1000 {
		k := plan.KindOf(i)
		require.Equal(t, k, plan.KindOf(i), "a pure function of the index")
		counts[k]++
		if k == 0 {
			run++
		} else {
			require.LessOrEqual(t, run, 11, "the minority kinds are spread through the cycle")
			run = 0
		}
	}
	require.Equal(t, []int{900, 90, 10}, counts)

	plan = loadExample(t, "command-response").Plan()
	require.Equal(t, "device", plan.Kinds[0].Kind)
	require.Equal(t, "backend", plan.Kinds[1].Kind)
	require.True(t, plan.Kinds[1].Backend)
	require.Equal(t, []int{1, 1, 0, 0, 0}, []int{plan.KindOf(0), plan.KindOf(1), plan.KindOf(2), plan.KindOf(3), plan.KindOf(1000)})
}

// TestCheckFleet compares the fleet example's estimate with the rates
// computed by hand at 5,000 devices.
func TestCheckFleet(t *testing.T) {
	t.Parallel()
	s := loadExample(t, "fleet")
	est, err := Check(s, 5000)
	require.NoError(t, err)
	byKind := map[string]KindEstimate{}
	for _, k := range est.Kinds {
		byKind[k.Kind] = k
	}
	require.Equal(t, 4500, byKind["sensor"].Devices)
	require.Equal(t, 450, byKind["gateway"].Devices)
	require.Equal(t, 50, byKind["camera"].Devices)
	require.InDelta(t, 0.09, byKind["gateway"].Share, 1e-9)
	require.InDelta(t, 4500.0/10, byKind["sensor"].Publish.Msgs, 1e-9) // Poisson, mean 10 s
	require.InDelta(t, 450.0/5, byKind["gateway"].Publish.Msgs, 1e-9)  // every 5 s
	require.InDelta(t, 450.0/5*4096, byKind["gateway"].Publish.Bytes, 1e-6, "padded to 4096 bytes")
	require.InDelta(t, 50*5/90.0, byKind["camera"].Publish.Msgs, 1e-9) // bursts of 5, every 60..120 s
	require.InDelta(t, 50*5/90.0*16384, byKind["camera"].Publish.Bytes, 1e-6)
	require.InDelta(t, 450+90+50*5/90.0, est.Total.Msgs, 1e-9)
	require.Zero(t, est.Awaited)

	_, err = Check(s, 0)
	require.Error(t, err)

	var out strings.Builder
	require.NoError(t, est.Write(&out))
	for _, want := range []string{`Scenario "fleet" at 5000 devices`, "sensor", "4500", "90.0%", "450.0", "368.6 kB/s", "TOTAL", "542.8"} {
		require.Contains(t, out.String(), want)
	}
}

// TestCommandResponseRoundTrip plays the command-response example's
// messages through its compiled programs by hand: a device's telemetry
// reaches the back end's reaction, whose command reaches the device's
// reaction, whose response matches the back end's expectation.
func TestCommandResponseRoundTrip(t *testing.T) {
	t.Parallel()
	s := loadExample(t, "command-response")
	device, backend := s.Plan().Kinds[0], s.Plan().Kinds[1]
	dv, bv := testVars(), testVars()
	bv.DeviceID, bv.Index, bv.Kind = "LTK00001", 1, "backend"
	require.Equal(t, "ltk-echo-commands-1", string(backend.ClientID.Append(nil, bv)))

	telemetry := device.Periodic[0]
	dv.Seq = 10
	bv.Topic = telemetry.Topic.Append(nil, dv)
	bv.Payload = telemetry.Payload.Append(nil, dv)
	command := backend.Reactions[0]
	require.True(t, filterCovers(t, command.Filter, bv, bv.Topic))
	require.True(t, command.When(bv), "seq 10: every fifth message")
	dv2 := *bv
	dv2.Payload = []byte(strings.Replace(string(bv.Payload), `"seq":10`, `"seq":11`, 1))
	require.False(t, command.When(&dv2))

	cmdTopic := command.Reply.Topic.Append(nil, bv)
	cmdPayload := command.Reply.Payload.Append(nil, bv)
	require.Equal(t, "/devices/LTK00042/commands/reboot", string(cmdTopic))
	bv.Topic, bv.Payload = cmdTopic, cmdPayload
	sent, ok := command.Expect.SentKey(bv)
	require.True(t, ok)

	respond := device.Reactions[0]
	dv.Topic, dv.Payload = cmdTopic, cmdPayload
	require.True(t, filterCovers(t, respond.Filter, dv, cmdTopic))
	for range 100 {
		d := respond.Delay(float64(time.Now().UnixNano()%1000) / 1000)
		require.True(t, d >= 20*time.Millisecond && d <= 80*time.Millisecond, d)
	}
	respTopic := respond.Reply.Topic.Append(nil, dv)
	require.Equal(t, "/devices/LTK00042/events/responses/1", string(respTopic))
	bv.Topic, bv.Payload = respTopic, respond.Reply.Payload.Append(nil, dv)
	require.True(t, filterCovers(t, command.Expect.Filter, bv, respTopic))
	recv, ok := command.Expect.RecvKey(bv)
	require.True(t, ok)
	require.Equal(t, sent, recv)

	est, err := Check(s, 1002)
	require.NoError(t, err)
	require.InDelta(t, 1000.0/10, est.Kinds[0].Publish.Msgs, 1e-9)
	require.InDelta(t, 1000.0/10/5, est.Kinds[1].Replies.Msgs, 1e-9, "commands: a fifth of the telemetry")
	require.InDelta(t, 1000.0/10/5, est.Kinds[0].Replies.Msgs, 1e-9, "one response per command")
	require.InDelta(t, 1000.0/10/5, est.Awaited, 1e-9)
}

// filterCovers renders filter for v and reports whether topic matches it.
func filterCovers(t *testing.T, filter sim.Template, v *sim.Vars, topic []byte) bool {
	t.Helper()
	_, bare, _ := splitShare(string(filter.Append(nil, v)))
	return covers(bare, string(topic))
}

func TestIoTCoreStateConfig(t *testing.T) {
	t.Parallel()
	plan := loadExample(t, "iotcore-state-config").Plan()
	device, cloud := plan.Kinds[0], plan.Kinds[1]
	require.Len(t, device.OnConnect, 1)
	v := testVars()
	require.Equal(t, "/devices/LTK00042/state", string(device.OnConnect[0].Topic.Append(nil, v)))
	require.Equal(t, byte(1), device.Subscribe[0].QoS)
	require.Equal(t, "/devices/LTK00042/config", string(device.Subscribe[0].Filter.Append(nil, v)))

	push := cloud.Reactions[0]
	require.True(t, push.Reply.Retain)
	cv := testVars()
	cv.Topic, cv.Payload = []byte("/devices/LTK00042/events"), []byte(`{"seq":20}`)
	require.True(t, push.When(cv))
	cfg := push.Reply.Payload.Append(nil, cv)
	cv.Payload = cfg
	sent, ok := push.Expect.SentKey(cv)
	require.True(t, ok)

	v.Topic, v.Payload = push.Reply.Topic.Append(nil, cv), cfg
	require.Equal(t, "/devices/LTK00042/config", string(v.Topic))
	state, ack := device.Reactions[0], device.Reactions[1]
	require.Contains(t, string(state.Reply.Payload.Append(nil, v)), `"config_version":1795636801123`)
	cv.Payload = ack.Reply.Payload.Append(nil, v)
	recv, ok := push.Expect.RecvKey(cv)
	require.True(t, ok)
	require.Equal(t, sent, recv)
}

// TestSchedules checks the three forms of every: and their means.
func TestSchedules(t *testing.T) {
	t.Parallel()
	e := &errs{file: "t.yaml"}
	mean := func(s schedule) time.Duration {
		const n = 100_000
		var sum float64
		for i := range n {
			sum += float64(s.every((float64(i) + 0.5) / n))
		}
		return time.Duration(sum / n)
	}
	for _, tc := range []struct {
		src  string
		mean time.Duration
	}{
		{"10s", 10 * time.Second}, {"2s..8s", 5 * time.Second}, {"poisson 10s", 10 * time.Second}, {"poisson 250ms", 250 * time.Millisecond},
	} {
		s, ok := e.schedule(scalarValue(tc.src), "every", true)
		require.True(t, ok, tc.src)
		require.Equal(t, tc.mean, s.mean)
		require.InDelta(t, float64(tc.mean), float64(mean(s)), float64(tc.mean)/100, tc.src)
	}
	s, _ := e.schedule(scalarValue("poisson 1s"), "every", true)
	require.Less(t, s.every(0.9999999999999999), 40*time.Second, "the longest wait is finite: -ln(1e-16) means")
	require.GreaterOrEqual(t, s.every(0), time.Duration(0))
	require.NoError(t, e.err())
}

// TestExampleJSONPayloads renders every JSON payload of every example
// (replies with a sample received message) and parses it.
func TestExampleJSONPayloads(t *testing.T) {
	t.Parallel()
	parsed := 0
	for _, name := range scenarios.Names() {
		for _, p := range loadExample(t, name).Plan().Kinds {
			v := testVars("berlin")
			v.State = make([]float64, p.StateSize)
			if p.Init != nil {
				p.Init(v)
			}
			v.Topic, v.Payload = []byte("/devices/LTK00007/events"), []byte(`{"id":"c-1","from":"1","version":5,"seq":10}`)
			var msgs []*sim.Message
			for _, pub := range append(p.OnConnect, p.Periodic...) {
				msgs = append(msgs, &pub.Message)
			}
			for _, r := range p.Reactions {
				msgs = append(msgs, &r.Reply)
			}
			for _, m := range msgs {
				tpl := m.Payload.(*Template)
				if !isJSON(tpl.src) {
					continue
				}
				out := m.Payload.Append(nil, v)
				require.True(t, json.Valid(out), "%s: %s renders %s", name, tpl.src, out)
				parsed++
			}
		}
	}
	require.Equal(t, 12, parsed, "the JSON payloads of the examples")
}
