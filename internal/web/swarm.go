package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrBadInput marks a Swarm refused because of what was asked for; the API
// answers it with HTTP 400.
var ErrBadInput = errors.New("bad input")

// Swarm starts a test with count devices spawned at rate devices per second
// (0 = all at once), or changes the count and rate of the running one, as
// POST /swarm does. A runTime > 0 stops the test that long from now; 0 keeps
// the run time of a running test and sets none on a new one. Errors wrapping
// ErrBadInput say what to fix.
func (s *Server) Swarm(count int, rate float64, runTime time.Duration) error {
	switch capacity := s.c.Capacity(); {
	case count < 0:
		return fmt.Errorf("%w: user_count %d is negative: give the number of devices to run (0 to %d)", ErrBadInput, count, capacity)
	case count > capacity:
		return fmt.Errorf("%w: user_count %d is more devices than the device list holds (%d): ask for at most %d, or create more with 'ltk devices create'",
			ErrBadInput, count, capacity, capacity)
	case rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0):
		return fmt.Errorf("%w: spawn_rate %v is not a rate: give devices per second, 0 or more (0 starts them all at once)", ErrBadInput, rate)
	case runTime < 0:
		return fmt.Errorf("%w: run_time %v is negative", ErrBadInput, runTime)
	}
	fresh := !s.c.State().active()
	if fresh {
		s.resetStats()
		s.pubMu.Lock() // a tick adds its point and publishes it with the generation atomically
		s.hist.reset()
		s.pubMu.Unlock()
	}
	if err := s.c.Swarm(count, rate); err != nil {
		return fmt.Errorf("start %d devices: %w", count, err)
	}
	s.mu.Lock()
	switch {
	case runTime > 0:
		s.stopAt = time.Now().Add(runTime)
	case fresh:
		s.stopAt = time.Time{}
	}
	s.mu.Unlock()
	s.poke()
	s.refresh()
	return nil
}

// Stop stops the test, as GET /stop does, and cancels its run time.
func (s *Server) Stop() error {
	s.mu.Lock()
	s.stopAt = time.Time{}
	s.mu.Unlock()
	s.poke()
	err := s.c.Stop()
	s.refresh()
	return err
}

// resetStats resets the controller's stats, first folding them into the
// metrics so that the Prometheus counters keep growing.
func (s *Server) resetStats() {
	s.metrics.reset(s.c.Snapshot(time.Now()))
	s.c.ResetStats()
}

// poke tells the deadline loop that stopAt changed.
func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

func (s *Server) stopAtUnix() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopAt.IsZero() {
		return 0
	}
	return unixSeconds(s.stopAt)
}

// deadlineLoop stops the test when its run time has passed.
func (s *Server) deadlineLoop(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		s.mu.Lock()
		at := s.stopAt
		s.mu.Unlock()
		if !at.IsZero() {
			t.Reset(time.Until(at))
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
			t.Stop()
		case <-t.C:
			s.mu.Lock()
			due := s.stopAt.Equal(at)
			if due {
				s.stopAt = time.Time{}
			}
			s.mu.Unlock()
			if due {
				s.cfg.Log.Info("run time reached: stopping the test")
				if err := s.c.Stop(); err != nil {
					s.cfg.Log.Error("stop at the end of the run time", "err", err)
				}
				s.refresh()
			}
		}
	}
}

// handleSwarm is POST /swarm with Locust's form fields user_count,
// spawn_rate (default 1) and run_time (optional: 20, 20s, 3m, 1h20m, ...).
func (s *Server) handleSwarm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeFailure(w, http.StatusBadRequest, fmt.Sprintf("cannot read the form: %v", err))
		return
	}
	count, rate, runTime, msg := parseSwarmForm(r)
	if msg == "" {
		msg = s.checkHost(r.FormValue("host"))
	}
	if msg != "" {
		writeFailure(w, http.StatusBadRequest, msg)
		return
	}
	if err := s.Swarm(count, rate, runTime); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrBadInput) {
			status = http.StatusBadRequest
		}
		writeFailure(w, status, strings.TrimPrefix(err.Error(), ErrBadInput.Error()+": "))
		return
	}
	resp := map[string]any{"success": true, "message": "Swarming started", "host": s.cfg.Broker}
	if runTime > 0 {
		resp["run_time"] = runTime.Seconds()
	}
	writeJSON(w, http.StatusOK, resp)
}

