package mqttlean

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/gorilla/websocket"
)

// wsSubprotocol is MQTT's WebSocket subprotocol (MQTT 3.1.1 §6, MQTT 5 §6).
const wsSubprotocol = "mqtt"

// dialWebSocket opens a WebSocket to path at addr (wss:// when cfg is set)
// with d and returns it as a net.Conn carrying MQTT's bytes.
func dialWebSocket(ctx context.Context, d *net.Dialer, addr, path string, cfg *tls.Config) (net.Conn, error) {
	u := url.URL{Scheme: "ws", Host: addr, Path: path}
	if u.Path == "" {
		u.Path = "/"
	}
	if cfg != nil {
		u.Scheme = "wss"
	}
	wd := websocket.Dialer{
		NetDialContext:   d.DialContext,
		TLSClientConfig:  cfg,
		Subprotocols:     []string{wsSubprotocol},
		HandshakeTimeout: d.Timeout,
		ReadBufferSize:   streamReadBuf,
		WriteBufferSize:  streamReadBuf,
	}
	ws, resp, err := wd.DialContext(ctx, u.String(), nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, &net.OpError{Op: "dial", Net: "websocket", Addr: stringAddr(u.String()), Err: errors.New("the server answered the WebSocket upgrade with " + resp.Status)}
		}
		return nil, err
	}
	if ws.Subprotocol() != wsSubprotocol {
		_ = ws.Close()
		return nil, &net.OpError{Op: "dial", Net: "websocket", Addr: stringAddr(u.String()), Err: errors.New(`the server did not accept the WebSocket subprotocol "mqtt"`)}
	}
	return &wsConn{Conn: ws}, nil
}

// wsConn is a WebSocket as the byte stream MQTT sees: each write is one
// binary message, and reads run through the messages' contents in order
// (MQTT packets may span messages, and a message may hold several).
type wsConn struct {
	*websocket.Conn
	r io.Reader // the message being read; nil between messages
}

var _ net.Conn = (*wsConn)(nil)

// Read reads the next bytes of the current message, or of the next one.
// The end of the WebSocket, cleanly closed or cut, is io.EOF.
func (w *wsConn) Read(b []byte) (int, error) {
	for {
		if w.r == nil {
			typ, r, err := w.NextReader()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) || errors.Is(err, io.ErrUnexpectedEOF) {
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errors.New("MQTT over WebSocket: the broker sent a text message (MQTT needs binary messages)")
			}
			w.r = r
		}
		n, err := w.r.Read(b)
		if errors.Is(err, io.EOF) {
			w.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// Write sends b as one binary message.
func (w *wsConn) Write(b []byte) (int, error) {
	if err := w.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// SetDeadline sets both deadlines.
func (w *wsConn) SetDeadline(t time.Time) error {
	return errors.Join(w.SetReadDeadline(t), w.SetWriteDeadline(t))
}
