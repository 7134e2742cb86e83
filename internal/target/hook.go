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
	acl    topicACL
	limits retainLimits
	m      *metrics
	log    *slog.Logger

	refusals refusals // the last refusal of each device refused, for Target.Refusal

	mu      sync.Mutex // Guards the fields below.
	expiry  map[*mqtt.Client]*time.Timer
	stopped bool
}

func newHook(server *mqtt.Server, auth *authenticator, limits retainLimits, m *metrics, log *slog.Logger) *hook {
	return &hook{server: server, auth: auth, acl: newTopicACL(auth.cfg.Topics), limits: limits, m: m, log: log, expiry: map[*mqtt.Client]*time.Timer{}}
}

// ID names the hook for mochi.
func (h *hook) ID() string { return "ltk-target" }

// Provides tells mochi which events the hook handles.
func (h *hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck,
		mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnPublished, mqtt.OnPacketSent, mqtt.OnPublishDropped,
		mqtt.OnPacketRead, mqtt.OnWill, mqtt.OnPublish:
		return true
	}
	return false
}

// OnConnect authenticates the client and checks its Will (see will.go).
// mochi's own refusal path (returning false from OnConnectAuthenticate)
// answers "bad username or password" to every refusal, so the CONNACK is sent
// here with the code connackCode picks. The returned error makes mochi close
// the connection.
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	exp, err := h.auth.connect(cl, pk)
	if err == nil {
		err = h.checkWill(cl, pk)
	}
	if err != nil {
		reason := ReasonMalformedToken
		var r *refusal
		if errors.As(err, &r) {
			reason = r.reason
		}
		h.m.refused[reason].Inc()
		h.refusals.refused(deviceID(cl.ID), reason)
		h.log.Debug("connection refused", "client", cl.ID, "remote", cl.Net.Remote, "error", err)
		code := connackCode(reason, cl.Properties.ProtocolVersion)
		if cl.Properties.ProtocolVersion >= 5 {
			// mochi sends the code's Reason as the CONNACK's reason string,
			// which MQTT 5 clients show: the target's reason, not the
			// code's name. (A 3.1.1 client gets the code alone; mochi maps
			// only the codes it knows, so the Reason is changed for 5 only.)
			code.Reason = reason.Text()
		}
		_ = h.server.SendConnack(cl, code, false, nil)
		return code
	}
	h.refusals.accepted(deviceID(cl.ID))
	if !exp.IsZero() {
		h.watchExpiry(cl, exp)
	}
	return nil
}

// connackCode is the CONNACK code refusing a connection for reason. IoT Core
// answered "not authorized"; a missing password is "bad user name or
// password" and a wildcard Will topic "topic name invalid" (MQTT 5 only).
// mochi turns MQTT 5 codes into 3.1.1 return codes (packets.V5CodesToV3):
// 0x86 to 5 (not authorized), 0x81 to 4 (bad user name or password).
func connackCode(reason Reason, protocolVersion byte) packets.Code {
	v5 := protocolVersion >= 5
	switch {
	case reason == ReasonNoPassword && v5:
		return packets.ErrBadUsernameOrPassword // 0x86
	case reason == ReasonNoPassword:
		return packets.ErrMalformedPassword // sent as 3.1.1 return code 4
	case reason == ReasonWillInvalid && v5:
		return packets.ErrTopicNameInvalid // 0x90
	case v5:
		return packets.ErrNotAuthorized // 0x87
	}
	return packets.ErrBadUsernameOrPassword // sent as 3.1.1 return code 5, "not authorized"
}

// OnPacketRead lets a CONNECT with an empty password reach OnConnect. mochi
// v2.7.9 answers a password flag with a zero-length password with CONNACK
// 0x82 (protocol error), which is no MQTT 3.1.1 return code, before any hook
// sees it; yet MQTT 3.1.1 section 3.1.3.5 allows a zero-length password.
// Clearing the flag makes it "no password", which OnConnect refuses with
// ReasonNoPassword under auth jwt.
func (h *hook) OnPacketRead(_ *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Type == packets.Connect && pk.Connect.PasswordFlag && len(pk.Connect.Password) == 0 {
		pk.Connect.PasswordFlag = false
	}
	return pk, nil
}

// OnConnectAuthenticate accepts: OnConnect has already refused what it must.
func (h *hook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

// OnACLCheck applies the device topic ACL (see acl.go).
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if cl.Net.Inline || h.auth.isBackend(cl.ID) {
		return true
	}
	return h.acl.allows(deviceID(cl.ID), topic, write)
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
