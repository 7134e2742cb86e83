package worker

import (
	"cmp"
	"context"
	"crypto"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ltk-dev/ltk/internal/srcaddr"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// maxPending bounds the one-second deltas kept until the master
// acknowledges them: those waiting to be sent and those sent but not yet
// acknowledged (a stream that died may have swallowed them). Past it the
// recorder is not drained, so later deltas span longer intervals: nothing
// is lost but per-second resolution.
const maxPending = 300

// runner owns a worker process's devices across its sessions with the
// master: the block, the Worker running a share of it, and the stats they
// record, drained every second into deltas that wait for the next report.
// Commands reach it through cmds and are applied by run, one at a time.
type runner struct {
	log     *slog.Logger
	refusal RefusalFunc  // may be nil
	events  io.Writer    // one line per devices start, for people
	sources srcaddr.Plan // the source addresses devices dial from (Config.Sources)
	rec     *stats.Recorder
	cmds    chan any      // spawnCmd, stopCmd or blockCmd
	changed chan struct{} // capacity 1: a stop finished or an exception is waiting

	mu         sync.Mutex // Guards the fields below.
	block      Block
	cur        *instance // the Worker running (or stopping); nil if none
	next       *spawnCmd // a spawn waiting for cur to stop
	state      ltkv1.State
	applied    uint64     // seq of the last command applied
	stopSeq    uint64     // seq of the stop in progress
	pending    []numbered // drained, not yet acknowledged by the master; oldest first
	sent       int        // how many of pending went out in this session
	seq        uint64     // the last delta's sequence number
	exceptions []string
	recorded   counts // everything drained
}

// numbered is a drained delta and its sequence number.
type numbered struct {
	seq uint64
	d   *stats.Delta
}

// counts are requests and failures, in all and by entry.
type counts struct {
	requests, failures int64
	entries            map[[2]string][2]int64 // by (type, name): requests, failures
}

func (c *counts) add(d *stats.Delta) {
	if c.entries == nil {
		c.entries = make(map[[2]string][2]int64)
	}
	for _, e := range d.Entries {
		c.requests += e.Requests
		c.failures += e.Failures
		k := [2]string{e.Type, e.Name}
		n := c.entries[k]
		c.entries[k] = [2]int64{n[0] + e.Requests, n[1] + e.Failures}
	}
}

// instance is one Worker and its Run.
type instance struct {
	w        *Worker
	settings *ltkv1.Settings
	cancel   context.CancelFunc
	done     chan struct{}
	stopping bool
}

type spawnCmd struct {
	seq      uint64
	count    int
	rate     float64
	settings *ltkv1.Settings
}

type stopCmd struct{ seq uint64 }

type blockCmd struct{ block Block }

func newRunner(log *slog.Logger, events io.Writer, refusal RefusalFunc, sources srcaddr.Plan) *runner {
	return &runner{
		log:     log,
		refusal: refusal,
		events:  events,
		sources: sources,
		rec:     stats.NewRecorder(),
		cmds:    make(chan any),
		changed: make(chan struct{}, 1),
		state:   ltkv1.State_STATE_READY,
	}
}

// send hands cmd to run; it returns false if ctx ended first.
func (r *runner) send(ctx context.Context, cmd any) bool {
	select {
	case r.cmds <- cmd:
		return true
	case <-ctx.Done():
		return false
	}
}

// run applies commands and drains the recorder at every whole second until
// ctx ends; then it stops the devices gracefully, drains once more and
// returns after the devices have disconnected.
func (r *runner) run(ctx context.Context) {
	tick := time.NewTimer(untilNextSecond(time.Now()))
	defer tick.Stop()
	for {
		var done <-chan struct{}
		r.mu.Lock()
		if r.cur != nil {
			done = r.cur.done
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			r.mu.Lock()
			cur := r.cur
			r.mu.Unlock()
			if cur != nil {
				cur.cancel()
				<-cur.done
			}
			r.drain(time.Now(), true)
			return
		case cmd := <-r.cmds:
			r.apply(ctx, cmd)
		case <-done:
			r.finished(ctx)
		case now := <-tick.C:
			r.drain(now, false)
			tick.Reset(untilNextSecond(time.Now()))
		}
	}
}

func untilNextSecond(now time.Time) time.Duration {
	return now.Truncate(time.Second).Add(time.Second).Sub(now)
}

// drain moves what was recorded into a pending delta; unless final, not
// when maxPending deltas wait already.
func (r *runner) drain(now time.Time, final bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !final && len(r.pending) >= maxPending {
		return
	}
	d := r.rec.Drain(now)
	if len(d.Entries) == 0 && len(d.Failures) == 0 {
		return
	}
	r.recorded.add(d)
	r.seq++
	r.pending = append(r.pending, numbered{r.seq, d})
}

func (r *runner) apply(ctx context.Context, cmd any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch c := cmd.(type) {
	case blockCmd:
		if sameBlock(r.block, c.block) {
			return
		}
		r.block = c.block
		r.stopCur()
	case spawnCmd:
		if r.cur != nil && !r.cur.stopping && sameSettings(r.cur.settings, c.settings) {
			if err := r.cur.w.Scale(c.count, c.rate); err != nil {
				r.exception("spawn: " + err.Error())
			}
			r.applied = c.seq
			return
		}
		r.next = &c
		r.stopCur()
		if r.cur == nil {
			r.startNext(ctx)
		}
	case stopCmd:
		r.next = nil
		r.stopSeq = c.seq
		r.stopCur()
		if r.cur == nil {
			r.state, r.applied = ltkv1.State_STATE_STOPPED, c.seq
			r.notify()
		}
	}
}

// stopCur starts the graceful stop of the running Worker, if any. r.mu is held.
func (r *runner) stopCur() {
	if r.cur != nil && !r.cur.stopping {
		r.cur.stopping = true
		r.cur.cancel()
	}
}

// finished handles the end of cur's Run: its last stats are drained, and the
// spawn waiting for it starts, or the stop is complete.
func (r *runner) finished(ctx context.Context) {
	r.drain(time.Now(), true)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur = nil
	if r.next != nil {
		r.startNext(ctx)
		return
	}
	r.state, r.applied = ltkv1.State_STATE_STOPPED, max(r.applied, r.stopSeq)
	r.notify()
}

// startNext starts a Worker for r.next. r.mu is held.
func (r *runner) startNext(ctx context.Context) {
	c := r.next
	r.next = nil
	r.applied = c.seq
	settings := ltkv1.DecodeSettings(c.settings)
	plan, err := checkSettings(&settings)
	if err != nil {
		r.exception("spawn: settings from the master: " + err.Error())
		return
	}
	w, err := newWorker(r.block, &settings, plan, r.rec, r.sources, r.log, r.refusal)
	if err != nil {
		r.exception("spawn: " + err.Error())
		return
	}
	if err := w.Scale(c.count, c.rate); err != nil {
		r.exception("spawn: " + err.Error())
		return
	}
	// Say which MQTT client runs the devices: the master chose it, and this
	// is where a user (and a test) sees that the worker obeyed.
	r.log.Info("starting devices", "devices", c.count, "mqtt_client", mqttClient(&settings))
	fmt.Fprintf(r.events, "Starting %d devices on the %s MQTT client\n", c.count, mqttClient(&settings))
	wctx, cancel := context.WithCancel(ctx)
	inst := &instance{w: w, settings: c.settings, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(inst.done)
		_ = w.Run(wctx) // a Worker runs once: ErrRan cannot happen
	}()
	r.cur = inst
}

// exception queues msg for the master. r.mu is held.
func (r *runner) exception(msg string) {
	r.log.Warn(msg)
	r.exceptions = append(r.exceptions, msg)
	r.notify()
}

func (r *runner) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// status is what a heartbeat reports.
func (r *runner) status() (state ltkv1.State, running int, applied uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.cur == nil:
		return r.state, 0, r.applied
	case r.cur.stopping:
		return ltkv1.State_STATE_STOPPING, 0, r.applied
	}
	select {
	case <-r.cur.w.Spawned():
		state = ltkv1.State_STATE_RUNNING
	default:
		state = ltkv1.State_STATE_SPAWNING
	}
	return state, r.cur.w.Running(), r.applied
}

