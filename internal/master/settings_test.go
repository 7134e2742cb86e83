package master

import (
	"bytes"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// TestSpawnCarriesMQTTClient: the master's MQTT client goes to the workers
// with every spawn, and its headless start line names it.
func TestSpawnCarriesMQTTClient(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(2, 1, nil)
		cfg.Settings.MQTTClient = sim.ClientPaho
		m, err := newMaster(cfg)
		require.NoError(t, err)
		start(t, m)
		w := connect(m, &ltkv1.Hello{WorkerId: "a", Ordinal: 0})
		var out bytes.Buffer
		_, err = m.RunHeadless(t.Context(), Headless{Devices: 2, RunTime: 3 * time.Second, Out: &out, OnlySummary: true})
		require.NoError(t, err)
		require.Contains(t, out.String(), "Ramping to 2 devices on the paho MQTT client all at once for 3s")
		require.Equal(t, sim.ClientPaho, w.lastSpawn().GetSettings().GetMqttClient())
		require.NoError(t, <-w.served)
		<-w.exited
	})
}
