package pace_test

import (
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/pace"
)

func TestSpawnNext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rate float64
		n    int
		want time.Duration
	}{
		{"first at once", 10, 0, 0},
		{"negative n", 10, -3, 0},
		{"second", 10, 1, 100 * time.Millisecond},
		{"tenth", 10, 10, time.Second},
		{"fractional rate", 0.5, 3, 6 * time.Second},
		{"fast rate rounds up", 3, 1, 333333334 * time.Nanosecond},
		{"zero rate all at once", 0, 1000, 0},
		{"negative rate all at once", -1, 5, 0},
		{"NaN rate all at once", math.NaN(), 5, 0},
		{"infinite rate all at once", math.Inf(1), 5, 0},
		{"tiny rate saturates", 1e-12, math.MaxInt32, time.Duration(math.MaxInt64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, pace.Spawn{Rate: tc.rate}.Next(tc.n))
		})
	}
}

func TestSpawnDue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		rate    float64
		elapsed time.Duration
		want    int
	}{
		{"before the ramp", 10, -time.Nanosecond, 0},
		{"at the start", 10, 0, 1},
		{"just before the second", 10, 100*time.Millisecond - 1, 1},
		{"at the second", 10, 100 * time.Millisecond, 2},
		{"after one second", 10, time.Second, 11},
		{"rate one third", 3, time.Second, 4},
		{"rate one third, just before", 3, 333333333 * time.Nanosecond, 1},
		{"slow rate", 0.5, 5 * time.Second, 3},
		{"zero rate", 0, 0, math.MaxInt},
		{"zero rate later", 0, time.Hour, math.MaxInt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, pace.Spawn{Rate: tc.rate}.Due(tc.elapsed))
		})
	}
}

// TestSpawnDueMatchesNext checks the defining property over awkward rates:
// device n has started by elapsed exactly when n < Due(elapsed).
func TestSpawnDueMatchesNext(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0.3, 1, 3, 7, 10, 33.3, 100, 999.9, 1e6} {
		s := pace.Spawn{Rate: rate}
		for n := range 2000 {
			at := s.Next(n)
			require.Greater(t, s.Due(at), n, "rate %v: device %d not due at its own start %v", rate, n, at)
			if at > 0 {
				require.LessOrEqual(t, s.Due(at-1), n, "rate %v: device %d due before its start %v", rate, n, at)
			}
		}
	}
}

func TestSpawnPace(t *testing.T) {
	t.Parallel()
	s := pace.Spawn{Rate: 4}
	require.Equal(t, time.Duration(0), s.Pace(0, 0))
	require.Equal(t, 250*time.Millisecond, s.Pace(0, 1))
	require.Equal(t, 50*time.Millisecond, s.Pace(200*time.Millisecond, 1))
	require.Equal(t, time.Duration(0), s.Pace(time.Second, 2), "an overdue device waits 0")
	require.Equal(t, time.Duration(0), pace.Spawn{}.Pace(0, 1000))
}

// TestSpawnRamp drives the starter loop a caller would write (one timer reset
// to Pace) on a fake clock and checks the starts land on the schedule.
func TestSpawnRamp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const count = 25
		s := pace.Spawn{Rate: 10}
		begin := time.Now()
		var starts []time.Duration
		timer := time.NewTimer(0)
		defer timer.Stop()
		for len(starts) < count {
			<-timer.C
			elapsed := time.Since(begin)
			for n := len(starts); n < min(s.Due(elapsed), count); n++ {
				starts = append(starts, elapsed)
			}
			timer.Reset(s.Pace(elapsed, len(starts)))
		}
		for n, at := range starts {
			require.Equal(t, s.Next(n), at, "device %d", n)
		}
		require.Equal(t, 2400*time.Millisecond, time.Since(begin))
	})
}

func TestInterval(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		min, max time.Duration
		u        float64
		want     time.Duration
	}{
		{"constant", time.Second, time.Second, 0.7, time.Second},
		{"low end", time.Second, 3 * time.Second, 0, time.Second},
		{"middle", time.Second, 3 * time.Second, 0.5, 2 * time.Second},
		{"high end", time.Second, 3 * time.Second, math.Nextafter(1, 0), 3 * time.Second},
		{"u above range clamps", time.Second, 3 * time.Second, 7, 3 * time.Second},
		{"u below range clamps", time.Second, 3 * time.Second, -1, time.Second},
		{"max below min", 2 * time.Second, time.Second, 0.5, 2 * time.Second},
		{"zero", 0, 0, 0.5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, pace.Interval{Min: tc.min, Max: tc.max}.Next(tc.u))
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	b := pace.Backoff{Min: time.Second, Max: 30 * time.Second}
	for _, tc := range []struct {
		name    string
		b       pace.Backoff
		attempt int
		u       float64
		want    time.Duration
	}{
		{"first retry low", b, 0, 0, time.Second},
		{"first retry high", b, 0, 1, 2 * time.Second},
		{"second retry middle", b, 1, 0.5, 3 * time.Second},
		{"capped low", b, 10, 0, 15 * time.Second},
		{"capped high", b, 10, 1, 30 * time.Second},
		{"huge attempt", b, 1 << 30, 1, 30 * time.Second},
		{"max below 2 min never under min", pace.Backoff{Min: time.Second, Max: time.Second}, 0, 0, time.Second},
		{"zero min", pace.Backoff{Max: time.Second}, 3, 0.5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.b.Next(tc.attempt, tc.u))
		})
	}
}

func TestPaceAllocs(t *testing.T) {
	s := pace.Spawn{Rate: 7}
	i := pace.Interval{Min: time.Second, Max: 2 * time.Second}
	b := pace.Backoff{Min: time.Second, Max: time.Minute}
	var sink time.Duration
	allocs := testing.AllocsPerRun(100, func() {
		sink += s.Pace(time.Second, s.Due(time.Second)) + i.Next(0.3) + b.Next(4, 0.3)
	})
	require.Zero(t, allocs)
	_ = sink
}

func BenchmarkPacerPace(b *testing.B) {
	s := pace.Spawn{Rate: 100}
	iv := pace.Interval{Min: time.Second, Max: 2 * time.Second}
	b.ReportAllocs()
	var elapsed, sink time.Duration
	for b.Loop() {
		elapsed += time.Millisecond
		n := s.Due(elapsed)
		sink += s.Pace(elapsed, n) + iv.Next(0.5)
	}
	_ = sink
}
