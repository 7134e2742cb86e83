package master

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ltk-dev/ltk/internal/syncbuf"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// TestMasterStallExpiresNoWorker: when the master itself stalls for 5 s (an
// overloaded machine: its watcher wakes 5 s late, and it read nothing from
// its workers meanwhile), no worker goes missing for it; a worker that
// really fell silent still does, after 3 heartbeats of its own silence.
func TestMasterStallExpiresNoWorker(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var events syncbuf.Buffer
		m, err := newMaster(testConfig(20, 2, &events))
		require.NoError(t, err)
		// The master's watcher, as Master.watch runs it, but one the test
		// can stall.
		ctx, cancel := context.WithCancel(t.Context())
		stall := make(chan time.Duration)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			tick := time.NewTicker(m.watchEvery())
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case d := <-stall:
					time.Sleep(d)
				case <-tick.C:
					m.check(time.Now())
				}
			}
		}()
		defer func() { cancel(); <-watched }()
		w0 := connect(m, &ltkv1.Hello{WorkerId: "a", Hostname: "w-0", Ordinal: 0})
		w1 := connect(m, &ltkv1.Hello{WorkerId: "b", Hostname: "w-1", Ordinal: 1})
		synctest.Wait()
		require.NoError(t, m.Start(20, 10))
		time.Sleep(3 * time.Second) // fake time: heartbeats flow
		require.Equal(t, 2, m.Connected())

		// The stall: for 5 s the master neither checks nor reads. w1 falls
		// silent for good at its start; w0's heartbeats reach the master
		// again at its end.
		cut := time.Now()
		w0.setSilent(true)
		w1.setSilent(true)
		stall <- 5 * time.Second
		time.Sleep(5 * time.Second)
		w0.setSilent(false)

		err = <-w1.served
		gone := time.Since(cut)
		require.Equal(t, codes.Unavailable, status.Code(err))
		// Its last heartbeat came at most 1 s before the cut; its silence
		// is counted without the stall (the watcher woke 4.75 to 5 s later
		// than due), and checked four times a second.
		require.Greater(t, gone, 6750*time.Millisecond, "w1 expired as if the stall were its silence")
		require.LessOrEqual(t, gone, 8250*time.Millisecond)
		require.True(t, events.Contains("Worker 1 (w-1) missing: missed 3 heartbeats (silent for "), events.String())
		require.Regexp(t, `silent for [0-9.]+s, (4\.[89]|5)s of which this master stalled\)`, events.String())
		w1.p.cancel()

		time.Sleep(5 * time.Second) // w0 heartbeats on
		require.Equal(t, 1, m.Connected())
		ws := m.Workers()
		require.True(t, ws[0].Connected, "w0 kept its session through the stall")
		require.False(t, events.Contains("Worker 0 (w-0) missing"), events.String())
		w0.close()
	})
}
