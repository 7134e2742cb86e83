package target

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/ltk-dev/ltk/internal/wsconn"
)

// wsListener is a mochi listener for MQTT over WebSocket (subprotocol
// "mqtt") on a socket bound beforehand, so that WSAddr names the real port
// (mochi's own WebSocket listener binds only when it serves).
type wsListener struct {
	id  string
	ln  net.Listener
	srv *http.Server
	up  websocket.Upgrader
	log *slog.Logger
}

var _ listeners.Listener = (*wsListener)(nil)

func newWSListener(id string, ln net.Listener) *wsListener {
	return &wsListener{id: id, ln: ln, up: websocket.Upgrader{
		Subprotocols: []string{"mqtt"},
		CheckOrigin:  func(*http.Request) bool { return true }, // devices send no Origin; a browser client may
	}}
}

func (l *wsListener) ID() string       { return l.id }
func (l *wsListener) Address() string  { return l.ln.Addr().String() }
func (l *wsListener) Protocol() string { return "ws" }

// Init makes the HTTP server; Serve runs it.
func (l *wsListener) Init(log *slog.Logger) error {
	l.log = log
	l.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// Serve upgrades each request and hands the connection to mochi until
// Close.
func (l *wsListener) Serve(establish listeners.EstablishFn) {
	l.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := l.up.Upgrade(w, r, nil) // answers a bad request itself
		if err != nil {
			return
		}
		nc := wsconn.New(ws)
		defer nc.Close()
		if err := establish(l.id, nc); err != nil && l.log != nil {
			l.log.Debug("websocket client ended", "error", err)
		}
	})
	if err := l.srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) && l.log != nil {
		l.log.Error("websocket listener failed", "error", err, "listener", l.id)
	}
}

// Close stops accepting and disconnects the listener's clients.
func (l *wsListener) Close(closeClients listeners.CloseFn) {
	_ = l.srv.Close()
	closeClients(l.id)
}
