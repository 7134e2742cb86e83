package mqttlean

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"

	"github.com/gorilla/websocket"

	"github.com/ltk-dev/ltk/internal/wsconn"
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
	return wsconn.New(ws), nil
}
