package swarm_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/examples/scenarios"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/scenario"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/swarm"
)

// exampleRun is how a test runs one of the example scenarios: the edits
// that shorten its intervals (pairs of old and new text, each found
// once), how many clients run it, and whether it needs an echo back end.
// An example whose kinds need what a client lacks (MQTT 5 on paho) is
// refused for that client before any device starts, as ltk run refuses it.
type exampleRun struct {
	name    string
	edits   []string
	clients int
	echoApp bool
}

var exampleRuns = []exampleRun{
	{name: "echo", edits: []string{"every: 1s", "every: 100ms"}, clients: 4, echoApp: true},
	{name: "fleet", clients: 8, edits: []string{
		"weight: 90", "weight: 2", "weight: 9", "weight: 1", // 2 sensors, a gateway and a camera in every 4 devices
		"every: poisson 10s", "every: poisson 100ms", "every: 5s", "every: 200ms",
		"every: 1m..2m", "every: 300ms..500ms", "burst_gap: 200ms", "burst_gap: 20ms",
	}},
	{name: "command-response", edits: []string{"every: poisson 10s", "every: poisson 50ms"}, clients: 2 + 4},
	{name: "iotcore-state-config", edits: []string{"every: poisson 30s", "every: poisson 50ms"}, clients: 1 + 4},
	{name: "request-response-v5", edits: []string{"every: poisson 5s", "every: poisson 50ms"}, clients: 1 + 4},
}

