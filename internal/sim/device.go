package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
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
// cert. The copy is made once per device, so a fleet shares everything of
// shared but the certificate, its session cache included.
func withCertificate(shared *tls.Config, cert *tls.Certificate) *tls.Config {
	var c *tls.Config
	if shared == nil {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		c = shared.Clone()
	}
	c.Certificates = []tls.Certificate{*cert}
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
