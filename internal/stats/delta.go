package stats

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
	"unicode"

	"github.com/ltk-dev/ltk/internal/hist"
)

// A Delta is everything a Recorder recorded between two Drains. It is plain
// data, so that it can be carried between processes as it is, and it belongs
// to whoever holds it: nothing else refers to it.
type Delta struct {
	Start    time.Time      // the previous Drain, or when the Recorder was made
	End      time.Time      // this Drain
	Entries  []EntryDelta   // entries with at least one request, sorted by (Type, Name)
	Failures []FailureDelta // failures grouped by (Type, Name, Message), sorted the same way
}

// An EntryDelta is what one entry recorded in a Delta's interval.
// Failures count as requests, as in Locust, and so do their response times
// in Sum, Min, Max and Hist, but for the Untimed ones: failures that have no
// response time (an awaited reply that never came), which are in no
// response time, as Locust's requests with a response time of None.
type EntryDelta struct {
	Type, Name   string
	Requests     int64         // requests, failures included
	Failures     int64         // failed requests
	Untimed      int64         // failures without a response time, among Failures
	Sum          time.Duration // sum of the response times
	Min, Max     time.Duration // exact extremes; meaningful when Requests > Untimed
	ContentBytes int64         // sum of the sizes given to Record

	// Hist is the histogram of response times, one value per timed request
	// (Requests - Untimed): bucket counts in package hist's geometry,
	// trailing zero buckets left off.
	Hist []int64

	// Seconds are the per-second counts, ascending by Unix second.
	Seconds []Second
}

// A FailureDelta counts the failures of one entry that had one message.
type FailureDelta struct {
	Type, Name, Message string
	Count               int64
	Examples            []string // up to MaxExamples, such as failing devices' ids
}

// Timed returns the requests that have a response time: those the
// histogram holds.
func (e *EntryDelta) Timed() int64 { return e.Requests - e.Untimed }

// MaxDeltaCount bounds every count of one Delta (requests, failures, bytes
// of an entry, a failure message's count): far beyond what one worker
// records in a report interval, and small enough that millions of Deltas
// add up without overflowing int64. A larger count comes from a broken or
// hostile peer.
const MaxDeltaCount = 1 << 40

// Validate reports the first thing about d that cannot be merged
// faithfully: a negative count, a count beyond MaxDeltaCount, failures
// that are not among the requests, untimed requests that are not among the
// failures, extremes out of order, a sum of response times its extremes
// cannot make, per-second counts that exceed the entry's, a histogram that
// does not hold one value per timed request, or more or longer failure
// examples than MaxExamples and MaxExampleLen.
// Whatever passes can be added and split into seconds without overflow.
func (d *Delta) Validate() error {
	for i := range d.Entries {
		e := &d.Entries[i]
		if err := e.validate(); err != nil {
			return fmt.Errorf("stats delta entry %s %q: %w", e.Type, e.Name, err)
		}
	}
	for _, f := range d.Failures {
		if f.Count < 0 || f.Count > MaxDeltaCount {
			return fmt.Errorf("stats delta failure %s %q %q: count %d out of range [0, %d]", f.Type, f.Name, f.Message, f.Count, int64(MaxDeltaCount))
		}
		if len(f.Examples) > MaxExamples {
			return fmt.Errorf("stats delta failure %s %q %q: %d examples, more than %d", f.Type, f.Name, f.Message, len(f.Examples), MaxExamples)
		}
		for _, x := range f.Examples {
			if len(x) > MaxExampleLen {
				return fmt.Errorf("stats delta failure %s %q %q: an example of %d bytes, more than %d", f.Type, f.Name, f.Message, len(x), MaxExampleLen)
			}
			if strings.ContainsFunc(x, unicode.IsControl) {
				return fmt.Errorf("stats delta failure %s %q %q: example %q holds a control character", f.Type, f.Name, f.Message, x)
			}
		}
	}
	return nil
}

func (e *EntryDelta) validate() error {
	switch {
	case e.Requests < 0 || e.Failures < 0 || e.Untimed < 0 || e.ContentBytes < 0 || e.Sum < 0:
		return fmt.Errorf("negative count (requests %d, failures %d, untimed %d, bytes %d, sum %v)", e.Requests, e.Failures, e.Untimed, e.ContentBytes, e.Sum)
	case e.Requests > MaxDeltaCount || e.ContentBytes > MaxDeltaCount:
		return fmt.Errorf("count beyond %d (requests %d, bytes %d)", int64(MaxDeltaCount), e.Requests, e.ContentBytes)
	case e.Failures > e.Requests:
		return fmt.Errorf("%d failures among %d requests (failures count as requests)", e.Failures, e.Requests)
	case e.Untimed > e.Failures:
		return fmt.Errorf("%d requests without a response time among %d failures (only failures may have none)", e.Untimed, e.Failures)
	case e.Timed() > 0 && (e.Min < 0 || e.Min > e.Max):
		return fmt.Errorf("min %v and max %v out of order", e.Min, e.Max)
	case e.Timed() == 0 && e.Sum != 0:
		return fmt.Errorf("no response times, but a sum of %v", e.Sum)
	case e.Requests == 0 && e.ContentBytes != 0:
		return fmt.Errorf("no requests, but %d bytes", e.ContentBytes)
	case e.Timed() > 0 && !sumWithin(e.Timed(), e.Sum, e.Min, e.Max):
		return fmt.Errorf("sum %v of %d response times outside [min, max] = [%v, %v] each", e.Sum, e.Timed(), e.Min, e.Max)
	}
	var reqs, fails int64
	for _, s := range e.Seconds {
		if s.Requests < 0 || s.Failures < 0 || s.Failures > s.Requests {
			return fmt.Errorf("second %d: %d failures among %d requests", s.Unix, s.Failures, s.Requests)
		}
		// Both stay within the entry's counts (checked each step), so they
		// cannot overflow.
		reqs += s.Requests
		fails += s.Failures
		if reqs > e.Requests || fails > e.Failures {
			return fmt.Errorf("seconds hold more than the %d requests and %d failures of the entry", e.Requests, e.Failures)
		}
	}
	if e.Timed() == 0 && len(e.Hist) == 0 {
		return nil // no response time recorded: no histogram needed
	}
	return hist.Check(e.Hist, e.Timed()) // one value per timed request
}

// sumWithin reports whether n values within [lo, hi] can add up to sum:
// n·lo <= sum <= n·hi, in 128 bits.
func sumWithin(n int64, sum, lo, hi time.Duration) bool {
	if h, l := bits.Mul64(uint64(n), uint64(lo)); h != 0 || l > uint64(sum) {
		return false
	}
	h, l := bits.Mul64(uint64(n), uint64(hi))
	return h != 0 || l >= uint64(sum)
}
