package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ltk-dev/ltk/internal/runset"
)

// ErrRunning is returned by Device.Run when the device is already running.
var ErrRunning = errors.New("device is already running: run each Device once at a time")

// Device is one simulated device. Its configuration is fixed by New; Run may
// be called again after it returned, never concurrently.
type Device struct {
	cfg     Config
	addr    string // the broker's host:port
	tls     bool   // the broker URL asks for TLS
	ws      bool   // the broker URL asks for a WebSocket
	wsPath  string // the WebSocket's path
	running atomic.Bool
	// closedAt is when the last run ended (Unix nanoseconds; 0 = none):
	// the next run connects refreshGrace after it, as a refresh does.
	closedAt atomic.Int64
}

// New checks cfg and its Program, applies its defaults (building the
// Program from Behavior when none is given) and returns the device. It does
// not connect.
func New(cfg Config) (*Device, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Program == nil {
		b := cfg.Behavior
		if b == nil {
			b = EchoProgram
		}
		cfg.Program = b(&cfg)
	}
	if err := cfg.Program.Check(); err != nil {
		return nil, fmt.Errorf("device %s: %w", cfg.DeviceID, err)
	}
	if err := CheckClientFeatures(cfg.Client, cfg.version(), max(cfg.QoS, cfg.Program.maxQoS())); err != nil {
		return nil, fmt.Errorf("device %s: %w", cfg.DeviceID, err)
	}
	if err := checkClientTransport(cfg.Client, cfg.Broker); err != nil {
		return nil, fmt.Errorf("device %s: %w", cfg.DeviceID, err)
	}
	u, _ := url.Parse(cfg.Broker) // Validate parsed it
	d := &Device{
		cfg:    cfg,
		addr:   u.Host,
		tls:    runset.BrokerSchemes[strings.ToLower(u.Scheme)],
		ws:     runset.WebSocketSchemes[strings.ToLower(u.Scheme)],
		wsPath: u.Path,
	}
	if d.tls && cfg.Certificate != nil {
		d.cfg.TLS = withCertificate(cfg.TLS, cfg.Certificate)
	}
	return d, nil
}

// withCertificate returns a copy of shared (nil: the defaults) that presents
// cert, made once per device: a fleet shares everything of shared but the
// certificate and the TLS session cache. A resumed session carries the
// client certificate of the handshake that made it, so a cache shared by
// devices would let one device resume as another (the broker sees the
// other's certificate); each device resumes only its own sessions.
func withCertificate(shared *tls.Config, cert *tls.Certificate) *tls.Config {
	var c *tls.Config
	if shared == nil {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		c = shared.Clone()
	}
	c.Certificates = []tls.Certificate{*cert}
	c.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	return c
}

// ID returns the device id.
func (d *Device) ID() string { return d.cfg.DeviceID }

