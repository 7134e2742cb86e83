package sim

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/pace"
)

// leanBehavior is the state of a built-in behaviour on the lean client: the
// echo behaviour of echo.go and the telemetry behaviour of telemetry.go,
// rewritten as a state machine that the device's events drive. A publish is
// asynchronous here: it is "pending" from the write until its PUBACK, where
// the paho engine's Publish blocks for that time.
type leanBehavior struct {
	echo    bool // the echo behaviour; else telemetry
	started bool

	seq      uint64
	next     time.Time // intended time of the next publish
	awaiting bool      // echo: seq was published and its echo has not come
	sentAt   time.Time // echo: intended send time of seq

	pending bool // a QoS 1 publish awaits its PUBACK
	pubID   uint16
	pubAt   time.Time // its intended send time
	pubSize int

	lastWait bool      // stopping: waiting for the last echo and PUBACK
	lastBy   time.Time // until then
}

// payloadPool holds payload buffers: a device builds its payload, writes it
// and forgets it, so an idle device keeps no buffer.
var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// behaviorStart starts the behaviour after the first subscribe.
func (d *leanDevice) behaviorStart(now time.Time) {
	if d.b.started {
		return
	}
	d.b.started = true
	if d.s != nil {
		d.startSession()
		return
	}
	d.b.next = leanWheel.ceil(now) // the first publish at once (on the wheel's grid), as the goroutine version's timer(0)
	d.behaviorWake(now)
}

// behaviorWake does the behaviour's due work: timeouts, then the publish.
func (d *leanDevice) behaviorWake(now time.Time) {
	b := &d.b
	if d.s != nil || !b.started || d.behDone {
		return
	}
	if d.stopping {
		if b.lastWait && !now.Before(b.lastBy) {
			if b.awaiting {
				d.cfg.Recorder.Failure(EventLastMessageTimeout, d.cfg.LastMessageTimeout, msgLastMessageTimeout)
			}
			// A PUBACK still missing is forgotten, as Session.Publish
			// returns at the stop's deadline without recording.
			b.awaiting, b.pending = false, false
			d.settleLastWait()
		}
		return
	}
	timeout := d.cfg.EchoTimeout
	if b.pending && !now.Before(b.pubAt.Add(timeout)) {
		d.cfg.Recorder.Failure(EventPublish, now.Sub(b.pubAt), errPublishTimeout.Error())
		b.pending, b.awaiting = false, false
	}
	if b.awaiting && !now.Before(b.sentAt.Add(timeout)) {
		d.cfg.Recorder.Failure(EventEchoTimeout, now.Sub(b.sentAt), msgEchoTimeout)
		b.awaiting = false
	}
	if !now.Before(b.next) {
		if !b.awaiting && !b.pending {
			d.publish(now)
		}
		// As Session.NextAt: the next interval, or now when further behind;
		// on the wheel's grid, so that the publish is not late by a fraction
		// of a tick, which would show in the measured times.
		next := b.next.Add(pace.Interval{Min: d.cfg.WaitMin, Max: d.cfg.WaitMax}.Next(rand.Float64()))
		if next.Before(now) {
			next = now
		}
		b.next = leanWheel.ceil(next)
	}
}

// publish sends the next numbered payload, intended for b.next. Between
// connections it is skipped and nothing is recorded, as Session.Publish
// returns ErrNotConnected.
func (d *leanDevice) publish(now time.Time) {
	b := &d.b
	at := b.next
	b.seq++
	if d.conn == nil || d.link != linkUp || d.intent != intentNone {
		return
	}
	bp := payloadPool.Get().(*[]byte)
	*bp = d.dev.payload.appendTo((*bp)[:0], b.seq, at)
	size := len(*bp)
	id, err := d.conn.Publish(d.dev.events, d.cfg.QoS, *bp)
	if cap(*bp) <= 64<<10 {
		payloadPool.Put(bp)
	}
	if err != nil { // the connection is closing: Closed records the loss
		d.cfg.Recorder.Failure(EventPublish, time.Since(at), err.Error())
		return
	}
	if d.cfg.QoS == 0 {
		d.cfg.Recorder.Success(EventPublish, time.Since(at), size)
	} else {
		b.pending, b.pubID, b.pubAt, b.pubSize = true, id, at, size
	}
	if b.echo {
		b.awaiting, b.sentAt = true, at
	}
}

