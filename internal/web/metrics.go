package web

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ltk-dev/ltk/internal/stats"
)

// How the metrics are fed: every tick the server hands its sample to
// metrics.observe. Gauges (devices, workers by state, test state) are set
// from it. Requests, failures and the response-time histogram are cumulative
// in a stats.Snapshot, so they are exported as they stand, computed at
// scrape time from the latest snapshot; to keep them monotonic across a
// "reset stats" (which zeroes the snapshot), the totals as of the reset are
// folded into a base that is added to every later value. The server folds
// explicitly when it resets; a reset made elsewhere is recognised by the
// request count going down or the test's start moving later.

// responseTimeBuckets are the upper bounds of ltk_master_response_time_seconds.
var responseTimeBuckets = []float64{
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
}

// maxMetricEntries bounds the (type, name) label pairs exported. Entry names
// come from a small fixed set (MQTT connect, echo receive, ...); the cap only
// guards against a scenario that names entries after something unbounded.
const maxMetricEntries = 200

// knownStates are always exported for the state-labelled gauges, so a query
// sees zeros rather than missing series.
var knownStates = []State{StateReady, StateSpawning, StateRunning, StateStopping, StateStopped, StateMissing}

// metrics are the web server's ltk_master_* metrics.
type metrics struct {
	reg        *prometheus.Registry
	devices    prometheus.Gauge
	capacity   prometheus.Gauge
	workers    *prometheus.GaugeVec
	state      *prometheus.GaugeVec
	requests   *requestCollector
	collectors []prometheus.Collector // as registered
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		reg: reg,
		devices: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ltk_master_devices_running",
			Help: "Simulated devices running now, on all workers.",
		}),
		capacity: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ltk_master_devices_capacity",
			Help: "Devices in the device list: the most a test can run.",
		}),
		workers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ltk_master_workers",
			Help: "Workers known to the master, by state.",
		}, []string{"state"}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ltk_master_test_state",
			Help: "1 for the state the test is in, 0 for the others.",
		}, []string{"state"}),
		requests: newRequestCollector(),
	}
	for _, c := range []prometheus.Collector{m.devices, m.capacity, m.workers, m.state, m.requests} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, fmt.Errorf("register web metrics: %w (is a second web server using the same registry?)", err)
		}
		m.collectors = append(m.collectors, c)
	}
	for _, st := range knownStates {
		m.workers.WithLabelValues(string(st))
		m.state.WithLabelValues(string(st))
	}
	return m, nil
}

// unregister removes the metrics from the registry.
func (m *metrics) unregister() {
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
	m.collectors = nil
}

// observe updates the metrics from one tick's sample.
func (m *metrics) observe(smp sample) {
	m.devices.Set(float64(smp.running))
	m.capacity.Set(float64(smp.capacity))
	byState := make(map[State]int, len(knownStates))
	for _, w := range smp.workers {
		byState[w.State]++
	}
	for _, st := range knownStates {
		m.workers.WithLabelValues(string(st)).Set(float64(byState[st]))
		delete(byState, st)
	}
	for st, n := range byState { // states beyond Locust's, if a controller has any
		m.workers.WithLabelValues(string(st)).Set(float64(n))
	}
	for _, st := range knownStates {
		v := 0.0
		if st == smp.state {
			v = 1
		}
		m.state.WithLabelValues(string(st)).Set(v)
	}
	m.requests.observe(smp.snap)
}

// reset folds the totals of snap, taken just before the stats were reset,
// into the base, so the counters keep counting from there.
func (m *metrics) reset(snap stats.Snapshot) { m.requests.fold(snap) }

// requestCollector exports the request counters and the response-time
// histogram by (type, name) from the latest snapshot plus the base.
type requestCollector struct {
	requestsDesc, failuresDesc, histDesc *prometheus.Desc

	mu   sync.Mutex // Guards the fields below.
	base map[entryKey]*entryTotals
	last stats.Snapshot
}

type entryKey struct{ typ, name string }

// entryTotals are cumulative values of one entry.
type entryTotals struct {
	requests, failures uint64
	timed              uint64   // requests with a response time: the histogram's count
	sum                float64  // seconds
	buckets            []uint64 // cumulative counts at responseTimeBuckets
}

func newRequestCollector() *requestCollector {
	labels := []string{"type", "name"}
	return &requestCollector{
		requestsDesc: prometheus.NewDesc("ltk_master_requests_total",
			"Requests (MQTT connects, publishes, echo round trips, ...) recorded by all devices, failures included.", labels, nil),
		failuresDesc: prometheus.NewDesc("ltk_master_failures_total",
			"Failed requests recorded by all devices.", labels, nil),
		histDesc: prometheus.NewDesc("ltk_master_response_time_seconds",
			"Response times of requests, failures included but for those without one such as echo timeouts (echo receive: the device-measured round trip).", labels, nil),
		base: make(map[entryKey]*entryTotals),
	}
}

