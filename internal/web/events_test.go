package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/web"
)

// event is the data of a "stats" event on /api/events.
type event struct {
	Report struct {
		State     string           `json:"state"`
		UserCount int              `json:"user_count"`
		Stats     []map[string]any `json:"stats"`
	} `json:"report"`
	Point      map[string]any   `json:"point"`
	Exceptions []map[string]any `json:"exceptions"`
	Capacity   int              `json:"capacity"`
	StopAt     float64          `json:"stop_at"`
	Version    string           `json:"version"`
}

// stream reads an open /api/events stream.
type stream struct {
	events chan event
	errs   chan error
}

// events opens /api/events for the rest of the test.
func (e *env) events() *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/api/events", nil)
	require.NoError(e.t, err)
	if e.user != "" {
		req.SetBasicAuth(e.user, e.pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		require.NoError(e.t, err)
	}
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
	require.Equal(e.t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &stream{events: make(chan event), errs: make(chan error, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.errs <- readEvents(ctx, bufio.NewScanner(resp.Body), s.events)
	}()
	e.t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return s
}

// readEvents parses "stats" events from sc onto out until the stream ends.
func readEvents(ctx context.Context, sc *bufio.Scanner, out chan<- event) error {
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	name := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && name == "stats":
			var ev event
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev); err != nil {
				return err
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return nil
			}
		case line == "":
			name = ""
		}
	}
	return sc.Err()
}

// until returns the first event for which ok holds, failing after 5 s.
func (s *stream) until(t *testing.T, ok func(event) bool) event {
	t.Helper()
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case ev := <-s.events:
			if ok(ev) {
				return ev
			}
		case err := <-s.errs:
			t.Fatalf("event stream ended: %v", err)
		case <-timeout.C:
			t.Fatal("no matching event within 5s")
		}
	}
}

func TestEventsStreamStatsAndPoints(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{Version: "v9.9.9"})
	events := e.events()

	first := events.until(t, func(event) bool { return true })
	require.Equal(t, "ready", first.Report.State, "the latest frame is sent at once")
	require.Equal(t, 100, first.Capacity)
	require.Equal(t, "v9.9.9", first.Version)

	code, _ := e.swarm(url.Values{"user_count": {"40"}, "spawn_rate": {"4"}})
	require.Equal(t, http.StatusOK, code)
	ev := events.until(t, func(ev event) bool { return ev.Report.State == "running" })
	require.Equal(t, 40, ev.Report.UserCount)

	// A tick brings a history point and, soon, echo receive rows.
	ev = events.until(t, func(ev event) bool {
		for _, r := range ev.Report.Stats {
			if r["name"] == "echo receive" {
				return ev.Point != nil
			}
		}
		return false
	})
	require.ElementsMatch(t, []string{"time", "user_count", "current_rps", "current_fail_per_sec",
		"response_time_percentile_0.5", "response_time_percentile_0.95"}, keys(ev.Point))
	require.EqualValues(t, 40, ev.Point["user_count"])
}

func TestEventsEndWhenTheServerStops(t *testing.T) {
	t.Parallel()
	ctrl := newCtrl()
	s, err := web.New(web.Config{Addr: "127.0.0.1:0", Interval: testInterval}, ctrl)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	resp, err := http.Get("http://" + s.Addr() + "/api/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	require.True(t, sc.Scan(), "the stream opens")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "an open stream does not stop a clean shutdown")
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return with an event stream open")
	}
	for sc.Scan() { // the server ended the stream
	}
}
