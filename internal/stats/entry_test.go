package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/hist"
)

// snapshotOf drains r into a new Aggregate and returns its snapshot.
func snapshotOf(t *testing.T, r *Recorder) Snapshot {
	t.Helper()
	a := NewAggregate()
	require.NoError(t, a.Add(r.Drain(time.Now())))
	return a.Snapshot(time.Now())
}

func TestRecordExactStats(t *testing.T) {
	t.Parallel()
	r := NewRecorder()
	e := r.Entry("echo", "echo receive")
	for _, rtt := range []time.Duration{1500 * time.Microsecond, 2 * time.Millisecond, 1234567 * time.Nanosecond, 2 * time.Hour} {
		e.Record(rtt, 10)
	}
	e.Record(-time.Second, -5) // counts as zero

	s := snapshotOf(t, r)
	require.Len(t, s.Entries, 1)
	got := s.Entries[0]
	require.Equal(t, "echo", got.Type)
	require.Equal(t, "echo receive", got.Name)
	require.EqualValues(t, 5, got.NumRequests)
	require.Zero(t, got.NumFailures)
	require.Equal(t, time.Duration(0), got.Min)
	require.Equal(t, 2*time.Hour, got.Max, "max is exact beyond the histogram's 1 h range")
	sum := 1500*time.Microsecond + 2*time.Millisecond + 1234567*time.Nanosecond + 2*time.Hour
	require.Equal(t, sum/5, got.Avg)
	require.InDelta(t, 40.0/5, got.AvgContentLength, 1e-9)
	require.Equal(t, got.Max, got.Percentile(1))
	require.Equal(t, got.Min, got.Percentile(0))
	require.Equal(t, got, s.Total.withName(got.Type, got.Name), "one entry: the total is the entry")
}

// withName returns e renamed, to compare a total with an entry.
func (e EntryStats) withName(typ, name string) EntryStats {
	e.Type, e.Name = typ, name
	return e
}

func TestPercentilesMatchSortedSample(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	r := NewRecorder()
	e := r.Entry("echo", "echo receive")
	sample := make([]time.Duration, 20000)
	for i := range sample {
		// Log-uniform from 50 µs to 50 s: every bucket size of the histogram.
		sample[i] = time.Duration(50e3 * math.Pow(10, rng.Float64()*6))
		e.Record(sample[i], 0)
	}
	slices.Sort(sample)
	got := snapshotOf(t, r).Entries[0]

	qs := []float64{0, 0.001, 0.1, 0.25, 0.5, 0.66, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1}
	for range 50 {
		qs = append(qs, rng.Float64())
	}
	for _, q := range qs {
		rank := max(min(int(q*float64(len(sample))+0.5), len(sample)), 1) // the nearest rank, as hist.Quantile
		want := sample[rank-1]
		p := got.Percentile(q)
		require.GreaterOrEqual(t, p, want-time.Microsecond, "q=%v", q)
		require.LessOrEqual(t, p, want+want/128+time.Microsecond, "q=%v", q)
		require.LessOrEqual(t, p, got.Max, "q=%v", q)
		require.GreaterOrEqual(t, p, got.Min, "q=%v", q)
	}
	require.Equal(t, sample[0], got.Min)
	require.Equal(t, sample[len(sample)-1], got.Max)
	require.Equal(t, got.Percentile(0.5), got.Median)
}

func TestP99NeverExceedsMax(t *testing.T) {
	t.Parallel()
	// One slow request among fast ones: the histogram bucket of the slow
	// one reaches above it, the reported percentile must not.
	r := NewRecorder()
	e := r.Entry("MQTT", "MQTT connect")
	for range 99 {
		e.Record(time.Millisecond, 0)
	}
	e.Record(1234567*time.Microsecond+1, 0)
	got := snapshotOf(t, r).Entries[0]
	for _, q := range []float64{0.99, 0.999, 1, 2} {
		require.LessOrEqual(t, got.Percentile(q), got.Max)
	}
	require.Equal(t, got.Max, got.Percentile(1))
	require.InDelta(t, time.Millisecond, got.Percentile(0.5), float64(time.Millisecond/100))
}

func TestFailGrouping(t *testing.T) {
	t.Parallel()
	r := NewRecorder()
	echo := r.Entry("echo", "echo timeout")
	connect := r.Entry("MQTT", "MQTT connect")
	require.Same(t, echo, r.Entry("echo", "echo timeout"))
	for range 3 {
		echo.Fail(2*time.Minute, "no echo within 2m0s", "")
	}
	connect.Fail(time.Second, "not authorized", "LTK00003")
	connect.Fail(3*time.Second, "connection refused", "LTK00001")
	connect.Fail(time.Second, "not authorized", "LTK00007")
	connect.Record(10*time.Millisecond, 0)

	s := snapshotOf(t, r)
	require.Equal(t, []FailureStats{
		{Type: "echo", Name: "echo timeout", Message: "no echo within 2m0s", Occurrences: 3},
		{Type: "MQTT", Name: "MQTT connect", Message: "not authorized", Occurrences: 2, Examples: []string{"LTK00003", "LTK00007"}},
		{Type: "MQTT", Name: "MQTT connect", Message: "connection refused", Occurrences: 1, Examples: []string{"LTK00001"}},
	}, s.Failures)
	require.Len(t, s.Entries, 2)
	c := s.Entries[0]
	require.Equal(t, "MQTT connect", c.Name)
	require.EqualValues(t, 4, c.NumRequests, "failures count as requests, as in Locust")
	require.EqualValues(t, 3, c.NumFailures)
	require.InDelta(t, 0.75, c.FailRatio(), 1e-12)
	require.Equal(t, 3*time.Second, c.Max, "failures' response times count")
	require.EqualValues(t, 7, s.Total.NumRequests)
	require.EqualValues(t, 6, s.Total.NumFailures)
}

