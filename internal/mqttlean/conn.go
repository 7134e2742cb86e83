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

	// WebSocket, when set, carries MQTT over a WebSocket (subprotocol
	// "mqtt"): ws:// without TLS, wss:// with it. WebSocket connections use
	// the stream transport (a reader goroutine each).
	WebSocket *WebSocket
	// TLSSessionCache, when set and TLS names none, is the TLS session
	// cache of the connection, so that a reconnect resumes its session (an
	// abbreviated handshake) rather than doing a full one: share one
	// between the connections to a broker.
	TLSSessionCache tls.ClientSessionCache

	// Version is the MQTT version: Version311 (the zero value's) or
	// Version5. The fields below are MQTT 5's and ignored on 3.1.1.
	Version byte
	// SessionExpiry is how long, in seconds, the broker keeps the session
	// after the connection ends; 0 = it ends with the connection.
	SessionExpiry uint32
	// ReceiveMaximum bounds the QoS 2 messages from the broker that await
	// their PUBREL at once (QoS 1 ones are acknowledged as they arrive);
	// 0 = MQTT's 65535.
	ReceiveMaximum uint16
	// MaxPacketSize is the largest packet the connection accepts, told to
	// the broker; 0 = no limit beyond the lean client's 16 MiB.
	MaxPacketSize uint32
	// TopicAliases is how many topic aliases the connection assigns to the
	// topics it publishes to (at most the broker's Topic Alias Maximum):
	// a topic's first PUBLISH carries it with its alias, later ones the
	// alias alone. 0 = none.
	TopicAliases uint16
	// UserProperties go in the CONNECT.
	UserProperties []UserProperty
	// RequestResponseInfo asks the broker for response information. mochi
	// (the embedded target's broker) forwards a message's response topic
	// and correlation data only to clients that asked.
	RequestResponseInfo bool

	forceStream   bool   // tests: use the stream transport for plain TCP too
	beforeConnect func() // tests: runs where a raw dial is about to open its socket
}

// WebSocket says how to reach a broker over a WebSocket.
type WebSocket struct {
	// Path is the request path, such as /mqtt; empty = "/".
	Path string
}

// Message is an outgoing message: a will, or what PublishMessage sends.
type Message struct {
	Topic, Payload []byte
	QoS            byte // 0, 1 or 2
	Retain         bool
	// Properties are the message's MQTT 5 properties; nil = none. Ignored
	// on MQTT 3.1.1.
	Properties *Properties
}

// SubscribeOptions are a subscription's QoS and MQTT 5 options.
type SubscribeOptions struct {
	QoS byte // the maximum QoS to receive at: 0, 1 or 2
	// NoLocal, RetainAsPublished and RetainHandling are MQTT 5's (ignored
	// on 3.1.1): do not receive our own publishes; keep the retain flag of
	// forwarded messages; retained messages at subscribe (0: send, 1: only
	// for a new subscription, 2: do not send).
	NoLocal, RetainAsPublished bool
	RetainHandling             byte
}

