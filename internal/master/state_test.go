package master

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// TestState: the test's state follows Start, Stop and the devices the
// workers heartbeat.
func TestState(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m, err := newMaster(testConfig(4, 1, nil))
		require.NoError(t, err)
		start(t, m)
		w := connect(m, &ltkv1.Hello{WorkerId: "a", Ordinal: 0})
		synctest.Wait()
		require.Equal(t, StateReady, m.State())
		m.Stop()
		synctest.Wait() // the worker answers the stop
		require.Equal(t, StateReady, m.State(), "a stop before any start leaves the test ready")

		require.Error(t, m.Start(5, 1), "more devices than the list holds")
		require.Equal(t, StateReady, m.State(), "a refused start starts nothing")
		require.NoError(t, m.Start(3, 0))
		synctest.Wait()
		require.Equal(t, StateSpawning, m.State(), "no heartbeat with the devices yet")
		time.Sleep(time.Second) // fake time: the worker heartbeats its 3 devices
		synctest.Wait()
		require.Equal(t, StateRunning, m.State())

		m.Stop()
		synctest.Wait() // the worker stops its devices and heartbeats none
		require.Equal(t, StateStopped, m.State())
		_ = w.close() // serve reports the stream the worker closed
	})
}