func TestDrainUnderConcurrency(t *testing.T) {
	t.Parallel()
	const goroutines, perGoroutine = 4, 20000
	r := NewRecorder()
	ok, bad := r.Entry("echo", "echo receive"), r.Entry("echo", "echo timeout")
	a := NewAggregate()

	var wg sync.WaitGroup
	done := make(chan struct{})
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				if i%10 == 0 {
					bad.Fail(time.Duration(i)*time.Microsecond, []string{"a", "b"}[g%2], "")
				} else {
					ok.Record(time.Duration(g*perGoroutine+i)*time.Microsecond, 3)
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	drains := 0
	for running := true; running; drains++ {
		select {
		case <-done:
			running = false
		default:
		}
		require.NoError(t, a.Add(r.Drain(time.Now())))
	}
	require.NoError(t, a.Add(r.Drain(time.Now())))
	t.Logf("%d drains", drains)

	s := a.Snapshot(time.Now())
	const fails = goroutines * perGoroutine / 10
	require.EqualValues(t, goroutines*perGoroutine-fails, s.Entries[0].NumRequests)
	require.EqualValues(t, fails, s.Entries[1].NumRequests)
	require.EqualValues(t, fails, s.Total.NumFailures)
	require.Equal(t, int64(goroutines*perGoroutine), hist.Sum(s.Total.hist))
	require.Equal(t, 3.0, s.Entries[0].AvgContentLength, "every byte counted once")
	require.Equal(t, time.Duration(goroutines*perGoroutine-1)*time.Microsecond, s.Entries[0].Max)
	var occ int64
	for _, f := range s.Failures {
		occ += f.Occurrences
	}
	require.EqualValues(t, fails, occ)
	require.Len(t, s.Failures, 2)
}

func TestDrainEmptiesRecorder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		r := NewRecorder()
		e := r.Entry("MQTT", "MQTT publish")
		e.Record(time.Millisecond, 100)
		e.Fail(time.Millisecond, "x", "")
		time.Sleep(5 * time.Second)
		d := r.Drain(time.Now())
		require.Equal(t, start, d.Start)
		require.Equal(t, start.Add(5*time.Second), d.End)
		require.Len(t, d.Entries, 1)
		require.Len(t, d.Failures, 1)

		r.Entry("MQTT", "MQTT never used")
		d2 := r.Drain(time.Now().Add(time.Second))
		require.Equal(t, d.End, d2.Start)
		require.Empty(t, d2.Entries, "nothing recorded since the last Drain")
		require.Empty(t, d2.Failures)
	})
}

func TestPerSecondCounts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := NewRecorder()
		e := r.Entry("echo", "echo receive")
		t0 := time.Now().Unix()
		for i := range 3 {
			for range i + 1 {
				e.Record(time.Millisecond, 0)
			}
			e.Fail(time.Millisecond, "late", "")
			time.Sleep(time.Second)
		}
		d := r.Drain(time.Now())
		require.Equal(t, []Second{
			{Unix: t0, Requests: 2, Failures: 1},
			{Unix: t0 + 1, Requests: 3, Failures: 1},
			{Unix: t0 + 2, Requests: 4, Failures: 1},
		}, d.Entries[0].Seconds)
	})
}

// TestRecordAllocs is not parallel: AllocsPerRun counts every allocation in
// the process.
func TestRecordAllocs(t *testing.T) {
	r := NewRecorder()
	e := r.Entry("echo", "echo receive")
	e.Fail(time.Second, "timeout", "") // first sight of the message
	require.Zero(t, testing.AllocsPerRun(1000, func() { e.Record(1500*time.Microsecond, 64) }), "Record")
	require.Zero(t, testing.AllocsPerRun(1000, func() { e.Fail(time.Second, "timeout", "") }), "Fail with a known message")
	require.Zero(t, testing.AllocsPerRun(1000, func() { e.Record(3*time.Hour, 0) }), "Record beyond the histogram's range")
}

// TestHistogramSize keeps the documented geometry and memory true.
func TestHistogramSize(t *testing.T) {
	t.Parallel()
	require.Equal(t, 26<<10, int(unsafe.Sizeof(*new(shard).counts)), "26 KiB per shard's histogram")
}
