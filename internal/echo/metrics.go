package echo

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the echo app's Prometheus metrics.
type metrics struct {
	messages  prometheus.Counter
	dropped   prometheus.Counter
	errors    prometheus.Counter
	execution prometheus.Histogram
}

// newMetrics creates the echo metrics and registers them with reg (if not nil).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_echo_messages_total",
			Help: "Device events received by the echo app.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_echo_dropped_total",
			Help: "Device events deliberately not echoed (--drop-rate).",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_echo_errors_total",
			Help: "Echoes that could not be published (broker error, queue full, shutdown).",
		}),
		execution: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ltk_echo_execution_seconds",
			Help: "Echo execution time, from event received to echo published (the tutorial's function times).",
			// 100 µs .. ~52 s; covers instant echoes and long configured delays.
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 20),
		}),
	}
	if reg == nil {
		return m, nil
	}
	if err := register(reg, m.messages, m.dropped, m.errors, m.execution); err != nil {
		return nil, fmt.Errorf("register echo metrics: %w (one echo app per registry)", err)
	}
	return m, nil
}

// register registers every collector with reg, or none of them.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return err
		}
	}
	return nil
}
