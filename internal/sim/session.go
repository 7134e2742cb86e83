package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ltk-dev/ltk/internal/pace"
)

// ErrNotConnected is returned by Session.Publish while the device is between
// connections. Nothing is recorded: the lost connection already was.
var ErrNotConnected = errors.New("device not connected: publish skipped while it reconnects")

// Publish outcomes recorded as "MQTT publish" failures.
var (
	errPublishLost    = errors.New("connection lost before the publish completed")
	errPublishTimeout = errors.New("no acknowledgement from the broker within the echo timeout")
)

// errNoAckAtStop is wrapped, with ctx's error, by Publish's error when the
// device stopped while the publish awaited its acknowledgement and none came
// within Config.LastMessageTimeout. Nothing is recorded for the publish.
var errNoAckAtStop = errors.New("no acknowledgement within the last message timeout after the stop")

// commandDepth is how many received commands wait for the behaviour before
// further ones are dropped. A device awaits one echo at a time.
const commandDepth = 8

// Command is a message received on the device's command topic.
type Command struct {
	Topic   string
	Payload []byte    // owned by the receiver
	At      time.Time // when the device received it
}

// Session is a behaviour's view of its device for one Device.Run: the
// device's settings, a clock, payload helpers, Publish, the command stream
// and the Recorder. Publish, Wait and AppendPayload are for the behaviour's
// goroutine only; the other methods are safe for concurrent use.
type Session struct {
	cfg      *Config // read only
	events   string  // the events topic
	filter   string  // the command subscription
	payload  payload
	interval pace.Interval
	rnd      *rand.Rand // behaviour goroutine only
	commands chan Command
	seen     chan struct{} // a command arrived; read by the supervisor
	conn     atomic.Pointer[conn]

	out       []byte      // the publish buffer handed to paho; nil while paho may still hold it
	ackTimer  *time.Timer // bounds the wait for a publish's acknowledgement
	stoppedAt time.Time   // when a Publish saw ctx end while it awaited the acknowledgement; zero = none

	lean   *leanDevice // set when the behaviour runs on the lean client
	waiter leanWaiter  // lean: the Publish awaiting its PUBACK
}

var _ Recorder = (*Session)(nil)

func newSession(d *Device) *Session {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Session{
		cfg:      &d.cfg,
		events:   d.events,
		filter:   d.filter,
		payload:  d.payload,
		interval: pace.Interval{Min: d.cfg.WaitMin, Max: d.cfg.WaitMax},
		rnd:      rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		commands: make(chan Command, commandDepth),
		seen:     make(chan struct{}, 1),
		ackTimer: t,
	}
}

// Config returns the device's configuration, defaults applied.
func (s *Session) Config() Config { return *s.cfg }

// DeviceID returns the device's id.
func (s *Session) DeviceID() string { return s.cfg.DeviceID }

// Now returns the current time.
func (s *Session) Now() time.Time { return time.Now() }

// Wait returns the next wait between publishes, uniform in [WaitMin, WaitMax].
func (s *Session) Wait() time.Duration { return s.interval.Next(s.rnd.Float64()) }

// NextAt returns the intended time of the publish that follows one intended
// at prev: prev plus Wait(), or now when the device fell further behind (a
// slow acknowledgement, a reconnect), so a stall does not cause a burst.
func (s *Session) NextAt(prev time.Time) time.Time {
	next := prev.Add(s.Wait())
	if now := time.Now(); next.Before(now) {
		return now
	}
	return next
}

// AppendPayload appends the tutorial's payload numbered seq and stamped at
// (padded to Config.PayloadSize) to dst and returns the extended slice.
func (s *Session) AppendPayload(dst []byte, seq uint64, at time.Time) []byte {
	return s.payload.appendTo(dst, seq, at)
}

// ParseSeq returns the sequence number of a payload built by AppendPayload
// for this device, and false for anything else. It does not allocate.
func (s *Session) ParseSeq(payload []byte) (uint64, bool) { return s.payload.seq(payload) }

