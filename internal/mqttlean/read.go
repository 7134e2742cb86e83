package mqttlean

import (
	"fmt"
	"slices"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// feed processes bytes read from the socket: every whole packet is
// dispatched, and an incomplete tail waits in c.partial for the next read.
// Reader only. An error ends the connection.
func (c *Conn) feed(data []byte) error {
	if len(c.partial) == 0 {
		rest, err := c.process(data)
		if err != nil {
			return err
		}
		if len(rest) > 0 {
			c.partial = append(c.partial[:0], rest...)
		}
		return nil
	}
	c.partial = append(c.partial, data...)
	rest, err := c.process(c.partial)
	if err != nil {
		return err
	}
	switch len(rest) {
	case 0:
		c.partial = nil // split packets are rare: keep no buffer while idle
	case len(c.partial): // no whole packet yet
	default:
		c.partial = c.partial[:copy(c.partial, rest)]
	}
	return nil
}

// process dispatches the whole packets at the start of b and returns the rest.
func (c *Conn) process(b []byte) ([]byte, error) {
	for {
		header, body, n, err := split(b)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return b, nil
		}
		b = b[n:]
		if err := c.dispatch(header, body); err != nil {
			return nil, err
		}
	}
}

// dispatch handles one packet. Once the connection is closing, packets still
// in the buffer are dropped without calling the Handler.
func (c *Conn) dispatch(header byte, body []byte) error {
	typ := header >> 4
	c.mu.Lock()
	st := c.st
	if st >= stateClosing {
		c.mu.Unlock()
		return nil
	}
	if typ != typeConnack && st != stateUp {
		c.mu.Unlock()
		return fmt.Errorf("%w: %s before CONNACK", errMalformed, packetName(typ))
	}
	switch typ {
	case typeConnack:
		if st != stateHandshake || len(body) < 2 {
			c.mu.Unlock()
			return fmt.Errorf("%w: unexpected or short CONNACK", errMalformed)
		}
		if err := c.connackLocked(body); err != nil {
			c.mu.Unlock()
			return err
		}
		c.mu.Unlock()
		c.h.Connected(c)
	case typePingresp:
		c.pingOut = false
		c.mu.Unlock()
	case typePublish:
		c.mu.Unlock()
		return c.onPublish(header, body)
	case typePuback, typePubcomp:
		c.mu.Unlock()
		return c.onAck(body)
	case typePubrec:
		c.mu.Unlock()
		id, code, err := parseAck(body, c.v5, &c.rxProps)
		if err != nil {
			return err
		}
		if code.Failed() { // the exchange ends here
			c.ackDone()
			c.h.Acked(c, id, reasonError(code, c.rxProps.reasonString))
			return nil
		}
		c.reply(typePubrel, id)
	case typePubrel:
		c.mu.Unlock()
		id, _, err := parseAck(body, c.v5, &c.rxProps)
		if err != nil {
			return err
		}
		if i := slices.Index(c.rx2, id); i >= 0 {
			c.rx2 = slices.Delete(c.rx2, i, i+1)
		}
		c.reply(typePubcomp, id)
	case typeSuback:
		c.mu.Unlock()
		id, err := parseID(body)
		if err != nil {
			return err
		}
		codes := body[2:]
		if c.v5 {
			if codes, err = parseProps(codes, &c.rxProps); err != nil {
				return err
			}
		}
		if len(codes) < 1 {
			return fmt.Errorf("%w: SUBACK without a return code", errMalformed)
		}
		c.h.Subscribed(c, id, codes[0])
	case typeDisconnect:
		c.mu.Unlock()
		if c.v5 { // a 3.1.1 broker never sends one
			return c.onDisconnect(body)
		}
	default:
		c.mu.Unlock() // nothing else is expected of a client; ignore it
	}
	return nil
}

