package stats

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// A Recorder holds the entries of one process and drains what they record
// into Deltas. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex // Guards the fields below.
	entries map[entryKey]*Entry
	order   []*Entry // append-only, so Drain can read a prefix without mu

	drainMu sync.Mutex // Serialises Drain; guards the fields below.
	last    time.Time
	secs    window
	msgs    map[string]*failureTally
}

// entryKey identifies an entry.
type entryKey struct{ typ, name string }

// NewRecorder returns a Recorder with no entries. Its first Delta starts now,
// so make it (or Drain and discard once) when the test starts.
func NewRecorder() *Recorder {
	return &Recorder{
		entries: make(map[entryKey]*Entry),
		last:    time.Now(),
		msgs:    make(map[string]*failureTally),
	}
}

// Entry returns the entry for (typ, name), creating it on first use. The same
// pair always gives the same *Entry; callers resolve it once and keep it.
func (r *Recorder) Entry(typ, name string) *Entry {
	k := entryKey{typ, name}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[k]
	if !ok {
		e = newEntry(typ, name)
		r.entries[k] = e
		r.order = append(r.order, e)
	}
	return e
}

// Drain moves everything recorded since the previous Drain into a new Delta
// that ends at now. Recording may go on concurrently: each record lands in
// exactly one Delta. Drain at least every 30 s: an entry keeps per-second
// counts for the last 32 seconds only (totals and histograms are never
// dropped).
func (r *Recorder) Drain(now time.Time) *Delta {
	r.mu.Lock()
	entries := r.order
	r.mu.Unlock()

	r.drainMu.Lock()
	defer r.drainMu.Unlock()
	d := &Delta{Start: r.last, End: now}
	r.last = now
	for _, e := range entries {
		ed, fails, ok := e.drain(&r.secs, r.msgs, d.Failures)
		d.Failures = fails
		if ok {
			d.Entries = append(d.Entries, ed)
		}
	}
	slices.SortFunc(d.Entries, func(a, b EntryDelta) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(d.Failures, func(a, b FailureDelta) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Message, b.Message))
	})
	return d
}