// take returns the deltas not yet sent in this session, and forgets the
// exceptions waiting. The deltas stay pending until ack.
func (r *runner) take() ([]numbered, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, e := slices.Clone(r.pending[r.sent:]), r.exceptions
	r.sent, r.exceptions = len(r.pending), nil
	return d, e
}

// ack forgets the deltas up to seq, which the master holds.
func (r *runner) ack(seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, _ := slices.BinarySearchFunc(r.pending, seq+1, func(p numbered, s uint64) int { return cmp.Compare(p.seq, s) })
	r.pending = r.pending[n:]
	r.sent = max(r.sent-n, 0)
}

// resend makes take return every pending delta again: a new session with
// the same master, which may not have received those sent last time.
func (r *runner) resend() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = 0
}

// dropPending forgets the deltas waiting and returns how many there were.
func (r *runner) dropPending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.pending)
	r.pending, r.sent = nil, 0
	return n
}

// totals returns what was recorded so far.
func (r *runner) totals() counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.recorded
	t.entries = maps.Clone(t.entries)
	return t
}

// sameBlock reports whether a and b are the same devices with the same keys
// and values, at the same place in the fleet.
func sameBlock(x, y Block) bool {
	if x.First != y.First || x.Ordinal != y.Ordinal || !slices.Equal(x.Columns, y.Columns) {
		return false
	}
	a, b := x.Devices, y.Devices
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || (a[i].Key == nil) != (b[i].Key == nil) || !slices.Equal(a[i].Values, b[i].Values) {
			return false
		}
		if a[i].Key != nil {
			pub, ok := a[i].Key.Public().(interface{ Equal(crypto.PublicKey) bool })
			if !ok || !pub.Equal(b[i].Key.Public()) {
				return false
			}
		}
	}
	return true
}

// sameSettings reports whether a running Worker can go on under b.
func sameSettings(a, b *ltkv1.Settings) bool {
	return proto.Equal(a, b)
}
