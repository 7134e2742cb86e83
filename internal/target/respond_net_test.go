package target_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/mqttlean"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// reply is a message a v5Client received, with its correlation data.
type reply struct{ topic, payload, correlation string }

// v5Client is an mqttlean.Handler that hands over what it receives.
type v5Client struct {
	up     chan struct{}
	subs   chan byte
	msgs   chan reply
	closed chan struct{}
}

func (c *v5Client) Connected(*mqttlean.Conn) { c.up <- struct{}{} }
func (c *v5Client) Message(conn *mqttlean.Conn, topic, payload []byte) {
	c.msgs <- reply{string(topic), string(payload), string(conn.ReceivedProperties().CorrelationData)}
}
func (c *v5Client) Acked(*mqttlean.Conn, uint16, error)           {}
func (c *v5Client) Subscribed(_ *mqttlean.Conn, _ uint16, g byte) { c.subs <- g }
func (c *v5Client) Closed(*mqttlean.Conn, error)                  { close(c.closed) }

// TestEchoAnswersMQTT5Requests: the embedded target's echo app answers an
// MQTT 5 request as a responder does: on the request's response topic,
// with its correlation data; without a response topic on the commands
// topic, still with the correlation data; and never on a topic of another
// device (the echo app publishes past the ACL), where it falls back to the
// device's own commands topic.
func TestEchoAnswersMQTT5Requests(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	h := &v5Client{up: make(chan struct{}, 1), subs: make(chan byte, 1), msgs: make(chan reply, 4), closed: make(chan struct{})}
	c, err := mqttlean.Dial(&mqttlean.Options{Addr: tt.Addr(), ClientID: "LTK00007", Username: "unused", Version: mqttlean.Version5}, h)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(); <-h.closed })
	receive(t, h.up, "CONNACK")
	_, err = c.Subscribe("/devices/LTK00007/commands/#", 1)
	require.NoError(t, err)
	require.Equal(t, byte(1), receive(t, h.subs, "SUBACK"))

	for _, tc := range []struct {
		name, responseTopic, correlation string
		want                             reply
	}{
		{"response topic", "/devices/LTK00007/commands/replies", "req-1",
			reply{"/devices/LTK00007/commands/replies", "ping 1", "req-1"}},
		{"no response topic", "", "req-2", reply{"/devices/LTK00007/commands", "ping 2", "req-2"}},
		{"another device's topic", "/devices/LTK00008/commands/replies", "req-3",
			reply{"/devices/LTK00007/commands", "ping 3", "req-3"}},
		{"MQTT 3.1.1 style", "", "", reply{"/devices/LTK00007/commands", "ping 4", ""}},
	} {
		m := mqttlean.Message{Topic: []byte("/devices/LTK00007/events"), Payload: []byte(tc.want.payload), QoS: 1,
			Properties: &mqttlean.Properties{ResponseTopic: []byte(tc.responseTopic), CorrelationData: []byte(tc.correlation)}}
		_, err := c.PublishMessage(&m)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, receive(t, h.msgs, "echo"), tc.name)
	}
}
