package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ltk-dev/ltk/internal/pace"
)

// maxRefreshMargin caps how long before its credentials expire a device
// starts looking for a quiet moment to reconnect.
const maxRefreshMargin = time.Minute

// ErrRunning is returned by Device.Run when the device is already running.
var ErrRunning = errors.New("device is already running: run each Device once at a time")

// Device is one simulated device. Its configuration is fixed by New; Run may
// be called again after it returned, never concurrently.
type Device struct {
	cfg     Config
	events  string // /devices/D/events
	filter  string // /devices/D/commands/#
	addr    string // the broker's host:port
	tls     bool   // the broker URL asks for TLS
	payload payload
	running atomic.Bool
	// closedAt is when the last run ended (Unix nanoseconds; 0 = none):
	// the next run connects refreshGrace after it, as a refresh does.
	closedAt atomic.Int64
}

// New checks cfg, applies its defaults and prepares the device's topics and
// payload prefix. It does not connect.
func New(cfg Config) (*Device, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.Broker) // Validate parsed it
	return &Device{
		cfg:     cfg,
		events:  "/devices/" + cfg.DeviceID + "/events",
		filter:  "/devices/" + cfg.DeviceID + "/commands/#",
		addr:    u.Host,
		tls:     brokerSchemes[u.Scheme],
		payload: newPayload(cfg.DeviceID, cfg.ClientID, cfg.PayloadSize),
	}, nil
}

// ID returns the device id.
func (d *Device) ID() string { return d.cfg.DeviceID }

// Run connects (retrying with backoff until it succeeds), starts the
// behaviour, keeps the device connected until ctx ends, then lets the
// behaviour finish gracefully (the echo behaviour waits for its last echo),
// disconnects and returns. It returns only after everything it started has
// exited: nil after ctx ended, or the behaviour's error.
//
// A lost connection is recorded as "MQTT disconnect" and followed by
// reconnects with jittered exponential backoff, each recorded as "MQTT
// connect", then a new subscribe. When the credentials expire, the device
// reconnects shortly before, right after a command arrives if one does
// (when no reply is likely in flight), without recording a failure.
func (d *Device) Run(ctx context.Context) error {
	done := make(chan error, 1)
	if err := d.Start(ctx, func(err error) { done <- err }); err != nil {
		return err
	}
	return <-done
}

// Start starts the device as Run does and returns at once; done receives
// what Run would have returned, exactly once, from another goroutine, after
// everything the device started has exited. On the lean client a device
// with a built-in behaviour then holds no goroutine while it runs, which is
// how a swarm of tens of thousands of devices stays small. It returns
// ErrRunning (and never calls done) when the device is already running.
func (d *Device) Start(ctx context.Context, done func(error)) error {
	if !d.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	if d.cfg.Client == ClientLean {
		startLean(ctx, d, done)
		return nil
	}
	go func() {
		err := d.runPaho(ctx)
		d.closedAt.Store(time.Now().UnixNano())
		d.running.Store(false)
		done(err)
	}()
	return nil
}

// firstConnectAt returns when a run starting at now may connect: at once,
// or refreshGrace after the previous run ended, so that a device stopped and
// started again does not meet its old session still being tidied up.
func (d *Device) firstConnectAt(now time.Time) time.Time {
	if c := d.closedAt.Load(); c != 0 {
		if at := time.Unix(0, c).Add(refreshGrace); at.After(now) {
			return at
		}
	}
	return now
}

// runPaho is Run on the paho client.
func (d *Device) runPaho(ctx context.Context) error {
	sv := supervisor{
		dev:     d,
		s:       newSession(d),
		backoff: pace.Backoff{Min: d.cfg.ReconnectMin, Max: d.cfg.ReconnectMax},
		rnd:     rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		log:     d.cfg.Logger.With("device", d.cfg.DeviceID),
	}
	return sv.run(ctx)
}

// refreshPhase tracks a proactive reconnect ahead of credential expiry.
type refreshPhase uint8

const (
	refreshNone    refreshPhase = iota // no expiry, or not connected
	refreshWaiting                     // timer set to the opening of the window
	refreshOpen                        // reconnect on the next command, or at the timer
)

// supervisor is the engine of one Device.Run: the connection's owner.
type supervisor struct {
	dev     *Device
	s       *Session
	backoff pace.Backoff
	rnd     *rand.Rand
	log     *slog.Logger

	cur     *conn // the live connection, nil between connections
	attempt int   // failed connects since the last success
	phase   refreshPhase
	hard    time.Time // refreshOpen: reconnect at the latest then
	timer   *time.Timer
}