// connackLocked takes the broker's CONNACK: a refusal is the error; an
// acceptance brings the connection up with the broker's limits. c.mu held.
func (c *Conn) connackLocked(body []byte) error {
	code := body[1]
	if !c.v5 {
		if code != packets.Accepted {
			return refused(code)
		}
	} else {
		p := &c.rxProps
		if len(body) > 2 {
			if _, err := parseProps(body[2:], p); err != nil {
				return err
			}
		} else {
			*p = props{Properties: Properties{User: p.User[:0]}}
		}
		if ReasonCode(code).Failed() {
			return reasonError(ReasonCode(code), p.reasonString)
		}
		c.sendMax = 65535
		if p.present(propReceiveMaximum) && p.receiveMaximum > 0 {
			c.sendMax = p.receiveMaximum
		}
		c.maxOut = p.maximumPacket
		c.aliasMax = min(p.topicAliasMax, c.aliasWant)
		if p.present(propServerKeepAlive) {
			c.keepAlive = time.Duration(p.serverKeepAlive) * time.Second
		}
		if len(p.assignedID) > 0 {
			c.assignedID = string(p.assignedID)
		}
	}
	if c.sendMax == 0 {
		c.sendMax = 65535
	}
	c.st = stateUp
	if c.keepAlive > 0 {
		c.sentMark = c.sent
		c.timer.Reset(c.keepAlive / 2)
	} else {
		c.timer.Stop()
	}
	return nil
}

// onPublish delivers a PUBLISH and acknowledges it: PUBACK at QoS 1,
// PUBREC at QoS 2 (a QoS 2 message the broker sends again before its
// PUBREL is not delivered twice).
func (c *Conn) onPublish(header byte, body []byte) error {
	topic, qos, id, payload, err := parsePublish(header, body, c.v5, &c.rxProps)
	if err != nil {
		return err
	}
	if c.rxProps.TopicAlias != 0 {
		return fmt.Errorf("%w: PUBLISH with a topic alias, which this client does not accept", errMalformed)
	}
	if qos == 2 {
		if slices.Contains(c.rx2, id) {
			c.reply(typePubrec, id)
			return nil
		}
		if len(c.rx2) >= int(c.recvMax) {
			return fmt.Errorf("%w: more QoS 2 messages await their PUBREL than the receive maximum %d", errMalformed, c.recvMax)
		}
		c.rx2 = append(c.rx2, id)
	}
	c.h.Message(c, topic, payload)
	switch qos {
	case 1:
		c.reply(typePuback, id)
	case 2:
		c.reply(typePubrec, id)
	}
	return nil
}

// onAck completes a publish at its PUBACK (QoS 1) or PUBCOMP (QoS 2).
func (c *Conn) onAck(body []byte) error {
	id, code, err := parseAck(body, c.v5, &c.rxProps)
	if err != nil {
		return err
	}
	c.ackDone()
	if code.Failed() {
		c.h.Acked(c, id, reasonError(code, c.rxProps.reasonString))
		return nil
	}
	c.h.Acked(c, id, nil)
	return nil
}

// ackDone counts a publish in flight as done.
func (c *Conn) ackDone() {
	c.mu.Lock()
	if c.inFlight > 0 {
		c.inFlight--
	}
	c.mu.Unlock()
}

// reply writes the acknowledgement typ for id.
func (c *Conn) reply(typ byte, id uint16) {
	bp := getBuf() // a stack array would escape through the transport interface
	*bp = appendAck((*bp)[:0], typ, id)
	c.mu.Lock()
	_ = c.writeLocked(*bp)
	c.mu.Unlock()
	putBuf(bp)
}

// onDisconnect ends the connection at the broker's DISCONNECT (MQTT 5),
// with its reason.
func (c *Conn) onDisconnect(body []byte) error {
	var code ReasonCode
	var reason []byte
	if len(body) > 0 {
		code = ReasonCode(body[0])
		if len(body) > 1 {
			if _, err := parseProps(body[1:], &c.rxProps); err != nil {
				return err
			}
			reason = c.rxProps.reasonString
		}
	}
	err := &DisconnectError{Code: code}
	if len(reason) > 0 {
		err.Reason = quoteControl(reason)
	}
	return err
}

// refused returns the error for a CONNACK return code: paho's, so both of
// ltk's MQTT clients report a refusal in the same words.
func refused(code byte) error {
	if err := packets.ConnErrors[code]; err != nil {
		return err
	}
	return fmt.Errorf("connection refused by the broker: CONNACK return code %d", code)
}

// packetName names a packet type for errors.
func packetName(typ byte) string {
	if n, ok := packets.PacketNames[typ]; ok {
		return n
	}
	return fmt.Sprintf("packet type %d", typ)
}
