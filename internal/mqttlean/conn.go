package mqttlean

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// DefaultConnectTimeout bounds the dial and the MQTT handshake when
// Options.ConnectTimeout is zero.
const DefaultConnectTimeout = 30 * time.Second

// Options configure one connection.
type Options struct {
	// Addr is the broker's host:port.
	Addr string
	// TLS, when non-nil, makes the connection MQTT over TLS. TLS connections
	// use a reader goroutine each (crypto/tls needs a blocking net.Conn);
	// plain TCP connections on Linux share the package's epoll loops.
	TLS *tls.Config
	// LocalAddr is the source address to dial from; the zero value lets the
	// system choose. Spreading many connections over several loopback source
	// addresses (127.0.0.2, 127.0.0.3, …) avoids running out of one address's
	// ephemeral ports.
	LocalAddr netip.Addr
	// ClientID, Username and Password go in the CONNECT packet.
	ClientID, Username, Password string
	// KeepSession connects with the clean session flag off: the broker
	// keeps the client's subscriptions and queues its QoS 1 messages while
	// it is away. False (the zero value) is a clean session.
	KeepSession bool
	// KeepAlive is the MQTT keepalive (whole seconds, at most 65535 s); zero
	// turns it off. The connection sends PINGREQ when it sent nothing for
	// about KeepAlive, and counts as lost when no PINGRESP came KeepAlive/2
	// later.
	KeepAlive time.Duration
	// ConnectTimeout bounds the dial and the CONNACK wait together. Zero =
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Will, when set, is the connection's will message: the broker
	// publishes it when the connection ends without a DISCONNECT.
	Will *Message
	// Loops serve the connection; nil = a set shared by every connection
	// that names none, made on first use.
	Loops *Loops

	forceStream   bool   // tests: use the stream transport for plain TCP too
	beforeConnect func() // tests: runs where a raw dial is about to open its socket
}

// Message is an outgoing message: a will, or what PublishMessage sends.
type Message struct {
	Topic, Payload []byte
	QoS            byte // 0 or 1
	Retain         bool
}

// ErrQoS2 is returned for QoS 2, which the lean client does not speak yet.
var ErrQoS2 = errors.New("QoS 2 is not supported by the lean MQTT client: use QoS 0 or 1")

// checkQoS refuses a QoS other than 0 and 1.
func checkQoS(qos byte) error {
	switch {
	case qos == 2:
		return ErrQoS2
	case qos > 2:
		return fmt.Errorf("QoS %d does not exist in MQTT: use 0 or 1", qos)
	}
	return nil
}

// Handler receives the events of a connection. The calls for one Conn come
// from one goroutine at a time, in the order the packets arrived, and never
// while the Conn's own lock is held: a Handler may call the Conn's methods.
// Slices passed to Message are valid only during the call. A Handler must
// not block for long: on Linux it runs on an event loop shared by many
// connections.
type Handler interface {
	// Connected is called when the broker accepted the connection (CONNACK 0).
	Connected(c *Conn)
	// Message is called for each PUBLISH from the broker. A QoS 1 message is
	// acknowledged when Message returns.
	Message(c *Conn, topic, payload []byte)
	// Acked is called for each PUBACK, with the id Publish returned.
	Acked(c *Conn, id uint16)
	// Subscribed is called for each SUBACK, with the id Subscribe returned
	// and the granted QoS (0x80: refused).
	Subscribed(c *Conn, id uint16, granted byte)
	// Closed is called exactly once, last, when the connection ended: err
	// says why (ErrClosed after Close, the broker's refusal, a timeout, the
	// network error). After a failed connect it is the only call.
	Closed(c *Conn, err error)
}

