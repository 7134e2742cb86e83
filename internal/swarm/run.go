package swarm

import (
	"context"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/pace"
)

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

// stopAll cancels every running device; Run's deferred Wait waits for them.
func (s *Swarm) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopAbove(0)
}

// stopAbove cancels devices [count, running): their graceful stops proceed
// in their own goroutines. The caller holds s.mu.
func (s *Swarm) stopAbove(count int) {
	for s.running > count {
		s.running--
		s.slots[s.running].cancel()
		s.slots[s.running].cancel = nil
	}
}
