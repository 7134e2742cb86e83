package sim

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/ltk-dev/ltk/internal/mqttlean"
	"github.com/ltk-dev/ltk/internal/pace"
)

// The machine's connection: connect, the connection's events, the
// reconnects (after a loss, with backoff; ahead of credential expiry, after
// refreshGrace) and what each outcome records. Both clients deliver the
// same events here: the lean client through machine's mqttlean.Handler
// methods (link_lean.go), paho through its callbacks (link_paho.go).

// maxRefreshMargin caps how long before its credentials expire a device
// starts looking for a quiet moment to reconnect.
const maxRefreshMargin = time.Minute

// refreshGrace separates the close of a connection replaced for fresh
// credentials (or of a device's previous run) from the new connect. A
// broker may still be tidying up the old session when the new one arrives
// with the same client id: mochi (the embedded target's broker) then
// removes the new session's subscription along with the old one's, and the
// device's echoes are lost until its next reconnect. Paho's client waits as
// long (its quiesce) when it disconnects.
const refreshGrace = quiesce

// Outcomes recorded as failures of the connection's events.
var (
	errSubscribeRefused = errors.New("subscription refused by the broker")
	errSubscribeTimeout = errors.New("no SUBACK within the connect timeout")
	errPublishLost      = errors.New("connection lost before the publish completed")
	errPublishTimeout   = errors.New("no acknowledgement from the broker within the echo timeout")
	errInFlightAtStop   = errors.New("in flight at the stop: no answer within the last message timeout")
)

// link is one connection of a device, on either client. Its methods are
// called with the machine's lock held and must not block; the outcome of
// each comes back as an event.
type link interface {
	subscribe(filter string, sub *Subscription) (uint16, error)
	publish(topic, payload []byte, qos byte, retain bool, props *mqttlean.Properties) (uint16, error)
	close()
}

// dialOptions are what a client needs to open a connection.
type dialOptions struct {
	clientID, username, password string
	keepAlive                    time.Duration
	keepSession                  bool // clean session off
	will                         *willMessage
}

// willMessage is a rendered will.
type willMessage struct {
	topic, payload []byte
	qos            byte
	retain         bool
}

// connect starts one connection attempt: password, then the dial; the rest
// follows in onConnected, onSubscribed and onClosed.
func (m *machine) connect(now time.Time) {
	cfg, p := m.cfg, m.prog
	m.minted, m.expires = now, time.Time{}
	o := dialOptions{clientID: cfg.ClientID, username: cfg.Username, keepAlive: cfg.KeepAlive, keepSession: p.KeepSession}
	switch {
	case p.Password != nil: // rendered below
	case p.Backend:
		o.password = cfg.BackendPassword // never a device's credentials
	case cfg.Credentials != nil:
		pw, exp, err := cfg.Credentials.Password(now)
		if err != nil {
			cfg.Recorder.Failure(EventConnect, 0, cfg.DeviceID, faultMsg("credentials: "+err.Error()))
			m.retryLater(now)
			return
		}
		o.password, m.expires = pw, exp
	}
	if p.ClientID != nil || p.Username != nil || p.Password != nil || p.Will != nil {
		m.render(now, func(v *Vars, s *scratch) {
			if p.ClientID != nil {
				o.clientID = string(p.ClientID.Append(s.topic[:0], v))
			}
			if p.Username != nil {
				o.username = string(p.Username.Append(s.topic[:0], v))
			}
			if p.Password != nil {
				o.password = string(p.Password.Append(s.topic[:0], v))
			}
			if w := p.Will; w != nil {
				o.will = &willMessage{topic: w.Topic.Append(nil, v), payload: appendTemplate(nil, w.Payload, v), qos: w.QoS, retain: w.Retain}
			}
		})
	}
	if p.KeepAlive > 0 {
		o.keepAlive = p.KeepAlive
	}
	m.since = now
	var (
		c   link
		err error
	)
	if cfg.Client == ClientPaho {
		c, err = dialPaho(m, &o)
	} else {
		c, err = dialLean(m, &o)
	}
	if err != nil {
		cfg.Recorder.Failure(EventConnect, time.Since(now), cfg.DeviceID, FaultOf(err))
		m.retryLater(now)
		return
	}
	m.conn, m.link, m.intent = c, linkConnecting, intentNone
}

// retryLater schedules the next connect attempt after the backoff.
func (m *machine) retryLater(now time.Time) {
	if m.stopping || m.progDone {
		return
	}
	b := pace.Backoff{Min: m.cfg.ReconnectMin, Max: m.cfg.ReconnectMax}
	m.retryAt = now.Add(b.Next(m.attempt, rand.Float64()))
	m.attempt++
}

// closeConn closes the connection on purpose; onClosed follows.
func (m *machine) closeConn(why closeIntent) {
	if m.conn == nil {
		return
	}
	m.intent = why
	m.conn.close()
}

// current reports whether c is the device's connection and no close of
// ours is under way.
func (m *machine) current(c link) bool { return c == m.conn && m.intent == intentNone }

