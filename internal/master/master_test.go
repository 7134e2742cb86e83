package master

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/stats"
)

// fakeWorker runs no devices: Scale records the request, and every running
// device "echoes" once per Drain.
type fakeWorker struct {
	size int
	rec  *stats.Recorder

	mu      sync.Mutex
	running int
	rate    float64
	stopped bool
}

func newFakeWorker(size int) *fakeWorker { return &fakeWorker{size: size, rec: stats.NewRecorder()} }

func (w *fakeWorker) Scale(count int, rate float64) error {
	if count > w.size {
		return errors.New("beyond block")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running, w.rate = count, rate
	return nil
}

func (w *fakeWorker) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running, w.stopped = 0, true
}

func (w *fakeWorker) Running() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.running
}

func (w *fakeWorker) Size() int { return w.size }

func (w *fakeWorker) Drain(now time.Time) *stats.Delta {
	e := w.rec.Entry("echo", "echo receive")
	for range w.Running() {
		e.Record(3*time.Millisecond, 60)
	}
	return w.rec.Drain(now)
}

func workers(sizes ...int) ([]Worker, []*fakeWorker) {
	ws := make([]Worker, len(sizes))
	fs := make([]*fakeWorker, len(sizes))
	for i, s := range sizes {
		fs[i] = newFakeWorker(s)
		ws[i] = fs[i]
	}
	return ws, fs
}

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		count int
		sizes []int
		want  []int
	}{
		{"even", 100, []int{50, 50}, []int{50, 50}},
		{"remainder to lowest", 10, []int{10, 10, 10}, []int{4, 3, 3}},
		{"small block fills, rest spreads", 20, []int{2, 100, 100}, []int{2, 9, 9}},
		{"zero", 0, []int{5, 5}, []int{0, 0}},
		{"more than capacity stops at capacity", 30, []int{5, 5}, []int{5, 5}},
		{"no workers", 10, nil, []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ws, _ := workers(tc.sizes...)
			require.Equal(t, tc.want, Split(tc.count, ws))
		})
	}
}

func TestStartSplitsCountAndRate(t *testing.T) {
	t.Parallel()
	ws, fs := workers(10, 10, 10)
	m := New(nil, ws...)
	require.Equal(t, 30, m.Capacity())
	require.NoError(t, m.Start(10, 5))
	require.Equal(t, []int{4, 3, 3}, []int{fs[0].running, fs[1].running, fs[2].running})
	require.InDelta(t, 2.0, fs[0].rate, 1e-9)
	require.InDelta(t, 1.5, fs[1].rate, 1e-9)
	require.Equal(t, 10, m.Running())

	err := m.Start(31, 5)
	require.ErrorIs(t, err, ErrNotEnoughDevices)
	require.Contains(t, err.Error(), "asked for 31, the device list holds 30")
	require.Error(t, m.Start(-1, 1))
}

func TestCollectMergesWorkers(t *testing.T) {
	t.Parallel()
	ws, _ := workers(5, 5)
	m := New(nil, ws...)
	require.NoError(t, m.Start(7, 0))
	now := time.Now()
	m.Collect(now)
	snap := m.Collect(now.Add(time.Second))
	require.Len(t, snap.Entries, 1)
	require.EqualValues(t, 14, snap.Total.NumRequests, "7 devices × 2 collections")
	m.Reset()
	require.EqualValues(t, 0, m.Collect(now.Add(2*time.Second)).Total.NumRequests-7)
}

func TestRunHeadlessStopsAtRunTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ws, fs := workers(4)
		m := New(nil, ws...)
		var out bytes.Buffer
		stopped := false
		snap, err := m.RunHeadless(t.Context(), Headless{
			Devices: 4, SpawnRate: 2, RunTime: 9 * time.Second, PrintInterval: 2 * time.Second,
			Out:         &out,
			StopWorkers: func() { stopped = true; m.Stop() },
		})
		require.NoError(t, err)
		require.True(t, stopped)
		require.True(t, fs[0].stopped)
		// Ticks at 2, 4, 6 and 8 s collect 4 records each; the final collection adds none (stopped).
		require.EqualValues(t, 16, snap.Total.NumRequests)
		text := out.String()
		require.Equal(t, 4, strings.Count(text, "devices running"), text)
		require.Contains(t, text, "Run time limit (9s) reached")
		require.Contains(t, text, "Summary")
		require.Contains(t, text, "Response time percentiles")
		require.Contains(t, text, "All 4 devices spawned")
	})
}

func TestRunHeadlessStopsOnCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ws, _ := workers(2)
		m := New(nil, ws...)
		ctx, cancel := context.WithCancel(t.Context())
		var out bytes.Buffer
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, err := m.RunHeadless(ctx, Headless{Devices: 2, Out: &out, OnlySummary: true})
			require.NoError(t, err)
		}()
		time.Sleep(5 * time.Second) // fake time inside the bubble
		cancel()
		<-done
		require.NotContains(t, out.String(), "devices running", "only the summary")
		require.Contains(t, out.String(), "Stopping")
		require.Equal(t, 0, m.Running())
	})
}

func TestRunHeadlessRefusesTooManyDevices(t *testing.T) {
	t.Parallel()
	ws, _ := workers(2)
	_, err := New(nil, ws...).RunHeadless(t.Context(), Headless{Devices: 3, Out: &bytes.Buffer{}})
	require.ErrorIs(t, err, ErrNotEnoughDevices)
}
