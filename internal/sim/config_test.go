package sim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	ok := sim.Config{Broker: "tcp://127.0.0.1:1883", DeviceID: "LTK00001"}
	for _, tc := range []struct {
		name   string
		change func(*sim.Config)
		want   string // substring of the error; "" = valid
	}{
		{"minimal", func(*sim.Config) {}, ""},
		{"ssl", func(c *sim.Config) { c.Broker = "ssl://mqtt.example.com:8883" }, ""},
		{"no broker", func(c *sim.Config) { c.Broker = "" }, "broker is empty"},
		{"bad scheme", func(c *sim.Config) { c.Broker = "http://h:1" }, `scheme "http" is not supported`},
		{"websocket on paho", func(c *sim.Config) { c.Broker, c.Client = "ws://h:1/mqtt", sim.ClientPaho }, "the paho MQTT client runs over TCP and TLS only, not WebSocket"},
		{"no port", func(c *sim.Config) { c.Broker = "tcp://host" }, "has no port"}, // runset.CheckBroker's wording, the one check of a broker URL
		{"not a url", func(c *sim.Config) { c.Broker = "tcp://%zz" }, "is not a URL"},
		{"no device", func(c *sim.Config) { c.DeviceID = "" }, "device id is empty"},
		{"slash in device", func(c *sim.Config) { c.DeviceID = "a/b" }, "would break its MQTT topics"},
		{"wildcard in device", func(c *sim.Config) { c.DeviceID = "a#" }, "would break its MQTT topics"},
		{"qos 3", func(c *sim.Config) { c.QoS = 3 }, "QoS 3 does not exist in MQTT"},
		{"qos 2 on paho", func(c *sim.Config) { c.QoS, c.Client = 2, sim.ClientPaho }, "the paho MQTT client runs MQTT 3.1.1 at QoS 0 or 1 only, not QoS 2"},
		{"mqtt 5 on paho", func(c *sim.Config) { c.MQTTVersion, c.Client = "5", sim.ClientPaho }, "not MQTT 5: use the lean client"},
		{"mqtt version", func(c *sim.Config) { c.MQTTVersion = "4" }, `MQTT version "4" is not one of 3.1.1, 5`},
		{"wait max below min", func(c *sim.Config) { c.WaitMin, c.WaitMax = 2*time.Second, time.Second }, "wait 2s..1s is not a range"},
		{"negative payload", func(c *sim.Config) { c.PayloadSize = -1 }, "payload size -1 is negative"},
		{"negative timeout", func(c *sim.Config) { c.EchoTimeout = -time.Second }, "echo timeout -1s is negative"},
		{"sub-second keepalive", func(c *sim.Config) { c.KeepAlive = time.Millisecond }, "keepalive 1ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tc.change(&cfg)
			d, err := sim.New(cfg)
			if tc.want == "" {
				require.NoError(t, err)
				require.Equal(t, cfg.DeviceID, d.ID())
				return
			}
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, d)
		})
	}
}

func TestBehaviorByName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "echo", "Echo"} {
		b, err := sim.BehaviorByName(name)
		require.NoError(t, err, name)
		require.NotNil(t, b)
	}
	b, err := sim.BehaviorByName("telemetry")
	require.NoError(t, err)
	require.NotNil(t, b)
	_, err = sim.BehaviorByName("chatty")
	require.EqualError(t, err, `unknown device behaviour "chatty": use one of echo, telemetry`)
	require.Equal(t, []string{"echo", "telemetry"}, sim.BehaviorNames())
}

func TestEventNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ev        sim.Event
		typ, name string
	}{
		{sim.EventConnect, "MQTT", "MQTT connect"},
		{sim.EventSubscribe, "MQTT", "MQTT subscribe"},
		{sim.EventPublish, "MQTT", "MQTT publish"},
		{sim.EventEchoReceive, "echo", "echo receive"},
		{sim.EventEchoTimeout, "echo", "echo timeout"},
		{sim.EventEchoLate, "echo", "echo late"},
		{sim.EventLastMessageTimeout, "echo", "last message timeout"},
		{sim.EventDisconnect, "MQTT", "MQTT disconnect"},
		{sim.Event(200), "unknown", "unknown event"},
	} {
		require.Equal(t, tc.typ, tc.ev.Type(), tc.name)
		require.Equal(t, tc.name, tc.ev.Name())
		require.Equal(t, tc.name, tc.ev.String())
	}
}
