package worker

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// TestRunnerReportsUnknownMQTTClient: a spawn naming an MQTT client this
// worker does not know (from a newer master) starts nothing and comes back
// as an exception naming the accepted clients, rather than a panic.
func TestRunnerReportsUnknownMQTTClient(t *testing.T) {
	t.Parallel()
	var events strings.Builder
	r := newRunner(slog.New(slog.DiscardHandler), &events)
	r.apply(t.Context(), blockCmd{Block{Devices: []device.Device{{ID: "W001"}}}})
	s := validSettings()
	s.MQTTClient = "quic"
	m, err := ltkv1.EncodeSettings(&s)
	require.NoError(t, err)
	r.apply(t.Context(), spawnCmd{seq: 1, count: 1, settings: m})

	_, exceptions := r.take()
	require.Equal(t, []string{`spawn: settings from the master: MQTT client "quic" is not one of lean, paho`}, exceptions)
	state, running, applied := r.status()
	require.Equal(t, ltkv1.State_STATE_READY, state)
	require.Zero(t, running)
	require.EqualValues(t, 1, applied)
	require.Empty(t, events.String(), "no devices started")
}
