package worker

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

func validSettings() runset.Settings {
	return runset.Settings{
		Broker: "tcp://127.0.0.1:1883", Auth: runset.AuthNone, ClientIDFormat: runset.ClientIDPlain,
		Project: "p", Region: "r", Registry: "g", Behavior: "echo", QoS: 1,
		WaitMin: time.Second, WaitMax: time.Second,
	}
}

// TestCheckSettings: a worker refuses settings runset refuses, and a
// behaviour or MQTT client sim does not know (from a newer master).
func TestCheckSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*runset.Settings)
		want   string
	}{
		{"no broker", func(s *runset.Settings) { s.Broker = "" }, "no broker URL"},
		{"qos 3", func(s *runset.Settings) { s.QoS = 3 }, "QoS 3 does not exist in MQTT"},
		{"qos 2 on paho", func(s *runset.Settings) { s.QoS, s.MQTTClient = 2, "paho" }, "the paho MQTT client runs MQTT 3.1.1 at QoS 0 or 1 only, not QoS 2"},
		{"mqtt version", func(s *runset.Settings) { s.MQTTVersion = "3" }, `MQTT version "3" is not one of 3.1.1, 5`},
		{"behavior", func(s *runset.Settings) { s.Behavior = "dance" }, `unknown device behaviour "dance"`},
		{"mqtt client", func(s *runset.Settings) { s.MQTTClient = "quic" }, `MQTT client "quic" is not one of lean, paho`},
		{"JWT lifetime over a day", func(s *runset.Settings) { s.TokenTTL = 48 * time.Hour }, "token lifetime 48h0m0s is out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := validSettings()
			tc.change(&s)
			_, err := checkSettings(&s)
			require.ErrorContains(t, err, tc.want)
			_, err = New(Block{Devices: []device.Device{{ID: "W001"}}}, s, nil)
			require.ErrorContains(t, err, tc.want, "New checks too")
		})
	}
	s := validSettings()
	plan, err := checkSettings(&s)
	require.NoError(t, err)
	require.Nil(t, plan, "no scenario, no plan")
}

func TestJWTNeedsKeys(t *testing.T) {
	t.Parallel()
	s := validSettings()
	s.Auth = runset.AuthJWT
	_, err := New(Block{Devices: []device.Device{{ID: "LTK00001"}}}, s, nil)
	require.ErrorContains(t, err, "device LTK00001 has no private key")
}

// TestWorkerEchoes runs a block of devices against the embedded target and
// drains what they recorded into the stats entries named after sim events.
func TestWorkerEchoes(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	s := validSettings()
	s.Broker = tt.BrokerURL()
	s.WaitMin, s.WaitMax = 50*time.Millisecond, 50*time.Millisecond
	block := make([]device.Device, 5)
	for i := range block {
		block[i].ID = device.FormatID("W", 3, i+1)
	}
	w, err := New(Block{Devices: block}, s, nil)
	require.NoError(t, err)
	require.Equal(t, 5, w.Size())

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	require.NoError(t, w.Scale(3, 0))
	<-w.Spawned()

	agg := stats.NewAggregate()
	require.Eventually(t, func() bool {
		require.NoError(t, agg.Add(w.Drain(time.Now())))
		snap := agg.Snapshot(time.Now())
		for _, e := range snap.Entries {
			if e.Name == sim.EventEchoReceive.Name() && e.NumRequests >= 9 {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "three devices echo")
	require.Equal(t, 3, w.Running())
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, agg.Add(w.Drain(time.Now())))
	snap := agg.Snapshot(time.Now())
	require.Zero(t, snap.Total.NumFailures)
	for _, e := range snap.Entries {
		if e.Name == sim.EventConnect.Name() {
			require.EqualValues(t, 3, e.NumRequests)
		}
	}
}

func TestOrdinalFromHostname(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]int{
		"ltk-worker-0": 0, "ltk-worker-12": 12, "ltk-worker-3.ltk-workers.default.svc.cluster.local": 3,
		"laptop": -1, "ltk-worker-": -1, "a-b": -1, "x--1": 1, "w-+3": -1,
	} {
		k, ok := OrdinalFromHostname(host)
		if want < 0 {
			require.False(t, ok, host)
			continue
		}
		require.True(t, ok, host)
		require.Equal(t, want, k, host)
	}
}

// TestSettingsMQTTClient: the engine reaches every device's sim.Config, and
// an empty one (from a master that predates the setting) means lean.
func TestSettingsMQTTClient(t *testing.T) {
	t.Parallel()
	block := []device.Device{{ID: "W001"}, {ID: "W002"}}
	for set, want := range map[string]string{"": sim.ClientLean, sim.ClientLean: sim.ClientLean, sim.ClientPaho: sim.ClientPaho} {
		s := validSettings()
		s.MQTTClient = set
		_, err := checkSettings(&s)
		require.NoError(t, err)
		require.Equal(t, want, mqttClient(&s))
		cfgs, err := deviceConfigs(&s, Block{Devices: block}, nil, nil)
		require.NoError(t, err)
		for _, c := range cfgs {
			require.Equal(t, want, c.Client, "MQTTClient %q", set)
		}
	}
}
