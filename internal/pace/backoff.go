package pace

import "time"

// Backoff is an exponential reconnect schedule with jitter. Attempt n
// (0-based: the first retry after a lost connection is attempt 0) waits
//
//	d    = min(Max, Min · 2^(n+1))
//	wait = uniform in [d/2, d], and never less than Min
//
// so the first retry waits between Min and 2·Min, later ones grow to between
// Max/2 and Max. The jitter spreads the reconnects of a fleet that lost its
// broker at the same moment. Max < Min is treated as Max == Min.
type Backoff struct {
	Min, Max time.Duration
}

// Next returns the wait before reconnect attempt n, given u uniform in [0, 1).
func (b Backoff) Next(attempt int, u float64) time.Duration {
	if b.Min <= 0 {
		return 0
	}
	hi := max(b.Max, b.Min)
	d := b.Min
	for i := 0; i <= attempt && d < hi; i++ {
		d *= 2
		if d <= 0 { // overflow
			d = hi
		}
	}
	d = min(d, hi)
	wait := d/2 + time.Duration(min(max(u, 0), 1)*float64(d/2))
	return min(max(wait, b.Min), hi)
}