// Run connects (retrying with backoff until it succeeds), runs the
// device's Program, keeps the device connected until ctx ends, then lets the
// program finish gracefully (it waits for the replies and acknowledgements
// in flight, up to Config.LastMessageTimeout), disconnects and returns nil.
// It returns only after everything it started has exited.
//
// A lost connection is recorded as "MQTT disconnect" and followed by
// reconnects with jittered exponential backoff, each recorded as "MQTT
// connect", then a new subscribe. When the credentials expire, the device
// reconnects shortly before, right after a message arrives if one does
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
// everything the device started has exited. A running device holds no
// goroutine of its own (on paho, the client's goroutines), which is how a
// swarm of tens of thousands of devices stays small. It returns ErrRunning
// (and never calls done) when the device is already running.
func (d *Device) Start(ctx context.Context, done func(error)) error {
	if !d.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	startMachine(ctx, d, done)
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

// machine is one run of a Device: an event-driven state machine that runs
// the device's Program on either MQTT client. Its events are the
// connection's (connected, subscribed, message, acked, closed: from
// mqttlean's loops on the lean client, from paho's callbacks on paho), its
// one timer on the Engine's wheel, and the end of its context. A running
// device holds no goroutine of its own. Every entry point locks mu and
// leaves through unlock.
//
// The connection rules (machine_conn.go): connect, reconnect after a loss
// with jittered backoff, reconnect ahead of credential expiry (on the
// next message in the refresh window, or at its end) refreshGrace after
// the old connection closed, and stop gracefully. The program's rules
// (machine_program.go): subscribe, OnConnect publishes, Periodic schedules,
// expectations with timeouts and a last-message wait at the stop,
// reactions.
type machine struct {
	dev  *Device
	cfg  *Config // dev.cfg; its Engine runs the machine
	prog *Program
	done func(error) // called once, by unlock, after complete

	mu      sync.Mutex  // Guards the fields below.
	wt      wheelTimer  // the device's one timer, on eng.wheel; runs wake
	armed   time.Time   // when wt fires; zero = not scheduled
	unwatch func() bool // stops the watch on ctx

	conn    link // the connection, from its dial until Closed
	link    linkPhase
	intent  closeIntent // why we closed conn, if we did
	since   time.Time   // start of the connect or subscribe in progress
	subBy   time.Time   // subscribe deadline
	subLeft int         // SUBACKs still awaited
	attempt int         // failed connects since the last success
	retryAt time.Time   // next connect attempt; zero = none scheduled
	minted  time.Time   // when the connection's password was obtained
	expires time.Time   // when it stops being valid; zero = never
	refresh refreshPhase
	openAt  time.Time // refreshWaiting: the window opens
	hard    time.Time // refreshOpen: reconnect at the latest then

	stopping  bool // ctx ended: no more reconnects or scheduled publishes
	started   bool // the program started (the first subscribe completed)
	progDone  bool // the program has finished (after the stop's last wait)
	completed bool // done is due
	notified  bool // done was called
	lastWait  bool // stopping: waiting for replies and PUBACKs, or the connect, in flight
	lastBy    time.Time

	run programRun // the program's per-device state
}

// linkPhase is where the device's connection is.
type linkPhase uint8

const (
	linkNone        linkPhase = iota // no connection
	linkConnecting                   // dialed, awaiting CONNACK
	linkSubscribing                  // SUBSCRIBEs sent, awaiting SUBACKs
	linkUp                           // subscribed: the program may publish
)

// closeIntent says why the device closed its connection itself.
type closeIntent uint8

const (
	intentNone    closeIntent = iota // we did not: a close is a loss
	intentRefresh                    // fresh credentials: reconnect after refreshGrace
	intentRetry                      // the subscribe failed: reconnect after the backoff
	intentAbort                      // stopping: nothing follows
)

// refreshPhase tracks a proactive reconnect ahead of credential expiry.
type refreshPhase uint8

const (
	refreshNone    refreshPhase = iota // no expiry, or not connected
	refreshWaiting                     // the window opens at openAt
	refreshOpen                        // reconnect on the next message, or at hard
)

// startMachine starts a run of d; done is called when it stopped.
func startMachine(ctx context.Context, d *Device, done func(error)) {
	m := &machine{dev: d, cfg: &d.cfg, prog: d.cfg.Program, done: done}
	m.initRun(time.Now())
	m.wt.fire = m.wake
	m.mu.Lock()
	defer m.unlock()
	m.retryAt = d.firstConnectAt(time.Now()) // the first connect, from the timer
	m.arm(m.retryAt)
	m.unwatch = context.AfterFunc(ctx, m.stop)
}

// unlock releases mu and then, once, tells the caller of Start that the run
// is over.
func (m *machine) unlock() {
	notify := m.completed && !m.notified
	if notify {
		m.notified = true
	}
	m.mu.Unlock()
	if notify {
		m.dev.running.Store(false)
		m.done(nil)
	}
}

// wake runs when the timer fires: whatever is due.
func (m *machine) wake() {
	m.mu.Lock()
	defer m.unlock()
	if m.completed {
		return
	}
	now := time.Now()
	m.armed = time.Time{}
	if !m.retryAt.IsZero() && !now.Before(m.retryAt) {
		m.retryAt = time.Time{}
		m.connect(now)
	}
	if m.stopping && m.lastWait && !m.started && m.intent == intentNone && m.conn != nil && !now.Before(m.lastBy) {
		m.connectInFlight(now)
	}
	if m.link == linkSubscribing && m.intent == intentNone && !now.Before(m.subBy) {
		m.cfg.Recorder.Failure(EventSubscribe, NoDuration, m.cfg.DeviceID, faultMsg(errSubscribeTimeout.Error()))
		m.closeConn(intentRetry)
	}
	if m.link == linkUp && m.intent == intentNone {
		if m.refresh == refreshWaiting && !now.Before(m.openAt) {
			m.refresh = refreshOpen // reconnect on the next message, or at hard
		}
		if m.refresh == refreshOpen && !now.Before(m.hard) {
			m.refreshNow()
		}
	}
	m.programWake(now)
	m.arm(now)
}

// arm sets the timer to the earliest deadline of the device, on the wheel's
// 1 ms grid.
func (m *machine) arm(now time.Time) {
	if m.completed {
		return
	}
	var at time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	earliest(m.retryAt)
	if m.link == linkSubscribing {
		earliest(m.subBy)
	}
	if m.lastWait && !m.started {
		earliest(m.lastBy) // a connect in flight at the stop
	}
	if m.link == linkUp && m.intent == intentNone {
		switch m.refresh {
		case refreshWaiting:
			earliest(m.openAt)
		case refreshOpen:
			earliest(m.hard)
		}
	}
	m.programDeadlines(earliest)
	w := m.cfg.Engine.wheel
	switch {
	case at.IsZero():
		if !m.armed.IsZero() {
			w.stop(&m.wt)
			m.armed = time.Time{}
		}
	default:
		at = w.ceil(at)
		if !at.Equal(m.armed) {
			w.reset(&m.wt, at)
			m.armed = at
		}
	}
}

// stop runs when ctx ends: no more reconnects; the program winds down (it
// waits for the replies and PUBACKs in flight) and then the device
// disconnects.
func (m *machine) stop() {
	m.mu.Lock()
	defer m.unlock()
	if m.stopping || m.completed {
		return
	}
	m.stopping = true
	now := time.Now()
	m.retryAt, m.refresh = time.Time{}, refreshNone
	if m.conn != nil && m.intent == intentNone && (m.link == linkConnecting || m.link == linkSubscribing) {
		// A connect (or its subscribe) in flight: the broker has it, so
		// its outcome is awaited and recorded like a publish's, up to
		// LastMessageTimeout (connectStopped); the program winds down
		// after it.
		m.lastWait, m.lastBy = true, now.Add(m.cfg.LastMessageTimeout)
		m.arm(now)
		return
	}
	m.programStop(now)
	m.arm(now)
}

// connectStopped ends a connect that was in flight at the stop once it
// completed (onConnected, onSubscribed): the program, which never started,
// is done.
func (m *machine) connectStopped(now time.Time) {
	m.lastWait = false
	m.programStop(now)
	m.arm(now)
}

// connectInFlight fails the connect (or subscribe) that was still in flight
// when the stop's wait ended, and closes it.
func (m *machine) connectInFlight(now time.Time) {
	ev := EventConnect
	if m.link == linkSubscribing {
		ev = EventSubscribe
	}
	m.cfg.Recorder.Failure(ev, NoDuration, m.cfg.DeviceID, faultMsg(errInFlightAtStop.Error()))
	m.closeConn(intentAbort) // onClosed settles the wait
}

// finishIfDone ends the run once the program is done: it disconnects, and
// completes when no connection is left.
func (m *machine) finishIfDone() {
	if !m.progDone || m.completed {
		return
	}
	m.retryAt = time.Time{}
	if m.conn != nil {
		m.closeConn(intentAbort) // Closed completes
		return
	}
	m.complete()
}

// complete marks the run as over: unlock calls done.
func (m *machine) complete() {
	m.completed = true
	m.dev.closedAt.Store(time.Now().UnixNano())
	m.cfg.Engine.wheel.stop(&m.wt)
	m.armed = time.Time{}
	m.unwatch()
}
