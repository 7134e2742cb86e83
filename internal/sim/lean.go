package sim

import (
	"context"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/mqttlean"
)

// leanDevice is one run of a Device on the lean client: a state machine
// driven by its connection's events (mqttlean calls it as the connection's
// Handler), by one timer, and by the end of its context. The built-in
// behaviours are part of the machine (lean_behavior.go), so a running device
// holds no goroutine; any other Behavior runs in a goroutine of its own
// (lean_session.go). It follows the paho engine (device.go) rule for rule:
// the same events are recorded in the same cases.
type leanDevice struct {
	dev  *Device
	cfg  *Config
	ctx  context.Context
	done func(error) // called once, by unlock, after complete

	mu      sync.Mutex  // Guards the fields below.
	wt      wheelTimer  // the device's one timer, on leanWheel; runs wake
	armed   time.Time   // when wt fires; zero = not scheduled
	unwatch func() bool // stops the watch on ctx

	conn    *mqttlean.Conn // the connection, from Dial until Closed
	link    linkPhase
	intent  closeIntent // why we closed conn, if we did
	since   time.Time   // start of the connect or subscribe in progress
	subID   uint16
	subBy   time.Time // subscribe deadline
	attempt int       // failed connects since the last success
	retryAt time.Time // next connect attempt; zero = none scheduled
	minted  time.Time // when the connection's password was obtained
	expires time.Time // when it stops being valid; zero = never
	refresh refreshPhase
	openAt  time.Time // refreshWaiting: the window opens
	hard    time.Time // refreshOpen: reconnect at the latest then

	stopping  bool  // ctx ended: no more reconnects
	behDone   bool  // the behaviour has finished
	completed bool  // done is due
	notified  bool  // done was called
	result    error // what done receives

	b leanBehavior // the built-in behaviour's state
	s *Session     // the session of a behaviour that runs in a goroutine; nil for built-ins
}

// linkPhase is where the device's connection is.
type linkPhase uint8

const (
	linkNone        linkPhase = iota // no connection
	linkConnecting                   // dialed, awaiting CONNACK
	linkSubscribing                  // SUBSCRIBE sent, awaiting SUBACK
	linkUp                           // subscribed: the behaviour may publish
)

// closeIntent says why the device closed its connection itself.
type closeIntent uint8

const (
	intentNone    closeIntent = iota // we did not: a close is a loss
	intentRefresh                    // fresh credentials: reconnect at once
	intentRetry                      // the subscribe failed: reconnect after the backoff
	intentAbort                      // stopping: nothing follows
)

var _ mqttlean.Handler = (*leanDevice)(nil)

// startLean starts d on the lean client; done is called when it stopped.
func startLean(ctx context.Context, d *Device, done func(error)) {
	ld := &leanDevice{dev: d, cfg: &d.cfg, ctx: ctx, done: done}
	switch d.cfg.Behavior.(type) {
	case echoBehavior:
		ld.b.echo = true
	case telemetryBehavior:
	default:
		ld.s = newSession(d)
		ld.s.lean = ld
	}
	ld.wt.fire = ld.wake
	ld.mu.Lock()
	defer ld.unlock()
	ld.retryAt = d.firstConnectAt(time.Now()) // the first connect, from the timer
	ld.arm(ld.retryAt)
	ld.unwatch = context.AfterFunc(ctx, ld.stop)
}

// unlock releases mu and then, once, tells the caller of Start that the run
// is over; every entry point locks mu and leaves through unlock.
func (d *leanDevice) unlock() {
	notify := d.completed && !d.notified
	if notify {
		d.notified = true
	}
	d.mu.Unlock()
	if notify {
		d.dev.running.Store(false)
		d.done(d.result)
	}
}

// wake runs when the timer fires: whatever is due.
func (d *leanDevice) wake() {
	d.mu.Lock()
	defer d.unlock()
	if d.completed {
		return
	}
	now := time.Now()
	d.armed = time.Time{}
	if !d.retryAt.IsZero() && !now.Before(d.retryAt) {
		d.retryAt = time.Time{}
		d.connect(now)
	}
	if d.link == linkSubscribing && !now.Before(d.subBy) {
		d.cfg.Recorder.Failure(EventSubscribe, now.Sub(d.since), errSubscribeTimeout.Error())
		d.closeConn(intentRetry)
	}
	if d.link == linkUp && d.intent == intentNone {
		if d.refresh == refreshWaiting && !now.Before(d.openAt) {
			d.refresh = refreshOpen // reconnect on the next command, or at hard
		}
		if d.refresh == refreshOpen && !now.Before(d.hard) {
			d.refreshNow()
		}
	}
	d.behaviorWake(now)
	d.arm(now)
}

// arm sets the timer to the earliest deadline of the device, on the wheel's
// 1 ms grid.
func (d *leanDevice) arm(now time.Time) {
	if d.completed {
		return
	}
	var at time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	earliest(d.retryAt)
	if d.link == linkSubscribing {
		earliest(d.subBy)
	}
	if d.link == linkUp && d.intent == intentNone {
		switch d.refresh {
		case refreshWaiting:
			earliest(d.openAt)
		case refreshOpen:
			earliest(d.hard)
		}
	}
	d.behaviorDeadlines(earliest)
	switch {
	case at.IsZero():
		if !d.armed.IsZero() {
			leanWheel.stop(&d.wt)
			d.armed = time.Time{}
		}
	default:
		at = leanWheel.ceil(at)
		if !at.Equal(d.armed) {
			leanWheel.reset(&d.wt, at)
			d.armed = at
		}
	}
}

// stop runs when ctx ends: no more reconnects; the behaviour winds down
// (the echo behaviour waits for its last echo) and then the device
// disconnects.
func (d *leanDevice) stop() {
	d.mu.Lock()
	defer d.unlock()
	if d.stopping || d.completed {
		return
	}
	d.stopping = true
	now := time.Now()
	d.retryAt, d.refresh = time.Time{}, refreshNone
	if d.conn != nil && d.link != linkUp {
		d.closeConn(intentAbort) // a connect in progress
	}
	d.behaviorStop(now)
	d.arm(now)
}

// finishIfDone ends the run once the behaviour is done: it disconnects, and
// completes when no connection is left.
func (d *leanDevice) finishIfDone() {
	if !d.behDone || d.completed {
		return
	}
	d.retryAt = time.Time{}
	if d.conn != nil {
		d.closeConn(intentAbort) // Closed completes
		return
	}
	d.complete()
}

// complete marks the run as over: unlock calls done.
func (d *leanDevice) complete() {
	d.completed = true
	d.dev.closedAt.Store(time.Now().UnixNano())
	leanWheel.stop(&d.wt)
	d.armed = time.Time{}
	d.unwatch()
}