// onConnected records the connect and subscribes.
func (m *machine) onConnected(c link) {
	m.mu.Lock()
	defer m.unlock()
	if !m.current(c) || m.link != linkConnecting {
		return
	}
	now := time.Now()
	m.cfg.Recorder.Success(EventConnect, now.Sub(m.since), 0)
	if m.stopping { // in flight at the stop: counted, and nothing follows
		m.connectStopped(now)
		return
	}
	subs := m.prog.Subscribe
	if len(subs) == 0 {
		m.up(now)
		m.arm(now)
		return
	}
	m.link, m.since, m.subBy, m.subLeft = linkSubscribing, now, now.Add(m.cfg.ConnectTimeout), len(subs)
	m.render(now, func(v *Vars, s *scratch) {
		for i := range subs {
			if _, err := c.subscribe(string(subs[i].Filter.Append(s.topic[:0], v)), &subs[i]); err != nil {
				return // the connection is closing; onClosed records the failed subscribe
			}
		}
	})
	m.arm(now)
}

// onSubscribed counts a SUBACK; the last one of a connect records the
// subscribe and lets the program run.
func (m *machine) onSubscribed(c link, _ uint16, granted byte) {
	m.mu.Lock()
	defer m.unlock()
	if !m.current(c) || m.link != linkSubscribing {
		return
	}
	now := time.Now()
	if granted >= 0x80 {
		msg := errSubscribeRefused.Error()
		if granted > 0x80 { // an MQTT 5 reason code says why
			msg = mqttlean.ReasonCode(granted).Error()
		}
		m.cfg.Recorder.Failure(EventSubscribe, now.Sub(m.since), m.cfg.DeviceID, faultMsg(msg))
		m.closeConn(intentRetry)
		return
	}
	if m.subLeft--; m.subLeft > 0 {
		return
	}
	m.cfg.Recorder.Success(EventSubscribe, now.Sub(m.since), 0)
	if m.stopping { // in flight at the stop: counted, and the program does not start
		m.connectStopped(now)
		return
	}
	m.up(now)
	m.arm(now)
}

// up makes the connection usable: the credential refresh is scheduled and
// the program runs.
func (m *machine) up(now time.Time) {
	m.link, m.attempt = linkUp, 0
	m.armRefresh()
	m.programUp(now)
}

// armRefresh schedules the proactive reconnect ahead of credential expiry:
// a window opens margin before expiry (margin = half the lifetime, at most
// maxRefreshMargin) and closes at margin/4 before it.
func (m *machine) armRefresh() {
	m.refresh = refreshNone
	if m.expires.IsZero() {
		return
	}
	life := m.expires.Sub(m.minted)
	if life <= 0 {
		return // already expired: the broker will say so
	}
	margin := min(life/2, maxRefreshMargin)
	m.refresh, m.openAt, m.hard = refreshWaiting, m.expires.Add(-margin), m.expires.Add(-margin/4)
}

// refreshNow replaces the connection with one carrying fresh credentials.
func (m *machine) refreshNow() {
	m.cfg.Logger.Debug("reconnecting ahead of credential expiry", "device", m.cfg.DeviceID)
	m.refresh = refreshNone
	m.closeConn(intentRefresh)
}

// onMessage hands a message to the program; in the refresh window it is
// the quiet moment to reconnect.
// props are its MQTT 5 properties, nil on MQTT 3.1.1.
func (m *machine) onMessage(c link, topic, payload []byte, props *mqttlean.Properties) {
	m.mu.Lock()
	defer m.unlock()
	if !m.current(c) || m.link != linkUp {
		return
	}
	now := time.Now()
	m.programMessage(topic, payload, props, now)
	if m.refresh == refreshOpen && !m.stopping {
		m.refreshNow()
	}
	m.arm(now)
}

// onAcked completes a publish in flight; err is the broker's refusal of
// it, if it refused it.
func (m *machine) onAcked(c link, id uint16, err error) {
	m.mu.Lock()
	defer m.unlock()
	if c != m.conn {
		return
	}
	now := time.Now()
	m.programAcked(id, err, now)
	m.arm(now)
}

// onClosed ends a connection: it records what was lost, unless the device
// closed it on purpose, and decides what comes next.
func (m *machine) onClosed(c link, err error) {
	m.mu.Lock()
	defer m.unlock()
	if c != m.conn {
		return
	}
	now := time.Now()
	link, intent := m.link, m.intent
	m.conn, m.link, m.intent, m.refresh = nil, linkNone, intentNone, refreshNone
	m.programConnLost(intent != intentNone, now)
	switch {
	case m.progDone:
		m.complete()
	case intent == intentRefresh:
		if !m.stopping {
			m.retryAt = now.Add(refreshGrace)
		}
	case intent == intentRetry:
		m.retryLater(now)
	case intent == intentAbort:
	default:
		m.cfg.Logger.Debug("connection lost", "device", m.cfg.DeviceID, "err", err)
		switch {
		case link == linkUp:
			m.cfg.Recorder.Failure(EventDisconnect, 0, m.cfg.DeviceID, FaultOf(err))
		case link == linkConnecting:
			m.cfg.Recorder.Failure(EventConnect, now.Sub(m.since), m.cfg.DeviceID, FaultOf(err))
		case link == linkSubscribing:
			m.cfg.Recorder.Failure(EventSubscribe, now.Sub(m.since), m.cfg.DeviceID, FaultOf(err))
		}
		m.retryLater(now)
	}
	if !m.completed {
		m.settleLastWait() // a stop waiting for a publish the connection took away
	}
	m.arm(now)
}
