package hist

import (
	"slices"
	"sync"
	"time"
)

// A Recorder files observed durations by the second they were observed in,
// such as the echo app's execution times. Observe is safe for concurrent
// use and allocates nothing except once per second, when a second closes.
// Closed seconds are kept in the compact encoding.
type Recorder struct {
	keep int              // closed seconds kept; older ones are forgotten
	now  func() time.Time // time.Now, or a test clock

	mu   sync.Mutex // Guards the fields below.
	cur  open
	done []closed // ascending by unix
}

// open is the second being recorded.
type open struct {
	unix     int64
	count    int64
	sum      time.Duration
	min, max time.Duration
	counts   [Len]int64
}

// closed is a finished second, its histogram encoded.
type closed struct {
	unix     int64
	count    int64
	sum      time.Duration
	min, max time.Duration
	hist     []byte
}

// NewRecorder returns a Recorder that keeps the last keep closed seconds
// (0: all of them, for a caller that Takes them regularly).
func NewRecorder(keep int) *Recorder {
	return &Recorder{keep: keep, now: time.Now}
}

// Observe records d in the current second. A duration observed a moment
// late, after a later one opened the next second, counts in that second.
func (r *Recorder) Observe(d time.Duration) {
	d = max(d, 0)
	unix := r.now().Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	if unix > r.cur.unix {
		r.close()
		r.cur.unix = unix
	}
	c := &r.cur
	if c.count == 0 || d < c.min {
		c.min = d
	}
	c.max = max(c.max, d)
	c.count++
	c.sum += d
	c.counts[Index(d)]++
}

// close moves the open second, if it holds anything, to done. r.mu must be held.
func (r *Recorder) close() {
	c := &r.cur
	if c.count == 0 {
		return
	}
	r.done = append(r.done, closed{unix: c.unix, count: c.count, sum: c.sum, min: c.min, max: c.max,
		hist: AppendEncode(nil, Trim(c.counts[:]))})
	clear(c.counts[:])
	c.count, c.sum, c.min, c.max = 0, 0, 0, 0
	if r.keep > 0 && len(r.done) > 2*r.keep { // drop the oldest in batches: amortised O(1)
		r.done = append(r.done[:0:0], r.done[len(r.done)-r.keep:]...)
	}
}

// Seconds returns the recorded seconds in [lo, hi) (Unix seconds), the open
// one included, ascending.
func (r *Recorder) Seconds(lo, hi int64) []Second {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Second
	first := 0
	if r.keep > 0 && len(r.done) > r.keep {
		first = len(r.done) - r.keep
	}
	for _, c := range r.done[first:] {
		if c.unix >= lo && c.unix < hi {
			out = append(out, c.second())
		}
	}
	if r.cur.count > 0 && r.cur.unix >= lo && r.cur.unix < hi {
		out = append(out, r.openSecond())
	}
	return out
}

// Take removes and returns the seconds before second before (Unix), the open
// one too if it is before it, ascending.
func (r *Recorder) Take(before int64) []Second {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur.count > 0 && r.cur.unix < before {
		r.close()
	}
	n := 0
	for n < len(r.done) && r.done[n].unix < before {
		n++
	}
	out := make([]Second, n)
	for i, c := range r.done[:n] {
		out[i] = c.second()
	}
	r.done = append(r.done[:0], r.done[n:]...)
	return out
}

func (r *Recorder) openSecond() Second {
	c := &r.cur
	return Second{Unix: c.unix, Count: c.count, Sum: c.sum, Min: c.min, Max: c.max, Counts: slices.Clone(Trim(c.counts[:]))}
}

func (c closed) second() Second {
	counts, _ := Decode(c.hist) // encoded by close: cannot be corrupt
	return Second{Unix: c.unix, Count: c.count, Sum: c.sum, Min: c.min, Max: c.max, Counts: counts}
}
