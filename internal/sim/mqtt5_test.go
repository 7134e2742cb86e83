package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// TestEchoMQTT5AndQoS2: the lean client's echo round trip on the embedded
// target for both MQTT versions at QoS 1 and 2; every publish completes
// (at QoS 2 after PUBREC, PUBREL and PUBCOMP) and every echo arrives.
func TestEchoMQTT5AndQoS2(t *testing.T) {
	t.Parallel()
	for _, version := range runset.MQTTVersions() {
		for _, qos := range []byte{1, 2} {
			t.Run(fmt.Sprintf("%s QoS %d", version, qos), func(t *testing.T) {
				t.Parallel()
				tt := targettest.Start(t)
				r := newRecorder()
				cfg := testConfig(sim.ClientLean, tt.BrokerURL(), "LTK00001", r)
				cfg.MQTTVersion, cfg.QoS = version, qos
				stop := run(t, newDevice(t, cfg))
				echoes := r.waitFor(t, sim.EventEchoReceive, true, 3)
				require.NoError(t, stop())
				for _, e := range echoes {
					require.Less(t, e.d, time.Second, "loopback round trip")
				}
				require.Empty(t, r.failures())
				require.Equal(t, 1, r.count(sim.EventConnect, true))
				require.GreaterOrEqual(t, r.count(sim.EventPublish, true), 3)
			})
		}
	}
}

// TestEchoOverWebSocket: the lean client's echo over ws:// on the embedded
// target's WebSocket listener, at MQTT 5 and QoS 2.
func TestEchoOverWebSocket(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.WSAddr = "127.0.0.1:0" })
	r := newRecorder()
	cfg := testConfig(sim.ClientLean, "ws://"+tt.Target().WSAddr()+"/mqtt", "LTK00031", r)
	cfg.MQTTVersion, cfg.QoS = runset.MQTTVersion5, 2
	stop := run(t, newDevice(t, cfg))
	r.waitFor(t, sim.EventEchoReceive, true, 3)
	require.NoError(t, stop())
	require.Empty(t, r.failures())
}
