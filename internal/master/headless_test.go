package master

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// stubbornWorker runs what it is told to spawn and never reports a stop, as
// a worker whose devices await echoes that do not come.
func stubbornWorker(m *Master) *pipe {
	p := newPipe()
	go func() {
		_ = m.serve(p.ctx, p)
		p.cancel()
	}()
	p.toMaster <- &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Hello{Hello: &ltkv1.Hello{
		WorkerId: "stubborn", Ordinal: 0, Version: m.cfg.Version, Protocol: ltkv1.ProtocolVersion}}}
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		hb := &ltkv1.Heartbeat{State: ltkv1.State_STATE_READY}
		for {
			select {
			case msg := <-p.toWorker:
				if s, ok := msg.GetMsg().(*ltkv1.MasterMessage_Spawn); ok {
					hb = &ltkv1.Heartbeat{State: ltkv1.State_STATE_RUNNING, Running: s.Spawn.GetCount(), AppliedSeq: s.Spawn.GetSeq()}
					p.toMaster <- &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Heartbeat{Heartbeat: hb}}
				}
			case <-tick.C:
				p.toMaster <- &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Heartbeat{Heartbeat: hb}}
			case <-p.ctx.Done():
				return
			}
		}
	}()
	return p
}

// TestStopCountdown: the wait for local workers is silent; after Ctrl-C the wait for the last echoes counts down a
// line a second, and closing Hurry (a second Ctrl-C) ends it at once with
// the summary.
func TestStopCountdown(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m, err := newMaster(testConfig(4, 1, nil)) // last-message timeout 1 s: the stop may take 11 s
		require.NoError(t, err)
		start(t, m)
		p := stubbornWorker(m)
		defer p.cancel()
		ctx, interrupt := context.WithCancel(t.Context())
		hurry := make(chan struct{})
		var stopped, hurried time.Time
		go func() {
			time.Sleep(3 * time.Second)
			stopped = time.Now()
			interrupt()
			time.Sleep(4500 * time.Millisecond)
			hurried = time.Now()
			close(hurry)
		}()
		var out bytes.Buffer
		_, err = m.RunHeadless(ctx, Headless{Devices: 4, Out: &out, Hurry: hurry, OnlySummary: true, LocalWorkers: true})
		require.NoError(t, err, out.String())
		require.Equal(t, 4500*time.Millisecond, hurried.Sub(stopped), out.String())
		require.Less(t, time.Since(hurried), 2*time.Second, "the summary came at once, not after the 11 s stop")
		text := out.String()
		require.NotContains(t, text, "Waiting for 1 worker", "this process's own workers are not news")
		require.Contains(t, text, "Stopping: waiting up to 11s for the last echoes, then disconnecting (Ctrl-C again: summary at once)")
		for _, left := range []string{"10s", "9s", "8s", "7s"} {
			require.Contains(t, text, "Waiting for the last echoes: "+left+" left, 4 devices still running\n")
		}
		require.Equal(t, 4, strings.Count(text, "Waiting for the last echoes:"), text)
		require.Contains(t, text, "Second interrupt: not waiting for the last echoes")
		require.Contains(t, text, "Summary")
	})
}

// TestAdjust: Locust's w/W/s/S keys change the device count of a running
// headless test, within the device list.
func TestAdjust(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m, err := newMaster(testConfig(12, 1, nil))
		require.NoError(t, err)
		start(t, m)
		w := connect(m, &ltkv1.Hello{WorkerId: "a", Ordinal: 0})
		adjust := make(chan int)
		go func() {
			time.Sleep(3 * time.Second)
			for _, d := range []int{+1, +10, -1, -10, -10} {
				adjust <- d
				synctest.Wait()
				time.Sleep(time.Second)
			}
		}()
		var out bytes.Buffer
		_, err = m.RunHeadless(t.Context(), Headless{Devices: 2, RunTime: 9 * time.Second, Out: &out, OnlySummary: true, Adjust: adjust})
		require.NoError(t, err)
		text := out.String()
		for _, want := range []string{"Changing to 3 devices", "Changing to 12 devices", "Changing to 11 devices", "Changing to 1 device", "Changing to 0 devices"} {
			require.Contains(t, text, want+"\n")
		}
		var counts []int32
		w.mu.Lock()
		for _, s := range w.spawns {
			counts = append(counts, s.GetCount())
		}
		w.mu.Unlock()
		require.Equal(t, []int32{2, 3, 12, 11, 1, 0}, counts, "13 is more than the list: 12")
		require.NoError(t, <-w.served)
	})
}
