package echo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsAddr returns the /metrics listener's address, or "" when off.
func (c *Client) MetricsAddr() string {
	if c.metricsLn == nil {
		return ""
	}
	return c.metricsLn.Addr().String()
}

func (c *Client) listenMetrics(reg prometheus.Registerer) error {
	g, ok := reg.(prometheus.Gatherer)
	if !ok {
		return errors.New("metrics address set but the registry cannot be gathered (pass a *prometheus.Registry)")
	}
	ln, err := net.Listen("tcp", c.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen for metrics on %s: %w (use --metrics-addr)", c.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	c.metricsLn = ln
	c.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// serveMetrics serves until closeMetrics; on failure it records the error and calls stop.
func (c *Client) serveMetrics(stop func()) {
	if err := c.metricsSrv.Serve(c.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
		c.metricsErr = fmt.Errorf("serve metrics: %w", err)
		stop()
	}
}

func (c *Client) closeMetrics() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.metricsSrv.Shutdown(ctx); err != nil {
		_ = c.metricsSrv.Close()
	}
	_ = c.metricsLn.Close()
}
