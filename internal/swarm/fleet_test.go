package swarm_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ltk-dev/ltk/internal/runtest"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/swarm"
)

// waitLimit bounds every wait in these tests; they normally end in
// milliseconds, on the awaited event.
const waitLimit = 15 * time.Second

// key counts one kind of event of one device.
type key struct {
	dev int
	ev  sim.Event
	ok  bool
}

// fleet records the events of many devices, per device, and keeps the
// first failure messages.
type fleet struct {
	mu     sync.Mutex // Guards the fields below.
	counts map[key]int
	fails  []failure     // the first failures
	notify chan struct{} // closed and replaced on each event
}

// failure is one recorded failure.
type failure struct {
	k   key
	msg string
}

func newFleet() *fleet { return &fleet{counts: map[key]int{}, notify: make(chan struct{})} }

func (f *fleet) add(k key, msg string) {
	f.mu.Lock()
	f.counts[k]++
	if !k.ok && len(f.fails) < 10 {
		f.fails = append(f.fails, failure{k, msg})
	}
	close(f.notify)
	f.notify = make(chan struct{})
	f.mu.Unlock()
}

// total returns how many events of kind (ev, ok) the whole fleet recorded.
func (f *fleet) total(ev sim.Event, ok bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, c := range f.counts {
		if k.ev == ev && k.ok == ok {
			n += c
		}
	}
	return n
}

// named returns the fleet's totals by the events' names in names (a
// Plan's Events), failing on an event that is not among them.
func (f *fleet) named(tb testing.TB, names []sim.EventName) map[string]int {
	tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, n := range f.counts {
		if int(k.ev) >= len(names) {
			tb.Fatalf("event %d recorded: not one of the plan's %d", k.ev, len(names))
		}
		out[fmt.Sprintf("%s/%s ok=%v", names[k.ev].Type, names[k.ev].Name, k.ok)] += n
	}
	return out
}

// failures returns the first failure messages, but those of the events in
// except.
func (f *fleet) failures(except map[sim.Event]bool) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, x := range f.fails {
		if !except[x.k.ev] {
			out = append(out, fmt.Sprintf("device %d event %d: %s", x.k.dev, x.k.ev, x.msg))
		}
	}
	return out
}

// count returns how many events of kind (ev, ok) device dev recorded.
func (f *fleet) count(dev int, ev sim.Event, ok bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[key{dev, ev, ok}]
}

// devices returns how many of devices [0, n) recorded (ev, ok) at least min times.
func (f *fleet) devices(n int, ev sim.Event, ok bool, min int) int {
	got := 0
	for i := range n {
		if f.count(i, ev, ok) >= min {
			got++
		}
	}
	return got
}

// waitUntil waits until cond holds, re-checking after every event.
func (f *fleet) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		f.mu.Lock()
		notify := f.notify
		f.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-notify:
		case <-timer.C:
			f.mu.Lock()
			defer f.mu.Unlock()
			t.Fatalf("waited %v for %s; counts: %v; failures: %v", waitLimit, what, f.counts, f.fails)
		}
	}
}

// deviceRecorder records into a fleet under a device index.
type deviceRecorder struct {
	f   *fleet
	dev int
}

func (r deviceRecorder) Success(ev sim.Event, _ time.Duration, _ int) {
	r.f.add(key{r.dev, ev, true}, "")
}

func (r deviceRecorder) Failure(ev sim.Event, _ time.Duration, _ string, f sim.Fault) {
	r.f.add(key{r.dev, ev, false}, f.Message())
}

// forEachClient runs test as a parallel subtest on each MQTT client engine.
func forEachClient(t *testing.T, test func(t *testing.T, client string)) {
	t.Helper()
	for _, client := range sim.ClientNames() {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			test(t, client)
		})
	}
}

// configs returns n fast echo devices on client against broker, recording
// into f.
func configs(client, broker string, n int, f *fleet) []sim.Config {
	cfgs := make([]sim.Config, n)
	for i := range cfgs {
		cfgs[i] = sim.Config{
			Client:             client,
			Broker:             broker,
			DeviceID:           fmt.Sprintf("LTK%05d", i),
			QoS:                1,
			WaitMin:            50 * time.Millisecond,
			WaitMax:            50 * time.Millisecond,
			EchoTimeout:        5 * time.Second,
			LastMessageTimeout: 2 * time.Second,
			ReconnectMin:       20 * time.Millisecond,
			ReconnectMax:       100 * time.Millisecond,
			Recorder:           deviceRecorder{f, i},
		}
	}
	return cfgs
}

// runSwarm starts s.Run and returns a stop function that cancels it and
// returns Run's error once Run returned (failing after waitLimit).
func runSwarm(t *testing.T, s *swarm.Swarm) (stop func() error) {
	t.Helper()
	return runtest.Start(t, "swarm", s.Run, waitLimit)
}

// waitSpawned waits for s.Spawned().
func waitSpawned(t *testing.T, s *swarm.Swarm) {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	select {
	case <-s.Spawned():
	case <-timer.C:
		t.Fatalf("ramp did not complete within %v: %d running", waitLimit, s.Running())
	}
}
