package target

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the target's Prometheus metrics (the echo app registers its own).
type metrics struct {
	connections        prometheus.Gauge
	connects           prometheus.Counter
	refused            map[Reason]prometheus.Counter // one child per Reason, resolved once
	received           prometheus.Counter
	sent               prometheus.Counter
	dropped            prometheus.Counter
	jwtExpiredDisconns prometheus.Counter
	acceptErrors       prometheus.Counter
	willsDropped       prometheus.Counter
	retainedRefused    prometheus.Counter
	collectors         []prometheus.Collector // as registered
}

// newMetrics creates the target metrics and registers them with reg (if not nil).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ltk_target_connects_refused_total",
		Help: "MQTT connections refused, by reason.",
	}, []string{"reason"})
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ltk_target_connections",
			Help: "MQTT clients connected now.",
		}),
		connects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_target_connects_total",
			Help: "MQTT connections accepted.",
		}),
		refused: make(map[Reason]prometheus.Counter, len(Reasons)),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_target_messages_received_total",
			Help: "PUBLISH messages accepted from clients.",
		}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_target_messages_sent_total",
			Help: "PUBLISH messages written to clients.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_target_messages_dropped_total",
			Help: "PUBLISH messages dropped because a client's outbound queue was full (see --max-pending-writes).",
		}),
		jwtExpiredDisconns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_target_jwt_expired_disconnects_total",
			Help: "Connections closed because their JWT expired.",
		}),
		acceptErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_target_accept_errors_total",
			Help: "Failed accepts of MQTT connections (such as EMFILE, too many open files); the target backs off and retries.",
		}),
		willsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_target_wills_dropped_total",
			Help: "Will messages not published because the client may not publish to their topic.",
		}),
		retainedRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ltk_target_retained_refused_total",
			Help: "Retained publishes delivered but not retained: over --max-retained or --max-retained-size.",
		}),
	}
	for _, r := range Reasons {
		m.refused[r] = refused.WithLabelValues(string(r))
	}
	if reg == nil {
		return m, nil
	}
	m.collectors = []prometheus.Collector{m.connections, m.connects, refused, m.received, m.sent, m.dropped, m.jwtExpiredDisconns,
		m.acceptErrors, m.willsDropped, m.retainedRefused}
	for i, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register target metrics: %w (one target per registry)", err)
		}
	}
	return m, nil
}

// unregister removes the metrics from reg (for a target that failed to start).
func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range m.collectors {
		reg.Unregister(c)
	}
}
