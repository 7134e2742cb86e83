package worker

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/syncbuf"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// TestDroppedEchoesAreOnlyFailures runs devices against the embedded target
// dropping 5% of the echoes, as 'ltk run --target-drop-rate 0.05' does: the
// echo timeouts count as requests and failures, with the devices as
// examples, but in no response time, so that the percentiles of the echo
// entries together are exactly those of the echoes that arrived (they were
// pulled towards 0 ms by the misses), and --loglevel debug names each
// failing device.
func TestDroppedEchoesAreOnlyFailures(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.Echo.DropRate = 0.05 })
	s := validSettings()
	s.Broker = tt.BrokerURL()
	s.WaitMin, s.WaitMax = 20*time.Millisecond, 20*time.Millisecond
	s.EchoTimeout = 100 * time.Millisecond
	block := make([]device.Device, 10)
	for i := range block {
		block[i].ID = device.FormatID("LTK", 5, i+1)
	}
	var logs syncbuf.Buffer
	w, err := New(Block{Devices: block}, s, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	require.NoError(t, w.Scale(len(block), 0))

	// Everything; and the echoes with their misses (an "echo late", a
	// late echo's own response time, is left out).
	all, echoes := stats.NewAggregate(), stats.NewAggregate()
	add := func() {
		d := w.Drain(time.Now())
		require.NoError(t, all.Add(d))
		d.Entries = only(d.Entries, "echo receive", "echo timeout", "last message timeout")
		require.NoError(t, echoes.Add(d))
	}
	require.Eventually(t, func() bool {
		add()
		return entry(all.Snapshot(time.Now()), "echo timeout").NumRequests >= 20
	}, 60*time.Second, 50*time.Millisecond, "twenty echoes dropped")
	cancel()
	require.NoError(t, <-done)
	add()

	snap, now := echoes.Snapshot(time.Now()), time.Now()
	received, missed := entry(snap, "echo receive"), entry(snap, "echo timeout")
	require.Positive(t, received.NumRequests)
	require.Equal(t, missed.NumRequests, missed.NumFailures)
	require.Equal(t, missed.NumRequests, missed.NumUntimed, "a miss has no response time")
	last := entry(snap, "last message timeout")
	require.Equal(t, last.NumRequests, last.NumUntimed)
	require.Equal(t, received.NumRequests+missed.NumRequests+last.NumRequests, snap.Total.NumRequests)
	for _, q := range []float64{0.01, 0.5, 0.95, 0.99} {
		require.Equal(t, received.Percentile(q), snap.Total.Percentile(q), "echo p%v", 100*q)
	}
	require.Equal(t, received.Min, snap.Total.Min)
	require.Equal(t, received.Avg, snap.Total.Avg)
	require.Positive(t, all.Snapshot(now).Total.Min, "no 0 ms value in the Aggregated row")

	var fails *stats.FailureStats
	for i, f := range snap.Failures {
		if f.Name == "echo timeout" {
			fails = &snap.Failures[i]
		}
	}
	require.NotNil(t, fails)
	require.Equal(t, missed.NumFailures, fails.Occurrences)
	require.NotEmpty(t, fails.Examples)
	require.LessOrEqual(t, len(fails.Examples), stats.MaxExamples)
	for _, id := range fails.Examples {
		require.True(t, strings.HasPrefix(id, "LTK0000") || id == "LTK00010", id)
		require.Contains(t, logs.String(), "msg=failure device="+id+" type=echo name=\"echo timeout\"")
	}
}

// only returns the entries named names.
func only(es []stats.EntryDelta, names ...string) []stats.EntryDelta {
	var out []stats.EntryDelta
	for _, e := range es {
		if slices.Contains(names, e.Name) {
			out = append(out, e)
		}
	}
	return out
}

// entry returns the entry named name of s, zero if none.
func entry(s stats.Snapshot, name string) stats.EntryStats {
	for _, e := range s.Entries {
		if e.Name == name {
			return e
		}
	}
	return stats.EntryStats{}
}
