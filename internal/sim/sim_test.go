package sim_test

import (
	"crypto"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// testConfig is a fast device against broker: 50 ms between publishes.
func testConfig(broker, id string, r *recorder) sim.Config {
	return sim.Config{
		Broker:             broker,
		DeviceID:           id,
		QoS:                1,
		WaitMin:            50 * time.Millisecond,
		WaitMax:            50 * time.Millisecond,
		EchoTimeout:        2 * time.Second,
		LastMessageTimeout: time.Second,
		ConnectTimeout:     2 * time.Second,
		ReconnectMin:       20 * time.Millisecond,
		ReconnectMax:       100 * time.Millisecond,
		Recorder:           r,
	}
}

func newDevice(t *testing.T, cfg sim.Config) *sim.Device {
	t.Helper()
	d, err := sim.New(cfg)
	require.NoError(t, err)
	return d
}

func dropAll(c *target.Config) { c.Echo.DropRate = 1 }

func TestEchoRoundTrip(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	r := newRecorder()
	stop := run(t, newDevice(t, testConfig(tt.BrokerURL(), "LTK00001", r)))

	echoes := r.waitFor(t, sim.EventEchoReceive, true, 3)
	require.NoError(t, stop())

	for _, e := range echoes {
		require.Positive(t, e.d)
		require.Less(t, e.d, time.Second, "loopback round trip")
		require.Greater(t, e.size, 50)
	}
	require.Equal(t, 1, r.count(sim.EventConnect, true))
	require.Equal(t, 1, r.count(sim.EventSubscribe, true))
	pubs := r.matching(sim.EventPublish, true)
	require.GreaterOrEqual(t, len(pubs), 3)
	require.Positive(t, pubs[0].d)
	require.Equal(t, echoes[0].size, pubs[0].size, "the echo is the payload")
	require.Empty(t, r.failures())
	require.Zero(t, r.count(sim.EventEchoLate, true))
}

func TestEchoTimeoutThenNextPublish(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, dropAll)
	r := newRecorder()
	cfg := testConfig(tt.BrokerURL(), "LTK00002", r)
	cfg.EchoTimeout = 200 * time.Millisecond
	stop := run(t, newDevice(t, cfg))

	timeouts := r.waitFor(t, sim.EventEchoTimeout, false, 1)
	require.GreaterOrEqual(t, timeouts[0].d, 200*time.Millisecond)
	require.Equal(t, "no echo within the echo timeout", timeouts[0].msg)
	r.waitFor(t, sim.EventPublish, true, 2) // it moved on
	require.NoError(t, stop())

	// While an echo is awaited nothing is published: one publish per timeout,
	// plus at most the one in flight at the stop.
	pubs, tos := r.count(sim.EventPublish, true), r.count(sim.EventEchoTimeout, false)
	require.LessOrEqual(t, pubs, tos+1)
	require.Zero(t, r.count(sim.EventEchoReceive, true))
}

func TestLastMessageTimeout(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, dropAll)
	r := newRecorder()
	cfg := testConfig(tt.BrokerURL(), "LTK00003", r)
	cfg.EchoTimeout = time.Minute
	cfg.LastMessageTimeout = 100 * time.Millisecond
	stop := run(t, newDevice(t, cfg))

	r.waitFor(t, sim.EventPublish, true, 1)
	begin := time.Now()
	require.NoError(t, stop())
	require.GreaterOrEqual(t, time.Since(begin), 100*time.Millisecond, "the device waited for its last echo")

	last := r.matching(sim.EventLastMessageTimeout, false)
	require.Len(t, last, 1)
	require.Equal(t, 100*time.Millisecond, last[0].d)
	require.Zero(t, r.count(sim.EventEchoTimeout, false))
}

func TestLastMessageArrives(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.Echo.Delay = 150 * time.Millisecond })
	r := newRecorder()
	cfg := testConfig(tt.BrokerURL(), "LTK00004", r)
	cfg.LastMessageTimeout = 5 * time.Second
	stop := run(t, newDevice(t, cfg))

	r.waitFor(t, sim.EventPublish, true, 1)
	require.NoError(t, stop()) // stops while the first echo is delayed
	echoes := r.matching(sim.EventEchoReceive, true)
	require.Len(t, echoes, 1, "the last echo is received after the stop")
	require.GreaterOrEqual(t, echoes[0].d, 150*time.Millisecond)
	require.Empty(t, r.failures())
}

func TestTelemetry(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t) // it echoes, and telemetry must ignore the echoes
	r := newRecorder()
	cfg := testConfig(tt.BrokerURL(), "LTK00005", r)
	cfg.Behavior = sim.Telemetry
	cfg.EchoTimeout = 100 * time.Millisecond
	stop := run(t, newDevice(t, cfg))

	r.waitFor(t, sim.EventPublish, true, 5)
	require.NoError(t, stop())
	for _, rec := range r.all() {
		require.Contains(t, []sim.Event{sim.EventConnect, sim.EventSubscribe, sim.EventPublish}, rec.ev, "recorded %v", rec)
		require.True(t, rec.ok, "recorded %v", rec)
	}
}

func TestPayloadSizeOnTheWire(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	r := newRecorder()
	cfg := testConfig(tt.BrokerURL(), "LTK00006", r)
	cfg.PayloadSize = 1500
	stop := run(t, newDevice(t, cfg))

	echoes := r.waitFor(t, sim.EventEchoReceive, true, 1)
	require.NoError(t, stop())
	require.Equal(t, 1500, echoes[0].size)
	require.Equal(t, 1500, r.matching(sim.EventPublish, true)[0].size)
}

