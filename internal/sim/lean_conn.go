package sim

import (
	"crypto/tls"
	"math/rand/v2"
	"time"

	"github.com/ltk-dev/ltk/internal/mqttlean"
	"github.com/ltk-dev/ltk/internal/pace"
)

// The lean device's connection: connect, the mqttlean.Handler methods, the
// reconnects (after a loss, with backoff; ahead of credential expiry, after
// refreshGrace) and what each outcome records.

// refreshGrace separates the close of a connection replaced for fresh
// credentials from the new connect. A broker may still be tidying up the
// old session when the new one arrives with the same client id: mochi (the
// embedded target's broker) then removes the new session's subscription
// along with the old one's, and the device's echoes are lost until its next
// reconnect. Paho's client waits as long (its quiesce) when it disconnects.
const refreshGrace = quiesce

// connect starts one connection attempt: password, then Dial; the rest
// follows in Connected, Subscribed and Closed.
func (d *leanDevice) connect(now time.Time) {
	cfg := d.cfg
	d.minted, d.expires = now, time.Time{}
	var password string
	if cfg.Credentials != nil {
		p, exp, err := cfg.Credentials.Password(now)
		if err != nil {
			cfg.Recorder.Failure(EventConnect, 0, "device "+cfg.DeviceID+" credentials: "+err.Error())
			d.retryLater(now)
			return
		}
		password, d.expires = p, exp
	}
	o := mqttlean.Options{
		Addr:           d.dev.addr,
		LocalAddr:      cfg.LocalAddr,
		ClientID:       cfg.ClientID,
		Username:       cfg.Username,
		Password:       password,
		KeepAlive:      cfg.KeepAlive,
		ConnectTimeout: cfg.ConnectTimeout,
	}
	if d.dev.tls {
		o.TLS = cfg.TLS
		if o.TLS == nil {
			o.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	}
	d.since = now
	c, err := mqttlean.Dial(&o, d)
	if err != nil {
		cfg.Recorder.Failure(EventConnect, time.Since(now), err.Error())
		d.retryLater(now)
		return
	}
	d.conn, d.link, d.intent = c, linkConnecting, intentNone
}

// retryLater schedules the next connect attempt after the backoff.
func (d *leanDevice) retryLater(now time.Time) {
	if d.stopping || d.behDone {
		return
	}
	b := pace.Backoff{Min: d.cfg.ReconnectMin, Max: d.cfg.ReconnectMax}
	d.retryAt = now.Add(b.Next(d.attempt, rand.Float64()))
	d.attempt++
}

// closeConn closes the connection on purpose; Closed follows.
func (d *leanDevice) closeConn(why closeIntent) {
	if d.conn == nil {
		return
	}
	d.intent = why
	d.conn.Close()
}

// Connected records the connect and subscribes to the command topic.
func (d *leanDevice) Connected(c *mqttlean.Conn) {
	d.mu.Lock()
	defer d.unlock()
	if c != d.conn || d.link != linkConnecting || d.intent != intentNone {
		return
	}
	now := time.Now()
	d.cfg.Recorder.Success(EventConnect, now.Sub(d.since), 0)
	d.link, d.since, d.subBy = linkSubscribing, now, now.Add(d.cfg.ConnectTimeout)
	id, err := c.Subscribe(d.dev.filter, d.cfg.QoS)
	if err != nil {
		return // the connection is closing; Closed records the failed subscribe
	}
	d.subID = id
	d.arm(now)
}

// Subscribed records the subscribe; the first one starts the behaviour.
func (d *leanDevice) Subscribed(c *mqttlean.Conn, id uint16, granted byte) {
	d.mu.Lock()
	defer d.unlock()
	if c != d.conn || d.link != linkSubscribing || id != d.subID || d.intent != intentNone {
		return
	}
	now := time.Now()
	if granted == 0x80 {
		d.cfg.Recorder.Failure(EventSubscribe, now.Sub(d.since), errSubscribeRefused.Error())
		d.closeConn(intentRetry)
		return
	}
	d.cfg.Recorder.Success(EventSubscribe, now.Sub(d.since), 0)
	d.link, d.attempt = linkUp, 0
	d.armRefresh()
	d.behaviorStart(now)
	d.arm(now)
}

// armRefresh schedules the proactive reconnect ahead of credential expiry,
// as supervisor.armRefresh does.
func (d *leanDevice) armRefresh() {
	d.refresh = refreshNone
	if d.expires.IsZero() {
		return
	}
	life := d.expires.Sub(d.minted)
	if life <= 0 {
		return // already expired: the broker will say so
	}
	margin := min(life/2, maxRefreshMargin)
	d.refresh, d.openAt, d.hard = refreshWaiting, d.expires.Add(-margin), d.expires.Add(-margin/4)
}

// refreshNow replaces the connection with one carrying fresh credentials.
func (d *leanDevice) refreshNow() {
	d.cfg.Logger.Debug("reconnecting ahead of credential expiry", "device", d.cfg.DeviceID)
	d.refresh = refreshNone
	d.closeConn(intentRefresh)
}

// Message hands a command to the behaviour; in the refresh window it is the
// quiet moment to reconnect.
func (d *leanDevice) Message(c *mqttlean.Conn, topic, payload []byte) {
	d.mu.Lock()
	defer d.unlock()
	if c != d.conn || d.link != linkUp || d.intent != intentNone {
		return
	}
	now := time.Now()
	d.behaviorMessage(topic, payload, now)
	if d.refresh == refreshOpen && !d.stopping {
		d.refreshNow()
	}
	d.arm(now)
}

// Acked completes the publish in flight.
func (d *leanDevice) Acked(c *mqttlean.Conn, id uint16) {
	d.mu.Lock()
	defer d.unlock()
	if c != d.conn {
		return
	}
	now := time.Now()
	d.behaviorAcked(id, now)
	d.arm(now)
}

// Closed ends a connection: it records what was lost, unless the device
// closed it on purpose, and decides what comes next.
func (d *leanDevice) Closed(c *mqttlean.Conn, err error) {
	d.mu.Lock()
	defer d.unlock()
	if c != d.conn {
		return
	}
	now := time.Now()
	link, intent := d.link, d.intent
	d.conn, d.link, d.intent, d.refresh = nil, linkNone, intentNone, refreshNone
	d.behaviorConnLost(intent != intentNone)
	switch {
	case d.behDone:
		d.complete()
	case intent == intentRefresh:
		if !d.stopping {
			d.retryAt = now.Add(refreshGrace)
		}
	case intent == intentRetry:
		d.retryLater(now)
	case intent == intentAbort:
	default:
		d.cfg.Logger.Debug("connection lost", "device", d.cfg.DeviceID, "err", err)
		switch {
		case link == linkUp:
			d.cfg.Recorder.Failure(EventDisconnect, 0, err.Error())
		case d.stopping: // an aborted connect is not a failure
		case link == linkConnecting:
			d.cfg.Recorder.Failure(EventConnect, now.Sub(d.since), err.Error())
		case link == linkSubscribing:
			d.cfg.Recorder.Failure(EventSubscribe, now.Sub(d.since), err.Error())
		}
		d.retryLater(now)
	}
	if !d.completed {
		d.settleLastWait() // a stop waiting for a publish the connection took away
	}
	d.arm(now)
}
