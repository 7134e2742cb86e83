package target

import (
	"log/slog"
	"testing"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// TestOnWillDropsForbiddenWill covers the second check, when mochi is about
// to publish a Will: a forbidden one comes back without topic or retain
// flag, which mochi v2.7.9 delivers to no one.
func TestOnWillDropsForbiddenWill(t *testing.T) {
	t.Parallel()
	cfg := Config{Auth: AuthNone}
	cfg.setDefaults()
	m, err := newMetrics(prometheus.NewRegistry())
	require.NoError(t, err)
	h := newHook(mqtt.New(nil), newAuthenticator(&cfg), retainLimits{maxRetained: 10, maxRetainedSize: 100}, m, slog.New(slog.DiscardHandler))
	dev := &mqtt.Client{ID: "dev-a"}
	for _, topic := range []string{"/devices/dev-b/commands", "/devices/dev-b/events", "/devices/dev-a/events/#", "/devices/+/commands"} {
		got, err := h.OnWill(dev, mqtt.Will{TopicName: topic, Payload: []byte("x"), Retain: true, Qos: 1})
		require.NoError(t, err, "an error makes mochi publish the original Will")
		require.Equal(t, mqtt.Will{}, got, topic)
	}
	require.Equal(t, 4.0, counterValue(t, m.willsDropped))

	allowed := mqtt.Will{TopicName: "/devices/dev-a/state", Payload: []byte("x"), Qos: 1}
	got, err := h.OnWill(dev, allowed)
	require.NoError(t, err)
	require.Equal(t, allowed, got)
	got, err = h.OnWill(&mqtt.Client{ID: "ltk-echo-1"}, mqtt.Will{TopicName: "/devices/dev-b/commands", Payload: []byte("x")})
	require.NoError(t, err)
	require.Equal(t, "/devices/dev-b/commands", got.TopicName, "back ends may publish anywhere")
	require.Equal(t, 4.0, counterValue(t, m.willsDropped))
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var out dto.Metric
	require.NoError(t, c.Write(&out))
	return out.GetCounter().GetValue()
}
