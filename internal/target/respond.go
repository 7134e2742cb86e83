package target

import (
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/ltk-dev/ltk/internal/echo"
)

// The echo app answers an MQTT 5 request as a responder does: on the
// request's response topic, with its correlation data. It honours a
// response topic only where the device may read (its own commands
// topics): the echo app publishes past the ACL, and must not let a device
// send messages to another.

// response returns what the request of device d, with properties p, asks
// of its echo; the zero Response for an MQTT 3.1.1 message. A response
// topic outside d's own is ignored (the echo goes to d's commands topic).
// It allocates nothing.
func response(acl topicACL, d string, p *packets.Properties) echo.Response {
	var r echo.Response
	if p.ResponseTopic != "" && acl.allows(d, p.ResponseTopic, false) {
		r.Topic = p.ResponseTopic
	}
	if len(p.CorrelationData) > 0 {
		r.CorrelationData = p.CorrelationData
	}
	return r
}

// responsePacket is the PUBLISH of an echo answering a request: on
// resp.Topic, or the device's commands topic when the request named none,
// with resp.CorrelationData.
func responsePacket(commands string, payload []byte, qos byte, resp echo.Response) packets.Packet {
	topic := commands
	if resp.Topic != "" {
		topic = resp.Topic
	}
	return packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos},
		TopicName:   topic,
		Payload:     payload,
		PacketID:    uint16(qos), // as mochi's Publish: an inline packet needs an id to pass its checks
		Properties:  packets.Properties{CorrelationData: resp.CorrelationData},
	}
}
