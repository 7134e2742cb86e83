package sim

import (
	"crypto/tls"

	"github.com/ltk-dev/ltk/internal/mqttlean"
	"github.com/ltk-dev/ltk/internal/runset"
)

// leanConn is an mqttlean connection as a machine's link. The machine is
// the connection's mqttlean.Handler: the loops call it directly.
type leanConn mqttlean.Conn

var _ mqttlean.Handler = (*machine)(nil)

// dialLean opens a lean connection on the machine's Engine.
func dialLean(m *machine, o *dialOptions) (link, error) {
	cfg := m.cfg
	lo := mqttlean.Options{
		Addr:           m.dev.addr,
		LocalAddr:      cfg.LocalAddr,
		ClientID:       o.clientID,
		Username:       o.username,
		Password:       o.password,
		KeepAlive:      o.keepAlive,
		KeepSession:    o.keepSession,
		ConnectTimeout: cfg.ConnectTimeout,
		Loops:          m.cfg.Engine.loops,
	}
	if cfg.version() == runset.MQTTVersion5 {
		lo.Version = mqttlean.Version5
		lo.RequestResponseInfo = true // so that mochi forwards response topics and correlation data
	}
	if w := o.will; w != nil {
		lo.Will = &mqttlean.Message{Topic: w.topic, Payload: w.payload, QoS: w.qos, Retain: w.retain}
	}
	if m.dev.tls {
		lo.TLS = cfg.TLS
		if lo.TLS == nil {
			lo.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		lo.TLSSessionCache = cfg.Engine.tlsSessions()
	}
	if m.dev.ws {
		lo.WebSocket = &mqttlean.WebSocket{Path: m.dev.wsPath}
	}
	c, err := mqttlean.Dial(&lo, m)
	if err != nil {
		return nil, err
	}
	return (*leanConn)(c), nil
}

func (c *leanConn) subscribe(filter string, sub *Subscription) (uint16, error) {
	return (*mqttlean.Conn)(c).SubscribeWith(filter, mqttlean.SubscribeOptions{
		QoS: sub.QoS, NoLocal: sub.NoLocal, RetainAsPublished: sub.RetainAsPublished, RetainHandling: sub.RetainHandling,
	})
}

func (c *leanConn) publish(topic, payload []byte, qos byte, retain bool, props *mqttlean.Properties) (uint16, error) {
	m := mqttlean.Message{Topic: topic, Payload: payload, QoS: qos, Retain: retain, Properties: props}
	return (*mqttlean.Conn)(c).PublishMessage(&m)
}

func (c *leanConn) close() { (*mqttlean.Conn)(c).Close() }

// Connected is the lean connection's CONNACK.
func (m *machine) Connected(c *mqttlean.Conn) { m.onConnected((*leanConn)(c)) }

// Message is a PUBLISH from the broker, with its MQTT 5 properties.
func (m *machine) Message(c *mqttlean.Conn, topic, payload []byte) {
	m.onMessage((*leanConn)(c), topic, payload, c.ReceivedProperties())
}

// Acked is a PUBACK or, at QoS 2, a PUBCOMP; err is the broker's refusal
// (an MQTT 5 reason code).
func (m *machine) Acked(c *mqttlean.Conn, id uint16, err error) {
	m.onAcked((*leanConn)(c), id, err)
}

// Subscribed is a SUBACK.
func (m *machine) Subscribed(c *mqttlean.Conn, id uint16, granted byte) {
	m.onSubscribed((*leanConn)(c), id, granted)
}

// Closed ends the lean connection.
func (m *machine) Closed(c *mqttlean.Conn, err error) { m.onClosed((*leanConn)(c), err) }
