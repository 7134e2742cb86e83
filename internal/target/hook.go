package target

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// errJWTExpired closes a connection whose JWT has expired.
var errJWTExpired = errors.New("JWT expired")

// hook plugs device auth, the topic ACL, JWT expiry and metrics into mochi.
type hook struct {
	mqtt.HookBase
	server *mqtt.Server
	auth   *authenticator
	m      *metrics
	log    *slog.Logger

	mu      sync.Mutex // Guards the fields below.
	expiry  map[*mqtt.Client]*time.Timer
	stopped bool
}

func newHook(server *mqtt.Server, auth *authenticator, m *metrics, log *slog.Logger) *hook {
	return &hook{server: server, auth: auth, m: m, log: log, expiry: map[*mqtt.Client]*time.Timer{}}
}

// ID names the hook for mochi.
func (h *hook) ID() string { return "ltk-target" }

// Provides tells mochi which events the hook handles.
func (h *hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck,
		mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnPublished, mqtt.OnPacketSent, mqtt.OnPublishDropped:
		return true
	}
	return false
}

// OnConnect authenticates the client. mochi's own refusal path (returning
// false from OnConnectAuthenticate) answers "bad username or password" to
// MQTT 5 clients; IoT Core answered "not authorized", so the CONNACK is sent
// here: return code 5 for MQTT 3.1.1 (mochi maps 0x86 to it), reason 0x87
// for MQTT 5. The returned error makes mochi close the connection.
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	exp, err := h.auth.authenticate(cl.ID, pk.Connect.Password)
	if err != nil {
		var r *refusal
		if errors.As(err, &r) {
			h.m.refused[r.reason].Inc()
		}
		h.log.Debug("connection refused", "client", cl.ID, "remote", cl.Net.Remote, "error", err)
		code := packets.ErrNotAuthorized
		if cl.Properties.ProtocolVersion < 5 {
			code = packets.ErrBadUsernameOrPassword // sent as 3.1.1 return code 5, "not authorized"
		}
		_ = h.server.SendConnack(cl, code, false, nil)
		return code
	}
	if !exp.IsZero() {
		h.watchExpiry(cl, exp)
	}
	return nil
}

// OnConnectAuthenticate accepts: OnConnect has already refused what it must.
func (h *hook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

// OnACLCheck applies the device topic ACL (see acl.go).
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if cl.Net.Inline || h.auth.isBackend(cl.ID) {
		return true
	}
	d := deviceID(cl.ID)
	if write {
		return mayPublish(d, topic)
	}
	return mayRead(d, topic)
}

// OnSessionEstablished counts an accepted connection.
func (h *hook) OnSessionEstablished(*mqtt.Client, packets.Packet) {
	h.m.connects.Inc()
	h.m.connections.Inc()
}

// OnDisconnect stops the client's expiry timer. mochi calls it only for
// connections that reached OnSessionEstablished.
func (h *hook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	h.m.connections.Dec()
	h.mu.Lock()
	if t, ok := h.expiry[cl]; ok {
		t.Stop()
		delete(h.expiry, cl)
	}
	h.mu.Unlock()
}

// OnPublished counts messages accepted from network clients.
func (h *hook) OnPublished(cl *mqtt.Client, _ packets.Packet) {
	if !cl.Net.Inline {
		h.m.received.Inc()
	}
}

// OnPacketSent counts messages written to clients.
func (h *hook) OnPacketSent(_ *mqtt.Client, pk packets.Packet, _ []byte) {
	if pk.FixedHeader.Type == packets.Publish {
		h.m.sent.Inc()
	}
}

// OnPublishDropped counts messages dropped on a full client queue.
func (h *hook) OnPublishDropped(*mqtt.Client, packets.Packet) { h.m.dropped.Inc() }

// watchExpiry closes cl's connection when its JWT expires, as IoT Core did.
// If the connection fails between OnConnect and the session (mochi then skips
// OnDisconnect), the timer still fires once, finds the client closed and
// removes itself, so no entry outlives the token.
func (h *hook) watchExpiry(cl *mqtt.Client, exp time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	h.expiry[cl] = time.AfterFunc(time.Until(exp), func() {
		h.mu.Lock()
		_, ok := h.expiry[cl]
		delete(h.expiry, cl)
		h.mu.Unlock()
		if !ok || cl.Closed() {
			return
		}
		h.m.jwtExpiredDisconns.Inc()
		h.log.Debug("JWT expired, closing connection", "client", cl.ID)
		if cl.Properties.ProtocolVersion >= 5 {
			_ = h.server.DisconnectClient(cl, packets.ErrNotAuthorized)
			return
		}
		cl.Stop(errJWTExpired) // MQTT 3.1.1 has no server DISCONNECT: close the socket
	})
}

// stop cancels every expiry timer; later connections get none.
func (h *hook) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	for cl, t := range h.expiry {
		t.Stop()
		delete(h.expiry, cl)
	}
}
