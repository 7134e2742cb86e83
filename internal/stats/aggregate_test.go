package stats

import (
	"math"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/hist"
)

// names are the entries of the merge tests.
var names = [][2]string{
	{"MQTT", "MQTT connect"}, {"MQTT", "MQTT subscribe"}, {"MQTT", "MQTT publish"}, {"echo", "echo receive"},
	{"echo", "echo timeout"}, {"echo", "echo late"}, {"echo", "last message timeout"}, {"MQTT", "MQTT disconnect"},
}

// recordRandom records n random outcomes over several (fake) seconds. Each
// goes into every recorder of a group picked at random.
func recordRandom(rng *rand.Rand, n int, groups ...[]*Recorder) {
	for i := range n {
		g := groups[rng.IntN(len(groups))]
		k := names[rng.IntN(len(names))]
		rtt := time.Duration(rng.Int64N(int64(10 * time.Second)))
		msg, size := "", rng.IntN(1000)
		if rng.IntN(20) == 0 {
			msg = []string{"timeout", "refused", "lost"}[rng.IntN(3)]
		}
		for _, r := range g {
			e := r.Entry(k[0], k[1])
			if msg != "" {
				e.Fail(rtt, msg, "")
			} else {
				e.Record(rtt, size)
			}
		}
		if i%(n/5) == 0 {
			time.Sleep(time.Second) // fake time: spread the records over seconds
		}
	}
}

// requireSameSnapshot compares two snapshots, their histograms bucket by
// bucket, but not their current percentiles, which depend on when the
// deltas ended.
func requireSameSnapshot(t *testing.T, want, got Snapshot) {
	t.Helper()
	strip := func(s Snapshot) Snapshot {
		s.Entries = append([]EntryStats(nil), s.Entries...)
		for i := range s.Entries {
			s.Entries[i].recent, s.Entries[i].recentN = nil, 0
		}
		s.Total.recent, s.Total.recentN = nil, 0
		return s
	}
	require.Equal(t, strip(want), strip(got))
}

func TestMergeEqualsRecordingInOne(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		parts := []*Recorder{NewRecorder(), NewRecorder(), NewRecorder(), NewRecorder()}
		whole := NewRecorder()
		recordRandom(rand.New(rand.NewPCG(7, 7)), 20000,
			[]*Recorder{parts[0], whole}, []*Recorder{parts[1], whole},
			[]*Recorder{parts[2], whole}, []*Recorder{parts[3], whole})

		now := time.Now()
		want := NewAggregate()
		require.NoError(t, want.Add(whole.Drain(now)))
		deltas := make([]*Delta, len(parts))
		for i, r := range parts {
			deltas[i] = r.Drain(now)
			require.NotEmpty(t, deltas[i].Entries)
		}

		rng := rand.New(rand.NewPCG(1, 1))
		for range 5 { // orders of merging
			got := NewAggregate()
			for _, i := range rng.Perm(len(deltas)) {
				require.NoError(t, got.Add(deltas[i]))
			}
			snap := got.Snapshot(now.Add(3 * time.Second))
			wantSnap := want.Snapshot(now.Add(3 * time.Second))
			requireSameSnapshot(t, wantSnap, snap)
			for i, w := range rows(wantSnap) {
				require.NotZero(t, w.CurrentPercentile(0.95))
				require.Equal(t, w.CurrentPercentile(0.95), rows(snap)[i].CurrentPercentile(0.95))
			}
			require.Len(t, snap.Entries, len(names))
			require.NotZero(t, snap.Total.CurrentRPS)
		}
	})
}

func TestMergeIndependentOfDrainPoints(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		once, often := NewRecorder(), NewRecorder()
		rng := rand.New(rand.NewPCG(3, 4))
		split := NewAggregate()
		for range 7 {
			recordRandom(rng, 1000, []*Recorder{once, often})
			require.NoError(t, split.Add(often.Drain(time.Now())))
		}
		whole := NewAggregate()
		require.NoError(t, whole.Add(once.Drain(time.Now())))
		now := time.Now()
		requireSameSnapshot(t, whole.Snapshot(now), split.Snapshot(now))
	})
}

// delta returns a valid one-entry delta with reqs[i] requests (and fails[i]
// failures) in second start+i, each taking 1 ms.
func delta(start time.Time, reqs, fails []int64) *Delta {
	ed := EntryDelta{Type: "echo", Name: "echo receive", Min: time.Millisecond, Max: time.Millisecond}
	for i, n := range reqs {
		ed.Seconds = append(ed.Seconds, Second{Unix: start.Unix() + int64(i), Requests: n, Failures: fails[i]})
		ed.Requests += n
		ed.Failures += fails[i]
		ed.Sum += time.Duration(n) * time.Millisecond
	}
	ed.Hist = make([]int64, hist.Index(time.Millisecond)+1)
	ed.Hist[hist.Index(time.Millisecond)] = ed.Requests
	end := start.Add(time.Duration(len(reqs)) * time.Second)
	return &Delta{Start: start, End: end, Entries: []EntryDelta{ed}}
}

