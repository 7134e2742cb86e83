package hist

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/stats"
)

func TestGeometry(t *testing.T) {
	t.Parallel()
	require.Equal(t, 3328, Len)
	for i := 1; i < Len; i++ {
		lo, _ := Bounds(i)
		_, prevHi := Bounds(i - 1)
		require.Equal(t, prevHi+time.Microsecond, lo, "bucket %d", i)
	}
	for _, d := range []time.Duration{0, time.Microsecond, 99 * time.Millisecond, 100 * time.Millisecond, time.Hour, 2 * time.Hour} {
		lo, hi := Bounds(Index(d))
		v := time.Duration(Micros(d)) * time.Microsecond
		require.True(t, lo <= v && v <= hi, "%v in [%v, %v]", d, lo, hi)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		counts := make([]int64, rng.IntN(Len+1))
		for i := range counts {
			if rng.IntN(8) == 0 {
				counts[i] = rng.Int64N(1 << uint(rng.IntN(40)))
			}
		}
		b := AppendEncode(nil, counts)
		got, err := Decode(b)
		require.NoError(t, err)
		require.Equal(t, Trim(counts), Trim(got))
		require.Len(t, got, len(Trim(counts)))
	}
	// A typical second is small: 300 busy buckets take well under 1 KiB.
	counts := make([]int64, 1000)
	for i := 400; i < 700; i++ {
		counts[i] = 17
	}
	require.Less(t, len(AppendEncode(nil, counts)), 700)
}

func TestDecodeRejectsCorrupt(t *testing.T) {
	t.Parallel()
	good := AppendEncode(nil, []int64{0, 3, 0, 5})
	for name, b := range map[string][]byte{
		"empty":          {},
		"version":        {2, 0},
		"truncated":      good[:len(good)-1],
		"extra":          append(append([]byte{}, good...), 0),
		"zero count":     {1, 1, 0, 0},
		"beyond":         AppendEncode(nil, make([]int64, 0))[:1:1],
		"too many":       {1, 0xff, 0xff, 0x03},
		"gap past range": append([]byte{1, 1}, append(uvarint(uint64(Len)), 1)...),
		"index past end": append(append([]byte{1, 2}, append(uvarint(uint64(Len-1)), 1)...), 0, 1),
	} {
		_, err := Decode(b)
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}

func uvarint(v uint64) []byte {
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// TestQuantileAgreesWithStats checks that a Total answers the same
// percentiles as package stats does for the same values.
func TestQuantileAgreesWithStats(t *testing.T) {
	t.Parallel()
	rec := stats.NewRecorder()
	e := rec.Entry("echo", "echo receive")
	var tot Total
	rng := rand.New(rand.NewPCG(3, 4))
	var s Second
	s.Counts = make([]int64, Len)
	for i := range 5000 {
		d := time.Duration(rng.ExpFloat64()*float64(20*time.Millisecond)) + time.Duration(i%7)*time.Microsecond
		e.Record(d, 0)
		if s.Count == 0 || d < s.Min {
			s.Min = d
		}
		s.Max = max(s.Max, d)
		s.Count++
		s.Sum += d
		s.Counts[Index(d)]++
	}
	tot.Add(&s)
	agg := stats.NewAggregate()
	require.NoError(t, agg.Add(rec.Drain(time.Now())))
	want := agg.Snapshot(time.Now()).Entries[0]
	for _, q := range []float64{0, 0.5, 0.66, 0.9, 0.99, 0.999, 1} {
		require.Equal(t, want.Percentile(q), tot.Quantile(q), "q=%v", q)
	}
	require.Equal(t, want.Avg, tot.Mean())
}

func TestSecondJSON(t *testing.T) {
	t.Parallel()
	s := Second{Unix: 1700000000, Count: 3, Sum: 6 * time.Millisecond, Min: time.Millisecond, Max: 3 * time.Millisecond,
		Counts: make([]int64, Index(3*time.Millisecond)+1)}
	for _, d := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond} {
		s.Counts[Index(d)]++
	}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	require.Contains(t, string(b), `"sum_ns":6000000`)
	var got Second
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, s, got)

	s.Count = 4 // disagrees with the histogram
	b, err = json.Marshal(s)
	require.NoError(t, err)
	require.ErrorContains(t, json.Unmarshal(b, &got), "holds 3 values, want 4")
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	r := NewRecorder(2)
	r.now = func() time.Time { return now }
	for sec := range int64(4) {
		now = time.Unix(1000+sec, 500)
		for i := range sec + 1 {
			r.Observe(time.Duration(i+1) * time.Millisecond)
		}
	}
	now = time.Unix(1002, 0) // late: joins the open second 1003
	r.Observe(10 * time.Millisecond)

	got := r.Seconds(0, 2000)
	require.Len(t, got, 3, "keeps 2 closed seconds and the open one")
	require.Equal(t, []int64{1001, 1002, 1003}, []int64{got[0].Unix, got[1].Unix, got[2].Unix})
	require.EqualValues(t, 5, got[2].Count)
	require.Equal(t, 10*time.Millisecond, got[2].Max)
	require.Equal(t, time.Millisecond, got[2].Min)
	for _, s := range got {
		require.NoError(t, s.Validate())
	}
	require.Len(t, r.Seconds(1002, 1003), 1)

	taken := NewRecorder(0)
	taken.now = func() time.Time { return now }
	taken.Observe(time.Millisecond)
	require.Empty(t, taken.Take(now.Unix()), "the open second is not before now")
	out := taken.Take(now.Unix() + 1)
	require.Len(t, out, 1)
	require.Empty(t, taken.Take(now.Unix()+1))
}

func TestRecorderObserveAllocs(t *testing.T) {
	r := NewRecorder(0)
	r.Observe(time.Millisecond)
	allocs := testing.AllocsPerRun(1000, func() { r.Observe(3 * time.Millisecond) })
	// A second closes at most once in the run: its encoding allocates.
	require.Less(t, allocs, 0.05)
}

func BenchmarkRecorderObserve(b *testing.B) {
	r := NewRecorder(0)
	b.ReportAllocs()
	for b.Loop() {
		r.Observe(3 * time.Millisecond)
	}
}
