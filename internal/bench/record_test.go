package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
)

// TestKindRecorderCounts checks what a kind's recorder counts, and that
// recording, on every publish and reply, allocates nothing.
func TestKindRecorderCounts(t *testing.T) { // not parallel: AllocsPerRun refuses parallel tests
	fp := builtinPlan(&Config{Devices: 1, Interval: time.Second, QoS: 1})
	rec := newRecorder(fp.plan)
	kr := rec.kind(0, fp.plan.Kinds[0])
	allocs := testing.AllocsPerRun(100, func() {
		kr.Success(sim.EventPublish, time.Millisecond, 90)
		kr.Success(sim.EventEchoReceive, time.Millisecond, 90)
		kr.Success(sim.EventEchoLate, time.Millisecond, 90)
		kr.Success(sim.EventConnect, time.Millisecond, 0) // neither: the echo device is ready at its SUBACK
	})
	require.Zero(t, allocs)
	kr.Success(sim.EventSubscribe, time.Millisecond, 0)
	sent, replies := rec.counts()
	require.Equal(t, []int64{101}, sent) // AllocsPerRun runs once more to warm up
	require.Equal(t, []int64{202}, replies)
	require.Equal(t, int64(1), rec.ready.Load())
}