// refuseAll is a key store that knows no device, so a JWT target refuses all.
type refuseAll struct{}

func (refuseAll) PublicKey(string) (crypto.PublicKey, bool) { return nil, false }

func TestConnectRefusedByBroker(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.Auth, c.Keys = target.AuthJWT, refuseAll{} })
	r := newRecorder()
	cfg := testConfig(tt.BrokerURL(), "LTK00007", r)
	cfg.Credentials = sim.CredentialsFunc(func(time.Time) (string, time.Time, error) { return "not-a-jwt", time.Time{}, nil })
	stop := run(t, newDevice(t, cfg))

	fails := r.waitFor(t, sim.EventConnect, false, 2) // refused, then refused again after the backoff
	require.NoError(t, stop())
	require.Contains(t, []string{"not Authorized", "bad user name or password"}, fails[0].msg)
	require.Zero(t, r.count(sim.EventConnect, true))
	require.Zero(t, r.count(sim.EventPublish, true), "the behaviour never started")
}

// hangUp accepts TCP connections and closes them at once, counting them.
func hangUp(t *testing.T) (addr string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted = new(atomic.Int64)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	})
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	return ln.Addr().String(), accepted
}

func TestConnectFailsAndRetries(t *testing.T) {
	t.Parallel()
	addr, accepted := hangUp(t)
	r := newRecorder()
	stop := run(t, newDevice(t, testConfig("tcp://"+addr, "LTK00008", r)))

	fails := r.waitFor(t, sim.EventConnect, false, 3)
	require.NoError(t, stop())
	require.Contains(t, fails[0].msg, "network Error")
	require.GreaterOrEqual(t, accepted.Load(), int64(3))
	require.Zero(t, r.count(sim.EventConnect, true))
}

func TestCredentialsError(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	r := newRecorder()
	cfg := testConfig(tt.BrokerURL(), "LTK00009", r)
	var calls atomic.Int64
	cfg.Credentials = sim.CredentialsFunc(func(time.Time) (string, time.Time, error) {
		if calls.Add(1) == 1 {
			return "", time.Time{}, errors.New("key file unreadable")
		}
		return "", time.Time{}, nil
	})
	stop := run(t, newDevice(t, cfg))

	r.waitFor(t, sim.EventEchoReceive, true, 1) // the retry worked
	require.NoError(t, stop())
	fails := r.matching(sim.EventConnect, false)
	require.Len(t, fails, 1)
	require.Equal(t, "device LTK00009 credentials: key file unreadable", fails[0].msg)
}

func TestReconnectAfterBrokerRestart(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	r := newRecorder()
	stop := run(t, newDevice(t, testConfig(tt.BrokerURL(), "LTK00010", r)))

	r.waitFor(t, sim.EventEchoReceive, true, 1)
	tt.Restart(t)
	lost := r.waitFor(t, sim.EventDisconnect, false, 1)
	require.NotEmpty(t, lost[0].msg)
	r.waitFor(t, sim.EventConnect, true, 2)
	r.waitFor(t, sim.EventSubscribe, true, 2)
	before := r.count(sim.EventEchoReceive, true)
	r.waitFor(t, sim.EventEchoReceive, true, before+2) // echoes resume
	require.NoError(t, stop())
}

func TestReconnectBeforeCredentialsExpire(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	r := newRecorder()
	cfg := testConfig(tt.BrokerURL(), "LTK00011", r)
	var calls atomic.Int64
	cfg.Credentials = sim.CredentialsFunc(func(now time.Time) (string, time.Time, error) {
		calls.Add(1)
		return "jwt", now.Add(time.Second), nil
	})
	begin := time.Now()
	stop := run(t, newDevice(t, cfg))

	r.waitFor(t, sim.EventConnect, true, 2)
	require.Less(t, time.Since(begin), time.Second, "reconnected before the first password expired")
	r.waitFor(t, sim.EventSubscribe, true, 2)
	before := r.count(sim.EventEchoReceive, true)
	r.waitFor(t, sim.EventEchoReceive, true, before+1)
	require.NoError(t, stop())
	require.GreaterOrEqual(t, calls.Load(), int64(2))
	require.Empty(t, r.failures(), "a planned reconnect records no failure")
}

func TestRunConcurrentlyRefused(t *testing.T) {
	t.Parallel()
	addr, _ := hangUp(t)
	r := newRecorder()
	d := newDevice(t, testConfig("tcp://"+addr, "LTK00012", r))
	stop := run(t, d)
	r.waitFor(t, sim.EventConnect, false, 1)
	require.ErrorIs(t, d.Run(t.Context()), sim.ErrRunning)
	require.NoError(t, stop())
}

func TestStopDuringHandshake(t *testing.T) {
	t.Parallel()
	// A listener that accepts and never answers: the MQTT handshake hangs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan net.Conn, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		select {
		case c := <-accepted:
			_ = c.Close()
		default:
		}
	})
	r := newRecorder()
	cfg := testConfig("tcp://"+ln.Addr().String(), "LTK00013", r)
	cfg.ConnectTimeout = time.Minute
	stop := run(t, newDevice(t, cfg))

	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	select {
	case c := <-accepted: // the device is in its handshake
		accepted <- c // for the cleanup
	case <-timer.C:
		t.Fatal("the device never dialed")
	}
	begin := time.Now()
	require.NoError(t, stop())
	require.Less(t, time.Since(begin), 5*time.Second, "stop aborts a connect in progress")
	require.Empty(t, r.all(), "an aborted connect is not a failure")
}
