package echo

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// sent records what an App published.
type sent struct {
	mu    sync.Mutex
	calls []call
	err   error // returned by publish
}

type call struct {
	device  string
	payload string
	qos     byte
	at      time.Time
}

func (s *sent) publish(d string, p []byte, qos byte, _ Response) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.calls = append(s.calls, call{d, string(p), qos, time.Now()})
	return nil
}

func (s *sent) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, Config{}.Validate())
	require.NoError(t, Config{Delay: time.Second, Jitter: time.Second, DropRate: 1}.Validate())
	for _, c := range []Config{{Delay: -1}, {Jitter: -1}, {DropRate: -0.1}, {DropRate: 1.1}} {
		require.Error(t, c.Validate(), "%+v", c)
	}
	_, err := New(Config{DropRate: 2}, (&sent{}).publish, nil)
	require.Error(t, err)
}

func TestHandleEchoesAtOnce(t *testing.T) {
	t.Parallel()
	var s sent
	reg := prometheus.NewRegistry()
	var observed []time.Duration
	a, err := New(Config{Observer: func(d time.Duration) { observed = append(observed, d) }}, s.publish, reg)
	require.NoError(t, err)
	a.Handle("dev-1", []byte("p1"), 2, time.Now())
	a.Handle("dev-2", []byte("p2"), 0, time.Now())
	require.Equal(t, []string{"dev-1", "dev-2"}, []string{s.calls[0].device, s.calls[1].device})
	require.Equal(t, "p1", s.calls[0].payload)
	require.Equal(t, byte(2), s.calls[0].qos, "the echo keeps the QoS, 2 included")
	require.Equal(t, byte(0), s.calls[1].qos)
	require.Len(t, observed, 2)
	require.Equal(t, Stats{Received: 2, Echoed: 2}, a.Stats())
	require.Equal(t, 2.0, value(t, reg, "ltk_echo_messages_total"))
	require.Equal(t, 2.0, value(t, reg, "ltk_echo_execution_seconds"))

	s.err = errors.New("broker gone")
	a.Handle("dev-1", []byte("p3"), 1, time.Now())
	require.Equal(t, 1.0, value(t, reg, "ltk_echo_errors_total"))
	require.Equal(t, uint64(1), a.Stats().Errors)
}

// value gathers reg and returns the counter value (or histogram sample
// count) of the metric called name; 0 if absent.
func value(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if h := m.GetHistogram(); h != nil {
			return float64(h.GetSampleCount())
		}
		return m.GetCounter().GetValue()
	}
	return 0
}

func TestDropRate(t *testing.T) {
	t.Parallel()
	var s sent
	reg := prometheus.NewRegistry()
	a, err := New(Config{DropRate: 1}, s.publish, reg)
	require.NoError(t, err)
	for range 100 {
		a.Handle("d", []byte("x"), 1, time.Now())
	}
	require.Zero(t, s.len())
	require.Equal(t, 100.0, value(t, reg, "ltk_echo_dropped_total"))

	// A fixed seed drops the same messages every run; about half of them.
	counts := make([]uint64, 2)
	for i := range counts {
		a, err := New(Config{DropRate: 0.5, Seed: 42}, (&sent{}).publish, nil)
		require.NoError(t, err)
		for range 1000 {
			a.Handle("d", []byte("x"), 1, time.Now())
		}
		counts[i] = a.Stats().Dropped
	}
	require.Equal(t, counts[0], counts[1])
	require.InDelta(t, 500, counts[0], 100)
}

func TestDelayAndJitter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var s sent
		const delay, jitter = 100 * time.Millisecond, 50 * time.Millisecond
		var mu sync.Mutex
		var observed []time.Duration
		a, err := New(Config{Delay: delay, Jitter: jitter, Seed: 7, Observer: func(d time.Duration) {
			mu.Lock()
			observed = append(observed, d)
			mu.Unlock()
		}}, s.publish, nil)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- a.Run(ctx) }()

		start := time.Now()
		for range 100 {
			a.Handle("d", []byte("x"), 1, start)
		}
		time.Sleep(delay - time.Millisecond)
		synctest.Wait()
		require.Zero(t, s.len(), "nothing before the delay")
		time.Sleep(jitter + time.Millisecond)
		synctest.Wait()
		require.Equal(t, 100, s.len(), "everything by delay + jitter")
		require.Len(t, observed, 100)
		distinct := map[time.Duration]bool{}
		for _, d := range observed {
			require.GreaterOrEqual(t, d, delay)
			require.LessOrEqual(t, d, delay+jitter)
			distinct[d] = true
		}
		require.Greater(t, len(distinct), 10, "jitter spreads the echoes")
		cancel()
		require.NoError(t, <-done)
	})
}

func TestRunStopAbandonsPending(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var s sent
		a, err := New(Config{Delay: time.Hour}, s.publish, nil)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- a.Run(ctx) }()
		a.Handle("d", []byte("x"), 1, time.Now())
		synctest.Wait()
		cancel()
		require.NoError(t, <-done)
		a.Handle("d", []byte("y"), 1, time.Now())
		require.Zero(t, s.len())
		require.Equal(t, uint64(2), a.Stats().Errors)
	})
}

func TestHandleAllocatesNothing(t *testing.T) {
	a, err := New(Config{}, func(string, []byte, byte, Response) error { return nil }, prometheus.NewRegistry())
	require.NoError(t, err)
	payload := []byte("LTK00001 payload 1")
	now := time.Now()
	require.Zero(t, testing.AllocsPerRun(1000, func() { a.Handle("LTK00001", payload, 1, now) }))
}

func TestSharedFilter(t *testing.T) {
	t.Parallel()
	require.Equal(t, "$share/g//devices/+/events/#", SharedFilter("g", "/devices/+/events/#"))
}
