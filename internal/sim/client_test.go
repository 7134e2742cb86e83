package sim_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"strconv"
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

// Events of the test program, after the built-in ones.
const (
	evState = sim.Event(sim.NumEvents) + iota
	evPing
	evPong
	evPingMiss
	evReply
)

// pingProgram is a program that is not built in: a retained state message
// on connect, a "ping N" every 50 ms whose echo is awaited (not
// exclusively), and a delayed reply to every echoed ping on a second
// events topic, which the echo app echoes too and the reaction ignores.
func pingProgram() *sim.Program {
	dev := func(suffix string) sim.Template {
		return sim.TemplateFunc(func(dst []byte, v *sim.Vars) []byte {
			dst = append(dst, "/devices/"...)
			dst = append(dst, v.DeviceID...)
			return append(dst, suffix...)
		})
	}
	pingKey := func(b []byte) (uint64, bool) {
		n, err := strconv.ParseUint(string(bytes.TrimPrefix(b, []byte("ping "))), 10, 64)
		return n, bytes.HasPrefix(b, []byte("ping ")) && err == nil
	}
	return &sim.Program{
		Kind:      "pinger",
		Subscribe: []sim.Subscription{{Filter: dev("/commands/#"), QoS: 1}, {Filter: dev("/config"), QoS: 0}},
		OnConnect: []*sim.Publish{{
			Event:   evState,
			Message: sim.Message{Topic: dev("/state"), Payload: sim.Literal("online"), QoS: 1, Retain: true},
		}},
		Periodic: []*sim.Publish{{
			Event: evPing,
			Message: sim.Message{Topic: dev("/events"), QoS: 1, Payload: sim.TemplateFunc(func(dst []byte, v *sim.Vars) []byte {
				return strconv.AppendUint(append(dst, "ping "...), v.Seq, 10)
			})},
			Every: func(float64) time.Duration { return 50 * time.Millisecond },
			Expect: &sim.Expect{
				Filter:   dev("/commands/#"),
				SentKey:  func(v *sim.Vars) (uint64, bool) { return pingKey(v.Payload) },
				RecvKey:  func(v *sim.Vars) (uint64, bool) { return pingKey(v.Payload) },
				Timeout:  2 * time.Second,
				Match:    evPong,
				Miss:     evPingMiss,
				Late:     sim.EventNone,
				LastMiss: sim.EventNone,
			},
		}},
		Reactions: []*sim.Reaction{{
			Event:  evReply,
			Filter: dev("/commands/#"),
			When:   func(v *sim.Vars) bool { return bytes.HasPrefix(v.Payload, []byte("ping ")) },
			Delay:  func(float64) time.Duration { return 10 * time.Millisecond },
			Reply: sim.Message{Topic: dev("/events/replies"), QoS: 0, Payload: sim.TemplateFunc(func(dst []byte, v *sim.Vars) []byte {
				return append(append(dst, "pong "...), v.Payload...)
			})},
		}},
	}
}

// TestCustomProgram runs a program that is not built in, with several
// subscriptions, an OnConnect publish, an expectation keyed its own way and
// a delayed reaction, on both clients.
func TestCustomProgram(t *testing.T) {
	t.Parallel()
	prog := pingProgram()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00022", r)
		cfg.Program = prog
		stop := run(t, newDevice(t, cfg))
		r.waitFor(t, evPong, true, 3)
		r.waitFor(t, evReply, true, 2)
		require.NoError(t, stop())
		require.Empty(t, r.failures())
		require.Equal(t, 1, r.count(evState, true), "one connect, one state message")
		require.Equal(t, 1, r.count(sim.EventSubscribe, true), "one subscribe event for both filters")
		require.Equal(t, r.count(evPing, true), r.count(evPong, true), "every ping's echo, the last one in the stop's wait")
		require.Zero(t, r.count(sim.EventPublish, true), "the program records its own events only")
	})
}

// TestBadProgramRefused: New names what is wrong with a program.
func TestBadProgramRefused(t *testing.T) {
	t.Parallel()
	prog := pingProgram()
	prog.Periodic[0].QoS = 3
	prog.Periodic[0].Expect.Timeout = 0
	cfg := testConfig(sim.ClientLean, "tcp://127.0.0.1:1883", "LTK00023", newRecorder())
	cfg.Program = prog
	_, err := sim.New(cfg)
	require.EqualError(t, err, `device LTK00023: program "pinger": publish 2: QoS 3 does not exist in MQTT: use 0, 1 or 2
program "pinger": publish 2: its expectation's timeout 0s is not positive`)

	prog = pingProgram()
	prog.Periodic[0].QoS = 2
	prog.MQTTVersion = "5"
	cfg = testConfig(sim.ClientPaho, "tcp://127.0.0.1:1883", "LTK00023", newRecorder())
	cfg.Program = prog
	_, err = sim.New(cfg)
	require.EqualError(t, err, `device LTK00023: the paho MQTT client runs MQTT 3.1.1 at QoS 0 or 1 only, not MQTT 5 or QoS 2: use the lean client (--mqtt-client lean)`)
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
		require.Equal(t, sim.NoDuration, fails[0].d, "a timeout is no response time")
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
		// The grace is refreshGrace (250 ms); the broker's goroutine may see
		// the close some time after it happened on a busy machine, which
		// shortens the measured gap, so the bound leaves room for that.
		require.GreaterOrEqual(t, second.connected.Sub(first.closed), 100*time.Millisecond,
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
		// As in TestRefreshWaitsForTheBroker: 250 ms, measured late.
		require.GreaterOrEqual(t, second.connected.Sub(first.closed), 100*time.Millisecond,
			"the second run connected %v after the first one's connection ended", second.connected.Sub(first.closed))
	})
}
