package sim_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
	"github.com/ltk-dev/ltk/internal/tcptest"
)

func TestEchoAtQoS0(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00020", r)
		cfg.QoS = 0
		stop := run(t, newDevice(t, cfg))
		r.waitFor(t, sim.EventEchoReceive, true, 3)
		require.NoError(t, stop())
		require.Empty(t, r.failures())
		require.GreaterOrEqual(t, r.count(sim.EventPublish, true), 3)
	})
}

func TestEchoOverTLS(t *testing.T) {
	t.Parallel()
	cert, key, pool := targettest.TLSFiles(t)
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t, func(c *target.Config) { c.TLSAddr, c.TLSCert, c.TLSKey = "127.0.0.1:0", cert, key })
		r := newRecorder()
		cfg := testConfig(client, "ssl://"+tt.Target().TLSAddr(), "LTK00021", r)
		cfg.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		stop := run(t, newDevice(t, cfg))
		r.waitFor(t, sim.EventEchoReceive, true, 2)
		require.NoError(t, stop())
		require.Empty(t, r.failures())
	})
}

// TestCustomBehavior runs a Behavior that is not built in: on the lean
// client it gets a goroutine and a blocking Publish, as on paho.
func TestCustomBehavior(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00022", r)
		got := make(chan string, 4)
		cfg.Behavior = sim.BehaviorFunc(func(ctx context.Context, s *sim.Session) error {
			for i := range 3 {
				if err := s.Publish(ctx, []byte("ping "+string(rune('a'+i))), time.Time{}); err != nil {
					return err
				}
				select {
				case cmd := <-s.Commands():
					got <- cmd.Topic + " " + string(cmd.Payload)
				case <-ctx.Done():
					return nil
				}
			}
			<-ctx.Done()
			return nil
		})
		stop := run(t, newDevice(t, cfg))
		timer := time.NewTimer(waitLimit)
		defer timer.Stop()
		for _, want := range []string{"ping a", "ping b", "ping c"} {
			select {
			case g := <-got:
				require.Equal(t, "/devices/LTK00022/commands "+want, g)
			case <-timer.C:
				t.Fatalf("no echo of %q within %v", want, waitLimit)
			}
		}
		require.NoError(t, stop())
		require.Equal(t, 3, r.count(sim.EventPublish, true))
		require.Empty(t, r.failures())
	})
}

func TestBehaviorError(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00023", r)
		cfg.Behavior = sim.BehaviorFunc(func(context.Context, *sim.Session) error { return errors.New("scenario broke") })
		d := newDevice(t, cfg)
		done := make(chan error, 1)
		require.NoError(t, d.Start(t.Context(), func(err error) { done <- err }))
		require.ErrorIs(t, d.Start(t.Context(), func(error) { t.Error("done of a refused Start") }), sim.ErrRunning)
		timer := time.NewTimer(waitLimit)
		defer timer.Stop()
		select {
		case err := <-done:
			require.EqualError(t, err, "device LTK00023 behaviour: scenario broke")
		case <-timer.C:
			t.Fatal("the device did not stop after its behaviour failed")
		}
		// It can run again once it stopped.
		require.EqualError(t, d.Run(t.Context()), "device LTK00023 behaviour: scenario broke")
	})
}

// fakeBroker accepts MQTT connections on 127.0.0.1:0 and answers CONNACK 0;
// then serve runs on the connection with the reader positioned after
// CONNECT. Cleanup closes everything and waits. It reports each client's
// source address on peers.
func fakeBroker(t *testing.T, serve func(net.Conn)) (addr string, peers <-chan string) {
	t.Helper()
	addr, peers = tcptest.Serve(t, func(nc net.Conn) {
		if _, err := packets.ReadPacket(nc); err != nil {
			return
		}
		if writePacket(nc, packets.NewControlPacket(packets.Connack)) != nil {
			return
		}
		serve(nc)
	})
	return "tcp://" + addr, peers
}

func writePacket(w io.Writer, cp packets.ControlPacket) error {
	var b bytes.Buffer
	if err := cp.Write(&b); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// subscribeThen answers the SUBSCRIBE with code, then reads and ignores
// everything (so publishes get no PUBACK).
func subscribeThen(code byte) func(net.Conn) {
	return func(nc net.Conn) {
		cp, err := packets.ReadPacket(nc)
		if err != nil {
			return
		}
		sub, ok := cp.(*packets.SubscribePacket)
		if !ok {
			return
		}
		ack := packets.NewControlPacket(packets.Suback).(*packets.SubackPacket)
		ack.MessageID, ack.ReturnCodes = sub.MessageID, []byte{code}
		if writePacket(nc, ack) != nil {
			return
		}
		_, _ = io.Copy(io.Discard, nc)
	}
}

func TestSubscribeRefused(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		addr, _ := fakeBroker(t, subscribeThen(0x80))
		r := newRecorder()
		stop := run(t, newDevice(t, testConfig(client, addr, "LTK00024", r)))
		fails := r.waitFor(t, sim.EventSubscribe, false, 2) // refused, reconnected, refused again
		require.NoError(t, stop())
		require.Equal(t, "subscription refused by the broker", fails[0].msg)
		require.GreaterOrEqual(t, r.count(sim.EventConnect, true), 2)
		require.Zero(t, r.count(sim.EventPublish, true), "the behaviour never started")
		require.Zero(t, r.count(sim.EventDisconnect, false), "closing after a refusal is no loss")
	})
}

