package chart

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLineGapsAndLegend(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0).UTC()
	ts := []time.Time{t0, t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(3 * time.Second)}
	got := string(Line("Requests <per> second", "per second", ts,
		Series{"requests/s", Blue, []float64{1, 2, math.NaN(), 40}},
		Series{"failures/s", Red, []float64{0, 0, 0, 0}}))
	require.True(t, strings.HasPrefix(got, `<svg class="chart" `), got)
	require.True(t, strings.HasSuffix(got, `</svg>`), got)
	require.Contains(t, got, "Requests &lt;per&gt; second", "the title is escaped")
	require.Contains(t, got, ">requests/s<")
	require.Contains(t, got, ">failures/s<")
	// The NaN splits the first series in two; the second is one line.
	require.Equal(t, 3, strings.Count(got, "<polyline"))
	// The y axis runs to a round number above the largest value: 40 → 50.
	require.Contains(t, got, ">50<")
	require.NotContains(t, got, ">60<")
	require.Contains(t, got, ">00:16:40<", "times are labelled in their location")
}

func TestLineNoData(t *testing.T) {
	t.Parallel()
	got := string(Line("Devices", "devices", nil, Series{"running", Cyan, nil}))
	require.Contains(t, got, "no data yet")
	require.NotContains(t, got, "<polyline")
}

func TestBars(t *testing.T) {
	t.Parallel()
	got := string(Bars("echo receive", "ms", []Bar{{"0–10 ms", 3, ""}, {"10–20 ms", 7, ""}, {"≥ 20 ms", 1, Red}},
		[]string{"0", "10", "20", "30"}))
	require.Equal(t, 3, strings.Count(got, "<rect"))
	require.Contains(t, got, "<title>10–20 ms: 7</title>")
	require.Contains(t, got, `fill="`+Red+`"`)
	require.Contains(t, got, ">30<", "the right edge of the last bar")
	few := string(Bars("few", "ms", []Bar{{"a", 1, ""}, {"b", 2, ""}}, []string{"0", "1", "2"}))
	require.NotContains(t, few, ">0.5<", "counts are whole: the y axis steps by 1 at least")
	require.Contains(t, few, ">5<")
}

func TestNiceStep(t *testing.T) {
	t.Parallel()
	for raw, want := range map[float64]float64{0: 1, -3: 1, 0.3: 0.5, 1: 1, 1.1: 2, 3: 5, 7: 10, 120: 200, 4500: 5000} {
		require.InDelta(t, want, NiceStep(raw), 1e-12, "NiceStep(%g)", raw)
	}
}

func TestFormatTick(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{0: "0", 0.25: "0.25", 1.0 / 3: "0.333", 500: "500", 20000: "20k", 3e6: "3M"} {
		require.Equal(t, want, formatTick(v))
	}
}
