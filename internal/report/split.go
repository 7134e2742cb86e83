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
	sum, min, max             time.Duration
	counts                    []int64          // dense, grown as needed
	msgs                      map[string]int64 // failures by message
	dirty                     bool             // changed since it was last written
	touched                   int              // the flush generation it last changed in
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

// addExtremes merges a part's min and max.
func (a *acc) addExtremes(hadRequests bool, lo, hi time.Duration) {
	if !hadRequests || lo < a.min {
		a.min = lo
	}
	a.max = max(a.max, hi)
}

// second returns the sample as a hist.Second of second unix.
func (a *acc) second(unix int64) hist.Second {
	return hist.Second{Unix: unix, Count: a.requests, Sum: a.sum, Min: a.min, Max: a.max, Counts: hist.Trim(a.counts)}
}

// split apportions one entry's delta over the seconds it was recorded in and
// adds each second's part to get(unix). Request and failure counts per
// second are exact (the delta's per-second counts; what they miss goes to the
// second the interval ended in, last). The histogram, failure messages,
// bytes and sum are split in proportion (see webster): an interval's seconds
// add up to exactly the interval, and a second's histogram holds exactly its
// requests. The interval's exact min and max go to the seconds holding its
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

	accs := make([]*acc, len(secs))
	had := make([]bool, len(secs))
	for i, unix := range secs {
		accs[i] = get(unix)
		had[i] = accs[i].requests > 0
		accs[i].requests += reqs[i]
		accs[i].failures += fails[i]
		accs[i].dirty = true
	}
	shares := make([]int64, len(secs))
	newWebster(reqs).alloc(e.ContentBytes, shares)
	for i, b := range shares {
		accs[i].bytes += b
	}
	newWebster(reqs).alloc(int64(e.Sum), shares)
	for i, s := range shares {
		accs[i].sum += time.Duration(s)
	}

	lowest, highest := make([]int, len(secs)), make([]int, len(secs))
	for i := range lowest {
		lowest[i] = -1
	}
	first, last := -1, -1
	sp := newSplitter(reqs)
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
		if reqs[i] == 0 {
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
		for i, sh := range sp.next(m.Count) {
			if sh == 0 {
				continue
			}
			if accs[i].msgs == nil {
				accs[i].msgs = make(map[string]int64)
			}
			accs[i].msgs[m.Message] += sh
		}
	}
}