// behaviorDeadlines offers the behaviour's next deadlines to earliest.
func (d *leanDevice) behaviorDeadlines(earliest func(time.Time)) {
	b := &d.b
	if d.s != nil || !b.started || d.behDone {
		return
	}
	if d.stopping {
		if b.lastWait {
			earliest(b.lastBy)
		}
		return
	}
	earliest(b.next)
	if b.pending {
		earliest(b.pubAt.Add(d.cfg.EchoTimeout))
	}
	if b.awaiting {
		earliest(b.sentAt.Add(d.cfg.EchoTimeout))
	}
}

// behaviorMessage handles a command: the echo behaviour matches it against
// the awaited echo (as echo.onCommand), telemetry ignores it.
func (d *leanDevice) behaviorMessage(topic, payload []byte, now time.Time) {
	if d.s != nil {
		d.sessionMessage(topic, payload, now)
		return
	}
	b := &d.b
	if !b.echo || !b.started {
		return
	}
	got, ok := d.dev.payload.seq(payload)
	if !ok {
		return
	}
	if b.awaiting && got == b.seq {
		b.awaiting = false
		d.cfg.Recorder.Success(EventEchoReceive, now.Sub(b.sentAt), len(payload))
		d.settleLastWait()
		return
	}
	var age time.Duration
	if sent, ok := d.dev.payload.sentAt(payload); ok {
		age = now.Sub(sent)
	}
	d.cfg.Recorder.Success(EventEchoLate, age, len(payload))
}

// behaviorAcked completes the pending publish.
func (d *leanDevice) behaviorAcked(id uint16, now time.Time) {
	if d.s != nil {
		d.sessionAcked(id)
		return
	}
	b := &d.b
	if !b.pending || id != b.pubID {
		return
	}
	b.pending = false
	d.cfg.Recorder.Success(EventPublish, now.Sub(b.pubAt), b.pubSize)
	d.settleLastWait()
}

// behaviorConnLost ends the pending publish with the connection: a failure
// unless the device closed the connection on purpose (then nothing, as
// Session.Publish returns ErrNotConnected).
func (d *leanDevice) behaviorConnLost(planned bool) {
	if d.s != nil {
		d.sessionConnLost(planned)
		return
	}
	b := &d.b
	if !b.pending {
		return
	}
	b.pending, b.awaiting = false, false
	if !planned {
		d.cfg.Recorder.Failure(EventPublish, time.Since(b.pubAt), errPublishLost.Error())
	}
}

// behaviorStop winds the behaviour down when ctx ended: it waits up to
// LastMessageTimeout for what is in flight, as the goroutine versions do: a
// publish awaiting its PUBACK (it may be with the broker already) and, for
// the echo behaviour, the echo of the last publish, even unacknowledged.
func (d *leanDevice) behaviorStop(now time.Time) {
	b := &d.b
	switch {
	case !b.started: // never subscribed: nothing ran
		d.behDone = true
	case d.s != nil: // the behaviour's goroutine sees ctx and returns
		return
	default:
		if b.pending || b.awaiting {
			b.lastWait, b.lastBy = true, now.Add(d.cfg.LastMessageTimeout)
			return
		}
		d.behDone = true
	}
	d.finishIfDone()
}

// settleLastWait ends the stop's wait once nothing is in flight any more:
// the last echo came (and the PUBACK), or the connection took them away.
func (d *leanDevice) settleLastWait() {
	b := &d.b
	if b.lastWait && !b.pending && !b.awaiting {
		b.lastWait = false
		d.behDone = true
		d.finishIfDone()
	}
}
