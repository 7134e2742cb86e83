package mqttlean

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// echoOnce subscribes c to D's commands, publishes at qos and checks the
// PUBACK (QoS 1) and the echo.
func echoOnce(t *testing.T, c *Conn, h *chanHandler, dev string, qos byte, payload string) {
	t.Helper()
	id, err := c.Subscribe("/devices/"+dev+"/commands/#", qos)
	require.NoError(t, err)
	require.Equal(t, suback{id, qos}, receive(t, h.subs, "SUBACK"))
	pid, err := c.Publish("/devices/"+dev+"/events", qos, []byte(payload))
	require.NoError(t, err)
	if qos > 0 {
		require.NotZero(t, pid)
		require.Equal(t, pid, receive(t, h.acks, "PUBACK or PUBCOMP"))
	} else {
		require.Zero(t, pid)
	}
	require.Equal(t, message{"/devices/" + dev + "/commands", payload}, receive(t, h.msgs, "echo"))
}

func TestEchoRoundTrip(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			h := newChanHandler()
			dev := "D-" + tr.name
			c := dial(t, Options{Addr: tt.Addr(), ClientID: dev, Username: "unused", KeepAlive: time.Minute, forceStream: tr.stream}, h)
			receive(t, h.connected, "CONNACK")
			echoOnce(t, c, h, dev, 1, "hello at QoS 1")
			pid, err := c.Publish("/devices/"+dev+"/events", 0, []byte("hello at QoS 0"))
			require.NoError(t, err)
			require.Zero(t, pid)
			require.Equal(t, message{"/devices/" + dev + "/commands", "hello at QoS 0"}, receive(t, h.msgs, "QoS 0 echo"))

			c.Close()
			require.ErrorIs(t, h.waitClosed(t), ErrClosed)
			_, err = c.Publish("/devices/"+dev+"/events", 1, nil)
			require.ErrorIs(t, err, ErrNotConnected)
			c.Close() // idempotent
		})
	}
}

func TestHostName(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	_, port, err := net.SplitHostPort(tt.Addr())
	require.NoError(t, err)
	for range 2 { // the second dial takes the resolved address from the cache
		h := newChanHandler()
		c := dial(t, Options{Addr: net.JoinHostPort("localhost", port), ClientID: "D-host"}, h)
		receive(t, h.connected, "CONNACK via localhost")
		c.Close()
		require.ErrorIs(t, h.waitClosed(t), ErrClosed)
	}
	_, err = resolve("localhost:port")
	require.ErrorContains(t, err, `port "port" is not a number`)
}

// TestBigMessage: a message several times the loop's read buffer, sent in
// one write, is read in full although no new data arrives after it.
func TestBigMessage(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("m"), 5*loopReadBufForTests)
	pub := appendPublish(nil, "/devices/D1/commands", 0, false, 0, big)
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			addr := fakeBroker(t, func(nc net.Conn) {
				if _, err := packets.ReadPacket(nc); err != nil {
					return
				}
				_, _ = nc.Write(append([]byte{typeConnack << 4, 2, 0, 0}, pub...))
				_, _ = io.Copy(io.Discard, nc)
			})
			h := newChanHandler()
			_ = dial(t, Options{Addr: addr, ClientID: "D1", forceStream: tr.stream}, h)
			receive(t, h.connected, "CONNACK")
			got := receive(t, h.msgs, "the big message")
			require.Len(t, got.payload, len(big))
		})
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	cert, key, pool := targettest.TLSFiles(t)
	tt := targettest.Start(t, func(c *target.Config) { c.TLSAddr, c.TLSCert, c.TLSKey = "127.0.0.1:0", cert, key })
	h := newChanHandler()
	c := dial(t, Options{Addr: tt.Target().TLSAddr(), TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, ClientID: "D-tls"}, h)
	receive(t, h.connected, "CONNACK over TLS")
	echoOnce(t, c, h, "D-tls", 1, "over TLS")

	// An unknown certificate authority fails the connect.
	h2 := newChanHandler()
	_, err := Dial(&Options{Addr: tt.Target().TLSAddr(), TLS: &tls.Config{MinVersion: tls.VersionTLS12}, ClientID: "D-tls2"}, h2)
	require.NoError(t, err)
	require.ErrorContains(t, h2.waitClosed(t), "certificate")
	require.Empty(t, h2.connected)
}

