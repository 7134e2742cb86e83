package ltkv1_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

func TestSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	s := runset.Settings{
		Broker: "ssl://127.0.0.1:8883", CAPEM: []byte("pem"), Insecure: true, Auth: runset.AuthPassword,
		Username: "u", Password: "p", Project: "p", Region: "r", Registry: "g",
		ClientIDFormat: runset.ClientIDIoTCore, TokenTTL: time.Hour, Behavior: "telemetry", QoS: 1,
		WaitMin: time.Second, WaitMax: 2 * time.Second, EchoTimeout: 3 * time.Second,
		LastMessageTimeout: 2 * time.Second, PayloadSize: 100, MQTTClient: "paho", MQTTVersion: "5",
		Scenario: "version: 1\n", BackendPassword: "b", Profile: "azure", Hub: "h.azure-devices.net",
	}
	m, err := ltkv1.EncodeSettings(&s)
	require.NoError(t, err)
	require.Equal(t, s, ltkv1.DecodeSettings(m))

	s.CAPEM, s.CAFile = nil, filepath.Join(t.TempDir(), "missing.pem")
	_, err = ltkv1.EncodeSettings(&s)
	require.ErrorContains(t, err, "read CA file")

	m.Qos = 258
	require.Error(t, runset.CheckQoS(ltkv1.DecodeSettings(m).QoS), "a QoS beyond a byte is refused, not wrapped")
}