// loadExample compiles the example name with edits applied.
func loadExample(t *testing.T, name string, edits ...string) *sim.Plan {
	t.Helper()
	src, ok := scenarios.Get(name)
	require.True(t, ok, "example %s", name)
	text := string(src)
	for i := 0; i+1 < len(edits); i += 2 {
		require.Equal(t, 1, strings.Count(text, edits[i]), "example %s: %q, once", name, edits[i])
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	s, err := scenario.Load(name+".yaml", []byte(text))
	require.NoError(t, err)
	return s.Plan()
}

// planConfigs builds the fleet's device configurations from plan, as a
// worker does: device i runs plan.Kinds[plan.KindOf(i)] with index i and
// its column values (column "site" of device i is "site-<i%2>").
func planConfigs(plan *sim.Plan, devs []device.Device, b *scenarioBroker, client string, rec *fleet) []sim.Config {
	cfgs := make([]sim.Config, len(devs))
	for i, d := range devs {
		c := sim.Config{
			Client:             client,
			Program:            plan.Kinds[plan.KindOf(i)],
			Index:              i,
			Columns:            columnValues(plan.Columns, i),
			LastMessageTimeout: 10 * time.Second, // the stop waits this long only for replies still due
			ReconnectMin:       20 * time.Millisecond,
			ReconnectMax:       100 * time.Millisecond,
			Recorder:           deviceRecorder{rec, i},
		}
		b.configure(&c, d)
		cfgs[i] = c
	}
	return cfgs
}

// columnValues returns device i's values of columns.
func columnValues(columns []string, i int) []string {
	var values []string
	for _, c := range columns {
		values = append(values, fmt.Sprintf("%s-%d", c, i%2))
	}
	return values
}

// runFleet runs every device of cfgs at once and returns the swarm's stop.
func runFleet(t *testing.T, cfgs []sim.Config) (stop func() error) {
	t.Helper()
	s := newSwarm(t, swarm.Config{Devices: cfgs})
	stop = runSwarm(t, s)
	require.NoError(t, s.Scale(len(cfgs), 0))
	return stop
}

// TestScenarioExamples runs every example the issue names, shortened, on
// the embedded target and on Mosquitto, on both MQTT clients, for the time
// it takes every step to run a few times; then stops the fleet and checks
// the accounting of every step: each expectation's messages sent are
// matched, missed, or missed at the stop (after its last wait), exactly.
func TestScenarioExamples(t *testing.T) {
	t.Parallel()
	for _, ex := range exampleRuns {
		for _, broker := range brokerKinds {
			t.Run(ex.name+"/"+broker, func(t *testing.T) {
				t.Parallel()
				plan := loadExample(t, ex.name, ex.edits...)
				devs := testDevices(t, ex.clients)
				forEachClient(t, func(t *testing.T, client string) {
					if refused(t, plan, client) {
						return
					}
					b := startBroker(t, broker, devs, ex.echoApp)
					rec := newFleet()
					cfgs := planConfigs(plan, devs, b, client, rec)
					var probe *probe
					if len(plan.Columns) > 0 {
						probe = startProbe(t, b, "/devices/+/events")
					}
					stop := runFleet(t, cfgs)
					rec.waitUntil(t, "every step ran a few times", func() bool { return everyStepRan(plan, cfgs, rec) })
					if probe != nil {
						probe.checkColumns(t, plan, cfgs)
					}
					require.NoError(t, stop())
					checkAccounting(t, plan, cfgs, rec)
				})
			})
		}
	}
}

// refused reports whether client cannot run plan (the paho client and a
// kind of MQTT 5), after checking that sim.CheckRun, which ltk run and the
// workers ask before any device starts, refuses it saying what to use.
func refused(t *testing.T, plan *sim.Plan, client string) bool {
	t.Helper()
	needs5 := false
	for _, p := range plan.Kinds {
		needs5 = needs5 || p.MQTTVersion == runset.MQTTVersion5
	}
	err := sim.CheckRun(client, "tcp://127.0.0.1:1883", "", 1, plan)
	if client == sim.ClientPaho && needs5 {
		require.ErrorContains(t, err, "not MQTT 5: use the lean client (--mqtt-client lean)")
		return true
	}
	require.NoError(t, err)
	return false
}

// steps calls f with every step of p: its publishes and reactions, each
// with its event, its expectation (or nil) and whether it runs once per
// connect.
func steps(p *sim.Program, f func(ev sim.Event, x *sim.Expect, once bool)) {
	for _, pub := range p.OnConnect {
		f(pub.Event, pub.Expect, true)
	}
	for _, pub := range p.Periodic {
		f(pub.Event, pub.Expect, false)
	}
	for _, r := range p.Reactions {
		f(r.Event, r.Expect, false)
	}
}

// enough is how many times a test runs every step of an example: a few
// seconds of the shortened examples.
const enough = 20

// everyStepRan reports whether every step of the fleet's programs was
// recorded as a success: on-connect publishes once per device of the kind,
// the others enough times, and every expectation matched enough times.
func everyStepRan(plan *sim.Plan, cfgs []sim.Config, rec *fleet) bool {
	for k, p := range plan.Kinds {
		devices := 0
		for i := range cfgs {
			if plan.KindOf(i) == k {
				devices++
			}
		}
		ran := true
		steps(p, func(ev sim.Event, x *sim.Expect, once bool) {
			want := enough
			if once {
				want = devices
			}
			ran = ran && rec.total(ev, true) >= want && (x == nil || rec.total(x.Match, true) >= enough)
		})
		if !ran {
			return false
		}
	}
	return true
}

// checkAccounting checks, after the fleet stopped, that every client
// connected (and subscribed) once and never lost its connection, that no
// publish failed, and that each expectation's messages sent (their
// publishes' successes) equal its replies matched plus missed plus missed
// at the stop.
func checkAccounting(t *testing.T, plan *sim.Plan, cfgs []sim.Config, rec *fleet) {
	t.Helper()
	t.Logf("recorded: %v", rec.named(t, plan.Events))
	subscribers := 0
	for _, c := range cfgs {
		if len(c.Program.Subscribe) > 0 {
			subscribers++
		}
	}
	// A reply later than its expectation's timeout is a miss, which the
	// accounting below checks exactly; on a busy machine that happens.
	// Anything else failing is a defect.
	misses := map[sim.Event]bool{}
	for _, p := range plan.Kinds {
		steps(p, func(_ sim.Event, x *sim.Expect, _ bool) {
			if x != nil {
				misses[x.Miss], misses[x.LastMiss] = true, true
			}
		})
	}
	require.Empty(t, rec.failures(misses), "no failures but late replies on a broker that answers everything")
	require.Equal(t, len(cfgs), rec.total(sim.EventConnect, true), "every client connected once")
	require.Equal(t, subscribers, rec.total(sim.EventSubscribe, true), "every client with subscriptions subscribed once")
	require.Zero(t, rec.total(sim.EventDisconnect, false))
	for _, p := range plan.Kinds {
		steps(p, func(ev sim.Event, x *sim.Expect, _ bool) {
			name := plan.Events[ev].Name
			require.Zero(t, rec.total(ev, false), "%s: no publish failed", name)
			if x == nil {
				return
			}
			got := rec.total(x.Match, true) + rec.total(x.Miss, false)
			if x.LastMiss != x.Miss && x.LastMiss != sim.EventNone {
				got += rec.total(x.LastMiss, false)
			}
			require.Equal(t, rec.total(ev, true), got, "%s: sent = matched + missed + missed at the stop", name)
			require.Positive(t, rec.total(x.Match, true), "%s: replies matched", name)
		})
	}
}

// TestEchoScenarioMatchesBuiltin runs the built-in echo behaviour and the
// echo.yaml example (with the same hour between publishes, so that each
// device publishes once, at connect) on the embedded target, and stops each
// once every device's echo came back: both record the same stats, by name,
// with the same counts.
func TestEchoScenarioMatchesBuiltin(t *testing.T) {
	t.Parallel()
	const n = 4
	devs := testDevices(t, n)
	plan := loadExample(t, "echo", "every: 1s", "every: 1h")
	forEachClient(t, func(t *testing.T, client string) {
		runEcho := func(prog *sim.Program, names []sim.EventName) map[string]int {
			b := startBroker(t, "embedded", devs, true)
			rec := newFleet()
			cfgs := make([]sim.Config, n)
			for i, d := range devs {
				cfgs[i] = sim.Config{Client: client, Program: prog, QoS: 1, WaitMin: time.Hour, Index: i, Recorder: deviceRecorder{rec, i}}
				b.configure(&cfgs[i], d)
			}
			stop := runFleet(t, cfgs)
			echoed := sim.EventEchoReceive
			if prog != nil {
				echoed = prog.Periodic[0].Expect.Match
			}
			rec.waitUntil(t, "every device's echo", func() bool { return rec.total(echoed, true) == n })
			require.NoError(t, stop())
			return rec.named(t, names)
		}
		builtin := runEcho(nil, sim.BuiltinEvents())
		require.Equal(t, map[string]int{
			"MQTT/MQTT connect ok=true": n, "MQTT/MQTT subscribe ok=true": n,
			"MQTT/MQTT publish ok=true": n, "echo/echo receive ok=true": n,
		}, builtin)
		require.Equal(t, builtin, runEcho(plan.Kinds[0], plan.Events))
	})
}
