// Package targettest starts ltk's embedded target on loopback for tests, the
// way net/http/httptest starts HTTP servers.
package targettest

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ltk-dev/ltk/internal/target"
)

// Target is a running embedded target. Its methods are safe for concurrent use.
type Target struct {
	cfg  target.Config
	addr string // the MQTT address, kept across Restart

	mu     sync.Mutex // Guards the fields below.
	t      *target.Target
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returns
}

// Start starts a target on 127.0.0.1:0 with the echo app enabled and auth
// "none" unless opts change cfg; t.Cleanup stops it. Fails the test on error.
func Start(tb testing.TB, opts ...func(*target.Config)) *Target {
	tb.Helper()
	cfg := target.Config{Addr: "127.0.0.1:0", Auth: target.AuthNone}
	for _, o := range opts {
		o(&cfg)
	}
	tt := &Target{cfg: cfg}
	if err := tt.start(cfg); err != nil {
		tb.Fatalf("targettest: start target: %v", err)
	}
	tt.addr = tt.t.Addr()
	tb.Cleanup(tt.Stop)
	return tt
}

func (tt *Target) start(cfg target.Config) error {
	reg := prometheus.NewRegistry()
	t, err := target.New(cfg, reg, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = t.Run(ctx)
	}()
	tt.mu.Lock()
	tt.t, tt.reg, tt.cancel, tt.done = t, reg, cancel, done
	tt.mu.Unlock()
	return nil
}

// Addr returns "127.0.0.1:port" of the MQTT TCP listener.
func (tt *Target) Addr() string { return tt.addr }

// BrokerURL returns "tcp://127.0.0.1:port".
func (tt *Target) BrokerURL() string { return "tcp://" + tt.addr }

// Target returns the running target (a new one after Restart).
func (tt *Target) Target() *target.Target {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.t
}

// Registry returns the metrics registry of the running target (a fresh one
// after Restart), for prometheus/testutil.
func (tt *Target) Registry() *prometheus.Registry {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.reg
}

// Metric reads the target's gauge or counter name (one without labels) as
// an integer; 0 when it has no sample yet.
func (tt *Target) Metric(t testing.TB, name string) int {
	t.Helper()
	mfs, err := tt.Registry().Gather()
	if err != nil {
		t.Fatalf("gather the target's metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			return int(m.GetGauge().GetValue() + m.GetCounter().GetValue())
		}
	}
	return 0
}

// Stop stops the broker now, closing every client connection, and returns
// when it has stopped. Calling it again (or after the test) is harmless.
func (tt *Target) Stop() {
	tt.mu.Lock()
	cancel, done := tt.cancel, tt.done
	tt.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// Restart stops the broker if it runs and starts a new one on the same
// address, for reconnect tests. Fails the test if the address stays busy.
func (tt *Target) Restart(tb testing.TB) {
	tb.Helper()
	tt.Stop()
	cfg := tt.cfg
	cfg.Addr = tt.addr
	const attempts = 50 // × 20 ms: a port in TIME_WAIT is reusable at once on Linux; this covers slow closes
	var err error
	for range attempts {
		if err = tt.start(cfg); !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
		timer := time.NewTimer(20 * time.Millisecond)
		<-timer.C
	}
	if err != nil {
		tb.Fatalf("targettest: restart target on %s: %v", tt.addr, err)
	}
}
