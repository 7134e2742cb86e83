package sim_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/mqttlean"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
	"github.com/ltk-dev/ltk/internal/tcptest"
)

// refuseAll is a key store that knows no device, so a JWT target refuses all.
type refuseAll struct{}

func (refuseAll) PublicKey(string) (crypto.PublicKey, bool) { return nil, false }

func TestConnectRefusedByBroker(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t, func(c *target.Config) { c.Auth, c.Keys = target.AuthJWT, refuseAll{} })
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00007", r)
		cfg.Credentials = sim.CredentialsFunc(func(time.Time) (string, time.Time, error) { return "not-a-jwt", time.Time{}, nil })
		stop := run(t, newDevice(t, cfg))

		fails := r.waitFor(t, sim.EventConnect, false, 2) // refused, then refused again after the backoff
		require.NoError(t, stop())
		// The target refuses a bad JWT with CONNACK 5 (not authorized);
		// the failure's row names the code, its example the device.
		require.Equal(t, "connection refused: not authorized (CONNACK 0x05)", fails[0].msg)
		require.Equal(t, "LTK00007", fails[0].device)
		require.Zero(t, r.count(sim.EventConnect, true))
		require.Zero(t, r.count(sim.EventPublish, true), "the behaviour never started")
	})
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
	forEachClient(t, func(t *testing.T, client string) {
		addr, accepted := hangUp(t)
		r := newRecorder()
		stop := run(t, newDevice(t, testConfig(client, "tcp://"+addr, "LTK00008", r)))

		fails := r.waitFor(t, sim.EventConnect, false, 3)
		require.NoError(t, stop())
		if client == sim.ClientPaho {
			require.Contains(t, fails[0].msg, "network Error")
		} else {
			require.Contains(t, []string{mqttlean.ErrBrokerClosedEarly.Error(), "read: connection reset by peer"}, fails[0].msg)
		}
		require.GreaterOrEqual(t, accepted.Load(), int64(3))
		require.Zero(t, r.count(sim.EventConnect, true))
	})
}

func TestCredentialsError(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00009", r)
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
		require.Equal(t, "credentials: key file unreadable", fails[0].msg, "the device is the row's example, not its message")
		require.Equal(t, "LTK00009", fails[0].device)
	})
}

func TestReconnectAfterBrokerRestart(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		r := newRecorder()
		stop := run(t, newDevice(t, testConfig(client, tt.BrokerURL(), "LTK00010", r)))

		r.waitFor(t, sim.EventEchoReceive, true, 1)
		tt.Restart(t)
		lost := r.waitFor(t, sim.EventDisconnect, false, 1)
		require.NotEmpty(t, lost[0].msg)
		r.waitFor(t, sim.EventConnect, true, 2)
		r.waitFor(t, sim.EventSubscribe, true, 2)
		before := r.count(sim.EventEchoReceive, true)
		r.waitFor(t, sim.EventEchoReceive, true, before+2) // echoes resume
		require.NoError(t, stop())
	})
}

func TestReconnectBeforeCredentialsExpire(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00011", r)
		var calls atomic.Int64
		// Short, so the test is quick; long enough that a loaded machine
		// still fits the refresh window (the last quarter of the margin).
		const lifetime = 3 * time.Second
		cfg.Credentials = sim.CredentialsFunc(func(now time.Time) (string, time.Time, error) {
			calls.Add(1)
			return "jwt", now.Add(lifetime), nil
		})
		begin := time.Now()
		stop := run(t, newDevice(t, cfg))

		r.waitFor(t, sim.EventConnect, true, 2)
		require.Less(t, time.Since(begin), lifetime, "reconnected before the first password expired")
		// Twice: a broker that is still tidying up the old session when the
		// new one subscribes can drop the new subscription (the embedded
		// target's broker did, before the reconnect waited for it), and the
		// lost echoes then show as failures.
		r.waitFor(t, sim.EventConnect, true, 3)
		r.waitFor(t, sim.EventSubscribe, true, 3)
		before := r.count(sim.EventEchoReceive, true)
		r.waitFor(t, sim.EventEchoReceive, true, before+1)
		require.NoError(t, stop())
		require.GreaterOrEqual(t, calls.Load(), int64(3))
		require.Empty(t, r.failures(), "a planned reconnect records no failure")
	})
}

func TestRunConcurrentlyRefused(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		addr, _ := hangUp(t)
		r := newRecorder()
		d := newDevice(t, testConfig(client, "tcp://"+addr, "LTK00012", r))
		stop := run(t, d)
		r.waitFor(t, sim.EventConnect, false, 1)
		require.ErrorIs(t, d.Run(t.Context()), sim.ErrRunning)
		require.NoError(t, stop())
	})
}

func TestStopDuringHandshake(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
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
		cfg := testConfig(client, "tcp://"+ln.Addr().String(), "LTK00013", r)
		cfg.ConnectTimeout = time.Minute
		cfg.LastMessageTimeout = 300 * time.Millisecond
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
		require.GreaterOrEqual(t, time.Since(begin), cfg.LastMessageTimeout, "the stop waited for the CONNACK")
		require.Less(t, time.Since(begin), 5*time.Second, "for the last message timeout, not the connect timeout")
		all := r.all()
		require.Len(t, all, 1, "the connect in flight at the stop is counted")
		require.Equal(t, sim.EventConnect, all[0].ev)
		require.False(t, all[0].ok)
		require.Equal(t, "in flight at the stop: no answer within the last message timeout", all[0].msg)
	})
}

// TestStopCountsTheConnectInFlight: a connect whose CONNACK comes after the
// stop is counted as the success it is, and the device neither subscribes
// nor publishes after it.
func TestStopCountsTheConnectInFlight(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		got, release := make(chan struct{}, 1), make(chan struct{})
		releaseOnce := sync.OnceFunc(func() { close(release) })
		var after []string // the packets the device sent after the CONNACK
		ended := make(chan struct{})
		addr, _ := tcptest.Serve(t, func(nc net.Conn) {
			defer close(ended)
			if _, err := packets.ReadPacket(nc); err != nil {
				return
			}
			got <- struct{}{}
			<-release
			if writePacket(nc, packets.NewControlPacket(packets.Connack)) != nil {
				return
			}
			for {
				cp, err := packets.ReadPacket(nc)
				if err != nil {
					return
				}
				after = append(after, fmt.Sprintf("%T", cp))
			}
		})
		t.Cleanup(releaseOnce)
		r := newRecorder()
		cfg := testConfig(client, "tcp://"+addr, "LTK00014", r)
		cfg.LastMessageTimeout = time.Minute
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		d := newDevice(t, cfg)
		go func() { done <- d.Run(ctx) }()

		timer := time.NewTimer(waitLimit)
		defer timer.Stop()
		select {
		case <-got: // the broker has the CONNECT and holds its CONNACK
		case <-timer.C:
			t.Fatal("the device never connected")
		}
		cancel()
		releaseOnce()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-timer.C:
			t.Fatalf("the device did not stop within %v", waitLimit)
		}
		all := r.all()
		require.Len(t, all, 1, "the connect is counted, and nothing follows it: %v", all)
		require.Equal(t, sim.EventConnect, all[0].ev)
		require.True(t, all[0].ok)
		select {
		case <-ended: // the device closed the connection
		case <-timer.C:
			t.Fatal("the device kept its connection")
		}
		for _, p := range after {
			require.Equal(t, "*packets.DisconnectPacket", p, "no subscribe or publish after a stop")
		}
	})
}
