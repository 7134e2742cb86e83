package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Settings of the paho client that are not worth a Config field.
const (
	writeTimeout = 10 * time.Second       // one packet write, and Publish's hand-off to paho
	pingTimeout  = 10 * time.Second       // PINGRESP wait before the connection counts as lost
	quiesce      = 250 * time.Millisecond // how long Disconnect waits for in-flight work
)

// errSubscribeRefused is recorded when the broker answers SUBACK 0x80.
var errSubscribeRefused = errors.New("subscription refused by the broker")

// errSubscribeTimeout is recorded when no SUBACK arrives in time.
var errSubscribeTimeout = errors.New("no SUBACK within the connect timeout")

// conn is one MQTT connection of a device: a fresh paho client per connect,
// because paho warns that reusing a disconnected client may panic, and
// because each connect may carry a new password.
type conn struct {
	client  mqtt.Client
	expires time.Time // when the password stops being valid; zero = never
	minted  time.Time // when the password was obtained

	down    chan struct{} // closed when the connection is lost or closed
	err     error         // why it went down; written before down is closed
	once    sync.Once
	abortMu sync.Mutex // guards abort
	abort   func() bool
}

// markDown records why the connection ended and closes down, once.
func (c *conn) markDown(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.down)
	})
}

// close disconnects cleanly; the connection does not count as lost.
func (c *conn) close() {
	c.markDown(errClosed)
	c.client.Disconnect(uint(quiesce / time.Millisecond))
}

var errClosed = errors.New("connection closed by the device")

// closedByDevice reports whether the device closed c itself (and not the
// network or the broker).
func (c *conn) closedByDevice() bool {
	select {
	case <-c.down:
		return c.err == errClosed
	default:
		return false
	}
}

// connect makes one connection: password, CONNECT, SUBSCRIBE. It records
// "MQTT connect" and "MQTT subscribe" (success or failure) unless ctx ended,
// and returns the live connection or the reason it failed. A ctx that ends
// during the dial or the handshake aborts them.
func (s *Session) connect(ctx context.Context) (*conn, error) {
	cfg := s.cfg
	c := &conn{down: make(chan struct{})}
	c.minted = time.Now()
	var password string
	if cfg.Credentials != nil {
		p, exp, err := cfg.Credentials.Password(c.minted)
		if err != nil {
			err = fmt.Errorf("device %s credentials: %w", cfg.DeviceID, err)
			s.Failure(EventConnect, 0, err.Error())
			return nil, err
		}
		password, c.expires = p, exp
	}
	c.client = mqtt.NewClient(s.clientOptions(ctx, c, password))

	start := time.Now()
	tok := c.client.Connect()
	<-tok.Done() // bounded: the dial and the handshake each time out, and ctx aborts them
	c.abortMu.Lock()
	if c.abort != nil {
		c.abort()
	}
	c.abortMu.Unlock()
	if err := ctx.Err(); err != nil {
		if tok.Error() == nil {
			c.close()
		}
		return nil, err
	}
	if err := tok.Error(); err != nil {
		s.Failure(EventConnect, time.Since(start), err.Error())
		return nil, err
	}
	s.Success(EventConnect, time.Since(start), 0)

	if err := s.subscribe(ctx, c); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// subscribe subscribes c to the device's command topic and records it.
func (s *Session) subscribe(ctx context.Context, c *conn) error {
	start := time.Now()
	topic := s.commandsFilter()
	tok := c.client.Subscribe(topic, s.cfg.QoS, nil) // nil: the default handler takes every message
	timer := time.NewTimer(s.cfg.ConnectTimeout)
	defer timer.Stop()
	var err error
	select {
	case <-tok.Done():
		err = tok.Error()
		if st, ok := tok.(*mqtt.SubscribeToken); ok && err == nil && st.Result()[topic] == 0x80 {
			err = errSubscribeRefused
		}
	case <-c.down:
		err = c.err
	case <-timer.C:
		err = errSubscribeTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
	if err != nil {
		s.Failure(EventSubscribe, time.Since(start), err.Error())
		return err
	}
	s.Success(EventSubscribe, time.Since(start), 0)
	return nil
}

// commandsFilter returns the subscription filter /devices/D/commands/#.
func (s *Session) commandsFilter() string { return s.filter }

// clientOptions configures paho for one connection of the device. The engine
// owns reconnects (to record them), so paho's are off; the session is clean,
// as IoT Core's were; messages go to one non-blocking handler.
func (s *Session) clientOptions(ctx context.Context, c *conn, password string) *mqtt.ClientOptions {
	cfg := s.cfg
	o := mqtt.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).
		SetPassword(password).
		SetProtocolVersion(4). // MQTT 3.1.1, as IoT Core; explicit, so a refusal is not retried as 3.1
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(false). // the handler never blocks, but paho acks without waiting for it
		SetKeepAlive(cfg.KeepAlive).
		SetPingTimeout(pingTimeout).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetWriteTimeout(writeTimeout).
		SetDefaultPublishHandler(s.onMessage).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { c.markDown(err) }).
		SetCustomOpenConnectionFn(func(u *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
			return s.dial(ctx, c, u)
		})
	// The store stays paho's default in-memory one: nothing outlives the
	// process, and a clean session discards it on every connect.
	// SetMessageChannelDepth is a no-op in paho 1.5; commandDepth bounds the
	// device's own queue instead.
	return o
}

// dial opens the TCP or TLS connection for paho. ctx aborts the dial, and a
// ctx that ends before the MQTT handshake completes closes the socket so the
// handshake fails at once; connect disarms that when the handshake is done.
func (s *Session) dial(ctx context.Context, c *conn, u *url.URL) (net.Conn, error) {
	d := &net.Dialer{Timeout: s.cfg.ConnectTimeout}
	if s.cfg.LocalAddr.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: s.cfg.LocalAddr.AsSlice()}
	}
	var nc net.Conn
	var err error
	if brokerSchemes[u.Scheme] {
		cfg := s.cfg.TLS
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		nc, err = (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", u.Host)
	} else {
		nc, err = d.DialContext(ctx, "tcp", u.Host)
	}
	if err != nil {
		return nil, err
	}
	c.abortMu.Lock()
	c.abort = context.AfterFunc(ctx, func() { _ = nc.Close() })
	c.abortMu.Unlock()
	return nc, nil
}
