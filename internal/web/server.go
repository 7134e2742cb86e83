package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is the web UI, REST API and /metrics of a master. New binds its
// listener; Run serves and samples the Controller until its context ends.
type Server struct {
	cfg     Config
	c       Controller
	ln      net.Listener
	srv     *http.Server
	hist    *history
	hub     *hub
	metrics *metrics
	auth    *basicAuth // nil without Config.Auth
	wake    chan struct{}
	ran     sync.Once

	pubMu sync.Mutex // Serialises sampling and publishing, so frames go out in order.

	mu     sync.Mutex // Guards the fields below.
	stopAt time.Time  // when the run time ends; zero if none
}

// New returns a server for c, listening on cfg.Addr. It fails if the
// address cannot be bound, the config is invalid or the metrics cannot be
// registered. It logs a warning when the UI is reachable beyond this host
// without auth, since anyone who reaches it can start and stop load.
func New(cfg Config, c Controller) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("web: nil Controller")
	}
	s := &Server{
		cfg:  cfg,
		c:    c,
		hist: newHistory(cfg.HistoryLen),
		hub:  newHub(),
		wake: make(chan struct{}, 1),
	}
	if cfg.Auth != "" {
		user, pass, _ := splitAuth(cfg.Auth) // checked by Validate
		s.auth = newBasicAuth(user, pass)
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		m.unregister()
		return nil, fmt.Errorf("web UI: listen on %s: %w (is another ltk master or Locust using the port? pick another with --web-port)", cfg.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn),
	}
	if cfg.Auth == "" && Exposed(ln.Addr().String()) {
		cfg.Log.Warn("web UI has no auth and listens beyond this host: anyone who reaches it can start and stop load against the target; set --web-auth user:pass or --web-host 127.0.0.1",
			"addr", ln.Addr().String())
	}
	return s, nil
}

// Addr is the address the server listens on, with the real port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run serves HTTP and samples the Controller every Config.Interval until ctx
// ends, then shuts down (waiting up to 5 s for requests in flight; event
// streams end at once) and unregisters its metrics. It returns nil on a
// clean shutdown. Run may be called once.
func (s *Server) Run(ctx context.Context) error {
	err := errors.New("web: Run called twice")
	s.ran.Do(func() { err = s.run(ctx) })
	return err
}

func (s *Server) run(ctx context.Context) error {
	defer s.metrics.unregister()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.srv.BaseContext = func(net.Listener) context.Context { return ctx } // ends event streams on shutdown

	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() { serveErr <- s.srv.Serve(s.ln) })
	wg.Go(func() { s.tickLoop(ctx) })
	wg.Go(func() { s.deadlineLoop(ctx) })

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("web UI: serve on %s: %w", s.Addr(), err)
	}
	cancel()
	shutCtx, shutCancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer shutCancel()
	if shutErr := s.srv.Shutdown(shutCtx); shutErr != nil {
		_ = s.srv.Close()
	}
	wg.Wait()
	if err == nil {
		if e := <-serveErr; !errors.Is(e, http.ErrServerClosed) {
			err = fmt.Errorf("web UI: serve on %s: %w", s.Addr(), e)
		}
	}
	return err
}

// tickLoop samples the Controller at once and then every Interval, on an
// absolute schedule, until ctx ends.
func (s *Server) tickLoop(ctx context.Context) {
	start := time.Now()
	s.tick(start)
	t := time.NewTimer(s.cfg.Interval)
	defer t.Stop()
	for n := 2; ; n++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.tick(now)
			t.Reset(time.Until(start.Add(time.Duration(n) * s.cfg.Interval)))
		}
	}
}

// tick records a history point, updates the metrics and publishes a frame.
func (s *Server) tick(now time.Time) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	smp := takeSample(s.c, now)
	p := pointOf(smp.snap, smp.running)
	s.hist.add(p)
	s.metrics.observe(smp)
	if err := s.publishSample(smp, &p); err != nil {
		s.cfg.Log.Error("web UI: cannot publish stats", "err", err)
	}
}

// refresh publishes a frame between ticks, after a control action, so that
// browsers see the new state at once. It records no history.
func (s *Server) refresh() {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.publishNow()
}

// publishNow publishes a frame of the Controller as it is now, without a
// history point. s.pubMu is held.
func (s *Server) publishNow() {
	if err := s.publishSample(takeSample(s.c, time.Now()), nil); err != nil {
		s.cfg.Log.Error("web UI: cannot publish stats", "err", err)
	}
}

// routes builds the handler tree; every route goes through auth when it is set.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /", assetHandler())
	// Locust's API.
	mux.HandleFunc("POST /swarm", sameOrigin(s.handleSwarm))
	mux.HandleFunc("GET /stop", sameOrigin(s.handleStop))
	mux.HandleFunc("GET /stats/reset", sameOrigin(s.handleReset))
	mux.HandleFunc("GET /stats/requests", s.handleRequests)
	mux.HandleFunc("GET /stats/requests/csv", s.handleRequestsCSV)
	mux.HandleFunc("GET /stats/requests_full_history/csv", s.handleHistoryCSV)
	mux.HandleFunc("GET /stats/failures/csv", s.handleFailuresCSV)
	mux.HandleFunc("GET /tasks", s.handleTasks)
	mux.HandleFunc("GET /exceptions", s.handleExceptions)
	mux.HandleFunc("GET /exceptions/csv", s.handleExceptionsCSV)
	mux.HandleFunc("GET /stats/report", s.handleReport)
	// ltk's additions.
	mux.HandleFunc("GET /api/history", s.handleHistory)
	mux.HandleFunc("GET /api/workers", s.handleWorkers)
	mux.HandleFunc("GET /api/events", s.handleEvents)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	var h http.Handler = mux
	if s.auth == nil {
		mux.HandleFunc("GET /healthz", s.handleHealth)
	} else {
		// The liveness probe's endpoint is the one route without auth: a
		// kubelet has no password, and it tells nothing but that the master
		// serves.
		outer := http.NewServeMux()
		outer.HandleFunc("GET /healthz", s.handleHealth)
		outer.Handle("/", s.auth.wrap(mux))
		h = outer
	}
	return newHostCheck(s.cfg.Addr, s.cfg.AllowedHosts).wrap(h)
}

// handleHealth answers a liveness probe: the server serves and the test's
// state is readable.
func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "ok: %s\n", s.c.State())
}