// refuseAll is a key store that knows no device.
type refuseAll struct{}

func (refuseAll) PublicKey(string) (crypto.PublicKey, bool) { return nil, false }

func TestRefusedByBroker(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.Auth, c.Keys = target.AuthJWT, refuseAll{} })
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			h := newChanHandler()
			_, err := Dial(&Options{Addr: tt.Addr(), ClientID: "projects/ltk-project/locations/local/registries/ltk-registry/devices/D1",
				Username: "unused", Password: "not-a-jwt", forceStream: tr.stream}, h)
			require.NoError(t, err)
			why := h.waitClosed(t)
			require.Contains(t, []string{"not Authorized", "bad user name or password"}, why.Error())
			require.Empty(t, h.connected)
		})
	}
}

func TestBrokerHangsUp(t *testing.T) {
	t.Parallel()
	addr := fakeBroker(t, func(nc net.Conn) { _ = nc.Close() })
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			h := newChanHandler()
			_, err := Dial(&Options{Addr: addr, ClientID: "D1", forceStream: tr.stream}, h)
			require.NoError(t, err)
			why := h.waitClosed(t)
			if !errors.Is(why, ErrBrokerClosedEarly) { // a reset is also a hang-up
				require.ErrorContains(t, why, "reset")
			}
		})
	}
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	addr := fakeBroker(t, func(nc net.Conn) { _, _ = io.Copy(io.Discard, nc) }) // never answers
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			h := newChanHandler()
			begin := time.Now()
			_, err := Dial(&Options{Addr: addr, ClientID: "D1", ConnectTimeout: 200 * time.Millisecond, forceStream: tr.stream}, h)
			require.NoError(t, err)
			require.ErrorIs(t, h.waitClosed(t), ErrConnectTimeout)
			require.GreaterOrEqual(t, time.Since(begin), 200*time.Millisecond)
		})
	}
}

// TestKeepAlive: the client pings when idle, accepts a PINGRESP, and counts
// the connection as lost when a PINGRESP does not come.
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			pings := make(chan struct{}, 8)
			addr := fakeBroker(t, func(nc net.Conn) {
				if acceptMQTT(nc) != nil {
					return
				}
				for n := 0; ; n++ {
					cp, err := packets.ReadPacket(nc)
					if err != nil {
						return
					}
					if _, ok := cp.(*packets.PingreqPacket); !ok {
						continue
					}
					pings <- struct{}{}
					if n == 0 { // answer the first ping only
						_, _ = nc.Write([]byte{typePingresp << 4, 0})
					}
				}
			})
			h := newChanHandler()
			begin := time.Now()
			_, err := Dial(&Options{Addr: addr, ClientID: "D1", KeepAlive: time.Second, forceStream: tr.stream}, h)
			require.NoError(t, err)
			receive(t, h.connected, "CONNACK")
			receive(t, pings, "first PINGREQ")
			receive(t, pings, "second PINGREQ, after the first was answered")
			require.ErrorIs(t, h.waitClosed(t), ErrPingTimeout)
			require.GreaterOrEqual(t, time.Since(begin), 1500*time.Millisecond, "three half-keepalive ticks")
		})
	}
}

func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			tt := targettest.Start(t)
			h := newChanHandler()
			_ = dial(t, Options{Addr: tt.Addr(), ClientID: "D-" + tr.name, forceStream: tr.stream}, h)
			receive(t, h.connected, "CONNACK")
			tt.Restart(t)
			why := h.waitClosed(t)
			if !errors.Is(why, ErrBrokerClosed) {
				require.ErrorContains(t, why, "reset")
			}
		})
	}
}

