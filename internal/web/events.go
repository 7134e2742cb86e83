package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// eventJSON is the data of one "stats" event on /api/events: everything the
// UI shows, so a browser needs nothing else once it has /api/history.
type eventJSON struct {
	Report     json.RawMessage `json:"report"` // as GET /stats/requests
	Point      *pointJSON      `json:"point"`  // the history point recorded now; null on an update between ticks
	Exceptions []exceptionJSON `json:"exceptions"`
	Capacity   int             `json:"capacity"` // devices in the device list
	StopAt     float64         `json:"stop_at"`  // Unix seconds when the run time ends; 0 if none
	Version    string          `json:"version"`
	Broker     string          `json:"broker"`             // the URL of the broker the devices connect to
	Behavior   string          `json:"behavior"`           // what the devices do, without a scenario
	Scenario   *Scenario       `json:"scenario,omitempty"` // the scenario the devices run
	// WorkersExpected and WorkersConnected say whether the master still
	// waits for workers (it does while fewer than expected are connected).
	WorkersExpected  int `json:"workers_expected"`
	WorkersConnected int `json:"workers_connected"`
	// HistoryGen changes when the history is reset (a new test started): the
	// UI then fetches /api/history again.
	HistoryGen int `json:"history_gen"`
}

// frame is the latest state published to browsers and API clients.
type frame struct {
	report []byte // JSON of the requestsReport
	event  []byte // JSON of the eventJSON
}

// hub holds the latest frame and wakes every stream when it changes. A slow
// browser misses frames rather than queueing them: it always gets the latest.
type hub struct {
	mu      sync.Mutex    // Guards the fields below.
	latest  *frame        // nil until the first publish
	changed chan struct{} // closed and replaced on every publish
}

func newHub() *hub { return &hub{changed: make(chan struct{})} }

// publish makes f the latest frame and wakes the streams.
func (h *hub) publish(f *frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = f
	close(h.changed)
	h.changed = make(chan struct{})
}

// current returns the latest frame (nil if none) and a channel closed when
// there is a newer one.
func (h *hub) current() (*frame, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.latest, h.changed
}

// publishSample builds the frame for smp (and the point recorded with it, if
// any) and publishes it. The report is encoded once: the event carries the
// same bytes.
func (s *Server) publishSample(smp sample, p *Point) error {
	report, err := json.Marshal(smp.report(s.cfg.Local))
	if err != nil {
		return fmt.Errorf("encode stats report: %w", err)
	}
	ev := eventJSON{
		Report:           report,
		Exceptions:       exceptionsOf(s.c.Exceptions()),
		Capacity:         smp.capacity,
		StopAt:           s.stopAtUnix(),
		Version:          s.cfg.Version,
		Broker:           s.cfg.Broker,
		Behavior:         s.cfg.Behavior,
		Scenario:         s.cfg.Scenario,
		WorkersExpected:  s.cfg.ExpectWorkers,
		WorkersConnected: connected(smp.workers),
		HistoryGen:       s.hist.generation(),
	}
	if p != nil {
		pj := p.json()
		ev.Point = &pj
	}
	event, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode stats event: %w", err)
	}
	s.hub.publish(&frame{report: report, event: event})
	return nil
}

// connected counts the workers that are not missing.
func connected(ws []WorkerInfo) int {
	n := 0
	for _, w := range ws {
		if w.State != StateMissing {
			n++
		}
	}
	return n
}

// keepAlive is how often an idle stream sends a comment, so proxies that
// close quiet connections leave it open.
const keepAlive = 15 * time.Second

// handleEvents is GET /api/events: a server-sent-event stream of "stats"
// events, the latest at once and then one per tick and per control action.
// It ends when the client goes away or the server shuts down.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", s.cfg.Interval.Milliseconds()); err != nil {
		return
	}
	idle := time.NewTimer(keepAlive)
	defer idle.Stop()
	var sent *frame
	for {
		f, changed := s.hub.current()
		if f != nil && f != sent {
			sent = f
			if _, err := fmt.Fprintf(w, "event: stats\ndata: %s\n\n", f.event); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
		idle.Reset(keepAlive)
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-idle.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		}
	}
}
