package stats

import (
	"cmp"
	"slices"

	"github.com/ltk-dev/ltk/internal/hist"
)

// windowLen is how many recent seconds a window keeps: the current-rate
// window (currentSeconds whole seconds ending currentLag seconds ago) with
// room for reports that arrive late. It is a power of two.
const windowLen = 32

// The current rates are averaged over the currentSeconds whole seconds that
// end currentLag seconds before now, as Locust does: the most recent seconds
// are left out because workers have not reported all of them yet.
const (
	currentSeconds = 10
	currentLag     = 2
)

// Second counts the requests and failures that completed within one
// wall-clock second.
type Second struct {
	Unix     int64 // the second, as Unix time
	Requests int64 // requests completed in it, failures included
	Failures int64 // failures among them
}

// window holds per-second counts for the windowLen most recent seconds it
// has seen, in a ring indexed by Unix second. A second newer than the one in
// its slot replaces it; a second older than the one in its slot is dropped.
// The result does not depend on the order of adds.
type window [windowLen]Second

// add counts reqs requests and fails failures in second unix.
func (w *window) add(unix, reqs, fails int64) {
	s := &w[unix&(windowLen-1)]
	if s.Unix < unix {
		*s = Second{Unix: unix}
	} else if s.Unix > unix {
		return
	}
	s.Requests += reqs
	s.Failures += fails
}

// addAll counts every second of secs.
func (w *window) addAll(secs []Second) {
	for _, s := range secs {
		w.add(s.Unix, s.Requests, s.Failures)
	}
}

// moveTo adds every second of w to dst and empties w.
func (w *window) moveTo(dst *window) {
	for i, s := range w {
		if s.Requests != 0 || s.Failures != 0 {
			dst.add(s.Unix, s.Requests, s.Failures)
		}
		w[i] = Second{}
	}
}

// sum returns the requests and failures counted in the seconds [lo, hi).
func (w *window) sum(lo, hi int64) (reqs, fails int64) {
	for _, s := range w {
		if s.Unix >= lo && s.Unix < hi {
			reqs += s.Requests
			fails += s.Failures
		}
	}
	return reqs, fails
}

// drain appends the non-empty seconds to dst in ascending order, empties w
// and returns the extended slice.
func (w *window) drain(dst []Second) []Second {
	n := len(dst)
	for i, s := range w {
		if s.Requests != 0 || s.Failures != 0 {
			dst = append(dst, s)
		}
		w[i] = Second{}
	}
	slices.SortFunc(dst[n:], func(a, b Second) int { return cmp.Compare(a.Unix, b.Unix) })
	return dst
}

// histWindow holds, for each of the last currentSeconds+1 seconds, the sum
// of the histograms of the Deltas that ended in it, for current
// percentiles. Like window, a newer second replaces an older one in its
// slot, so the order of adds does not matter.
type histWindow [currentSeconds + 1]struct {
	unix   int64
	counts []int64 // allocated on first use
}

// add adds counts to second unix.
func (w *histWindow) add(unix int64, counts []int64) {
	s := &w[uint64(unix)%uint64(len(w))]
	switch {
	case s.unix > unix:
		return
	case s.counts == nil:
		s.counts = make([]int64, hist.Len)
	case s.unix < unix:
		clear(s.counts)
	}
	s.unix = unix
	hist.Add(s.counts, counts)
}

// sum returns the sum of the histograms of the seconds [lo, hi), or nil
// if they hold nothing.
func (w *histWindow) sum(lo, hi int64) []int64 {
	var sum []int64
	for _, s := range w {
		if s.counts == nil || s.unix < lo || s.unix >= hi {
			continue
		}
		if sum == nil {
			sum = make([]int64, hist.Len)
		}
		hist.Add(sum, s.counts)
	}
	return sum
}
