package stats

import (
	"fmt"
	"time"

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
// Failures count as requests, as in Locust: their response times are in Sum,
// Min, Max and Hist too.
type EntryDelta struct {
	Type, Name   string
	Requests     int64         // requests, failures included
	Failures     int64         // failed requests
	Sum          time.Duration // sum of all response times
	Min, Max     time.Duration // exact extremes; meaningful when Requests > 0
	ContentBytes int64         // sum of the sizes given to Record

	// Hist is the histogram of response times, one value per request: bucket
	// counts in package hist's geometry, trailing zero buckets left off.
	Hist []int64

	// Seconds are the per-second counts, ascending by Unix second.
	Seconds []Second
}

// A FailureDelta counts the failures of one entry that had one message.
type FailureDelta struct {
	Type, Name, Message string
	Count               int64
}

// validate reports the first thing about d that Add cannot merge faithfully.
func (d *Delta) validate() error {
	for i := range d.Entries {
		e := &d.Entries[i]
		if err := e.validate(); err != nil {
			return fmt.Errorf("stats delta entry %s %q: %w", e.Type, e.Name, err)
		}
	}
	for _, f := range d.Failures {
		if f.Count < 0 {
			return fmt.Errorf("stats delta failure %s %q %q: negative count %d", f.Type, f.Name, f.Message, f.Count)
		}
	}
	return nil
}

func (e *EntryDelta) validate() error {
	switch {
	case e.Requests < 0 || e.Failures < 0 || e.ContentBytes < 0:
		return fmt.Errorf("negative count (requests %d, failures %d, bytes %d)", e.Requests, e.Failures, e.ContentBytes)
	case e.Failures > e.Requests:
		return fmt.Errorf("%d failures among %d requests (failures count as requests)", e.Failures, e.Requests)
	case e.Requests > 0 && (e.Min < 0 || e.Min > e.Max):
		return fmt.Errorf("min %v and max %v out of order", e.Min, e.Max)
	case e.Requests == 0 && len(e.Hist) == 0:
		return nil // nothing recorded: no histogram needed
	}
	return hist.Check(e.Hist, e.Requests) // one value per request
}