// ParseSentAt returns the send time written in a payload built by
// AppendPayload. It allocates; use it on rare paths only.
func (s *Session) ParseSentAt(payload []byte) (time.Time, bool) { return s.payload.sentAt(payload) }

// Commands returns the stream of commands received on any connection of the
// device. When the behaviour falls commandDepth behind, further commands are
// dropped. The channel is never closed.
func (s *Session) Commands() <-chan Command { return s.commands }

// Success records a successful event.
func (s *Session) Success(ev Event, d time.Duration, size int) { s.cfg.Recorder.Success(ev, d, size) }

// Failure records a failed event.
func (s *Session) Failure(ev Event, d time.Duration, msg string) { s.cfg.Recorder.Failure(ev, d, msg) }

// Publish sends payload to the device's events topic and waits until the
// broker has it (the PUBACK at QoS 1, the write at QoS 0), for at most
// Config.EchoTimeout. It records "MQTT publish" timed from at, the intended
// send time (zero = now), so a late schedule shows in the measurement.
// Publish copies payload and does not keep it.
//
// It returns ErrNotConnected (recording nothing) between connections,
// ctx.Err() (recording nothing) when ctx is done before the publish is
// handed to the client, and otherwise records and returns any failure. When
// ctx ends while the acknowledgement is awaited, the message may already be
// with the broker (and the echo app), so Publish goes on waiting for the
// acknowledgement, up to Config.LastMessageTimeout from then: it records the
// outcome as usual, or returns an error wrapping ctx.Err() (recording
// nothing) if none came.
func (s *Session) Publish(ctx context.Context, payload []byte, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.lean != nil {
		return s.lean.publishWait(ctx, payload, at)
	}
	c := s.conn.Load()
	if c == nil {
		return ErrNotConnected
	}
	if at.IsZero() {
		at = time.Now()
	}
	// Subtleness ahead: paho keeps the slice it publishes until the broker
	// acknowledged it, so the buffer is reused only after a completed publish
	// and replaced when we stop waiting early.
	buf := append(s.out[:0], payload...)
	s.out = buf
	tok := c.client.Publish(s.events, s.cfg.QoS, false, buf)
	s.ackTimer.Reset(s.cfg.EchoTimeout)
	var err error
	select {
	case <-tok.Done():
		err = tok.Error()
	case <-c.down:
		err = errPublishLost
	case <-s.ackTimer.C:
		err = errPublishTimeout
	case <-ctx.Done():
		err = s.ackAtStop(ctx, tok, c)
	}
	s.ackTimer.Stop()
	if err != nil {
		s.out = nil
		if errors.Is(err, errNoAckAtStop) {
			return err
		}
		if c.closedByDevice() { // the engine replaced the connection on purpose
			return ErrNotConnected
		}
		s.Failure(EventPublish, time.Since(at), err.Error())
		return err
	}
	s.Success(EventPublish, time.Since(at), len(payload))
	return nil
}

// ackAtStop is Publish's wait for the acknowledgement after ctx ended, up
// to Config.LastMessageTimeout; it notes when the stop began (stoppedAt),
// so that the echo behaviour's wait for the echo ends by the same deadline.
func (s *Session) ackAtStop(ctx context.Context, tok mqtt.Token, c *conn) error {
	s.stoppedAt = time.Now()
	s.ackTimer.Reset(s.cfg.LastMessageTimeout)
	select {
	case <-tok.Done():
		return tok.Error()
	case <-c.down:
		return errPublishLost
	case <-s.ackTimer.C:
		return fmt.Errorf("%w: %w", errNoAckAtStop, ctx.Err())
	}
}

// onMessage is the paho handler for every message on the command topic. It
// runs on a paho goroutine and never blocks.
func (s *Session) onMessage(_ mqtt.Client, m mqtt.Message) {
	cmd := Command{Topic: m.Topic(), Payload: m.Payload(), At: time.Now()}
	select {
	case s.commands <- cmd:
	default: // the behaviour is not reading commands (telemetry) or is far behind
	}
	select {
	case s.seen <- struct{}{}:
	default:
	}
}