// observe makes snap the latest snapshot, folding the previous one into the
// base if snap comes after a reset the server did not make.
func (c *requestCollector) observe(snap stats.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.last
	if prev.Total.NumRequests > 0 &&
		(snap.Total.NumRequests < prev.Total.NumRequests || snap.Start.After(prev.Start)) {
		c.foldLocked(prev)
	}
	c.last = snap
}

// fold adds snap's totals to the base and forgets the latest snapshot.
func (c *requestCollector) fold(snap stats.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.foldLocked(snap)
	c.last = stats.Snapshot{}
}

func (c *requestCollector) foldLocked(snap stats.Snapshot) {
	for _, e := range snap.Entries {
		k := entryKey{e.Type, e.Name}
		t, ok := c.base[k]
		if !ok {
			if len(c.base) >= maxMetricEntries {
				continue
			}
			t = &entryTotals{buckets: make([]uint64, len(responseTimeBuckets))}
			c.base[k] = t
		}
		t.add(totalsOf(e))
	}
}

func (t *entryTotals) add(o entryTotals) {
	t.requests += o.requests
	t.timed += o.timed
	t.failures += o.failures
	t.sum += o.sum
	for i := range t.buckets {
		t.buckets[i] += o.buckets[i]
	}
}

// totalsOf computes the cumulative values of e. A histogram bucket's count
// is the rank of its bound among e's response times, found by bisection on
// e.Percentile (within the histogram's 1% precision).
func totalsOf(e stats.EntryStats) entryTotals {
	t := entryTotals{
		requests: uint64(e.NumRequests),
		failures: uint64(e.NumFailures),
		timed:    uint64(e.NumRequests - e.NumUntimed),
		sum:      e.Avg.Seconds() * float64(e.NumRequests-e.NumUntimed),
		buckets:  make([]uint64, len(responseTimeBuckets)),
	}
	n := e.NumRequests - e.NumUntimed // Percentile ranks the timed ones
	for i, b := range responseTimeBuckets {
		bound := time.Duration(b * float64(time.Second))
		switch {
		case n == 0 || e.Min > bound:
			t.buckets[i] = 0
		case e.Max <= bound:
			t.buckets[i] = uint64(n)
		default: // the largest k with Percentile(k/n) <= bound; Percentile(0) = Min <= bound
			lo, hi := int64(0), n
			for lo < hi {
				mid := lo + (hi-lo+1)/2
				if e.Percentile(float64(mid)/float64(n)) <= bound {
					lo = mid
				} else {
					hi = mid - 1
				}
			}
			t.buckets[i] = uint64(lo)
		}
	}
	return t
}

// Describe implements prometheus.Collector.
func (c *requestCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.requestsDesc
	ch <- c.failuresDesc
	ch <- c.histDesc
}

// Collect implements prometheus.Collector.
func (c *requestCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	totals := make(map[entryKey]*entryTotals, len(c.base)+len(c.last.Entries))
	for k, t := range c.base {
		cp := *t
		cp.buckets = append([]uint64(nil), t.buckets...)
		totals[k] = &cp
	}
	for _, e := range c.last.Entries {
		k := entryKey{e.Type, e.Name}
		t, ok := totals[k]
		if !ok {
			if len(totals) >= maxMetricEntries {
				continue
			}
			t = &entryTotals{buckets: make([]uint64, len(responseTimeBuckets))}
			totals[k] = t
		}
		t.add(totalsOf(e))
	}
	c.mu.Unlock()

	for k, t := range totals {
		buckets := make(map[float64]uint64, len(responseTimeBuckets))
		for i, b := range responseTimeBuckets {
			buckets[b] = t.buckets[i]
		}
		// The constructors fail only on label values that are not UTF-8;
		// such an entry is left out rather than failing the scrape.
		if m, err := prometheus.NewConstMetric(c.requestsDesc, prometheus.CounterValue, float64(t.requests), k.typ, k.name); err == nil {
			ch <- m
		}
		if m, err := prometheus.NewConstMetric(c.failuresDesc, prometheus.CounterValue, float64(t.failures), k.typ, k.name); err == nil {
			ch <- m
		}
		if m, err := prometheus.NewConstHistogram(c.histDesc, t.timed, t.sum, buckets, k.typ, k.name); err == nil {
			ch <- m
		}
	}
}

var _ prometheus.Collector = (*requestCollector)(nil)
