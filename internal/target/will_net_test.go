package target_test

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/golang-jwt/jwt/v5"
	mqttpackets "github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// dialWill connects a paho client with a Will and returns the CONNACK code.
func dialWill(t *testing.T, url, id, password, willTopic string) (paho.Client, byte, error) {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetUsername("unused").SetPassword(password).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(waitFor).
		SetWill(willTopic, "will of "+id, 1, false)
	c := paho.NewClient(opts)
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(waitFor), "connect timed out")
	if tok.Error() == nil {
		t.Cleanup(func() { c.Disconnect(0) })
	}
	return c, tok.(*paho.ConnectToken).ReturnCode(), tok.Error()
}

// TestWillOnAnotherDevicesTopicIsRefused: device A may not leave a Will on
// B's commands or events (B would receive it, or it would be echoed to B as
// if B had sent it), nor on a wildcard topic.
func TestWillOnAnotherDevicesTopicIsRefused(t *testing.T) {
	t.Parallel()
	tt := startJWT(t)
	p := target.DefaultProject
	tok := func() string { return mint(t, jwt.SigningMethodES256, ecKey, claims(p, time.Now(), time.Hour)) }
	for _, topic := range []string{"/devices/rsa-dev/commands", "/devices/rsa-dev/events", "/devices/ec-dev/commands"} {
		_, code, err := dialWill(t, tt.BrokerURL(), clientID(p, "ec-dev"), tok(), topic)
		require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised, topic)
		require.Equal(t, byte(packets.ErrRefusedNotAuthorised), code, topic)
	}
	_, code, err := dialWill(t, tt.BrokerURL(), clientID(p, "ec-dev"), tok(), "/devices/ec-dev/events/+")
	require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
	require.Equal(t, byte(packets.ErrRefusedNotAuthorised), code)

	will := func(topic string) mqttpackets.ConnectParams {
		return mqttpackets.ConnectParams{
			ClientIdentifier: clientID(p, "ec-dev"), PasswordFlag: true, Password: []byte(tok()),
			WillFlag: true, WillTopic: topic, WillPayload: []byte("will"),
		}
	}
	require.Equal(t, mqttpackets.ErrTopicNameInvalid.Code, rawConnect(t, tt.Addr(), will("/devices/ec-dev/events/#"), 5))
	require.Equal(t, mqttpackets.ErrNotAuthorized.Code, rawConnect(t, tt.Addr(), will("/devices/rsa-dev/commands"), 5))

	reg := tt.Registry()
	require.Equal(t, 4.0, metric(t, reg, "ltk_target_connects_refused_total", "reason", string(target.ReasonWillNotAllowed)))
	require.Equal(t, 2.0, metric(t, reg, "ltk_target_connects_refused_total", "reason", string(target.ReasonWillInvalid)))
	require.Zero(t, metric(t, reg, "ltk_target_connects_total"))
}

// TestWillOnOwnTopicIsPublished: a Will the device may publish is delivered
// when the device drops, and reaches B only through B's own echo.
func TestWillOnOwnTopicIsPublished(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.DisableEcho = true })
	seen := make(chan paho.Message, 10)
	obs := mustDial(t, tt.BrokerURL(), "ltk-echo-observer", "", nil)
	require.Equal(t, byte(1), subackCode(t, obs, "/devices/#", func(_ paho.Client, m paho.Message) { seen <- m }))

	b := mustDial(t, tt.BrokerURL(), "dev-b", "", nil)
	require.Equal(t, byte(1), subackCode(t, b, "/devices/dev-b/commands/#", func(_ paho.Client, m paho.Message) { seen <- m }))

	_, code, err := dialWill(t, tt.BrokerURL(), "dev-a", "", "/devices/dev-b/commands")
	require.Error(t, err, "Will on another device's commands")
	require.Equal(t, byte(packets.ErrRefusedNotAuthorised), code)

	// Closing the socket without DISCONNECT makes the broker publish the Will.
	a, ack := rawConnectConn(t, tt.Addr(), mqttpackets.ConnectParams{
		ClientIdentifier: "dev-a", WillFlag: true, WillTopic: "/devices/dev-a/state", WillPayload: []byte("will of dev-a"),
	}, 4)
	require.Zero(t, ack.ReasonCode)
	require.NoError(t, a.Close())
	m := receive(t, seen, "Will")
	require.Equal(t, "/devices/dev-a/state", m.Topic())
	require.Equal(t, "will of dev-a", string(m.Payload()))
	select {
	case m := <-seen:
		t.Fatalf("unexpected message on %s", m.Topic())
	default:
	}
}
