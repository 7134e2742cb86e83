package runset_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/runset"
)

func valid() runset.Settings {
	return runset.Settings{
		Broker: "tcp://127.0.0.1:1883", Auth: runset.AuthNone, ClientIDFormat: runset.ClientIDPlain,
		Project: "p", Region: "r", Registry: "g", Behavior: "echo", QoS: 1,
		WaitMin: time.Second, WaitMax: time.Second,
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*runset.Settings)
		want   string
	}{
		{"no broker", func(s *runset.Settings) { s.Broker = "" }, "no broker URL"},
		{"auth", func(s *runset.Settings) { s.Auth = "oauth" }, `auth "oauth" is not one of jwt, password, none`},
		{"client id format", func(s *runset.Settings) { s.ClientIDFormat = "x" }, `client id format "x" is not one of iotcore, plain`},
		{"qos 3", func(s *runset.Settings) { s.QoS = 3 }, "QoS 3 does not exist in MQTT: use 0, 1 or 2"},
		{"mqtt version", func(s *runset.Settings) { s.MQTTVersion = "5.0" }, `MQTT version "5.0" is not one of 3.1.1, 5: write 3.1.1 or 5`},
		{"wait range", func(s *runset.Settings) { s.WaitMax = 0 }, "wait 1s..0s is not a range: make 0 ≤ min ≤ max"},
		{"negative wait", func(s *runset.Settings) { s.WaitMin = -time.Second }, "wait -1s..1s is not a range"},
		{"payload", func(s *runset.Settings) { s.PayloadSize = -1 }, "payload size -1 is negative: use 0 for the natural size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			tc.change(&s)
			require.ErrorContains(t, s.Validate(), tc.want)
		})
	}
	s := valid()
	require.NoError(t, s.Validate())
	s.QoS, s.WaitMin, s.WaitMax, s.PayloadSize = 0, 0, 0, 0
	require.NoError(t, s.Validate(), "QoS 0, no wait and the natural size are settings too")
	s.QoS, s.MQTTVersion = 2, runset.MQTTVersion5
	require.NoError(t, s.Validate(), "QoS 2 and MQTT 5 are settings too")
}

func TestClientID(t *testing.T) {
	t.Parallel()
	s := valid()
	require.Equal(t, "LTK00001", s.ClientID("LTK00001"))
	s.ClientIDFormat = runset.ClientIDIoTCore
	require.Equal(t, "projects/p/locations/r/registries/g/devices/LTK00001", s.ClientID("LTK00001"))
}

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	s := valid()
	cfg, err := s.TLSConfig()
	require.NoError(t, err)
	require.Nil(t, cfg, "the system roots")

	s.Insecure = true
	cfg, err = s.TLSConfig()
	require.NoError(t, err)
	require.True(t, cfg.InsecureSkipVerify)

	s.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(s.CAFile, []byte("not a certificate"), 0o600))
	_, err = s.TLSConfig()
	require.ErrorContains(t, err, "holds no PEM certificate: give --ca a PEM file")
	s.CAPEM = []byte("sent")
	_, err = s.TLSConfig()
	require.ErrorContains(t, err, "CA bundle (sent by the master)")
}

func TestCheckBroker(t *testing.T) {
	t.Parallel()
	for _, broker := range []string{"tcp://127.0.0.1:1883", "mqtt://broker:1883", "ssl://mqtt.example.com:8883", "TLS://[::1]:8883", "mqtts://h:8883/", "ws://h:9001/mqtt", "wss://h:443/mqtt"} {
		require.NoError(t, runset.CheckBroker(broker), broker)
	}
	for broker, want := range map[string]string{
		"127.0.0.1:1883": `broker "127.0.0.1:1883" has no scheme: write tcp://127.0.0.1:1883 (or ssl://127.0.0.1:1883 for TLS)`,
		"localhost:1883": `has no scheme: write tcp://localhost:1883`,
		"ftp://h:21":     `broker "ftp://h:21": scheme "ftp" is not supported: write tcp://h:21 (MQTT), ssl://h:21 (MQTT over TLS) or ws://h:21/mqtt (MQTT over WebSocket; wss:// with TLS)`,
		"http://h:80/x":  `scheme "http" is not supported: write tcp://h:80`,
		"wss://h/mqtt":   `broker "wss://h/mqtt" has no port: write wss://h:443`,
		"tcp://host":     `broker "tcp://host" has no port: write tcp://host:1883`,
		"ssl://host":     `broker "ssl://host" has no port: write ssl://host:8883`,
		"tcp://:1883":    `broker "tcp://:1883" has no host: write tcp://HOST:1883`,
		"":               `broker is empty`,
	} {
		require.ErrorContains(t, runset.CheckBroker(broker), want, broker)
	}
	s := valid()
	s.Broker = "127.0.0.1:1883"
	require.ErrorContains(t, s.Validate(), "write tcp://127.0.0.1:1883", "a worker refuses what the CLI refuses")
}