// peerRecorder is a fake broker that reports each client's source address.
func peerRecorder(t *testing.T) (addr string, peers <-chan string) {
	ch := make(chan string, 4)
	addr = fakeBroker(t, func(nc net.Conn) {
		ch <- nc.RemoteAddr().(*net.TCPAddr).IP.String()
		_ = acceptMQTT(nc)
		_, _ = io.Copy(io.Discard, nc)
	})
	return addr, ch
}

func TestLocalAddr(t *testing.T) {
	t.Parallel()
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			addr, peers := peerRecorder(t)
			h := newChanHandler()
			_ = dial(t, Options{Addr: addr, ClientID: "D1", LocalAddr: netip.MustParseAddr("127.0.0.3"), forceStream: tr.stream}, h)
			receive(t, h.connected, "CONNACK")
			require.Equal(t, "127.0.0.3", receive(t, peers, "the broker's view of the source"))
		})
	}

	// A source address this host does not have fails the dial.
	addr, _ := peerRecorder(t)
	h := newChanHandler()
	c, err := Dial(&Options{Addr: addr, ClientID: "D1", LocalAddr: netip.MustParseAddr("192.0.2.1")}, h)
	if err == nil { // the stream transport reports it asynchronously
		require.NotNil(t, c)
		err = h.waitClosed(t)
	}
	require.ErrorContains(t, err, "assign requested address")
}

func TestBadOptions(t *testing.T) {
	t.Parallel()
	_, err := Dial(&Options{Addr: "127.0.0.1:1883", KeepAlive: 70_000 * time.Second}, newChanHandler())
	require.ErrorContains(t, err, "keepalive")
	_, err = Dial(&Options{Addr: "no-port"}, newChanHandler())
	if rawSupported {
		require.ErrorContains(t, err, `broker address "no-port"`)
	}
}

// TestSlowBroker: output the socket does not take is kept and flushed when
// the broker reads again, and a broker that never reads ends the connection
// once the kept output passes its bound.
func TestSlowBroker(t *testing.T) {
	if !rawSupported {
		t.Skip("output is kept only by the epoll transport")
	}
	t.Parallel()
	read := make(chan struct{})
	got := make(chan int, 1)
	addr := fakeBroker(t, func(nc net.Conn) {
		if acceptMQTT(nc) != nil {
			return
		}
		<-read
		n, _ := io.Copy(io.Discard, nc)
		got <- int(n)
	})
	h := newChanHandler()
	c := dial(t, Options{Addr: addr, ClientID: "D1"}, h)
	receive(t, h.connected, "CONNACK")
	payload := bytes.Repeat([]byte("s"), 256<<10)
	want := 0
	var err error
	for range 200 { // far more than socket buffers hold
		if _, err = c.Publish("/devices/D1/events", 0, payload); err != nil {
			break
		}
		want += len(appendPublish(nil, "/devices/D1/events", 0, false, 0, payload))
	}
	require.ErrorIs(t, err, errOutputFull)
	require.ErrorIs(t, h.waitClosed(t), errOutputFull)
	close(read)
	n := receive(t, got, "the broker's byte count")
	require.LessOrEqual(t, n, want)
	require.Greater(t, n, maxPending/2, "kept output was written while the broker read")

	// And with a broker that catches up, everything arrives.
	read2 := make(chan struct{})
	got2 := make(chan []byte, 1)
	addr2 := fakeBroker(t, func(nc net.Conn) {
		if acceptMQTT(nc) != nil {
			return
		}
		<-read2
		b, _ := io.ReadAll(nc)
		got2 <- b
	})
	h2 := newChanHandler()
	c2, err := Dial(&Options{Addr: addr2, ClientID: "D2"}, h2)
	require.NoError(t, err)
	receive(t, h2.connected, "CONNACK")
	var sent bytes.Buffer
	for i := range 3 {
		p := bytes.Repeat([]byte{byte('a' + i)}, 300<<10)
		_, err := c2.Publish("/t", 0, p)
		require.NoError(t, err)
		sent.Write(appendPublish(nil, "/t", 0, false, 0, p))
	}
	close(read2)
	c2.Close()
	require.ErrorIs(t, h2.waitClosed(t), ErrClosed)
	b := receive(t, got2, "the broker's bytes")
	sent.Write(disconnectPacket)
	require.True(t, bytes.Equal(sent.Bytes(), b), "got %d bytes, want %d", len(b), sent.Len())
}

