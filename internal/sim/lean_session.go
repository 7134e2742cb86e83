package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
)

// A Behavior other than the built-in ones runs on the lean client as it
// does on paho: in a goroutine, with a Session whose Publish blocks until
// the PUBACK. The lean device routes the connection's events to it.

// leanWaiter is the Publish waiting for its PUBACK; guarded by leanDevice.mu.
type leanWaiter struct {
	id uint16     // 0 = none
	ch chan error // capacity 1; the outcome
}

// startSession starts the behaviour's goroutine. d.mu held.
func (d *leanDevice) startSession() {
	d.s.waiter.ch = make(chan error, 1)
	go func() {
		err := d.cfg.Behavior.Run(d.ctx, d.s)
		d.mu.Lock()
		defer d.unlock()
		if err != nil && !(d.ctx.Err() != nil && errors.Is(err, d.ctx.Err())) {
			d.result = fmt.Errorf("device %s behaviour: %w", d.cfg.DeviceID, err)
		}
		d.behDone = true
		d.finishIfDone()
	}()
}

// sessionMessage queues a command for the behaviour, copied, or drops it
// when the behaviour is commandDepth behind. d.mu held.
func (d *leanDevice) sessionMessage(topic, payload []byte, now time.Time) {
	select {
	case d.s.commands <- Command{Topic: string(topic), Payload: bytes.Clone(payload), At: now}:
	default:
	}
}

// sessionAcked completes the waiting Publish. d.mu held.
func (d *leanDevice) sessionAcked(id uint16) {
	if w := &d.s.waiter; w.id != 0 && w.id == id {
		w.id = 0
		w.ch <- nil
	}
}

// sessionConnLost fails the waiting Publish. d.mu held.
func (d *leanDevice) sessionConnLost(planned bool) {
	if w := &d.s.waiter; w.id != 0 {
		w.id = 0
		if planned {
			w.ch <- ErrNotConnected
		} else {
			w.ch <- errPublishLost
		}
	}
}

// publishWait is Session.Publish on the lean client; Publish has checked ctx.
func (d *leanDevice) publishWait(ctx context.Context, payload []byte, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	rec := d.cfg.Recorder
	d.mu.Lock()
	if d.conn == nil || d.link != linkUp || d.intent != intentNone {
		d.unlock()
		return ErrNotConnected
	}
	id, err := d.conn.Publish(d.dev.events, d.cfg.QoS, payload)
	if err != nil {
		d.unlock()
		rec.Failure(EventPublish, time.Since(at), err.Error())
		return err
	}
	if d.cfg.QoS == 0 {
		d.unlock()
		rec.Success(EventPublish, time.Since(at), len(payload))
		return nil
	}
	w := &d.s.waiter
	w.id = id
	d.unlock()

	s := d.s
	s.ackTimer.Reset(d.cfg.EchoTimeout)
	select {
	case err = <-w.ch:
	case <-s.ackTimer.C:
		err = errPublishTimeout
	case <-ctx.Done():
		// As on paho: the message may be with the broker already, so the
		// stop waits for its acknowledgement up to LastMessageTimeout.
		s.stoppedAt = time.Now()
		s.ackTimer.Reset(d.cfg.LastMessageTimeout)
		select {
		case err = <-w.ch:
		case <-s.ackTimer.C:
			err = fmt.Errorf("%w: %w", errNoAckAtStop, ctx.Err())
		}
	}
	s.ackTimer.Stop()
	d.mu.Lock()
	w.id = 0
	select { // an outcome sent as the wait ended another way
	case <-w.ch:
	default:
	}
	d.unlock()
	switch {
	case err == nil:
		rec.Success(EventPublish, time.Since(at), len(payload))
	case errors.Is(err, ErrNotConnected), ctx.Err() != nil && errors.Is(err, ctx.Err()):
	default:
		rec.Failure(EventPublish, time.Since(at), err.Error())
	}
	return err
}
