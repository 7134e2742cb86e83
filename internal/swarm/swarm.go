package swarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/pace"
	"github.com/ltk-dev/ltk/internal/sim"
)

// ErrRan is returned by Run when the Swarm already ran.
var ErrRan = errors.New("swarm already ran: make a new Swarm for another run")

// Config describes a population of devices.
type Config struct {
	// Devices are the devices the swarm may run; Scale(n, …) runs the first n.
	Devices []sim.Config
	// Engine runs the devices whose sim.Config names none: their lean
	// connections' event loops and their timers. Nil = an Engine of the
	// Swarm's own, which Run waits for before it returns.
	Engine *sim.Engine
	// Logger receives device errors and scale changes. Nil = discard.
	Logger *slog.Logger
	// OnSpawn, if set, is called from Run's goroutine with the number of
	// running devices whenever it changed, for progress displays. It must
	// return quickly; it may call Running, Spawned, Scale and Stop.
	OnSpawn func(running int)
}

// Swarm runs devices [0, n) of its configuration, where Scale sets n.
// Its methods are safe for concurrent use.
type Swarm struct {
	devices []*sim.Device
	engine  *sim.Engine // the Swarm's own, when Config named none; nil otherwise
	log     *slog.Logger
	onSpawn func(int)
	wake    chan struct{} // Scale → Run, capacity 1
	backend []bool        // device i is a back end (a scenario's count: kind)

	mu        sync.Mutex // Guards the fields below.
	ran       bool
	target    int       // devices wanted
	rate      float64   // of the current ramp, devices per second
	rampStart time.Time // when the current ramp began
	rampBase  int       // running when the current ramp began
	running   int       // devices [0, running) are started and not stopped
	notified  int       // running as last reported to OnSpawn
	slots     []slot    // per device
	spawned   chan struct{}
}

// slot is the run state of one device.
type slot struct {
	cancel context.CancelFunc // stops the running instance; nil when stopped
	done   chan struct{}      // closed when the last instance exited; nil if never started
}