// Errors passed to Handler.Closed.
var (
	// ErrClosed is the reason given after Close.
	ErrClosed = errors.New("connection closed by the client")
	// ErrConnectTimeout: no CONNACK within Options.ConnectTimeout.
	ErrConnectTimeout = errors.New("no CONNACK within the connect timeout")
	// ErrPingTimeout: no PINGRESP within half the keepalive.
	ErrPingTimeout = errors.New("no PINGRESP from the broker: connection presumed lost")
	// ErrBrokerClosed: the broker closed the connection.
	ErrBrokerClosed = errors.New("connection closed by the broker")
	// ErrBrokerClosedEarly: the broker closed the connection before CONNACK.
	ErrBrokerClosedEarly = errors.New("connection closed by the broker before CONNACK")
	// ErrNotConnected is returned by Publish and Subscribe before CONNACK
	// and after the connection ended.
	ErrNotConnected = errors.New("not connected")
	// errOutputFull: the broker stopped reading and output piled up.
	errOutputFull = errors.New("broker is not reading: output buffer full")
)

// maxPending bounds the output a connection keeps when the socket is full.
const maxPending = 1 << 20

// state is where a connection is in its life.
type state uint8

const (
	stateDialing   state = iota // TCP/TLS connect in progress
	stateHandshake              // CONNECT sent, awaiting CONNACK
	stateUp                     // CONNACK accepted
	stateClosing                // Close or a failure asked the reader to finish
	stateClosed                 // Closed was called
)

// transport moves bytes for a Conn: the shared epoll loops (raw) or a
// net.Conn with a reader goroutine (stream).
type transport interface {
	// write writes b or buffers what the socket does not take; c.mu held.
	write(c *Conn, b []byte) error
	// shutdown makes the reader finish the connection soon; c.mu held.
	shutdown(c *Conn)
}

// Conn is one lean MQTT 3.1.1 client connection. Its methods are safe for
// concurrent use.
type Conn struct {
	h         Handler
	keepAlive time.Duration
	tr        transport

	mu       sync.Mutex // Guards the fields below.
	st       state
	why      error       // the reason for closing, set once
	nextID   uint16      // last packet id handed out
	sent     uint32      // packets written, for keepalive
	sentMark uint32      // sent at the previous keepalive tick
	pingOut  bool        // a PINGREQ awaits its PINGRESP
	timer    *time.Timer // connect timeout, then keepalive ticks

	partial []byte // reader only: bytes of an incomplete packet
}

// Dial starts connecting to the broker and returns at once: h learns the
// outcome (Connected, or Closed with the reason). Dial makes no socket
// system call on the caller's goroutine, so it may be called from an event
// loop (a Handler, the ticker). An error from Dial itself (bad options, a bad
// or unresolvable address) means nothing was started and h will not be
// called; a socket, bind or connect failure comes through Closed.
func Dial(o *Options, h Handler) (*Conn, error) {
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	if o.KeepAlive < 0 || o.KeepAlive > 65535*time.Second {
		return nil, fmt.Errorf("keepalive %v is out of MQTT's range: use 0 to 65535 s", o.KeepAlive)
	}
	if o.Will != nil {
		if err := checkQoS(o.Will.QoS); err != nil {
			return nil, fmt.Errorf("will message: %w", err)
		}
	}
	c := &Conn{h: h, keepAlive: o.KeepAlive.Truncate(time.Second)}
	connect := appendConnect(nil, o.ClientID, o.Username, o.Password, uint16(c.keepAlive/time.Second), o.Will, !o.KeepSession)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = time.AfterFunc(timeout, c.onTimer)
	var err error
	if o.TLS == nil && rawSupported && !o.forceStream {
		err = dialRaw(c, o, connect)
	} else {
		err = dialStream(c, o, connect, timeout)
	}
	if err != nil {
		c.timer.Stop()
		c.st = stateClosed
		return nil, err
	}
	return c, nil
}

// Subscribe sends a SUBSCRIBE to filter at qos (0 or 1) and returns its
// packet id; Handler.Subscribed reports the outcome. A connection may hold
// any number of subscriptions, one Subscribe each.
func (c *Conn) Subscribe(filter string, qos byte) (uint16, error) {
	if err := checkQoS(qos); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st != stateUp {
		return 0, ErrNotConnected
	}
	id := c.newID()
	bp := getBuf()
	*bp = appendSubscribe((*bp)[:0], id, filter, qos)
	err := c.writeLocked(*bp)
	putBuf(bp)
	return id, err
}

