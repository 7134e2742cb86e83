package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
)

// handleRequests is GET /stats/requests: the report of the latest frame,
// as encoded once per tick (and after each control action). It never samples
// the Controller itself, so polling costs the master nothing but the write,
// however many workers it merges; the report is at most one tick old, as
// Locust caches its report for 2 s.
func (s *Server) handleRequests(w http.ResponseWriter, _ *http.Request) {
	f := s.latest()
	if f == nil {
		writeFailure(w, http.StatusInternalServerError, "the stats report could not be encoded: see the master's log")
		return
	}
	writeRawJSON(w, f.report)
}

// latest returns the latest frame; before the first tick it publishes one,
// once however many requests ask at a time. It is nil if the report could
// not be encoded.
func (s *Server) latest() *frame {
	if f, _ := s.hub.current(); f != nil {
		return f
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if f, _ := s.hub.current(); f != nil { // published while this waited
		return f
	}
	s.publishNow()
	f, _ := s.hub.current()
	return f
}

// handleHistory is GET /api/history: the chart history, oldest first.
func (s *Server) handleHistory(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, columns(s.hist.points()))
}

// handleWorkers is GET /api/workers.
func (s *Server) handleWorkers(w http.ResponseWriter, _ *http.Request) {
	ws := s.c.Workers()
	out := struct {
		Workers []workerJSON `json:"workers"`
	}{Workers: make([]workerJSON, 0, len(ws))}
	for _, wk := range ws {
		out.Workers = append(out.Workers, workerOf(wk))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleExceptions is GET /exceptions, as Locust serves it.
func (s *Server) handleExceptions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"exceptions": exceptionsOf(s.c.Exceptions())})
}

// handleRequestsCSV is GET /stats/requests/csv: Locust's _stats.csv.
func (s *Server) handleRequestsCSV(w http.ResponseWriter, _ *http.Request) {
	s.writeCSV(w, "requests", func(out io.Writer, snap stats.Snapshot) error { return stats.WriteStatsCSV(out, snap) })
}

// handleFailuresCSV is GET /stats/failures/csv: Locust's _failures.csv.
func (s *Server) handleFailuresCSV(w http.ResponseWriter, _ *http.Request) {
	s.writeCSV(w, "failures", func(out io.Writer, snap stats.Snapshot) error { return stats.WriteFailuresCSV(out, snap) })
}

// handleExceptionsCSV is GET /exceptions/csv, with Locust's columns.
func (s *Server) handleExceptionsCSV(w http.ResponseWriter, _ *http.Request) {
	s.writeCSV(w, "exceptions", func(out io.Writer, _ stats.Snapshot) error {
		return stats.WriteExceptionsCSV(out, s.c.Exceptions())
	})
}

// A HistorySource is a Controller that keeps the history of the test (ltk's
// results store): with it the server serves Locust's
// /stats/requests_full_history/csv. Its method must be safe for
// concurrent use.
type HistorySource interface {
	// WriteHistoryCSV writes the test's _stats_history.csv so far, with a
	// row per entry and the Aggregated row every second.
	WriteHistoryCSV(w io.Writer) error
}

// handleHistoryCSV is GET /stats/requests_full_history/csv: the
// _stats_history.csv of the test so far, with every entry, when the
// Controller keeps a history; 404 otherwise, as Locust answers without
// --csv-full-history.
func (s *Server) handleHistoryCSV(w http.ResponseWriter, _ *http.Request) {
	hs, ok := s.c.(HistorySource)
	if !ok {
		writeFailure(w, http.StatusNotFound, "this master keeps no history of the test: ltk master and ltk run serve it from the results store")
		return
	}
	s.writeCSV(w, "requests_full_history", func(out io.Writer, _ stats.Snapshot) error { return hs.WriteHistoryCSV(out) })
}

// tasksJSON is GET /tasks: Locust's ratios of user classes and their
// tasks. ltk's devices are of one kind, doing one thing.
type tasksJSON struct {
	PerClass map[string]classRatio `json:"per_class"`
	Total    map[string]classRatio `json:"total"`
}

type classRatio struct {
	Ratio float64            `json:"ratio"`
	Tasks map[string]float64 `json:"tasks"`
}

// handleTasks is GET /tasks: one class, Device, whose one task is the
// devices' behaviour (Config.Behavior).
func (s *Server) handleTasks(w http.ResponseWriter, _ *http.Request) {
	classes := map[string]classRatio{"Device": {Ratio: 1, Tasks: map[string]float64{s.cfg.Behavior: 1}}}
	writeJSON(w, http.StatusOK, tasksJSON{PerClass: classes, Total: classes})
}

// writeCSV writes a CSV download of the current snapshot, named as Locust
// names it (requests_<unix time>.csv).
func (s *Server) writeCSV(w http.ResponseWriter, prefix string, write func(io.Writer, stats.Snapshot) error) {
	now := time.Now()
	var buf bytes.Buffer
	if err := write(&buf, s.c.Snapshot(now)); err != nil {
		writeFailure(w, http.StatusInternalServerError, fmt.Sprintf("write %s CSV: %v", prefix, err))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%s_%d.csv", prefix, now.Unix()))
	_, _ = w.Write(buf.Bytes())
}

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeRawJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// failure is the body of a refused request, as Locust writes it.
type failure struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

func writeFailure(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, failure{Success: false, Message: msg})
}
