package swarm_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ltk-dev/ltk/internal/sim"
)

// outcome is one kind of recorded event: an event and whether it was a
// success.
type outcome struct {
	ev sim.Event
	ok bool
}

// tally counts what a whole fleet recorded, by event and outcome, and
// keeps the first failure messages. It is a sim.Recorder for every device.
type tally struct {
	mu     sync.Mutex // Guards the fields below.
	counts map[outcome]int
	fails  []string      // the first failures, "event: message"
	notify chan struct{} // closed and replaced on each event
}

var _ sim.Recorder = (*tally)(nil)

func newTally() *tally { return &tally{counts: map[outcome]int{}, notify: make(chan struct{})} }

func (t *tally) add(o outcome, msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counts[o]++
	if !o.ok && len(t.fails) < 10 {
		t.fails = append(t.fails, fmt.Sprintf("%d: %s", o.ev, msg))
	}
	close(t.notify)
	t.notify = make(chan struct{})
}

func (t *tally) Success(ev sim.Event, _ time.Duration, _ int) { t.add(outcome{ev, true}, "") }
func (t *tally) Failure(ev sim.Event, _ time.Duration, msg string) {
	t.add(outcome{ev, false}, msg)
}

// ok and failed return how many successes and failures of ev were recorded.
func (t *tally) ok(ev sim.Event) int     { return t.get(outcome{ev, true}) }
func (t *tally) failed(ev sim.Event) int { return t.get(outcome{ev, false}) }

func (t *tally) get(o outcome) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[o]
}

// named returns the counts by the events' names in names (a Plan's Events).
func (t *tally) named(tb testing.TB, names []sim.EventName) map[string]int {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.counts))
	for o, n := range t.counts {
		if int(o.ev) >= len(names) {
			tb.Fatalf("event %d recorded: not one of the plan's %d", o.ev, len(names))
		}
		out[fmt.Sprintf("%s/%s ok=%v", names[o.ev].Type, names[o.ev].Name, o.ok)] = n
	}
	return out
}

// waitUntil waits until cond holds, re-checking after every event.
func (t *tally) waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		t.mu.Lock()
		notify := t.notify
		t.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-notify:
		case <-timer.C:
			t.mu.Lock()
			defer t.mu.Unlock()
			tb.Fatalf("waited %v for %s; counts: %v; failures: %q", waitLimit, what, t.counts, t.fails)
		}
	}
}

// failures returns the first failure messages.
func (t *tally) failures() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.fails...)
}
