package hist

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGeometry(t *testing.T) {
	t.Parallel()
	require.Equal(t, 3328, Len)
	sum := fnv.New64a()
	for i := range Len {
		lo, hi := bounds(i)
		if i > 0 {
			_, prevHi := bounds(i - 1)
			require.Equal(t, prevHi+1, lo, "bucket %d starts where bucket %d ends", i, i-1)
		}
		require.LessOrEqual(t, hi-lo, max(lo/128, 0), "bucket %d [%d, %d] is narrower than 1%% of its values", i, lo, hi)
		_ = binary.Write(sum, binary.LittleEndian, [2]int64{lo, hi})
	}
	// The bucket bounds of HdrHistogram's New(1, 3_600_000_000, 2), which
	// wrote the counts in existing results stores: the same checksum means
	// the same buckets.
	require.Equal(t, uint64(0xb7f28de8f25cda65), sum.Sum64(), "bucket bounds changed: stored histograms would be misread")

	for _, d := range []time.Duration{0, time.Microsecond, 255 * time.Microsecond, 256 * time.Microsecond,
		99 * time.Millisecond, 100 * time.Millisecond, time.Hour, 2 * time.Hour, -time.Second} {
		lo, hi := Bounds(Index(d))
		v := time.Duration(Micros(d)) * time.Microsecond
		require.True(t, lo <= v && v <= hi, "%v in [%v, %v]", d, lo, hi)
	}
	require.Equal(t, 3286, Index(time.Hour), "the longest time's bucket")
	lo, hi := Bounds(Index(100 * time.Millisecond))
	require.Equal(t, [2]time.Duration{99840 * time.Microsecond, 100351 * time.Microsecond}, [2]time.Duration{lo, hi})
}

func TestIndexAllocs(t *testing.T) {
	var h [Len]int64
	d := time.Duration(0)
	allocs := testing.AllocsPerRun(1000, func() {
		d += 7919 * time.Microsecond
		h[Index(d)]++
	})
	require.Zero(t, allocs)
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	counts := make([]int64, Index(time.Second)+1)
	counts[Index(time.Millisecond)] = 50    // values 1 to 50
	counts[Index(10*time.Millisecond)] = 49 // 51 to 99
	counts[Index(time.Second)] = 1          // 100
	_, ms := Bounds(Index(time.Millisecond))
	_, upper10ms := Bounds(Index(10 * time.Millisecond))
	_, sec := Bounds(Index(time.Second))
	msLo, _ := Bounds(Index(time.Millisecond))
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0, msLo}, {0.001, ms}, {0.5, ms}, {0.505, upper10ms}, {0.51, upper10ms}, {0.99, upper10ms}, {0.995, sec}, {1, sec}, {2, sec},
	} {
		require.Equal(t, tc.want, Quantile(counts, 100, tc.q), "q=%v", tc.q)
	}
	require.Zero(t, Quantile(nil, 0, 0.5))

	qs := []float64{0, 0.5, 0.51, 0.99, 1}
	out := make([]time.Duration, len(qs))
	Quantiles(counts, 100, qs, out)
	for i, q := range qs {
		require.Equal(t, Quantile(counts, 100, q), out[i], "q=%v", q)
	}

	tot := Total{Count: 100, Min: 900 * time.Microsecond, Max: 1200 * time.Millisecond, Counts: counts}
	require.Equal(t, 900*time.Microsecond, tot.Quantile(0), "exact min")
	require.Equal(t, 1200*time.Millisecond, tot.Quantile(1), "exact max, beyond its bucket")
	require.Equal(t, ms, tot.Quantile(0.5))
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

// TestEncodingIsStable pins the bytes of the encoding: results stores and
// peers hold them, so a change needs a new version byte.
func TestEncodingIsStable(t *testing.T) {
	t.Parallel()
	b := AppendEncode(nil, []int64{0, 3, 0, 5, 0, 0})
	require.Equal(t, []byte{1, 2, 1, 3, 1, 5}, b, "version 1, 2 buckets, (gap 1, count 3), (gap 1, count 5)")
	got, err := Decode(b)
	require.NoError(t, err)
	require.Equal(t, []int64{0, 3, 0, 5}, got)
	require.Equal(t, len(got), cap(got), "one allocation of the exact length")
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

func TestCheck(t *testing.T) {
	t.Parallel()
	require.NoError(t, Check(nil, 0))
	require.NoError(t, Check([]int64{0, 2, 1}, 3))
	for _, tc := range []struct {
		counts []int64
		n      int64
		want   string
	}{
		{make([]int64, Len+1), 0, "histogram of 3329 buckets, want at most 3328"},
		{[]int64{1, -1, 1}, 1, "bucket 1 holds -1 values"},
		{[]int64{1, 5}, 3, "bucket 1 holds 5 values, more than the 3 in all allow"},
		{[]int64{1 << 62, 1 << 62, 1 << 62}, 1 << 62, "bucket 1 holds"}, // no overflow
		{[]int64{1, 1}, 3, "histogram holds 2 values, want 3"},
	} {
		require.ErrorContains(t, Check(tc.counts, tc.n), tc.want)
	}
}