// Publish sends payload to topic at qos (0 or 1) and returns the packet id
// (0 at QoS 0); at QoS 1 Handler.Acked reports the PUBACK. Publish does not
// keep payload. A write error closes the connection (Handler.Closed follows)
// and is returned.
func (c *Conn) Publish(topic string, qos byte, payload []byte) (uint16, error) {
	return publish(c, topic, payload, qos, false)
}

// PublishMessage sends m as Publish does, with its retain flag. It does
// not keep m.
func (c *Conn) PublishMessage(m *Message) (uint16, error) {
	return publish(c, m.Topic, m.Payload, m.QoS, m.Retain)
}

// publish is Publish and PublishMessage.
func publish[T ~string | ~[]byte](c *Conn, topic T, payload []byte, qos byte, retain bool) (uint16, error) {
	if err := checkQoS(qos); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st != stateUp {
		return 0, ErrNotConnected
	}
	var id uint16
	if qos > 0 {
		id = c.newID()
	}
	bp := getBuf()
	*bp = appendPublish((*bp)[:0], topic, qos, retain, id, payload)
	err := c.writeLocked(*bp)
	putBuf(bp)
	return id, err
}

// Close ends the connection: DISCONNECT when it is up, then the socket
// closes and Handler.Closed follows with ErrClosed (or the reason it was
// already closing for). Close is idempotent.
func (c *Conn) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == stateUp {
		_ = c.writeLocked(disconnectPacket)
	}
	c.abortLocked(ErrClosed)
}

// newID returns the next non-zero packet id; c.mu held.
func (c *Conn) newID() uint16 {
	c.nextID++
	if c.nextID == 0 {
		c.nextID = 1
	}
	return c.nextID
}

// writeLocked writes b; a failure closes the connection. c.mu held.
func (c *Conn) writeLocked(b []byte) error {
	if c.st >= stateClosing {
		return ErrNotConnected
	}
	c.sent++
	if err := c.tr.write(c, b); err != nil {
		c.abortLocked(err)
		return err
	}
	return nil
}

// abortLocked closes the connection for reason why (the first reason
// wins); the reader finishes it and calls Closed. c.mu held.
func (c *Conn) abortLocked(why error) {
	if c.st >= stateClosing {
		return
	}
	c.st, c.why = stateClosing, why
	c.timer.Stop()
	c.tr.shutdown(c)
}

// onTimer enforces the connect timeout, then sends keepalive pings.
func (c *Conn) onTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.st {
	case stateDialing, stateHandshake:
		c.abortLocked(ErrConnectTimeout)
	case stateUp:
		if c.pingOut {
			c.abortLocked(ErrPingTimeout)
			return
		}
		if c.sent == c.sentMark {
			c.pingOut = true
			if c.writeLocked(pingreqPacket) != nil {
				return
			}
		}
		c.sentMark = c.sent
		c.timer.Reset(c.keepAlive / 2)
	}
}

// handshakeStarted moves a dialed connection to the CONNECT stage and
// writes connect; c.mu held.
func (c *Conn) handshakeStarted(connect []byte) {
	if c.st != stateDialing {
		return
	}
	c.st = stateHandshake
	_ = c.writeLocked(connect)
}

// finish ends the connection from its reader: it settles the reason,
// releases the transport with release (under c.mu) and calls Closed. readErr
// is what the reader saw (nil = end of stream).
func (c *Conn) finish(readErr error, release func()) {
	c.mu.Lock()
	why := c.why
	if why == nil {
		switch {
		case readErr != nil:
			why = readErr
		case c.st < stateUp:
			why = ErrBrokerClosedEarly
		default:
			why = ErrBrokerClosed
		}
	}
	c.st, c.why = stateClosed, why
	c.timer.Stop()
	release()
	c.partial = nil
	c.mu.Unlock()
	c.h.Closed(c, why)
}

// bufPool holds packet-building buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		bufPool.Put(b)
	}
}
