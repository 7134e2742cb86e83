package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMQTTBridgeOfEachDeviceManager(t *testing.T) {
	t.Parallel()
	for endpoint, want := range map[string]string{
		"":                                 "ssl://mqtt.googleapis.com:8883",
		"cloudiot.googleapis.com:443":      "ssl://mqtt.googleapis.com:8883",
		clearbladeEndpoint("local"):        "ssl://us-central1-mqtt.clearblade.com:8883",
		clearbladeEndpoint("europe-west1"): "ssl://europe-west1-mqtt.clearblade.com:8883",
		"iot.example.com:443":              "ssl://iot.example.com:8883",
	} {
		require.Equal(t, want, mqttBridgeFor(endpoint), endpoint)
	}
	require.Equal(t, "us-central1.clearblade.com:443", clearbladeEndpoint(""))
}