// checkQoS refuses a QoS other than 0, 1 and 2.
func checkQoS(qos byte) error {
	if qos > 2 {
		return fmt.Errorf("QoS %d does not exist in MQTT: use 0, 1 or 2", qos)
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
	// Message is called for each PUBLISH from the broker (a QoS 2 message
	// once, however often the broker sends it before its PUBREL). A QoS 1
	// message is acknowledged (a QoS 2 one received) when Message returns.
	// On MQTT 5, c.ReceivedProperties shows its properties during the call.
	Message(c *Conn, topic, payload []byte)
	// Acked is called when a QoS 1 or 2 publish completed, with the id
	// Publish returned: at its PUBACK (QoS 1) or PUBCOMP (QoS 2, after the
	// PUBREC and PUBREL). err is nil, or the MQTT 5 reason code (a
	// ReasonCode, possibly wrapped with the broker's reason string) with
	// which the broker refused it.
	Acked(c *Conn, id uint16, err error)
	// Subscribed is called for each SUBACK, with the id Subscribe returned
	// and the granted QoS (0x80 and above: refused; MQTT 5's reason code).
	Subscribed(c *Conn, id uint16, granted byte)
	// Closed is called exactly once, last, when the connection ended: err
	// says why (ErrClosed after Close, the broker's refusal, a timeout, the
	// network error; on MQTT 5 the CONNACK's ReasonCode or a
	// DisconnectError). After a failed connect it is the only call.
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

// Conn is one lean MQTT 3.1.1 or 5 client connection. Its methods are safe
// for concurrent use.
type Conn struct {
	h         Handler
	keepAlive time.Duration
	tr        transport
	v5        bool
	recvMax   uint16 // Options.ReceiveMaximum, or 65535
	aliasWant uint16 // Options.TopicAliases

	mu       sync.Mutex // Guards the fields below.
	st       state
	why      error       // the reason for closing, set once
	nextID   uint16      // last packet id handed out
	sent     uint32      // packets written, for keepalive
	sentMark uint32      // sent at the previous keepalive tick
	pingOut  bool        // a PINGREQ awaits its PINGRESP
	timer    *time.Timer // connect timeout, then keepalive ticks
	inFlight uint16      // QoS 1 and 2 publishes awaiting their PUBACK or PUBCOMP
	sendMax  uint16      // the broker's receive maximum (65535 unless it said less)
	maxOut   uint32      // the broker's maximum packet size; 0 = none
	aliases  [][]byte    // topics by alias-1, at most min(aliasWant, the broker's maximum)
	aliasMax uint16      // how many aliases the broker allows

	partial    []byte   // reader only: bytes of an incomplete packet
	rx2        []uint16 // reader only: QoS 2 messages received, awaiting their PUBREL
	rxProps    props    // reader only: the properties of the packet being handled
	assignedID string   // reader only: the broker's Assigned Client Identifier
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
	switch o.Version {
	case 0, Version311, Version5:
	default:
		return nil, fmt.Errorf("MQTT protocol level %d is not one the lean client speaks: use Version311 (4) or Version5", o.Version)
	}
	c := &Conn{h: h, keepAlive: o.KeepAlive.Truncate(time.Second), v5: o.Version == Version5, recvMax: o.ReceiveMaximum, aliasWant: o.TopicAliases}
	if c.recvMax == 0 {
		c.recvMax = 65535
	}
	connect := appendConnect(nil, o, uint16(c.keepAlive/time.Second))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = time.AfterFunc(timeout, c.onTimer)
	var err error
	if o.TLS == nil && o.WebSocket == nil && rawSupported && !o.forceStream {
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

// Subscribe sends a SUBSCRIBE to filter at qos (0, 1 or 2) and returns its
// packet id; Handler.Subscribed reports the outcome. A connection may hold
// any number of subscriptions, one Subscribe each.
func (c *Conn) Subscribe(filter string, qos byte) (uint16, error) {
	return c.SubscribeWith(filter, SubscribeOptions{QoS: qos})
}

// SubscribeWith is Subscribe with MQTT 5's subscription options. A shared
// subscription is a filter of the form $share/GROUP/FILTER.
func (c *Conn) SubscribeWith(filter string, so SubscribeOptions) (uint16, error) {
	if err := checkQoS(so.QoS); err != nil {
		return 0, err
	}
	if so.RetainHandling > 2 {
		return 0, fmt.Errorf("retain handling %d does not exist in MQTT 5: use 0, 1 or 2", so.RetainHandling)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st != stateUp {
		return 0, ErrNotConnected
	}
	id := c.newID()
	bp := getBuf()
	*bp = appendSubscribe((*bp)[:0], id, filter, so, c.v5)
	err := c.writeLocked(*bp)
	putBuf(bp)
	return id, err
}

// Publish sends payload to topic at qos (0, 1 or 2) and returns the
// packet id (0 at QoS 0); at QoS 1 and 2 Handler.Acked reports the
// completion. Publish does not keep payload. A write error closes the
// connection (Handler.Closed follows) and is returned. On MQTT 5, a publish
// beyond the broker's receive maximum fails with ErrInFlightLimit and one
// above its maximum packet size with ErrPacketTooLarge; the connection
// stays up.
func (c *Conn) Publish(topic string, qos byte, payload []byte) (uint16, error) {
	return publish(c, topic, payload, qos, false, nil)
}

// PublishMessage sends m as Publish does, with its retain flag and, on
// MQTT 5, its properties. It does not keep m.
func (c *Conn) PublishMessage(m *Message) (uint16, error) {
	return publish(c, m.Topic, m.Payload, m.QoS, m.Retain, m.Properties)
}

// publish is Publish and PublishMessage.
func publish[T ~string | ~[]byte](c *Conn, topic T, payload []byte, qos byte, retain bool, props *Properties) (uint16, error) {
	if err := checkQoS(qos); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st != stateUp {
		return 0, ErrNotConnected
	}
	if qos > 0 && c.sendMax > 0 && c.inFlight >= c.sendMax {
		return 0, ErrInFlightLimit
	}
	var id, alias uint16
	var known bool
	if qos > 0 {
		id = c.newID()
	}
	bp := getBuf()
	if c.v5 {
		alias, known = aliasOf(c, topic)
		if known {
			*bp = appendPublishV((*bp)[:0], "", qos, retain, id, payload, true, props, alias)
		} else {
			*bp = appendPublishV((*bp)[:0], topic, qos, retain, id, payload, true, props, alias)
		}
	} else {
		*bp = appendPublish((*bp)[:0], topic, qos, retain, id, payload)
	}
	if c.maxOut > 0 && len(*bp) > int(c.maxOut) {
		putBuf(bp)
		if !known {
			c.forgetAlias(alias)
		}
		return 0, ErrPacketTooLarge
	}
	err := c.writeLocked(*bp)
	putBuf(bp)
	if err == nil && qos > 0 {
		c.inFlight++
	}
	return id, err
}

// aliasOf returns the topic alias of topic, and whether the broker knows it
// already (the PUBLISH may leave the topic out); a new alias is assigned
// while the table has room. 0 = no alias. c.mu held.
func aliasOf[T ~string | ~[]byte](c *Conn, topic T) (uint16, bool) {
	for i, t := range c.aliases {
		if string(t) == string(topic) {
			return uint16(i + 1), true
		}
	}
	if len(c.aliases) >= int(c.aliasMax) || len(topic) == 0 {
		return 0, false
	}
	c.aliases = append(c.aliases, []byte(topic))
	return uint16(len(c.aliases)), false
}

// forgetAlias drops alias if it is the newest, assigned by a PUBLISH that
// was not sent. c.mu held.
func (c *Conn) forgetAlias(a uint16) {
	if a != 0 && int(a) == len(c.aliases) {
		c.aliases = c.aliases[:a-1]
	}
}

// ReceivedProperties returns the MQTT 5 properties of the message being
// handled: valid only during Handler.Message, on the handler's goroutine,
// and only until it returns (the slices alias the read buffer). On MQTT
// 3.1.1 they are empty.
func (c *Conn) ReceivedProperties() *Properties { return &c.rxProps.Properties }

// AssignedClientID returns the client id the broker assigned in its
// CONNACK (MQTT 5, when the CONNECT's was empty), or "". Call it from
// Handler.Connected or later.
func (c *Conn) AssignedClientID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.assignedID
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
