package sim

import (
	"context"
	"errors"
	"time"
)

// Failure messages of the echo behaviour: constant, so recording them does
// not format anything.
const (
	msgEchoTimeout        = "no echo within the echo timeout"
	msgLastMessageTimeout = "no echo of the last message within the last message timeout"
)

// echo is the state of the tutorial's echo behaviour:
//
//   - every wait interval, if the last echo came back, publish the next
//     numbered payload to /devices/D/events ("MQTT publish");
//   - a command carrying the awaited number is "echo receive", timed from the
//     publish's intended send time, so a late schedule shows in the RTT;
//   - no echo within Config.EchoTimeout is an "echo timeout" failure, and the
//     next interval publishes again;
//   - a command carrying any other number (the echo of a message that already
//     timed out, or a duplicate) is "echo late", recorded as a success timed
//     by its age: it did arrive, and its timeout was already counted as the
//     failure, so counting it as a second failure would double count;
//   - on stop, wait up to Config.LastMessageTimeout for the echo in flight,
//     else "last message timeout".
//
// Commands whose payload is not this device's (no sequence number) are
// ignored.
type echo struct {
	s        *Session
	buf      []byte
	seq      uint64    // the last number published
	awaiting bool      // seq was published and its echo has not come
	sentAt   time.Time // intended send time of seq
}

func runEcho(ctx context.Context, s *Session) error {
	e := echo{s: s}
	timeout := s.cfg.EchoTimeout
	next := s.Now() // intended time of the next publish
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if e.awaiting {
				e.lastWait(timer)
			}
			return nil
		case cmd := <-s.Commands():
			e.onCommand(cmd)
		case <-timer.C:
			if ctx.Err() != nil {
				continue // stopped, maybe during a publish: the stop's wait, not timeouts, follows
			}
			now := s.Now()
			if e.awaiting && !now.Before(e.sentAt.Add(timeout)) {
				s.Failure(EventEchoTimeout, now.Sub(e.sentAt), msgEchoTimeout)
				e.awaiting = false
			}
			if !now.Before(next) {
				if !e.awaiting {
					e.publish(ctx, next)
				}
				next = s.NextAt(next)
			}
			wake := next
			if deadline := e.sentAt.Add(timeout); e.awaiting && deadline.Before(wake) {
				wake = deadline
			}
			timer.Reset(time.Until(wake))
		}
	}
}

// publish sends the next numbered payload, intended for at.
func (e *echo) publish(ctx context.Context, at time.Time) {
	e.seq++
	e.buf = e.s.AppendPayload(e.buf[:0], e.seq, at)
	err := e.s.Publish(ctx, e.buf, at)
	// A publish the stop caught unacknowledged may still have reached the
	// echo app: its echo is awaited too (lastWait records it as missing).
	if err == nil || errors.Is(err, errNoAckAtStop) {
		e.awaiting, e.sentAt = true, at
	}
}

// onCommand matches a received command against the awaited echo.
func (e *echo) onCommand(cmd Command) {
	got, ok := e.s.ParseSeq(cmd.Payload)
	if !ok {
		return
	}
	if e.awaiting && got == e.seq {
		e.awaiting = false
		e.s.Success(EventEchoReceive, cmd.At.Sub(e.sentAt), len(cmd.Payload))
		return
	}
	var age time.Duration
	if sent, ok := e.s.ParseSentAt(cmd.Payload); ok {
		age = cmd.At.Sub(sent)
	}
	e.s.Success(EventEchoLate, age, len(cmd.Payload))
}

// lastWait waits up to LastMessageTimeout from the stop for the awaited
// echo: less when the last Publish already waited for its acknowledgement
// after the stop. Echoes that arrived by the deadline count.
func (e *echo) lastWait(timer *time.Timer) {
	limit := e.s.cfg.LastMessageTimeout
	wait := limit
	if !e.s.stoppedAt.IsZero() {
		wait -= time.Since(e.s.stoppedAt)
	}
	timer.Reset(max(wait, 0))
	for e.awaiting {
		select {
		case cmd := <-e.s.Commands():
			e.onCommand(cmd)
		case <-timer.C:
			e.takeQueued()
			if e.awaiting {
				e.s.Failure(EventLastMessageTimeout, limit, msgLastMessageTimeout)
			}
			return
		}
	}
}

// takeQueued matches the commands that arrived already, without waiting.
func (e *echo) takeQueued() {
	for range commandDepth {
		select {
		case cmd := <-e.s.Commands():
			e.onCommand(cmd)
		default:
			return
		}
	}
}
