package bench_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
)

// BenchmarkEchoPrograms compares, without sockets, what the echo scenario
// and the built-in echo do differently per echo: render the topic and the
// payload, take the sent message's key, match the topic of the echo to the
// expectation's filter and parse the echo's key. The rest of an echo's cost
// (the client, the engine, the system calls) is the same code for both.
func BenchmarkEchoPrograms(b *testing.B) {
	builtin := sim.EchoProgram(&sim.Config{QoS: 1, WaitMin: time.Second})
	for _, tc := range []struct {
		name string
		prog *sim.Program
	}{
		{"builtin", builtin},
		{"scenario", loadExample(b, "echo").Plan().Kinds[0]},
	} {
		b.Run(tc.name, func(b *testing.B) {
			pub := tc.prog.Periodic[0]
			x := pub.Expect
			v := sim.Vars{DeviceID: "LTK00042", ClientID: "projects/p/locations/l/registries/r/devices/LTK00042", Now: time.Now()}
			var topic, payload, filter []byte
			b.ReportAllocs()
			for b.Loop() {
				v.Seq++
				topic = pub.Topic.Append(topic[:0], &v)
				payload = pub.Payload.Append(payload[:0], &v)
				v.Topic, v.Payload = topic, payload
				sent, _ := x.SentKey(&v)
				filter = x.Filter.Append(filter[:0], &v)
				got, ok := x.RecvKey(&v)
				if !ok || got != sent || len(filter) == 0 {
					b.Fatalf("key %d of %q, want %d", got, payload, sent)
				}
			}
		})
	}
}

// TestEchoProgramsAgree checks what the benchmark relies on: both programs
// render a payload whose key the expectation finds again.
func TestEchoProgramsAgree(t *testing.T) {
	t.Parallel()
	for _, prog := range []*sim.Program{sim.EchoProgram(&sim.Config{QoS: 1}), loadExample(t, "echo").Plan().Kinds[0]} {
		v := sim.Vars{DeviceID: "LTK00042", ClientID: "c", Seq: 7, Now: time.Now()}
		v.Payload = prog.Periodic[0].Payload.Append(nil, &v)
		v.Topic = []byte("/devices/LTK00042/commands")
		sent, ok := prog.Periodic[0].Expect.SentKey(&v)
		require.True(t, ok)
		got, ok := prog.Periodic[0].Expect.RecvKey(&v)
		require.True(t, ok)
		require.Equal(t, sent, got)
	}
}
