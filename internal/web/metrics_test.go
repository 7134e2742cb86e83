package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/web"
)

// families are the metrics of a registry gathered at one moment, so that
// what a test compares comes from the same tick.
type families []*dto.MetricFamily

func gather(t *testing.T, reg *prometheus.Registry) families {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	return fams
}

// value finds the metric name with the given labels; for a histogram it
// returns the sample count. ok is false if there is none.
func (fs families) value(name string, labels map[string]string) (v float64, ok bool) {
	for _, f := range fs {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabels(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// histogram returns the histogram of name with labels, or nil.
func (fs families) histogram(name string, labels map[string]string) *dto.Histogram {
	for _, f := range fs {
		for _, m := range f.GetMetric() {
			if f.GetName() == name && hasLabels(m, labels) {
				return m.GetHistogram()
			}
		}
	}
	return nil
}

// metricValue gathers reg and finds the metric name with the given labels.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (v float64, ok bool) {
	t.Helper()
	return gather(t, reg).value(name, labels)
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// TestMetricsMove: every metric moves with the test, and a gathering holds
// one tick's values: the test awaits the state it then asserts (the first
// tick runs in Run's goroutine, after start returns; each later tick may
// land between two reads).
func TestMetricsMove(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	e := start(t, web.Config{Registry: reg})
	e.ctrl.FailEvery = 4
	echo := map[string]string{"type": "echo", "name": "echo receive"}
	timeout := map[string]string{"type": "echo", "name": "echo timeout"}

	var fs families
	require.Eventually(t, func() bool { // the first tick
		fs = gather(t, reg)
		v, _ := fs.value("ltk_master_test_state", map[string]string{"state": "ready"})
		return v == 1
	}, 5*time.Second, testInterval)
	_, ok := fs.value("ltk_master_requests_total", echo)
	require.False(t, ok, "no series before any request")

	e.running(20)
	require.Eventually(t, func() bool { // a tick with the devices running and a timeout counted
		fs = gather(t, reg)
		fails, _ := fs.value("ltk_master_failures_total", timeout)
		devices, _ := fs.value("ltk_master_devices_running", nil)
		state, _ := fs.value("ltk_master_test_state", map[string]string{"state": "running"})
		return fails > 0 && devices == 20 && state == 1
	}, 5*time.Second, testInterval)
	reqs, _ := fs.value("ltk_master_requests_total", echo)
	require.Positive(t, reqs)
	fails, _ := fs.value("ltk_master_failures_total", echo)
	require.Zero(t, fails)

	h := fs.histogram("ltk_master_response_time_seconds", echo)
	require.NotNil(t, h)
	require.Equal(t, uint64(reqs), h.GetSampleCount())
	require.InDelta(t, 0.002*reqs, h.GetSampleSum(), 0.0011*reqs, "echoes take 1 to 3 ms")
	for _, b := range h.GetBucket() {
		switch ub := b.GetUpperBound(); {
		case ub < 0.001:
			require.Zero(t, b.GetCumulativeCount(), "le=%v", ub)
		case ub >= 0.005:
			require.Equal(t, uint64(reqs), b.GetCumulativeCount(), "le=%v", ub)
		}
	}

	// A timeout has no response time: counted, in no histogram bucket.
	treqs, _ := fs.value("ltk_master_requests_total", timeout)
	require.Positive(t, treqs)
	th := fs.histogram("ltk_master_response_time_seconds", timeout)
	require.NotNil(t, th)
	require.Zero(t, th.GetSampleCount())

	for name, want := range map[string]float64{"ltk_master_devices_running": 20, "ltk_master_devices_capacity": 100} {
		v, _ := fs.value(name, nil)
		require.Equal(t, want, v, name)
	}
	v, _ := fs.value("ltk_master_workers", map[string]string{"state": "running"})
	require.Equal(t, 2.0, v)
	v, _ = fs.value("ltk_master_workers", map[string]string{"state": "missing"})
	require.Equal(t, 0.0, v)

	// A reset zeroes the stats, not the counters.
	before, _ := metricValue(t, reg, "ltk_master_requests_total", echo)
	e.get("/stats/reset")
	after, _ := metricValue(t, reg, "ltk_master_requests_total", echo)
	require.GreaterOrEqual(t, after, before)
	require.Eventually(t, func() bool {
		v, _ := metricValue(t, reg, "ltk_master_requests_total", echo)
		return v > after
	}, 5*time.Second, testInterval, "counting goes on after the reset")

	// /metrics serves the same registry.
	resp, body := e.do(http.MethodGet, "/metrics", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, want := range []string{
		`ltk_master_requests_total{name="echo receive",type="echo"}`,
		`ltk_master_response_time_seconds_bucket{name="echo receive",type="echo",le="0.005"}`,
		"ltk_master_devices_running 20",
	} {
		require.Contains(t, string(body), want)
	}
}

func TestMetricsUnregisterWhenRunEnds(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s, err := web.New(web.Config{Addr: "127.0.0.1:0", Registry: reg}, newCtrl())
	require.NoError(t, err)
	_, err = web.New(web.Config{Addr: "127.0.0.1:0", Registry: reg}, newCtrl())
	require.ErrorContains(t, err, "register web metrics", "one server per registry at a time")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.NoError(t, s.Run(ctx))
	s2 := startWith(t, web.Config{Addr: "127.0.0.1:0", Registry: reg})
	require.NotEmpty(t, s2.Addr(), "the registry is free again once Run has returned")
}