func TestCurrentRPS(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	reqs := make([]int64, 20) // seconds 1000..1019
	fails := make([]int64, 20)
	for i := range reqs {
		reqs[i], fails[i] = 10, 1
		if i >= 15 {
			reqs[i], fails[i] = 50, 5
		}
	}
	a := NewAggregate()
	require.NoError(t, a.Add(delta(start, reqs, fails)))

	for _, tc := range []struct {
		name      string
		now       float64 // Unix seconds
		rps, fail float64
	}{
		{"first seconds", 1001.5, 0, 0},                                            // window [1000, 999): empty
		{"clipped to the start", 1005.5, 10, 1},                                    // [1000, 1003)
		{"full window", 1012, 10, 1},                                               // [1000, 1010)
		{"last two seconds left out", 1017.9, 10, 1},                               // [1005, 1015)
		{"faster seconds enter", 1019.5, (8*10 + 2*50) / 10.0, (8*1 + 2*5) / 10.0}, // [1007, 1017)
		{"traffic stopped", 1027.2, 5 * 50 / 10.0, 5 * 5 / 10.0},                   // [1015, 1025)
		{"long after", 2000, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Unix(0, int64(tc.now*1e9))
			e := a.Snapshot(now).Entries[0]
			require.InDelta(t, tc.rps, e.CurrentRPS, 1e-9)
			require.InDelta(t, tc.fail, e.CurrentFailPerSec, 1e-9)
			require.InDelta(t, float64(e.NumRequests)/(tc.now-1000), e.TotalRPS, 1e-9)
		})
	}
}

func TestAggregateStartIsEarliestDelta(t *testing.T) {
	t.Parallel()
	a := NewAggregate()
	now := time.Unix(2000, 0)
	require.Equal(t, now, a.Snapshot(now).Start, "nothing added: the test starts now")
	require.NoError(t, a.Add(delta(time.Unix(1010, 0), []int64{1}, []int64{0})))
	require.NoError(t, a.Add(&Delta{Start: time.Unix(900, 0)})) // empty: does not count
	require.NoError(t, a.Add(delta(time.Unix(1005, 0), []int64{1}, []int64{0})))
	require.Equal(t, time.Unix(1005, 0), a.Snapshot(now).Start)
}

func TestReset(t *testing.T) {
	t.Parallel()
	a := NewAggregate()
	d := delta(time.Unix(1000, 0), []int64{5, 5}, []int64{1, 0})
	d.Failures = []FailureDelta{{Type: "echo", Name: "echo receive", Message: "x", Count: 1}}
	require.NoError(t, a.Add(d))
	a.Reset()
	now := time.Unix(1100, 0)
	s := a.Snapshot(now)
	require.Equal(t, Snapshot{
		Start: now, Now: now, Entries: []EntryStats{}, Failures: []FailureStats{},
		Total: EntryStats{Name: "Aggregated"},
	}, s)

	require.NoError(t, a.Add(delta(time.Unix(1090, 0), []int64{3}, []int64{0})))
	s = a.Snapshot(now)
	require.EqualValues(t, 3, s.Total.NumRequests)
	require.Equal(t, time.Unix(1090, 0), s.Start)
	require.Empty(t, s.Failures)
}

func TestAddRejectsInconsistentDelta(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		spoil func(d *Delta)
		want  string
	}{
		{"histogram short", func(d *Delta) { d.Entries[0].Requests++; d.Entries[0].Sum += time.Millisecond }, "histogram holds 2 values, want 3"},
		{"negative", func(d *Delta) { d.Entries[0].Failures = -1 }, "negative count"},
		{"more failures than requests", func(d *Delta) { d.Entries[0].Failures = 3 }, "3 failures among 2 requests"},
		{"min above max", func(d *Delta) { d.Entries[0].Min = time.Hour }, "out of order"},
		{"too many buckets", func(d *Delta) { d.Entries[0].Hist = make([]int64, 5000) }, "histogram of 5000 buckets, want at most 3328"},
		{"negative bucket", func(d *Delta) { d.Entries[0].Hist[0] = -1 }, "bucket 0 holds -1 values"},
		{"histogram long", func(d *Delta) { d.Entries[0].Hist[0] = 9 }, "bucket 0 holds 9 values, more than the 2 in all allow"},
		{"negative failure", func(d *Delta) {
			d.Failures = []FailureDelta{{Type: "echo", Name: "echo receive", Message: "x", Count: -2}}
		}, "count -2 out of range"},
		{"seconds overflow", func(d *Delta) { // they add up to 2 in int64 arithmetic
			d.Entries[0].Seconds = []Second{{Unix: 1000, Requests: math.MaxInt64}, {Unix: 1001, Requests: math.MaxInt64}, {Unix: 1002, Requests: 4}}
		}, "seconds hold more than the 2 requests"},
		{"requests beyond the bound", func(d *Delta) {
			d.Entries[0].Requests, d.Entries[0].Hist = math.MaxInt64, []int64{math.MaxInt64}
			d.Entries[0].Seconds = nil
		}, "count beyond"},
		{"sum beyond max", func(d *Delta) { d.Entries[0].Sum = math.MaxInt64 }, "outside [min, max]"},
		{"negative sum", func(d *Delta) { d.Entries[0].Sum = -1 }, "negative count"},
		{"failure beyond the bound", func(d *Delta) {
			d.Failures = []FailureDelta{{Type: "echo", Name: "echo receive", Message: "x", Count: math.MaxInt64}}
		}, "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := NewAggregate()
			good := delta(time.Unix(1000, 0), []int64{1}, []int64{0})
			require.NoError(t, a.Add(good))
			d := delta(time.Unix(1000, 0), []int64{1, 1}, []int64{0, 0})
			tc.spoil(d)
			err := a.Add(d)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, `stats delta`)
			require.EqualValues(t, 1, a.Snapshot(time.Unix(1010, 0)).Total.NumRequests, "nothing merged")
		})
	}
}

