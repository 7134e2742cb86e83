package hist

import "time"

// Quantile returns the value at quantile q (0 to 1) of the n values counts
// holds: the highest value of the bucket holding the value of rank
// ⌊q·n + ½⌋ (at least 1, at most n), or for q <= 0 the lowest value of the
// first bucket that holds any. The result is within 1% (and 1 µs) of the
// exact value; callers that know the exact extremes clamp it to them. It is
// 0 with no values. n must be Sum(counts).
//
// This is the one quantile of ltk: the live statistics, the results store's
// reports and harvest all answer through it, so the same values give the
// same percentiles everywhere. (It is HdrHistogram's ValueAtPercentile,
// which ltk used before.)
func Quantile(counts []int64, n int64, q float64) time.Duration {
	var out [1]time.Duration
	Quantiles(counts, n, []float64{q}, out[:])
	return out[0]
}

// Quantiles sets out[i] to Quantile(counts, n, qs[i]) in one pass over the
// buckets; qs must be ascending and len(out) == len(qs).
func Quantiles(counts []int64, n int64, qs []float64, out []time.Duration) {
	bucket := 0
	var seen int64 // values in the buckets before bucket
	for i, q := range qs {
		if n == 0 {
			out[i] = 0
			continue
		}
		r := rank(q, n)
		for bucket < len(counts) && seen+counts[bucket] < r {
			seen += counts[bucket]
			bucket++
		}
		if bucket == len(counts) { // counts hold fewer than n values
			_, out[i] = Bounds(max(bucket-1, 0))
			continue
		}
		if q <= 0 {
			out[i], _ = Bounds(bucket)
			continue
		}
		_, out[i] = Bounds(bucket)
	}
}

// rank returns the rank, from 1 to n, of the value at quantile q of n
// values: the nearest rank ⌊q·n + ½⌋, clamped.
func rank(q float64, n int64) int64 {
	r := q*float64(n) + 0.5
	switch {
	case !(r >= 1): // NaN, q <= 0, or below the first value
		return 1
	case r >= float64(n):
		return n
	}
	return int64(r)
}
