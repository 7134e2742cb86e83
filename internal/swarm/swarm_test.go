package swarm_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/swarm"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

func TestMain(m *testing.M) {
	if benchTargetMain() { // the benchmark's target child process
		return
	}
	goleak.VerifyTestMain(m)
}

func newSwarm(t *testing.T, cfg swarm.Config) *swarm.Swarm {
	t.Helper()
	s, err := swarm.New(cfg)
	require.NoError(t, err)
	return s
}

func TestRampAndEcho(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		f := newFleet()
		var mu sync.Mutex
		var progress []int
		s := newSwarm(t, swarm.Config{
			Devices: configs(client, tt.BrokerURL(), 20, f),
			OnSpawn: func(n int) { mu.Lock(); progress = append(progress, n); mu.Unlock() },
		})
		stop := runSwarm(t, s)

		begin := time.Now()
		require.NoError(t, s.Scale(20, 20))
		waitSpawned(t, s)
		require.GreaterOrEqual(t, time.Since(begin), 950*time.Millisecond, "20 devices at 20/s take 950 ms to start")
		require.Equal(t, 20, s.Running())

		f.waitUntil(t, "every device connected and echoed twice", func() bool {
			return f.devices(20, sim.EventConnect, true, 1) == 20 && f.devices(20, sim.EventEchoReceive, true, 2) == 20
		})
		require.NoError(t, stop())
		require.Zero(t, s.Running())

		mu.Lock()
		defer mu.Unlock()
		require.Greater(t, len(progress), 2, "progress reported during the ramp")
		require.Equal(t, 20, progress[len(progress)-1])
		for i := 1; i < len(progress); i++ {
			require.Greater(t, progress[i], progress[i-1], "progress grows during a ramp")
		}
	})
}

func TestScaleDownStopsTheHighestGracefully(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		// Echoes never come back, so every device always awaits one, and a
		// graceful stop shows as exactly one "last message timeout".
		tt := targettest.Start(t, func(c *target.Config) { c.Echo.DropRate = 1 })
		f := newFleet()
		cfgs := configs(client, tt.BrokerURL(), 10, f)
		for i := range cfgs {
			cfgs[i].EchoTimeout = time.Minute
			cfgs[i].LastMessageTimeout = 50 * time.Millisecond
		}
		s := newSwarm(t, swarm.Config{Devices: cfgs})
		stop := runSwarm(t, s)

		require.NoError(t, s.Scale(10, 0))
		waitSpawned(t, s)
		f.waitUntil(t, "every device published", func() bool { return f.devices(10, sim.EventPublish, true, 1) == 10 })

		require.NoError(t, s.Scale(4, 0))
		require.Equal(t, 4, s.Running())
		waitSpawned(t, s)
		f.waitUntil(t, "devices 4-9 stopped gracefully", func() bool {
			for i := 4; i < 10; i++ {
				if f.count(i, sim.EventLastMessageTimeout, false) != 1 {
					return false
				}
			}
			return true
		})
		for i := range 4 {
			require.Zero(t, f.count(i, sim.EventLastMessageTimeout, false), "device %d still runs", i)
		}

		require.NoError(t, stop())
		for i := range 10 {
			require.Equal(t, 1, f.count(i, sim.EventLastMessageTimeout, false), "device %d stopped gracefully once", i)
		}
	})
}

func TestScaleOutOfRange(t *testing.T) {
	t.Parallel()
	s := newSwarm(t, swarm.Config{Devices: configs(sim.ClientLean, "tcp://127.0.0.1:1883", 3, newFleet())})
	require.EqualError(t, s.Scale(4, 1), "scale to 4 devices: the device list has 3: create more devices or lower the count")
	require.Error(t, s.Scale(-1, 1))
	require.Error(t, s.Scale(1, nan()))
	require.NoError(t, s.Scale(3, 1))
	require.Equal(t, 3, s.Len())
}

func nan() float64 { var zero float64; return zero / zero }

func TestNewRejectsBadDevices(t *testing.T) {
	t.Parallel()
	cfgs := configs(sim.ClientLean, "tcp://127.0.0.1:1883", 3, newFleet())
	cfgs[1].DeviceID = ""
	cfgs[2].DeviceID = "LTK00000"
	_, err := swarm.New(swarm.Config{Devices: cfgs})
	require.ErrorContains(t, err, "device 1: device id is empty")
	require.ErrorContains(t, err, "device 2: id LTK00000 is also device 0's")
}

func TestStopThenScaleAgain(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		f := newFleet()
		s := newSwarm(t, swarm.Config{Devices: configs(client, tt.BrokerURL(), 5, f)})
		stop := runSwarm(t, s)

		require.NoError(t, s.Scale(5, 0))
		f.waitUntil(t, "every device echoed", func() bool { return f.devices(5, sim.EventEchoReceive, true, 1) == 5 })
		s.Stop()
		s.Stop() // idempotent
		require.Zero(t, s.Running())

		// The same devices start again, each after its previous instance exited.
		require.NoError(t, s.Scale(5, 0))
		waitSpawned(t, s)
		f.waitUntil(t, "every device connected again and echoed", func() bool {
			return f.devices(5, sim.EventConnect, true, 2) == 5 && f.devices(5, sim.EventEchoReceive, true, 3) == 5
		})
		require.NoError(t, stop())
		for i := range 5 {
			require.Zero(t, f.count(i, sim.EventDisconnect, false), "device %d was never kicked by its own twin", i)
		}
	})
}

func TestScaleWhileRamping(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		f := newFleet()
		s := newSwarm(t, swarm.Config{Devices: configs(client, tt.BrokerURL(), 20, f)})
		stop := runSwarm(t, s)

		require.NoError(t, s.Scale(20, 1)) // would take 19 s: device 6 would start at 6 s, far after the Scale below
		spawned := s.Spawned()
		f.waitUntil(t, "the ramp started", func() bool { return f.devices(20, sim.EventConnect, true, 1) >= 2 })
		require.NoError(t, s.Scale(6, 0)) // the rest at once
		require.Equal(t, spawned, s.Spawned(), "a Scale during a ramp keeps the Spawned channel")
		waitSpawned(t, s)
		require.Equal(t, 6, s.Running())
		f.waitUntil(t, "devices 0-5 connected", func() bool { return f.devices(6, sim.EventConnect, true, 1) == 6 })
		require.NoError(t, stop())
		require.Zero(t, f.devices(20, sim.EventConnect, true, 1)-f.devices(6, sim.EventConnect, true, 1), "devices above 6 never started")
	})
}

func TestScaleBeforeRun(t *testing.T) {
	t.Parallel()
	forEachClient(t, func(t *testing.T, client string) {
		tt := targettest.Start(t)
		f := newFleet()
		s := newSwarm(t, swarm.Config{Devices: configs(client, tt.BrokerURL(), 3, f)})
		require.NoError(t, s.Scale(3, 0))
		select {
		case <-s.Spawned():
			t.Fatal("spawned before Run")
		default:
		}
		stop := runSwarm(t, s)
		waitSpawned(t, s)
		f.waitUntil(t, "every device echoed", func() bool { return f.devices(3, sim.EventEchoReceive, true, 1) == 3 })
		require.NoError(t, stop())
		require.ErrorIs(t, s.Run(t.Context()), swarm.ErrRan)
	})
}