func TestCurrentPercentile(t *testing.T) {
	t.Parallel()
	a := NewAggregate()
	for _, d := range []struct {
		end int64
		rtt time.Duration
	}{{1000, 100 * time.Millisecond}, {1005, 10 * time.Millisecond}, {1012, time.Millisecond}} {
		h := make([]int64, hist.Index(d.rtt)+1)
		h[hist.Index(d.rtt)] = 10
		require.NoError(t, a.Add(&Delta{
			Start: time.Unix(d.end-1, 0), End: time.Unix(d.end, 0),
			Entries: []EntryDelta{{
				Type: "echo", Name: "echo receive", Requests: 10, Sum: 10 * d.rtt, Min: d.rtt, Max: d.rtt,
				Hist: h,
			}},
		}))
	}
	within := func(want, got time.Duration) {
		t.Helper()
		require.InDelta(t, want, got, float64(want/100))
	}
	e := a.Snapshot(time.Unix(1012, 5e8)).Entries[0] // the last 10 s: the 1005 and 1012 Deltas
	within(time.Millisecond, e.CurrentPercentile(0.25))
	within(10*time.Millisecond, e.CurrentPercentile(0.75))
	within(10*time.Millisecond, e.CurrentPercentile(1))
	require.Equal(t, 100*time.Millisecond, e.Percentile(1), "Percentile is over the whole test")
	within(10*time.Millisecond, e.Percentile(0.5))

	e = a.Snapshot(time.Unix(1016, 0)).Entries[0]
	within(time.Millisecond, e.CurrentPercentile(0.95))
	require.Zero(t, a.Snapshot(time.Unix(1030, 0)).Total.CurrentPercentile(0.5), "nothing in the last 10 s")
}

// TestPercentileAgreesWithTotal checks that the live statistics answer the
// same percentiles as the results store's hist.Total does for the same
// values: both answer through hist.Quantile.
func TestPercentileAgreesWithTotal(t *testing.T) {
	t.Parallel()
	rec := NewRecorder()
	e := rec.Entry("echo", "echo receive")
	var tot hist.Total
	rng := rand.New(rand.NewPCG(3, 4))
	s := hist.Second{Counts: make([]int64, hist.Len)}
	for i := range 5000 {
		d := time.Duration(rng.ExpFloat64()*float64(20*time.Millisecond)) + time.Duration(i%7)*time.Microsecond
		e.Record(d, 0)
		if s.Count == 0 || d < s.Min {
			s.Min = d
		}
		s.Max = max(s.Max, d)
		s.Count++
		s.Sum += d
		s.Counts[hist.Index(d)]++
	}
	tot.Add(&s)
	agg := NewAggregate()
	require.NoError(t, agg.Add(rec.Drain(time.Now())))
	got := agg.Snapshot(time.Now()).Entries[0]
	for _, q := range []float64{0, 0.5, 0.66, 0.9, 0.99, 0.999, 0.9999, 1} {
		require.Equal(t, tot.Quantile(q), got.Percentile(q), "q=%v", q)
	}
	require.Equal(t, tot.Mean(), got.Avg)
}

// TestAddRefusesOverflow: Deltas that each pass Validate but together would
// overflow the running totals are refused, and the totals stay as they were.
func TestAddRefusesOverflow(t *testing.T) {
	t.Parallel()
	a := NewAggregate()
	d := delta(time.Unix(1000, 0), []int64{1}, []int64{0})
	d.Entries[0].Max = time.Duration(math.MaxInt64 / 2)
	d.Entries[0].Sum = d.Entries[0].Max
	require.NoError(t, d.Validate())
	require.NoError(t, a.Add(d))
	require.NoError(t, a.Add(d))
	require.ErrorIs(t, a.Add(d), ErrOverflow)
	s := a.Snapshot(time.Unix(1010, 0))
	require.EqualValues(t, 2, s.Total.NumRequests)
	require.Equal(t, time.Duration(math.MaxInt64/2), s.Total.Avg)
}
