package stats

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
)

// An Aggregate merges Deltas, from one Recorder or from many workers, into
// running totals. Merging is exact, so the order of Adds does not matter.
// It is safe for concurrent use.
type Aggregate struct {
	mu       sync.Mutex // Guards the fields below.
	start    time.Time  // earliest Start of the non-empty Deltas added; zero if none
	entries  map[entryKey]*total
	all      *total // Locust's "Aggregated" row
	failures map[failureKey]*failureTotal
}

// failureTotal is the running total of one failure row.
type failureTotal struct {
	n        int64
	examples []string // at most MaxExamples
}

// failureKey groups failures.
type failureKey struct{ typ, name, msg string }

// total is the running total of one entry, or of all of them.
type total struct {
	entryKey
	requests, failures, bytes int64
	untimed                   int64         // failures without a response time
	sum, min, max             time.Duration // of the timed requests
	counts                    []int64       // histogram buckets, hist.Len of them
	secs                      window
	recent                    histWindow
}

// NewAggregate returns an empty Aggregate.
func NewAggregate() *Aggregate {
	a := &Aggregate{}
	a.Reset()
	return a
}

// Reset forgets everything added so far, as Locust's "reset stats" does. The
// next Delta added starts the clock for the total rates again.
func (a *Aggregate) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.start = time.Time{}
	a.entries = make(map[entryKey]*total)
	a.all = newTotal(entryKey{"", "Aggregated"})
	a.failures = make(map[failureKey]*failureTotal)
}

func newTotal(k entryKey) *total {
	return &total{entryKey: k, counts: make([]int64, hist.Len)}
}

// Add merges d into the totals. It returns an error, and merges nothing, if
// d is inconsistent (negative counts, a histogram of another geometry or
// that does not hold one value per request): such a Delta comes from a broken
// or incompatible peer.
func (a *Aggregate) Add(d *Delta) error {
	if err := d.Validate(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.fits(d); err != nil {
		return err
	}
	if slices.ContainsFunc(d.Entries, func(e EntryDelta) bool { return e.Requests > 0 }) &&
		(a.start.IsZero() || d.Start.Before(a.start)) {
		a.start = d.Start
	}
	for i := range d.Entries {
		ed := &d.Entries[i]
		if ed.Requests == 0 {
			continue
		}
		k := entryKey{ed.Type, ed.Name}
		t, ok := a.entries[k]
		if !ok {
			t = newTotal(k)
			a.entries[k] = t
		}
		t.add(ed, d.End.Unix())
		a.all.add(ed, d.End.Unix())
	}
	for _, f := range d.Failures {
		if f.Count <= 0 {
			continue
		}
		k := failureKey{f.Type, f.Name, f.Message}
		t := a.failures[k]
		if t == nil {
			t = &failureTotal{}
			a.failures[k] = t
		}
		t.n += f.Count
		t.examples = AddExamples(t.examples, f.Examples)
	}
	return nil
}

// ErrOverflow is wrapped by the error of Add for a Delta whose counts would
// overflow the running totals.
var ErrOverflow = errors.New("the totals would overflow")

// fits reports whether d adds to the totals without overflow. a.mu is held.
func (a *Aggregate) fits(d *Delta) error {
	for i := range d.Entries {
		ed := &d.Entries[i]
		for _, t := range []*total{a.entries[entryKey{ed.Type, ed.Name}], a.all} {
			if t != nil && !t.fits(ed) {
				return fmt.Errorf("stats delta entry %s %q: %w", ed.Type, ed.Name, ErrOverflow)
			}
		}
	}
	for _, f := range d.Failures {
		if t := a.failures[failureKey{f.Type, f.Name, f.Message}]; t != nil && t.n > math.MaxInt64-f.Count {
			return fmt.Errorf("stats delta failure %s %q: %w", f.Type, f.Name, ErrOverflow)
		}
	}
	return nil
}

// fits reports whether d adds to t without overflow; the histogram's
// buckets and the seconds' counts are bounded by the requests.
func (t *total) fits(d *EntryDelta) bool {
	return t.requests <= math.MaxInt64-d.Requests && t.bytes <= math.MaxInt64-d.ContentBytes &&
		t.sum <= math.MaxInt64-d.Sum
}

// add merges one entry's delta from a Delta that ended in second end.
func (t *total) add(d *EntryDelta, end int64) {
	if d.Timed() > 0 {
		if t.requests == t.untimed || d.Min < t.min {
			t.min = d.Min
		}
		t.max = max(t.max, d.Max)
	}
	t.requests += d.Requests
	t.failures += d.Failures
	t.untimed += d.Untimed
	t.bytes += d.ContentBytes
	t.sum += d.Sum
	hist.Add(t.counts, d.Hist)
	t.secs.addAll(d.Seconds)
	t.recent.add(end, d.Hist)
}

// Snapshot returns the statistics as of now: every entry that has had a
// request, sorted by (type, name), the Aggregated total, and the failures.
// The Snapshot shares nothing with a.
func (a *Aggregate) Snapshot(now time.Time) Snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Snapshot{Start: a.start, Now: now}
	if s.Start.IsZero() {
		s.Start = now
	}
	s.Entries = make([]EntryStats, 0, len(a.entries))
	for _, t := range a.entries {
		s.Entries = append(s.Entries, t.stats(s.Start, now))
	}
	slices.SortFunc(s.Entries, func(a, b EntryStats) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
	})
	s.Total = a.all.stats(s.Start, now)
	s.Failures = make([]FailureStats, 0, len(a.failures))
	for k, t := range a.failures {
		s.Failures = append(s.Failures, FailureStats{Type: k.typ, Name: k.name, Message: k.msg, Occurrences: t.n,
			Examples: slices.Clone(t.examples)})
	}
	slices.SortFunc(s.Failures, func(a, b FailureStats) int {
		return cmp.Or(cmp.Compare(b.Occurrences, a.Occurrences),
			cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Message, b.Message))
	})
	return s
}

// stats computes t's statistics for a test that started at start.
func (t *total) stats(start, now time.Time) EntryStats {
	e := EntryStats{
		Type:        t.typ,
		Name:        t.name,
		NumRequests: t.requests,
		NumFailures: t.failures,
		NumUntimed:  t.untimed,
		Min:         t.min,
		Max:         t.max,
	}
	if t.requests > 0 {
		e.AvgContentLength = float64(t.bytes) / float64(t.requests)
	}
	if timed := t.requests - t.untimed; timed > 0 {
		e.Avg = t.sum / time.Duration(timed)
		e.hist = slices.Clone(hist.Trim(t.counts)) // a copy: the Snapshot shares nothing
		e.Median = e.Percentile(0.5)
		e.recent = t.recent.sum(now.Unix()-currentSeconds, now.Unix()+1)
		e.recentN = hist.Sum(e.recent)
	}
	if elapsed := now.Sub(start).Seconds(); elapsed > 0 {
		e.TotalRPS = float64(t.requests) / elapsed
		e.TotalFailPerSec = float64(t.failures) / elapsed
	}
	// Locust: the average over the whole seconds [now-12, now-2), clipped to
	// the start of the test.
	hi := now.Unix() - currentLag
	lo := max(hi-currentSeconds, start.Unix())
	if hi > lo {
		reqs, fails := t.secs.sum(lo, hi)
		e.CurrentRPS = float64(reqs) / float64(hi-lo)
		e.CurrentFailPerSec = float64(fails) / float64(hi-lo)
	}
	return e
}