func TestNoPuback(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		addr, peers := fakeBroker(t, subscribeThen(1))
		r := newRecorder()
		cfg := testConfig(client, addr, "LTK00025", r)
		cfg.EchoTimeout = 200 * time.Millisecond
		cfg.LocalAddr = netip.MustParseAddr("127.0.0.2")
		stop := run(t, newDevice(t, cfg))
		fails := r.waitFor(t, sim.EventPublish, false, 2) // one per timeout, then the next publish
		require.NoError(t, stop())
		require.Equal(t, "no acknowledgement from the broker within the echo timeout", fails[0].msg)
		require.GreaterOrEqual(t, fails[0].d, 200*time.Millisecond)
		require.Zero(t, r.count(sim.EventEchoTimeout, false), "a publish that failed awaits no echo")
		require.Equal(t, "127.0.0.2", <-peers, "dialed from the configured source address")
	})
}

// TestEchoLate: an echo that comes after its timeout is "echo late", timed
// by its age, after the "echo timeout" failure for it.
func TestEchoLate(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t, func(c *target.Config) { c.Echo.Delay = 300 * time.Millisecond })
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00026", r)
		cfg.EchoTimeout = 100 * time.Millisecond
		stop := run(t, newDevice(t, cfg))
		late := r.waitFor(t, sim.EventEchoLate, true, 1)
		require.NoError(t, stop())
		require.GreaterOrEqual(t, late[0].d, 300*time.Millisecond, "timed by its age")
		require.Greater(t, late[0].size, 50)
		require.NotEmpty(t, r.matching(sim.EventEchoTimeout, false))
		require.LessOrEqual(t, r.count(sim.EventEchoReceive, true), 1, "only the last message's, in the stop's last-message wait")
	})
}

// TestRefreshWaitsForTheBroker: a reconnect for fresh credentials comes a
// grace period after the old connection ended, so that the broker is done
// with the old session (mochi, the embedded target's broker, otherwise
// drops the new session's subscription now and then).
func TestRefreshWaitsForTheBroker(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		type span struct{ connected, closed time.Time }
		spans := make(chan span, 8)
		addr, _ := fakeBroker(t, func(nc net.Conn) {
			s := span{connected: time.Now()}
			subscribeThen(1)(nc) // returns when the client closes
			s.closed = time.Now()
			spans <- s
		})
		r := newRecorder()
		cfg := testConfig(client, addr, "LTK00027", r)
		cfg.EchoTimeout = time.Minute
		cfg.Credentials = sim.CredentialsFunc(func(now time.Time) (string, time.Time, error) {
			return "jwt", now.Add(time.Second), nil // refresh at the latest 0.875 s in
		})
		stop := run(t, newDevice(t, cfg))
		r.waitFor(t, sim.EventConnect, true, 2)
		timer := time.NewTimer(waitLimit)
		defer timer.Stop()
		var first span
		select {
		case first = <-spans:
		case <-timer.C:
			t.Fatal("the first connection did not end")
		}
		require.NoError(t, stop())
		second := <-spans // the stop ended it
		require.GreaterOrEqual(t, second.connected.Sub(first.closed), 200*time.Millisecond,
			"the new connection came %v after the old one ended", second.connected.Sub(first.closed))
	})
}

// TestRestartWaitsForTheBroker: a device run again right after it stopped
// connects a grace period after its previous connection ended.
func TestRestartWaitsForTheBroker(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		type span struct{ connected, closed time.Time }
		spans := make(chan span, 8)
		addr, _ := fakeBroker(t, func(nc net.Conn) {
			s := span{connected: time.Now()}
			subscribeThen(1)(nc)
			s.closed = time.Now()
			spans <- s
		})
		r := newRecorder()
		cfg := testConfig(client, addr, "LTK00028", r)
		cfg.QoS = 0 // the fake broker acknowledges nothing: no publish awaits a PUBACK at the stop
		d := newDevice(t, cfg)
		stop := run(t, d)
		r.waitFor(t, sim.EventSubscribe, true, 1)
		require.NoError(t, stop())
		first := <-spans
		stop = run(t, d)
		r.waitFor(t, sim.EventSubscribe, true, 2)
		require.NoError(t, stop())
		second := <-spans
		require.GreaterOrEqual(t, second.connected.Sub(first.closed), 200*time.Millisecond,
			"the second run connected %v after the first one's connection ended", second.connected.Sub(first.closed))
	})
}
