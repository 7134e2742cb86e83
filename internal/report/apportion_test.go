package report

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// greedy is the reference: hand out seats one at a time in priority order.
func greedy(w []int64, q int64) []int64 {
	p := newWebster(w)
	a := make([]int64, len(w))
	for range q {
		a[p.nextSeat(a)]++
	}
	return a
}

func TestWebsterIsThePrefix(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		w := make([]int64, 1+rng.IntN(6))
		for i := range w {
			w[i] = rng.Int64N(40)
		}
		w[rng.IntN(len(w))]++ // some weight
		p := newWebster(w)
		a := make([]int64, len(w))
		for q := range int64(120) {
			p.alloc(q, a)
			require.Equal(t, greedy(w, q), a, "w=%v q=%d", w, q)
		}
		p.alloc(p.total, a)
		require.Equal(t, w, a, "alloc(total) is the weights")
	}
}

func TestSplitterSharesAddUp(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for range 100 {
		w := []int64{rng.Int64N(1000), rng.Int64N(1000), 1 + rng.Int64N(1000)}
		var total int64
		for _, x := range w {
			total += x
		}
		s := newSplitter(w)
		got := make([]int64, len(w))
		for left := total; left > 0; {
			c := min(left, 1+rng.Int64N(50))
			left -= c
			var sum int64
			for i, sh := range s.next(c) {
				require.GreaterOrEqual(t, sh, int64(0))
				got[i] += sh
				sum += sh
			}
			require.Equal(t, c, sum)
		}
		require.Equal(t, w, got)
	}
}

func TestWebsterLargeAndEmpty(t *testing.T) {
	t.Parallel()
	a := make([]int64, 2)
	newWebster([]int64{1 << 40, 3 << 40}).alloc(1<<62, a)
	require.Equal(t, []int64{1 << 60, 3 << 60}, a)
	newWebster([]int64{0, 0}).alloc(7, a)
	require.Equal(t, []int64{0, 7}, a, "no weight: all to the last part")
}
