package sim_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ltk-dev/ltk/internal/runtest"
	"github.com/ltk-dev/ltk/internal/sim"
)

// waitLimit bounds every wait in these tests; the waits normally end in
// milliseconds, on the awaited event.
const waitLimit = 10 * time.Second

// record is one recorded event.
type record struct {
	ev     sim.Event
	ok     bool
	d      time.Duration
	size   int
	msg    string
	device string // of a failure
}

func (r record) String() string {
	if r.ok {
		return fmt.Sprintf("%s ok %v %dB", r.ev, r.d, r.size)
	}
	return fmt.Sprintf("%s FAIL %v %q", r.ev, r.d, r.msg)
}

// recorder keeps every event and wakes waiters.
type recorder struct {
	mu      sync.Mutex // Guards the fields below.
	records []record
	notify  chan struct{} // closed and replaced on each record
}

var _ sim.Recorder = (*recorder)(nil)

func newRecorder() *recorder { return &recorder{notify: make(chan struct{})} }

func (r *recorder) add(rec record) {
	r.mu.Lock()
	r.records = append(r.records, rec)
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) Success(ev sim.Event, d time.Duration, size int) {
	r.add(record{ev: ev, ok: true, d: d, size: size})
}

func (r *recorder) Failure(ev sim.Event, d time.Duration, device string, f sim.Fault) {
	r.add(record{ev: ev, d: d, msg: f.Message(), device: device})
}

// all returns a copy of the records so far.
func (r *recorder) all() []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]record(nil), r.records...)
}

// matching returns the records of ev with outcome ok.
func (r *recorder) matching(ev sim.Event, ok bool) []record {
	var out []record
	for _, rec := range r.all() {
		if rec.ev == ev && rec.ok == ok {
			out = append(out, rec)
		}
	}
	return out
}

// count returns how many records of ev with outcome ok there are.
func (r *recorder) count(ev sim.Event, ok bool) int { return len(r.matching(ev, ok)) }

// waitFor waits until at least n records of ev with outcome ok exist and
// returns them, failing the test after waitLimit.
func (r *recorder) waitFor(t *testing.T, ev sim.Event, ok bool, n int) []record {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		r.mu.Lock()
		notify := r.notify
		r.mu.Unlock()
		if got := r.matching(ev, ok); len(got) >= n {
			return got
		}
		select {
		case <-notify:
		case <-timer.C:
			t.Fatalf("waited %v for %d× %s (ok=%v); recorded: %v", waitLimit, n, ev, ok, r.all())
		}
	}
}

// failures returns every failed record.
func (r *recorder) failures() []record {
	var out []record
	for _, rec := range r.all() {
		if !rec.ok {
			out = append(out, rec)
		}
	}
	return out
}

// run starts d.Run in a goroutine and returns a stop function that cancels
// it and returns Run's error once Run has returned (failing after waitLimit).
func run(t *testing.T, d *sim.Device) (stop func() error) {
	t.Helper()
	return runtest.Start(t, "device "+d.ID(), d.Run, waitLimit)
}
