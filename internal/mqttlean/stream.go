package mqttlean

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"
)

// streamWriteTimeout bounds one write on a stream connection.
const streamWriteTimeout = 10 * time.Second

// streamReadBuf is the read buffer of a stream connection.
const streamReadBuf = 4096

// stream is the transport of TLS and WebSocket connections (and of every
// connection where the epoll loops are not available): a net.Conn and one reader goroutine,
// which dials first.
type stream struct {
	cancel context.CancelFunc // aborts the dial
	nc     net.Conn           // nil until dialed; guarded by Conn.mu
}

// dialStream starts the reader goroutine that dials and then reads. c.mu held.
func dialStream(c *Conn, o *Options, connect []byte, timeout time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	s := &stream{cancel: cancel}
	c.tr = s
	d := &net.Dialer{Timeout: timeout}
	if o.LocalAddr.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: o.LocalAddr.AsSlice()}
	}
	addr, cfg := o.Addr, o.TLS
	if o.TLSSessionCache != nil && cfg != nil && cfg.ClientSessionCache == nil {
		cfg = cfg.Clone()
		cfg.ClientSessionCache = o.TLSSessionCache
	}
	ws := o.WebSocket
	go s.run(ctx, c, func() (net.Conn, error) {
		if ws != nil {
			return dialWebSocket(ctx, d, addr, ws.Path, cfg)
		}
		if cfg != nil {
			return (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", addr)
		}
		return d.DialContext(ctx, "tcp", addr)
	}, connect)
	return nil
}

// run dials, sends CONNECT and reads until the connection ends.
func (s *stream) run(ctx context.Context, c *Conn, dial func() (net.Conn, error), connect []byte) {
	nc, err := dial()
	if err != nil {
		if ctx.Err() != nil {
			err = nil // aborted: finish reports the abort's reason
		}
		c.finish(err, s.release)
		return
	}
	c.mu.Lock()
	s.nc = nc
	if c.st >= stateClosing {
		c.mu.Unlock()
		c.finish(nil, s.release)
		return
	}
	c.handshakeStarted(connect)
	c.mu.Unlock()

	buf := make([]byte, streamReadBuf)
	var readErr error
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			if ferr := c.feed(buf[:n]); ferr != nil {
				readErr = ferr
				break
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
	}
	c.finish(readErr, s.release)
}

// write writes b with a deadline. c.mu held.
func (s *stream) write(_ *Conn, b []byte) error {
	if err := s.nc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil {
		return err
	}
	_, err := s.nc.Write(b)
	return err
}

// shutdown aborts the dial or closes the socket, which ends the reader's
// Read. c.mu held.
func (s *stream) shutdown(*Conn) { s.release() }

// release frees the socket. c.mu held.
func (s *stream) release() {
	s.cancel()
	if s.nc != nil {
		_ = s.nc.Close()
	}
}