// New checks every device configuration (and that device ids are unique)
// and returns an idle Swarm. Nothing runs until Run, and no device starts
// until Scale.
func New(cfg Config) (*Swarm, error) {
	s := &Swarm{
		devices: make([]*sim.Device, len(cfg.Devices)),
		log:     cfg.Logger,
		onSpawn: cfg.OnSpawn,
		wake:    make(chan struct{}, 1),
		slots:   make([]slot, len(cfg.Devices)),
		backend: make([]bool, len(cfg.Devices)),
		spawned: make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	close(s.spawned) // nothing to spawn yet
	eng := cfg.Engine
	if eng == nil {
		eng = sim.NewEngine()
		s.engine = eng
	}
	var errs []error
	seen := make(map[string]int, len(cfg.Devices))
	for i, dc := range cfg.Devices {
		if dc.Engine == nil {
			dc.Engine = eng
		}
		d, err := sim.New(dc)
		s.backend[i] = dc.Program != nil && dc.Program.Backend
		if err != nil {
			errs = append(errs, fmt.Errorf("device %d: %w", i, err))
		} else if j, dup := seen[d.ID()]; dup {
			errs = append(errs, fmt.Errorf("device %d: id %s is also device %d's: give every device its own id", i, d.ID(), j))
		} else {
			seen[d.ID()] = i
		}
		s.devices[i] = d
		if len(errs) >= 10 {
			errs = append(errs, errors.New("… further devices not checked"))
			break
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Len returns how many devices the swarm can run.
func (s *Swarm) Len() int { return len(s.devices) }

// Scale sets the population to count devices. When it grows, devices
// [running, count) start at rate per second (≤ 0 = all at once) on an open
// schedule counted from now; when it shrinks, the highest-index devices stop
// gracefully (each waits for its last echo) at once. It may be called at any
// time, also while a ramp is in progress (the new ramp replaces it) and before
// Run (which then starts it). count outside [0, Len()] is an error.
func (s *Swarm) Scale(count int, rate float64) error {
	if count < 0 || count > len(s.devices) {
		return fmt.Errorf("scale to %d devices: the device list has %d: create more devices or lower the count", count, len(s.devices))
	}
	if math.IsNaN(rate) {
		return fmt.Errorf("scale to %d devices: spawn rate is not a number: give devices per second, or 0 for all at once", count)
	}
	s.mu.Lock()
	s.target, s.rate = count, rate
	s.stopAbove(count)
	s.rampStart, s.rampBase = time.Now(), s.running
	if count != s.running && isClosed(s.spawned) {
		s.spawned = make(chan struct{})
	}
	s.mu.Unlock()
	s.log.Debug("scale", "devices", count, "rate", rate)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// Stop stops every device gracefully, like Locust's stop; Run keeps running
// idle and a later Scale starts devices again. Stop is idempotent.
func (s *Swarm) Stop() { _ = s.Scale(0, 0) }

// Running returns how many devices are started and not stopped. Stopped
// devices may still be finishing their last-message wait. After Scale
// shrinks the population, Running is the new count at once.
func (s *Swarm) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// Spawned returns a channel closed when the latest Scale's ramp completed:
// Running() reached its count. A Scale issued while a ramp is in progress
// keeps the same channel, so a waiter learns when the final count is reached.
// Before any Scale it is closed. Ramps progress only while Run runs.
func (s *Swarm) Spawned() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spawned
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Run starts and stops devices as Scale asks, until ctx ends. Then it stops
// every device gracefully (each waits up to its last-message timeout for the
// echo in flight) and returns after every device has stopped and everything
// it started has exited. It returns nil, or ErrRan when called a second time.
func (s *Swarm) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return ErrRan
	}
	s.ran = true
	s.mu.Unlock()

	if s.engine != nil {
		defer s.engine.Wait() // after the devices stopped: the loops' goroutines exit
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait, changed, running := s.step(ctx, &wg)
		if changed && s.onSpawn != nil {
			s.onSpawn(running)
		}
		timer.Stop()
		if wait >= 0 {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			s.stopAll()
			return nil // the deferred wg.Wait waits for the devices' graceful stops
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// step starts the devices of the ramp that are due (Scale itself stops
// devices when the population shrinks). It returns how long until
// the next device is due (-1 for none), whether the population changed, and
// the running count.
func (s *Swarm) step(ctx context.Context, wg *sync.WaitGroup) (wait time.Duration, changed bool, running int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait = -1
	if s.running != s.notified { // Scale stopped devices
		changed = true
	}
	if s.running < s.target {
		sp := pace.Spawn{Rate: s.rate}
		elapsed := time.Since(s.rampStart)
		due := s.target
		if n := sp.Due(elapsed); n < s.target-s.rampBase {
			due = s.rampBase + n
		}
		for s.running < due {
			s.start(ctx, wg, s.running)
			s.running++
			changed = true
		}
		if s.running < s.target {
			wait = sp.Pace(elapsed, s.running-s.rampBase)
		}
	}
	if s.running == s.target && !isClosed(s.spawned) {
		close(s.spawned)
	}
	s.notified = s.running
	return wait, changed, s.running
}

// start starts device i. A device on the lean client then holds no
// goroutine while it runs. If a previous instance of the device is still
// stopping, a goroutine waits for it first, so the broker never sees two
// clients with the device's id. The caller holds s.mu.
func (s *Swarm) start(ctx context.Context, wg *sync.WaitGroup, i int) {
	dctx, cancel := context.WithCancel(ctx)
	prev, done := s.slots[i].done, make(chan struct{})
	s.slots[i] = slot{cancel: cancel, done: done}
	dev := s.devices[i]
	wg.Add(1)
	finish := func(err error) {
		if err != nil {
			s.log.Warn("device stopped with an error", "device", dev.ID(), "err", err)
		}
		cancel()
		close(done)
		wg.Done()
	}
	launch := func() {
		if err := dev.Start(dctx, finish); err != nil {
			finish(err)
		}
	}
	if prev == nil || isClosed(prev) {
		launch()
		return
	}
	go func() {
		select {
		case <-prev:
			launch()
		case <-dctx.Done():
			finish(nil)
		}
	}()
}

// stopAll stops every running device gracefully; Run's deferred Wait
// waits for them. When some are back ends (a scenario's count: kinds) it
// stops the other devices first and the back ends once those have stopped:
// a back end that answers the devices (an MQTT 5 responder) answers their
// last requests while they wait for them, rather than stopping with them.
func (s *Swarm) stopAll() {
	s.mu.Lock()
	if !slices.Contains(s.backend[:s.running], true) {
		s.stopAbove(0)
		s.mu.Unlock()
		return
	}
	var devices []chan struct{}
	for i := range s.running {
		if sl := &s.slots[i]; !s.backend[i] && sl.cancel != nil {
			sl.cancel()
			sl.cancel = nil
			devices = append(devices, sl.done)
		}
	}
	s.mu.Unlock()
	for _, done := range devices {
		<-done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopAbove(0)
}

// stopAbove cancels devices [count, running): their graceful stops proceed
// in their own goroutines. The caller holds s.mu.
func (s *Swarm) stopAbove(count int) {
	for s.running > count {
		s.running--
		if cancel := s.slots[s.running].cancel; cancel != nil { // nil: stopAll stopped it already
			cancel()
		}
		s.slots[s.running].cancel = nil
	}
}