// TestManyConnections shares the loops among connections and checks that
// the loops stop when the last connection is gone.
func TestManyConnections(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	const n = 100
	hs := make([]*chanHandler, n)
	cs := make([]*Conn, n)
	for i := range n {
		hs[i] = newChanHandler()
		c, err := Dial(&Options{Addr: tt.Addr(), ClientID: "M" + strconv.Itoa(i)}, hs[i])
		require.NoError(t, err)
		cs[i] = c
	}
	for i := range n {
		receive(t, hs[i].connected, "CONNACK")
		dev := "M" + strconv.Itoa(i)
		id, err := cs[i].Subscribe("/devices/"+dev+"/commands/#", 1)
		require.NoError(t, err)
		require.Equal(t, suback{id, 1}, receive(t, hs[i].subs, "SUBACK"))
		_, err = cs[i].Publish("/devices/"+dev+"/events", 1, []byte(dev))
		require.NoError(t, err)
	}
	for i := range n {
		require.Equal(t, message{"/devices/M" + strconv.Itoa(i) + "/commands", "M" + strconv.Itoa(i)}, receive(t, hs[i].msgs, "echo"))
	}
	for i := range n {
		cs[i].Close()
	}
	for i := range n {
		require.ErrorIs(t, hs[i].waitClosed(t), ErrClosed)
	}
}

// TestWillAndRetainOnTheWire: the broker reads the will of Options.Will in
// the CONNECT and the retain flag of PublishMessage, on both transports,
// from connections on Loops of their own.
func TestWillAndRetainOnTheWire(t *testing.T) {
	t.Parallel()
	for _, tr := range transports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan packets.ControlPacket, 2)
			addr := fakeBroker(t, func(nc net.Conn) {
				cp, err := packets.ReadPacket(nc)
				if err != nil {
					return
				}
				got <- cp
				ack := packets.NewControlPacket(packets.Connack)
				var b bytes.Buffer
				if ack.Write(&b) != nil {
					return
				}
				if _, err := nc.Write(b.Bytes()); err != nil {
					return
				}
				if cp, err = packets.ReadPacket(nc); err == nil {
					got <- cp
				}
				_, _ = io.Copy(io.Discard, nc)
			})
			h := newChanHandler()
			will := &Message{Topic: []byte("/devices/D1/state"), Payload: []byte("gone"), QoS: 1, Retain: true}
			c := dial(t, Options{Addr: addr, ClientID: "D1", Will: will, Loops: NewLoops(), forceStream: tr.stream}, h)
			connect, ok := receive(t, got, "CONNECT").(*packets.ConnectPacket)
			require.True(t, ok)
			require.True(t, connect.WillFlag)
			require.True(t, connect.WillRetain)
			require.Equal(t, byte(1), connect.WillQos)
			require.Equal(t, "/devices/D1/state", connect.WillTopic)
			require.Equal(t, "gone", string(connect.WillMessage))

			receive(t, h.connected, "CONNACK")
			_, err := c.PublishMessage(&Message{Topic: []byte("/devices/D1/state"), Payload: []byte("online"), Retain: true})
			require.NoError(t, err)
			pub, ok := receive(t, got, "PUBLISH").(*packets.PublishPacket)
			require.True(t, ok)
			require.True(t, pub.Retain)
			require.Equal(t, byte(0), pub.Qos)
			require.Equal(t, "online", string(pub.Payload))
		})
	}
}