// checkHost checks Locust's host field of the swarm form: empty, or the
// broker the master drives. ltk's broker is a setting of the master (its
// devices' credentials and the target go with it), so another one is
// refused, never silently ignored; msg says what to do.
func (s *Server) checkHost(host string) (msg string) {
	host = strings.TrimSpace(host)
	if host == "" || strings.TrimSuffix(host, "/") == strings.TrimSuffix(s.cfg.Broker, "/") {
		return ""
	}
	if s.cfg.Broker == "" {
		return fmt.Sprintf("host %q: ltk's broker is set when the master starts, not per test: restart ltk with --broker %s, or leave host empty", host, host)
	}
	return fmt.Sprintf("host %q: this master drives the broker %s, set when it started, not per test: leave host empty (or %s), or restart ltk with --broker %s",
		host, s.cfg.Broker, s.cfg.Broker, host)
}

// parseSwarmForm reads the swarm form; msg says what is wrong, if anything.
func parseSwarmForm(r *http.Request) (count int, rate float64, runTime time.Duration, msg string) {
	v := strings.TrimSpace(r.FormValue("user_count"))
	if v == "" {
		return 0, 0, 0, "user_count is missing: give the number of devices to run"
	}
	count, err := strconv.Atoi(v)
	if err != nil {
		return 0, 0, 0, fmt.Sprintf("user_count %q is not a whole number of devices", v)
	}
	rate = 1
	if v := strings.TrimSpace(r.FormValue("spawn_rate")); v != "" {
		if rate, err = strconv.ParseFloat(v, 64); err != nil {
			return 0, 0, 0, fmt.Sprintf("spawn_rate %q is not a number: give devices started per second, such as 10 or 0.5", v)
		}
	}
	if v := strings.TrimSpace(r.FormValue("run_time")); v != "" {
		if runTime, err = parseTimespan(v); err != nil {
			return 0, 0, 0, fmt.Sprintf("run_time %q is not a time span: valid formats are 20, 20s, 3m, 2h, 1h20m, 3h30m10s", v)
		}
		if runTime == 0 && strings.ContainsAny(v, "123456789") { // rounded to 0, which means no limit; Swarm refuses negatives
			return 0, 0, 0, fmt.Sprintf("run_time %q is not a positive time span: give one such as 20s, or leave run_time empty for no limit", v)
		}
	}
	return count, rate, runTime, ""
}

// parseTimespan reads Locust's time spans: bare seconds or a Go duration
// such as 1h20m.
func parseTimespan(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 && n < math.MaxInt64/float64(time.Second) {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// handleStop is GET /stop.
func (s *Server) handleStop(w http.ResponseWriter, _ *http.Request) {
	if err := s.Stop(); err != nil {
		writeFailure(w, http.StatusInternalServerError, fmt.Sprintf("stop: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Test stopped"})
}

// handleReset is GET /stats/reset; it answers "ok" as Locust does.
func (s *Server) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.resetStats()
	s.refresh()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// sameOrigin refuses control requests that a page on another site made the
// browser send (Sec-Fetch-Site), so a visited page cannot start or stop load
// with the user's cached credentials. Scripts send no such header.
func sameOrigin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Sec-Fetch-Site") {
		case "", "same-origin", "none":
			h(w, r)
		default:
			writeFailure(w, http.StatusForbidden, "cross-site request refused: use the ltk UI or a script")
		}
	}
}
