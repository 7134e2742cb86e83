// Package webtest provides a web.Controller that runs no devices but
// produces real statistics, for tests of the web server and UI.
package webtest

import (
	"fmt"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/web"
)

// SwarmCall records one call of Controller.Swarm.
type SwarmCall struct {
	Count int
	Rate  float64
}

// Controller is a fake master. Swarm "starts" its devices at once; every
// Snapshot then records, through a real stats.Recorder and Aggregate, one
// "echo receive" per running device per second elapsed since the previous
// Snapshot (1 to 3 ms each), and every FailEvery-th one as an "echo timeout"
// failure instead. Its methods are safe for concurrent use.
type Controller struct {
	// FailEvery makes every n-th echo a failure; 0 means none. Set it before use.
	FailEvery int

	mu         sync.Mutex // Guards the fields below.
	rec        *stats.Recorder
	agg        *stats.Aggregate
	connect    *stats.Entry
	echo       *stats.Entry
	timeout    *stats.Entry
	last       time.Time // previous Snapshot
	carry      float64   // fractional echoes owed to the next Snapshot
	seq        int
	state      web.State
	running    int
	capacity   int
	workers    int
	swarms     []SwarmCall
	stops      int
	resets     int
	exceptions []web.Exception
	swarmErr   error
}

// New returns a ready Controller whose device list holds capacity devices,
// spread over the given number of workers.
func New(capacity, workers int) *Controller {
	rec := stats.NewRecorder()
	return &Controller{
		rec:      rec,
		agg:      stats.NewAggregate(),
		connect:  rec.Entry("MQTT", "MQTT connect"),
		echo:     rec.Entry("echo", "echo receive"),
		timeout:  rec.Entry("echo", "echo timeout"),
		last:     time.Now(),
		state:    web.StateReady,
		capacity: capacity,
		workers:  workers,
	}
}

// Swarm implements web.Controller: count devices run at once.
func (c *Controller) Swarm(count int, rate float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.swarmErr != nil {
		return c.swarmErr
	}
	c.swarms = append(c.swarms, SwarmCall{count, rate})
	for range max(count-c.running, 0) {
		c.connect.Record(500*time.Microsecond, 0)
	}
	c.running = count
	c.state = web.StateRunning
	return nil
}

// Stop implements web.Controller: every device stops at once.
func (c *Controller) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stops++
	c.running = 0
	c.state = web.StateStopped
	return nil
}

// ResetStats implements web.Controller.
func (c *Controller) ResetStats() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resets++
	c.rec.Drain(time.Now()) // discard what was recorded
	c.agg.Reset()
	c.exceptions = nil
}

// State implements web.Controller.
func (c *Controller) State() web.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Snapshot implements web.Controller, recording the echoes due since the
// previous call first.
func (c *Controller) Snapshot(now time.Time) stats.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.last) {
		c.carry += float64(c.running) * now.Sub(c.last).Seconds()
		c.last = now
	}
	for ; c.carry >= 1; c.carry-- {
		c.seq++
		rtt := time.Millisecond + time.Duration(c.seq*7919%2000)*time.Microsecond
		if c.FailEvery > 0 && c.seq%c.FailEvery == 0 {
			c.timeout.Fail(stats.NoResponseTime, "no echo within 120s", fmt.Sprintf("LTK%05d", c.seq%7+1))
			continue
		}
		c.echo.Record(rtt, 64)
	}
	_ = c.agg.Add(c.rec.Drain(now)) // a Recorder's own Delta is always consistent
	return c.agg.Snapshot(now)
}

// Running implements web.Controller.
func (c *Controller) Running() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

// Capacity implements web.Controller.
func (c *Controller) Capacity() int { return c.capacity }

// Workers implements web.Controller: the devices are split evenly.
func (c *Controller) Workers() []web.WorkerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.workers <= 0 {
		return nil
	}
	ws := make([]web.WorkerInfo, c.workers)
	for i := range ws {
		st := web.StateReady
		if c.running > 0 {
			st = web.StateRunning
		}
		ws[i] = web.WorkerInfo{
			Ordinal:       i,
			ID:            fmt.Sprintf("worker-%d", i),
			Host:          fmt.Sprintf("ltk-worker-%d", i),
			State:         st,
			Devices:       c.running/c.workers + btoi(i < c.running%c.workers),
			CPUPercent:    12.5,
			MemoryBytes:   48 << 20,
			LastHeartbeat: time.Now(),
		}
	}
	return ws
}

// Exceptions implements web.Controller.
func (c *Controller) Exceptions() []web.Exception {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]web.Exception(nil), c.exceptions...)
}

// AddException makes x show in Exceptions.
func (c *Controller) AddException(x web.Exception) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exceptions = append(c.exceptions, x)
}

// FailSwarm makes every later Swarm return err.
func (c *Controller) FailSwarm(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.swarmErr = err
}

// Swarms returns the Swarm calls so far.
func (c *Controller) Swarms() []SwarmCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]SwarmCall(nil), c.swarms...)
}

// Stops returns how many times Stop was called.
func (c *Controller) Stops() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stops
}

// Resets returns how many times ResetStats was called.
func (c *Controller) Resets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

var _ web.Controller = (*Controller)(nil)
