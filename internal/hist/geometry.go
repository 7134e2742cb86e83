package hist

import (
	"fmt"
	"math/bits"
	"time"
)

// The geometry of every ltk histogram: whole microseconds from 1 µs to 1 h
// with 2 significant digits, laid out as HdrHistogram lays out
// New(1, 3_600_000_000, 2), which ltk used before it had its own (and whose
// bucket order the results store and the wire keep).
//
// Values 0 to 255 µs have a bucket each. Above that, every doubling of the
// value range [2^k, 2^(k+1)) (k >= 8) is split into 128 buckets of width
// 2^(k-7): the bucket holding v is (k-6)*128 + (v >> (k-7)) - 128. A bucket is
// never wider than 1/128 of its lowest value, so any value stands for every
// other value of its bucket within 1%.
const (
	// Len is the number of buckets of the geometry: HdrHistogram's 26
	// half-buckets of 128. Values beyond Highest never reach the last 41;
	// they exist so that counts of this length stay valid.
	Len = 26 * subHalf

	// Highest is the largest value counted, in microseconds (1 h). Longer
	// durations count as Highest.
	Highest = int64(time.Hour / time.Microsecond)

	subHalf    = 128 // buckets per doubling of the value range
	subHalfLog = 7   // log2(subHalf)
	subMask    = 2*subHalf - 1
)

// Micros converts a duration to the histogram's unit, whole microseconds,
// clamped to [0, Highest].
func Micros(d time.Duration) int64 {
	return min(max(int64(d/time.Microsecond), 0), Highest)
}

// Index returns the bucket that holds d. It is a few instructions and
// allocates nothing: the hot path calls it once per recorded value.
func Index(d time.Duration) int {
	v := uint64(Micros(d))
	k := bits.Len64(v|subMask) - subHalfLog - 1 // 0 for v < 256, else log2(v) - 7
	return (k+1)<<subHalfLog + int(v>>k) - subHalf
}

// Bounds returns the lowest and highest durations bucket i holds, in whole
// microseconds.
func Bounds(i int) (lo, hi time.Duration) {
	l, h := bounds(i)
	return time.Duration(l) * time.Microsecond, time.Duration(h) * time.Microsecond
}

// bounds returns the lowest and highest microsecond values bucket i holds.
func bounds(i int) (lo, hi int64) {
	k := i>>subHalfLog - 1
	sub := int64(i&(subHalf-1) + subHalf)
	if k < 0 { // the first 128 buckets, one value each
		k, sub = 0, int64(i)
	}
	lo = sub << k
	return lo, lo + 1<<k - 1
}

// Mid returns the middle of bucket i: the value that stands for the bucket's
// counts when they are regrouped (as harvest's 100 ms buckets do).
func Mid(i int) time.Duration {
	lo, hi := bounds(i)
	return time.Duration(lo+(hi-lo)/2) * time.Microsecond
}

// Trim returns counts without its trailing zero buckets (nil if all are zero).
func Trim(counts []int64) []int64 {
	n := len(counts)
	for n > 0 && counts[n-1] == 0 {
		n--
	}
	if n == 0 {
		return nil
	}
	return counts[:n:n]
}

// Sum returns the number of values counts holds.
func Sum(counts []int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// Check reports counts that are not a histogram of n values in the
// geometry: more than Len buckets, a negative bucket, or a total other than
// n. What comes from another process (a worker's delta, a stored or served
// second) passes Check before anyone adds or reads it.
func Check(counts []int64, n int64) error {
	if len(counts) > Len {
		return fmt.Errorf("histogram of %d buckets, want at most %d (is it from another ltk version?)", len(counts), Len)
	}
	var sum int64
	for i, c := range counts {
		if c < 0 || c > n-sum {
			return fmt.Errorf("histogram bucket %d holds %d values, more than the %d in all allow", i, c, n)
		}
		sum += c
	}
	if sum != n {
		return fmt.Errorf("histogram holds %d values, want %d", sum, n)
	}
	return nil
}

// Add adds src to dst bucket by bucket; len(src) <= len(dst).
func Add(dst, src []int64) {
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] += c
	}
}
