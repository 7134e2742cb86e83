package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ltk-dev/ltk/internal/mqttlean"

	"github.com/ltk-dev/ltk/internal/runset"
)

// Settings of the paho client that are not worth a Config field.
const (
	writeTimeout = 10 * time.Second       // one packet write
	pingTimeout  = 10 * time.Second       // PINGRESP wait before the connection counts as lost
	quiesce      = 250 * time.Millisecond // how long Disconnect waits for in-flight work
)

// errClosed is the reason a paho link gives when the device closed it.
var errClosed = errors.New("connection closed by the device")

// pahoLink is one paho connection as a machine's link: a fresh paho client
// per connect, because paho warns that reusing a disconnected client may
// panic, and because each connect may carry a new password. Paho's calls
// that block (Connect, Disconnect, waiting for a token) run off the
// machine's lock, in short-lived goroutines that deliver the outcome as an
// event: the device itself holds no goroutine while it waits.
type pahoLink struct {
	m      *machine
	client mqtt.Client

	mu      sync.Mutex // Guards the fields below.
	nc      net.Conn   // the socket, once dialed
	closing bool       // close was called
	up      bool       // CONNACK came and close was not called before
	nextID  uint16     // the link's own packet ids: paho's are not exposed before the send
	once    sync.Once  // delivers Closed once
}

// dialPaho starts a paho connection; onConnected or onClosed follows.
func dialPaho(m *machine, o *dialOptions) (link, error) {
	l := &pahoLink{m: m}
	cfg := m.cfg
	opts := mqtt.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(o.clientID).
		SetUsername(o.username).
		SetPassword(o.password).
		SetProtocolVersion(4). // MQTT 3.1.1, as IoT Core; explicit, so a refusal is not retried as 3.1
		SetCleanSession(!o.keepSession).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(false). // the handler never blocks, but paho acks without waiting for it
		SetKeepAlive(o.keepAlive).
		SetPingTimeout(pingTimeout).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetWriteTimeout(writeTimeout).
		SetDefaultPublishHandler(func(_ mqtt.Client, msg mqtt.Message) {
			m.onMessage(l, []byte(msg.Topic()), msg.Payload(), nil)
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { l.closed(err) }).
		SetCustomOpenConnectionFn(func(u *url.URL, _ mqtt.ClientOptions) (net.Conn, error) { return l.dial(u) })
	if w := o.will; w != nil {
		opts.SetBinaryWill(string(w.topic), w.payload, w.qos, w.retain)
	}
	l.client = mqtt.NewClient(opts)
	go l.connect()
	return l, nil
}

// connect runs paho's blocking connect (bounded: the dial and the
// handshake each time out, and close aborts them) and delivers the outcome.
func (l *pahoLink) connect() {
	tok := l.client.Connect()
	<-tok.Done()
	if err := tok.Error(); err != nil {
		l.closed(err)
		return
	}
	l.mu.Lock()
	closing := l.closing
	l.up = !closing
	l.mu.Unlock()
	if closing { // closed during the handshake: close left the disconnect to us
		l.client.Disconnect(uint(quiesce / time.Millisecond))
		l.closed(errClosed)
		return
	}
	l.m.onConnected(l)
}

// dial opens the TCP or TLS connection for paho; a close that came first
// fails it.
func (l *pahoLink) dial(u *url.URL) (net.Conn, error) {
	cfg := l.m.cfg
	d := &net.Dialer{Timeout: cfg.ConnectTimeout}
	if cfg.LocalAddr.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: cfg.LocalAddr.AsSlice()}
	}
	var (
		nc  net.Conn
		err error
	)
	if runset.BrokerSchemes[strings.ToLower(u.Scheme)] {
		tc := cfg.TLS
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		nc, err = (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(context.Background(), "tcp", u.Host)
	} else {
		nc, err = d.DialContext(context.Background(), "tcp", u.Host)
	}
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		_ = nc.Close()
		return nil, errClosed
	}
	l.nc = nc
	return nc, nil
}

// closed delivers Closed, once.
func (l *pahoLink) closed(err error) { l.once.Do(func() { l.m.onClosed(l, err) }) }

// id returns the link's next packet id; l.mu held.
func (l *pahoLink) id() uint16 {
	l.nextID++
	if l.nextID == 0 {
		l.nextID = 1
	}
	return l.nextID
}

// subscribe ignores sub's MQTT 5 options: paho speaks MQTT 3.1.1.
func (l *pahoLink) subscribe(filter string, sub *Subscription) (uint16, error) {
	qos := sub.QoS
	l.mu.Lock()
	id := l.id()
	l.mu.Unlock()
	tok := l.client.Subscribe(filter, qos, nil) // nil: the default handler takes every message
	go func() {
		<-tok.Done() // paho completes every token when the connection ends
		if tok.Error() != nil {
			return // the connection is gone: Closed tells
		}
		granted := qos
		if st, ok := tok.(*mqtt.SubscribeToken); ok {
			granted = st.Result()[filter]
		}
		l.m.onSubscribed(l, id, granted)
	}()
	return id, nil
}

// publish ignores MQTT 5 properties: paho speaks MQTT 3.1.1.
func (l *pahoLink) publish(topic, payload []byte, qos byte, retain bool, _ *mqttlean.Properties) (uint16, error) {
	// paho keeps the slice it publishes until the broker acknowledged it.
	tok := l.client.Publish(string(topic), qos, retain, append([]byte(nil), payload...))
	if qos == 0 {
		return 0, nil
	}
	l.mu.Lock()
	id := l.id()
	l.mu.Unlock()
	go func() {
		<-tok.Done() // paho completes every token when the connection ends
		if tok.Error() == nil {
			l.m.onAcked(l, id, nil)
		}
	}()
	return id, nil
}

// close disconnects cleanly, or aborts a connect in progress; Closed
// follows either way.
func (l *pahoLink) close() {
	l.mu.Lock()
	l.closing = true
	up, nc := l.up, l.nc
	l.mu.Unlock()
	switch {
	case up:
		go func() {
			l.client.Disconnect(uint(quiesce / time.Millisecond))
			l.closed(errClosed)
		}()
	case nc != nil:
		_ = nc.Close() // the handshake fails at once; connect delivers Closed
	}
}