// run is Device.Run's loop. One timer serves the reconnect backoff and the
// credential refresh; only this goroutine touches the connection.
func (sv *supervisor) run(ctx context.Context) error {
	now := time.Now()
	sv.timer = time.NewTimer(sv.dev.firstConnectAt(now).Sub(now)) // the first connect
	defer sv.timer.Stop()
	var (
		wg           sync.WaitGroup
		behaviorDone chan error // nil until the behaviour started
		done         = ctx.Done()
	)
	defer wg.Wait()
	for {
		if done == nil && behaviorDone == nil {
			return nil // stopped before the first connect
		}
		var down, seen <-chan struct{}
		if sv.cur != nil {
			down = sv.cur.down
			if sv.phase == refreshOpen {
				seen = sv.s.seen
			}
		}
		select {
		case err := <-behaviorDone:
			sv.drop()
			if err != nil && !(ctx.Err() != nil && errors.Is(err, ctx.Err())) {
				return fmt.Errorf("device %s behaviour: %w", sv.dev.cfg.DeviceID, err)
			}
			return nil
		case <-done:
			done = nil // no more reconnects or refreshes; the behaviour winds down
			sv.timer.Stop()
			sv.phase = refreshNone
		case <-down:
			err := sv.cur.err
			sv.log.Debug("connection lost", "err", err)
			sv.s.conn.Store(nil)
			sv.cur, sv.phase = nil, refreshNone
			sv.s.Failure(EventDisconnect, 0, err.Error())
			if done != nil {
				sv.retryLater()
			}
		case <-seen:
			sv.refresh()
		case <-sv.timer.C:
			switch {
			case sv.cur == nil:
				sv.connect(ctx)
				if sv.cur != nil && behaviorDone == nil {
					behaviorDone = make(chan error, 1)
					wg.Go(func() { behaviorDone <- sv.dev.cfg.Behavior.Run(ctx, sv.s) })
				}
			case sv.phase == refreshWaiting:
				sv.phase = refreshOpen
				select { // wait for a command that arrives from now on
				case <-sv.s.seen:
				default:
				}
				sv.timer.Reset(time.Until(sv.hard))
			case sv.phase == refreshOpen:
				sv.refresh()
			}
		}
	}
}

// connect makes one connection attempt and schedules what follows: the
// credential refresh on success, the next attempt on failure.
func (sv *supervisor) connect(ctx context.Context) {
	c, err := sv.s.connect(ctx)
	if err != nil {
		if ctx.Err() == nil {
			sv.log.Debug("connect failed", "err", err, "attempt", sv.attempt+1)
			sv.retryLater()
		}
		return
	}
	sv.cur, sv.attempt = c, 0
	sv.s.conn.Store(c)
	sv.armRefresh()
}

// retryLater schedules the next connect attempt after the backoff.
func (sv *supervisor) retryLater() {
	sv.timer.Reset(sv.backoff.Next(sv.attempt, sv.rnd.Float64()))
	sv.attempt++
}

// armRefresh schedules the proactive reconnect for the live connection's
// credentials: a window opens margin before expiry (margin = half the
// lifetime, at most maxRefreshMargin) and closes at margin/4 before it.
func (sv *supervisor) armRefresh() {
	sv.phase = refreshNone
	c := sv.cur
	if c.expires.IsZero() {
		return
	}
	life := c.expires.Sub(c.minted)
	if life <= 0 {
		return // already expired: the broker will say so
	}
	margin := min(life/2, maxRefreshMargin)
	sv.phase = refreshWaiting
	sv.hard = c.expires.Add(-margin / 4)
	sv.timer.Reset(time.Until(c.expires.Add(-margin)))
}

// refresh replaces the live connection with a new one carrying fresh
// credentials. The old one is closed cleanly, so nothing is recorded for it;
// the timer connects again after refreshGrace (see there why).
func (sv *supervisor) refresh() {
	sv.log.Debug("reconnecting ahead of credential expiry")
	sv.drop()
	sv.timer.Reset(refreshGrace)
}

// drop closes the live connection, if any, cleanly.
func (sv *supervisor) drop() {
	if sv.cur == nil {
		return
	}
	sv.s.conn.Store(nil)
	sv.cur.close()
	sv.cur, sv.phase = nil, refreshNone
}
