package web

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/stats"
)

func TestHistoryRingKeepsTheNewest(t *testing.T) {
	t.Parallel()
	h := newHistory(3)
	t0 := time.Unix(1000, 0)
	for i := range 5 {
		h.add(Point{Time: t0.Add(time.Duration(i) * time.Second), Devices: i})
	}
	got := h.points()
	require.Len(t, got, 3)
	for i, p := range got {
		require.Equal(t, i+2, p.Devices, "oldest first, the first two dropped")
	}
	cols := columns(got)
	require.Equal(t, []float64{1002, 1003, 1004}, cols.Time)
	h.reset()
	require.Empty(t, h.points())
	h.add(Point{Devices: 9})
	require.Equal(t, 9, h.points()[0].Devices)
}

// TestTotalsOfBuckets checks that the histogram buckets computed from a
// snapshot by bisection agree with exact counts, within the histogram's
// 1% precision at the bucket bound.
func TestTotalsOfBuckets(t *testing.T) {
	t.Parallel()
	rec := stats.NewRecorder()
	e := rec.Entry("echo", "echo receive")
	var rtts []time.Duration
	for i := range 3000 {
		rtt := time.Duration(50+i*i%400_000) * time.Microsecond // 50 µs to 400 ms, uneven
		rtts = append(rtts, rtt)
		e.Record(rtt, 0)
	}
	agg := stats.NewAggregate()
	require.NoError(t, agg.Add(rec.Drain(time.Now())))
	snap := agg.Snapshot(time.Now())
	got := totalsOf(snap.Entries[0])
	require.Equal(t, uint64(3000), got.requests)
	for i, b := range responseTimeBuckets {
		bound := time.Duration(b * float64(time.Second))
		var lo, hi uint64 // exact counts at 0.99 and 1.01 times the bound
		for _, r := range rtts {
			if float64(r) <= 0.99*float64(bound) {
				lo++
			}
			if float64(r) <= 1.01*float64(bound) {
				hi++
			}
		}
		require.GreaterOrEqual(t, got.buckets[i], lo, "le=%v", b)
		require.LessOrEqual(t, got.buckets[i], hi, "le=%v", b)
	}
}
