package mqttlean

import (
	"fmt"

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
		if code := body[1]; code != packets.Accepted {
			c.mu.Unlock()
			return refused(code)
		}
		c.st = stateUp
		if c.keepAlive > 0 {
			c.sentMark = c.sent
			c.timer.Reset(c.keepAlive / 2)
		} else {
			c.timer.Stop()
		}
		c.mu.Unlock()
		c.h.Connected(c)
	case typePingresp:
		c.pingOut = false
		c.mu.Unlock()
	case typePublish:
		c.mu.Unlock()
		topic, qos, id, payload, err := parsePublish(header, body)
		if err != nil {
			return err
		}
		if qos > 1 {
			return fmt.Errorf("%w: QoS 2 PUBLISH on a QoS ≤ 1 subscription", errMalformed)
		}
		c.h.Message(c, topic, payload)
		if qos == 1 {
			bp := getBuf() // a stack array would escape through the transport interface
			*bp = appendPuback((*bp)[:0], id)
			c.mu.Lock()
			_ = c.writeLocked(*bp)
			c.mu.Unlock()
			putBuf(bp)
		}
	case typePuback:
		c.mu.Unlock()
		id, err := parseID(body)
		if err != nil {
			return err
		}
		c.h.Acked(c, id)
	case typeSuback:
		c.mu.Unlock()
		id, err := parseID(body)
		if err != nil {
			return err
		}
		if len(body) < 3 {
			return fmt.Errorf("%w: SUBACK without a return code", errMalformed)
		}
		c.h.Subscribed(c, id, body[2])
	default:
		c.mu.Unlock() // nothing else is expected of a QoS ≤ 1 client; ignore it
	}
	return nil
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
