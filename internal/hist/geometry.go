package hist

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The histogram geometry, the same as package stats uses: whole microseconds
// from 1 µs to 1 h with 2 significant digits. Longer times are counted in
// the last bucket.
const (
	lowest  = 1
	highest = int64(time.Hour / time.Microsecond)
	digits  = 2
)

// Len is the number of buckets of the geometry.
var Len int

// bounds[i] is the range of microsecond values bucket i holds.
var bounds []bucketRange

type bucketRange struct{ lo, hi int64 }

func init() {
	ones := make([]int64, len(newHistogram().Export().Counts))
	for i := range ones {
		ones[i] = 1
	}
	bars := importCounts(ones).Distribution()
	Len = len(ones)
	bounds = make([]bucketRange, Len)
	for i, b := range bars[:Len] {
		bounds[i] = bucketRange{b.From, b.To}
	}
}

// newHistogram returns an empty histogram of the geometry.
func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(lowest, highest, digits)
}

// importCounts returns a histogram of the geometry holding counts.
func importCounts(counts []int64) *hdrhistogram.Histogram {
	return hdrhistogram.Import(&hdrhistogram.Snapshot{
		LowestTrackableValue:  lowest,
		HighestTrackableValue: highest,
		SignificantFigures:    digits,
		Counts:                counts,
	})
}

// Micros converts a duration to the histogram's unit, clamped to its range.
func Micros(d time.Duration) int64 {
	return min(max(int64(d/time.Microsecond), 0), highest)
}

// Index returns the bucket that holds d.
func Index(d time.Duration) int {
	v := Micros(d)
	i, j := 0, Len-1
	for i < j { // the first bucket whose hi >= v
		m := (i + j) / 2
		if bounds[m].hi < v {
			i = m + 1
		} else {
			j = m
		}
	}
	return i
}

// Bounds returns the lowest and highest durations bucket i holds, in whole
// microseconds.
func Bounds(i int) (lo, hi time.Duration) {
	b := bounds[i]
	return time.Duration(b.lo) * time.Microsecond, time.Duration(b.hi) * time.Microsecond
}

// Mid returns the middle of bucket i: the value that stands for the bucket's
// counts when they are regrouped (as harvest's 100 ms buckets do).
func Mid(i int) time.Duration {
	b := bounds[i]
	return time.Duration(b.lo+(b.hi-b.lo)/2) * time.Microsecond
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
