package report

import (
	"cmp"
	"math/bits"
)

// A webster apportions quantities over the seconds of a report interval in
// proportion to weights (the seconds' request counts), by the Sainte-Laguë
// (Webster) divisor method.
//
// Think of every unit of weight i as a seat numbered m = 0, 1, …; seat
// (i, m) has the priority (2m+1)/(2·w[i]), ties going to the lower i. The
// first q seats in priority order are the allocation of q: alloc(q) gives
// each part its number of seats among them. Because it is a prefix of one
// order, alloc never takes a unit away as q grows (no Alabama paradox), and
// alloc(Σw) is w itself. So splitting a histogram bucket by bucket as
// alloc(q+c) - alloc(q) gives every second a non-negative share of every
// bucket, the shares of a bucket add up to it, and each second's shares add
// up to its weight: the seconds' histograms hold exactly their request counts
// and together exactly the interval's histogram, with every second's
// values spread across the whole distribution.
type webster struct {
	w     []int64
	total int64
}

func newWebster(w []int64) webster {
	var t int64
	for _, x := range w {
		t += x
	}
	return webster{w: w, total: t}
}

// alloc sets a[i] to part i's share of q (q >= 0); len(a) == len(w). With no
// weight at all, everything goes to the last part.
func (p webster) alloc(q int64, a []int64) {
	k := len(p.w)
	if p.total == 0 {
		clear(a)
		a[k-1] = q
		return
	}
	var sum int64
	for i, w := range p.w { // a lower bound close to the answer: floor(q·w/total)
		hi, lo := bits.Mul64(uint64(q), uint64(w))
		quo, _ := bits.Div64(hi, lo, uint64(p.total)) // quo <= q: no overflow
		a[i] = int64(quo)
		sum += a[i]
	}
	for ; sum < q; sum++ {
		a[p.nextSeat(a)]++
	}
	for ; sum > q; sum-- {
		a[p.lastSeat(a)]--
	}
	// Swap a seat for one of higher priority until the allocation is a
	// prefix. From the floors this takes at most a few steps per part; each
	// step strictly improves, so it ends.
	for {
		i, j := p.lastSeat(a), p.nextSeat(a)
		if i < 0 || j < 0 || p.before(i, a[i]-1, j, a[j]) {
			return
		}
		a[i]--
		a[j]++
	}
}

// nextSeat returns the part whose next seat comes first, -1 if none has weight.
func (p webster) nextSeat(a []int64) int {
	best := -1
	for i, w := range p.w {
		if w > 0 && (best < 0 || p.before(i, a[i], best, a[best])) {
			best = i
		}
	}
	return best
}

// lastSeat returns the part whose last seat comes last, -1 if none has seats.
func (p webster) lastSeat(a []int64) int {
	best := -1
	for i, w := range p.w {
		if w > 0 && a[i] > 0 && (best < 0 || p.before(best, a[best]-1, i, a[i]-1)) {
			best = i
		}
	}
	return best
}

// before reports whether seat (i, m) comes before seat (j, n): whether
// (2m+1)/w[i] < (2n+1)/w[j], ties by part. Products are 128-bit.
func (p webster) before(i int, m int64, j int, n int64) bool {
	ah, al := bits.Mul64(uint64(2*m+1), uint64(p.w[j]))
	bh, bl := bits.Mul64(uint64(2*n+1), uint64(p.w[i]))
	if c := cmp.Or(cmp.Compare(ah, bh), cmp.Compare(al, bl)); c != 0 {
		return c < 0
	}
	return i < j
}

// splitter splits a sequence of quantities (a histogram's buckets, a run of
// failure messages) over the parts, keeping the running allocation.
type splitter struct {
	p      webster
	q      int64
	prev   []int64
	cur    []int64
	shares []int64
}

func newSplitter(w []int64) *splitter {
	k := len(w)
	buf := make([]int64, 3*k)
	return &splitter{p: newWebster(w), prev: buf[:k:k], cur: buf[k : 2*k : 2*k], shares: buf[2*k:]}
}

// next returns each part's share of the next quantity c. The slice is
// reused by the following call.
func (s *splitter) next(c int64) []int64 {
	s.q += c
	s.p.alloc(s.q, s.cur)
	for i := range s.shares {
		s.shares[i] = s.cur[i] - s.prev[i]
	}
	s.prev, s.cur = s.cur, s.prev
	return s.shares
}
