package sim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// forEachClient runs test as a parallel subtest on each MQTT client engine.
func forEachClient(t *testing.T, test func(t *testing.T, client string)) {
	t.Helper()
	for _, client := range sim.ClientNames() {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			test(t, client)
		})
	}
}

// testConfig is a fast device on client against broker: 50 ms between
// publishes.
func testConfig(client, broker, id string, r *recorder) sim.Config {
	return sim.Config{
		Client:             client,
		Broker:             broker,
		DeviceID:           id,
		QoS:                1,
		WaitMin:            50 * time.Millisecond,
		WaitMax:            50 * time.Millisecond,
		EchoTimeout:        2 * time.Second,
		LastMessageTimeout: time.Second,
		ConnectTimeout:     2 * time.Second,
		ReconnectMin:       20 * time.Millisecond,
		ReconnectMax:       100 * time.Millisecond,
		Recorder:           r,
	}
}

func newDevice(t *testing.T, cfg sim.Config) *sim.Device {
	t.Helper()
	d, err := sim.New(cfg)
	require.NoError(t, err)
	return d
}

func dropAll(c *target.Config) { c.Echo.DropRate = 1 }

func TestEchoRoundTrip(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		r := newRecorder()
		stop := run(t, newDevice(t, testConfig(client, tt.BrokerURL(), "LTK00001", r)))

		echoes := r.waitFor(t, sim.EventEchoReceive, true, 3)
		require.NoError(t, stop())

		for _, e := range echoes {
			require.Positive(t, e.d)
			require.Less(t, e.d, time.Second, "loopback round trip")
			require.Greater(t, e.size, 50)
		}
		require.Equal(t, 1, r.count(sim.EventConnect, true))
		require.Equal(t, 1, r.count(sim.EventSubscribe, true))
		pubs := r.matching(sim.EventPublish, true)
		require.GreaterOrEqual(t, len(pubs), 3)
		require.Positive(t, pubs[0].d)
		require.Equal(t, echoes[0].size, pubs[0].size, "the echo is the payload")
		require.Empty(t, r.failures())
		require.Zero(t, r.count(sim.EventEchoLate, true))
	})
}

func TestEchoTimeoutThenNextPublish(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t, dropAll)
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00002", r)
		cfg.EchoTimeout = 200 * time.Millisecond
		stop := run(t, newDevice(t, cfg))

		timeouts := r.waitFor(t, sim.EventEchoTimeout, false, 1)
		// A miss is a failure without a response time: it must not count in
		// the percentiles (it used to carry the time waited).
		require.Equal(t, sim.NoDuration, timeouts[0].d)
		require.Equal(t, "no echo within the echo timeout", timeouts[0].msg)
		r.waitFor(t, sim.EventPublish, true, 2) // it moved on
		require.NoError(t, stop())

		// While an echo is awaited nothing is published: one publish per timeout,
		// plus at most the one in flight at the stop.
		pubs, tos := r.count(sim.EventPublish, true), r.count(sim.EventEchoTimeout, false)
		require.LessOrEqual(t, pubs, tos+1)
		require.Zero(t, r.count(sim.EventEchoReceive, true))
	})
}

func TestLastMessageTimeout(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t, dropAll)
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00003", r)
		cfg.EchoTimeout = time.Minute
		cfg.LastMessageTimeout = 100 * time.Millisecond
		stop := run(t, newDevice(t, cfg))

		r.waitFor(t, sim.EventPublish, true, 1)
		begin := time.Now()
		require.NoError(t, stop())
		require.GreaterOrEqual(t, time.Since(begin), 100*time.Millisecond, "the device waited for its last echo")

		last := r.matching(sim.EventLastMessageTimeout, false)
		require.Len(t, last, 1)
		require.Equal(t, sim.NoDuration, last[0].d, "a miss carries no response time")
		require.Zero(t, r.count(sim.EventEchoTimeout, false))
	})
}

func TestLastMessageArrives(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t, func(c *target.Config) { c.Echo.Delay = 150 * time.Millisecond })
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00004", r)
		cfg.LastMessageTimeout = 5 * time.Second
		cfg.WaitMin, cfg.WaitMax = time.Hour, time.Hour // one publish, however late the stop comes
		stop := run(t, newDevice(t, cfg))

		r.waitFor(t, sim.EventPublish, true, 1)
		require.NoError(t, stop()) // stops while the first echo is delayed (or after it came)
		echoes := r.matching(sim.EventEchoReceive, true)
		require.Len(t, echoes, 1, "the last echo is received after the stop")
		require.GreaterOrEqual(t, echoes[0].d, 150*time.Millisecond)
		require.Empty(t, r.failures())
	})
}

func TestTelemetry(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t) // it echoes, and telemetry must ignore the echoes
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00005", r)
		cfg.EchoTimeout = 100 * time.Millisecond // no echo is awaited: no "echo timeout" however short
		cfg.Program = sim.TelemetryProgram(&cfg)
		cfg.Program.AckTimeout = waitLimit // the PUBACKs' wait, which a busy machine may stretch past 100 ms
		stop := run(t, newDevice(t, cfg))

		r.waitFor(t, sim.EventPublish, true, 5)
		require.NoError(t, stop())
		for _, rec := range r.all() {
			require.Contains(t, []sim.Event{sim.EventConnect, sim.EventSubscribe, sim.EventPublish}, rec.ev, "recorded %v", rec)
			require.True(t, rec.ok, "recorded %v", rec)
		}
	})
}

func TestPayloadSizeOnTheWire(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		r := newRecorder()
		cfg := testConfig(client, tt.BrokerURL(), "LTK00006", r)
		cfg.PayloadSize = 1500
		stop := run(t, newDevice(t, cfg))

		echoes := r.waitFor(t, sim.EventEchoReceive, true, 1)
		require.NoError(t, stop())
		require.Equal(t, 1500, echoes[0].size)
		require.Equal(t, 1500, r.matching(sim.EventPublish, true)[0].size)
	})
}
