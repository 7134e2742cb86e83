package mqttlean

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ltk-dev/ltk/internal/tcptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit bounds every wait; waits normally end in milliseconds.
const waitLimit = 10 * time.Second

// transports are the ways a plain connection can run, each test runs on all.
func transports() []struct {
	name   string
	stream bool
} {
	ts := []struct {
		name   string
		stream bool
	}{{"stream", true}}
	if rawSupported {
		ts = append(ts, struct {
			name   string
			stream bool
		}{"epoll", false})
	}
	return ts
}

// message is a received PUBLISH.
type message struct{ topic, payload string }

// suback is a received SUBACK.
type suback struct {
	id      uint16
	granted byte
}

// chanHandler turns a Conn's events into channels.
type chanHandler struct {
	connected chan struct{}
	msgs      chan message
	props     chan string // MQTT 5: each message's properties, as text
	acks      chan uint16
	ackErrs   chan error // publishes the broker refused (MQTT 5)
	subs      chan suback
	closed    chan struct{} // closed by Closed, after why is set
	why       error
}

func newChanHandler() *chanHandler {
	return &chanHandler{
		connected: make(chan struct{}, 1),
		msgs:      make(chan message, 64),
		props:     make(chan string, 64),
		acks:      make(chan uint16, 64),
		ackErrs:   make(chan error, 64),
		subs:      make(chan suback, 8),
		closed:    make(chan struct{}),
	}
}

func (h *chanHandler) Connected(*Conn) { h.connected <- struct{}{} }
func (h *chanHandler) Message(c *Conn, topic, payload []byte) {
	if c.v5 {
		p := c.ReceivedProperties()
		text := fmt.Sprintf("%d %d %s %s %q", p.PayloadFormat, p.MessageExpiry, p.ContentType, p.ResponseTopic, p.CorrelationData)
		for _, u := range p.User {
			text += " " + string(u.Key) + "=" + string(u.Value)
		}
		h.props <- text
	}
	h.msgs <- message{string(topic), string(payload)}
}
func (h *chanHandler) Acked(_ *Conn, id uint16, err error) {
	if err != nil {
		h.ackErrs <- err
		return
	}
	h.acks <- id
}
func (h *chanHandler) Subscribed(_ *Conn, id uint16, granted byte) {
	h.subs <- suback{id, granted}
}
func (h *chanHandler) Closed(_ *Conn, err error) {
	h.why = err
	close(h.closed) // a second call panics: Closed comes exactly once
}

// waitClosed waits for Closed and returns its reason.
func (h *chanHandler) waitClosed(t *testing.T) error {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	select {
	case <-h.closed:
		return h.why
	case <-timer.C:
		t.Fatalf("connection did not close within %v", waitLimit)
	}
	return nil
}

// receive returns the next value of ch, failing the test after waitLimit.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("waited %v for %s", waitLimit, what)
	}
	var zero T
	return zero
}

// dial dials with o and fails the test on a synchronous error; the test's
// cleanup closes the connection and waits for Closed.
func dial(t *testing.T, o Options, h *chanHandler) *Conn {
	t.Helper()
	c, err := Dial(&o, h)
	require.NoError(t, err)
	t.Cleanup(func() {
		c.Close()
		timer := time.NewTimer(waitLimit)
		defer timer.Stop()
		select {
		case <-h.closed:
		case <-timer.C:
			t.Errorf("connection did not close within %v", waitLimit)
		}
	})
	return c
}

// fakeBroker accepts connections on 127.0.0.1:0 and runs serve on each in
// its own goroutine; the test's cleanup closes the listener and every
// accepted connection, and waits for the goroutines.
func fakeBroker(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	addr, _ := tcptest.Serve(t, serve)
	return addr
}

// acceptMQTT reads the CONNECT from nc and answers CONNACK 0.
func acceptMQTT(nc net.Conn) error {
	if _, err := packets.ReadPacket(nc); err != nil {
		return err
	}
	ack := packets.NewControlPacket(packets.Connack)
	var b bytes.Buffer
	if err := ack.Write(&b); err != nil {
		return err
	}
	_, err := nc.Write(b.Bytes())
	return err
}

// loopReadBufForTests is the epoll loops' read buffer size, or a stand-in
// where there are none.
const loopReadBufForTests = 64 << 10
