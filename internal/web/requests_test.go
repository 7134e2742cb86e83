package web

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/stats"
)

// TestMedianAsLocust: median_response_time is rounded as Locust keeps
// response times, and kept within [min, max] as Locust keeps it.
func TestMedianAsLocust(t *testing.T) {
	t.Parallel()
	msd := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	for _, tc := range []struct {
		med, lo, hi, want float64
	}{
		{14.6, 1, 20, 15},
		{147, 100, 200, 150},
		{1234, 1000, 2000, 1200},
		{2.6, 1, 2.9, 2.9},    // 3 is above the max
		{0.37, 0.2, 0.9, 0.2}, // 0 is below the min
	} {
		e := stats.EntryStats{NumRequests: 5, Median: msd(tc.med), Min: msd(tc.lo), Max: msd(tc.hi)}
		require.InDelta(t, tc.want, medianMS(e), 1e-9, "median %v in [%v, %v]", tc.med, tc.lo, tc.hi)
	}
	require.Zero(t, medianMS(stats.EntryStats{}))
}

// TestExtremeCPUStaysJSON: a worker's CPU figure of ±Inf, NaN or 1e308 (a
// worker may send anything) does not make /stats/requests unencodable.
func TestExtremeCPUStaysJSON(t *testing.T) {
	t.Parallel()
	for _, cpu := range []float64{math.Inf(1), math.Inf(-1), math.NaN(), 1e308, -5} {
		r := buildReport(stats.Snapshot{}, StateRunning, 0, []WorkerInfo{{CPUPercent: cpu}}, false)
		_, err := json.Marshal(r)
		require.NoError(t, err, "cpu %v", cpu)
		got := (*r.Workers)[0].CPUUsage
		require.True(t, got >= 0 && got <= maxCPU, "cpu %v shows as %v", cpu, got)
	}
}
