package report

import (
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// sampleKey identifies one sample: a second of one entry.
type sampleKey struct {
	unix      int64
	typ, name string
}

// acc accumulates one sample from every delta that touches its second.
type acc struct {
	requests, failures, bytes int64
	untimed                   int64                    // failures without a response time
	sum, min, max             time.Duration            // of the timed requests
	counts                    []int64                  // dense, grown as needed
	msgs                      map[string]*failureCount // failures by message
	dirty                     bool                     // changed since it was last written
	touched                   int                      // the flush generation it last changed in
}

// addCount adds c values to bucket i.
func (a *acc) addCount(i int, c int64) {
	if i >= len(a.counts) {
		grown := make([]int64, max(i+1, 2*len(a.counts)))
		copy(grown, a.counts)
		a.counts = grown
	}
	a.counts[i] += c
}

// failureCount is the count and examples of one failure message in a sample.
type failureCount struct {
	n        int64
	examples []string // at most stats.MaxExamples
}

// fail adds n failures of msg with examples.
func (a *acc) fail(msg string, n int64, examples []string) {
	if a.msgs == nil {
		a.msgs = make(map[string]*failureCount)
	}
	f := a.msgs[msg]
	if f == nil {
		f = &failureCount{}
		a.msgs[msg] = f
	}
	f.n += n
	f.examples = stats.AddExamples(f.examples, examples)
}

// addExtremes merges a part's min and max.
func (a *acc) addExtremes(hadTimed bool, lo, hi time.Duration) {
	if !hadTimed || lo < a.min {
		a.min = lo
	}
	a.max = max(a.max, hi)
}

// second returns the sample as a hist.Second of second unix.
func (a *acc) second(unix int64) hist.Second {
	return hist.Second{Unix: unix, Count: a.requests - a.untimed, Sum: a.sum, Min: a.min, Max: a.max, Counts: hist.Trim(a.counts)}
}

// split apportions one entry's delta over the seconds it was recorded in and
// adds each second's part to get(unix). Request and failure counts per
// second are exact (the delta's per-second counts; what they miss goes to the
// second the interval ended in, last). The untimed failures are split in
// proportion to the failures, the failure messages too (each one's examples
// go to the first second that gets a share of it), the bytes to the
// requests, and the histogram and sum to the timed requests (see webster):
// an interval's seconds add up to exactly the interval, and a second's
// histogram holds exactly its timed requests. The interval's exact min and max go to the seconds holding its
// lowest and highest buckets; other seconds get their buckets' bounds.
// The entry's Delta must have passed stats.Delta.Validate.
func split(e *stats.EntryDelta, msgs []stats.FailureDelta, end int64, get func(unix int64) *acc) {
	if e.Requests == 0 {
		return
	}
	secs := make([]int64, 0, len(e.Seconds)+1)
	reqs := make([]int64, 0, len(e.Seconds)+1)
	fails := make([]int64, 0, len(e.Seconds)+1)
	var r, f int64
	for _, s := range e.Seconds {
		secs = append(secs, s.Unix)
		reqs = append(reqs, s.Requests)
		fails = append(fails, s.Failures)
		r += s.Requests
		f += s.Failures
	}
	if r < e.Requests || f < e.Failures || len(secs) == 0 {
		if n := len(secs); n == 0 || secs[n-1] < end {
			secs = append(secs, max(end, 0))
			reqs = append(reqs, 0)
			fails = append(fails, 0)
		}
		n := len(secs) - 1
		reqs[n] += e.Requests - r
		fails[n] += e.Failures - f
	}

	untimed := make([]int64, len(secs))
	newWebster(fails).alloc(e.Untimed, untimed) // within each second's failures
	timed := make([]int64, len(secs))
	for i := range secs {
		timed[i] = reqs[i] - untimed[i]
	}

	accs := make([]*acc, len(secs))
	had := make([]bool, len(secs))
	for i, unix := range secs {
		accs[i] = get(unix)
		had[i] = accs[i].requests > accs[i].untimed
		accs[i].requests += reqs[i]
		accs[i].failures += fails[i]
		accs[i].untimed += untimed[i]
		accs[i].dirty = true
	}
	shares := make([]int64, len(secs))
	newWebster(reqs).alloc(e.ContentBytes, shares)
	for i, b := range shares {
		accs[i].bytes += b
	}
	newWebster(timed).alloc(int64(e.Sum), shares)
	for i, s := range shares {
		accs[i].sum += time.Duration(s)
	}

	lowest, highest := make([]int, len(secs)), make([]int, len(secs))
	for i := range lowest {
		lowest[i] = -1
	}
	first, last := -1, -1
	sp := newSplitter(timed)
	for b, c := range e.Hist {
		if c == 0 {
			continue
		}
		if first < 0 {
			first = b
		}
		last = b
		for i, sh := range sp.next(c) {
			if sh == 0 {
				continue
			}
			accs[i].addCount(b, sh)
			if lowest[i] < 0 {
				lowest[i] = b
			}
			highest[i] = b
		}
	}
	for i, a := range accs {
		if timed[i] == 0 {
			continue
		}
		lo, _ := hist.Bounds(lowest[i])
		_, hi := hist.Bounds(highest[i])
		lo, hi = min(max(lo, e.Min), e.Max), min(max(hi, e.Min), e.Max)
		if lowest[i] == first {
			lo = e.Min
		}
		if highest[i] == last {
			hi = e.Max
		}
		a.addExtremes(had[i], lo, hi)
	}

	sp = newSplitter(fails)
	for _, m := range msgs {
		if m.Type != e.Type || m.Name != e.Name || m.Count <= 0 {
			continue
		}
		examples := m.Examples
		for i, sh := range sp.next(m.Count) {
			if sh == 0 {
				continue
			}
			accs[i].fail(m.Message, sh, examples)
			examples = nil
		}
	}
}
