package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// HealthHandler serves the worker's probes: GET /healthz answers 200 while
// the process serves (liveness), GET /readyz answers 200 while the master
// has welcomed the worker and 503, saying so, while it has not (readiness:
// a worker pod is ready once it reached its master through the cluster's
// network).
func (a *Agent) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.Connected() {
			http.Error(w, "not connected to the master at "+a.cfg.MasterAddr, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "connected to the master at %s\n", a.cfg.MasterAddr)
	})
	return mux
}

// serveHealth listens on Config.HealthAddr (if set) and serves
// HealthHandler until stop is called.
func (a *Agent) serveHealth() (stop func(), err error) {
	if a.cfg.HealthAddr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.HealthAddr)
	if err != nil {
		return nil, fmt.Errorf("health address %s: %w (pick another --health-addr)", a.cfg.HealthAddr, err)
	}
	srv := &http.Server{Handler: a.HealthHandler(), ReadHeaderTimeout: 5 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.cfg.Logger.Error("health server stopped", "err", err)
		}
	})
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		wg.Wait()
	}, nil
}
