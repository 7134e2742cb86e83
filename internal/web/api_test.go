package web_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/web"
	"github.com/ltk-dev/ltk/internal/web/webtest"
)

func newCtrl() *webtest.Controller { return webtest.New(100, 2) }

// running starts a test of n devices on e and waits until echo receive
// rows show in /stats/requests, which it returns.
func (e *env) running(n int) map[string]any {
	e.t.Helper()
	code, res := e.swarm(url.Values{"user_count": {itoa(n)}, "spawn_rate": {"10"}})
	require.Equal(e.t, http.StatusOK, code, "%v", res)
	var report map[string]any
	require.Eventually(e.t, func() bool {
		report = e.getJSON("/stats/requests")
		return statsRow(report, "echo receive") != nil
	}, 5*time.Second, testInterval)
	return report
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestStatsRequestsHasLocustFields(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	e.ctrl.FailEvery = 10
	report := e.running(30)

	require.Subset(t, keys(report), []string{"stats", "errors", "total_rps", "total_fail_per_sec", "fail_ratio",
		"current_response_time_percentiles", "state", "user_count", "worker_count", "workers",
		"current_response_time_percentile_50", "current_response_time_percentile_95"}) // current Locust's and 2.12's
	require.Equal(t, "running", report["state"])
	require.EqualValues(t, 30, report["user_count"])

	row := statsRow(report, "echo receive")
	require.ElementsMatch(t, []string{"method", "name", "safe_name", "num_requests", "num_failures",
		"median_response_time", "avg_response_time", "min_response_time", "max_response_time",
		"current_rps", "current_fail_per_sec", "response_time_percentile_0.95", "response_time_percentile_0.99",
		"total_rps", "total_fail_per_sec", "ninetieth_response_time", "ninety_ninth_response_time", "response_time_percentile_0.5",
		"avg_content_length"}, keys(row))
	median := row["median_response_time"].(float64)
	if median != row["min_response_time"] && median != row["max_response_time"] {
		require.Equal(t, math.Trunc(median), median, "an integer, as Locust's, unless that falls outside [min, max]")
	}
	require.InDelta(t, row["response_time_percentile_0.5"], median, 0.5)
	require.Equal(t, row["response_time_percentile_0.99"], row["ninety_ninth_response_time"])
	require.Equal(t, "echo", row["method"])
	require.Greater(t, row["num_requests"], 0.0)
	require.GreaterOrEqual(t, row["median_response_time"], 1.0, "the fake's echoes take 1 to 3 ms")
	require.LessOrEqual(t, row["max_response_time"], 3.0)
	require.EqualValues(t, 64, row["avg_content_length"])

	rows := report["stats"].([]any)
	last := rows[len(rows)-1].(map[string]any)
	require.Equal(t, "Aggregated", last["name"], "the total comes last")
	method, ok := last["method"].(string)
	require.True(t, ok, "the total has a method: %v", last)
	require.Empty(t, method)

	pcts := report["current_response_time_percentiles"].(map[string]any)
	require.ElementsMatch(t, []string{"response_time_percentile_0.5", "response_time_percentile_0.95"}, keys(pcts))
	require.Equal(t, pcts["response_time_percentile_0.95"], report["current_response_time_percentile_95"])
	require.Equal(t, pcts["response_time_percentile_0.5"], report["current_response_time_percentile_50"])

	var errs []any // the errors of the report that had some: a later one may be reset or between entries
	require.Eventually(t, func() bool {
		errs, _ = e.getJSON("/stats/requests")["errors"].([]any)
		return len(errs) > 0
	}, 5*time.Second, testInterval, "every 10th echo fails")
	require.ElementsMatch(t, []string{"method", "name", "error", "occurrences", "examples"}, keys(errs[0].(map[string]any)))
	require.Equal(t, "no echo within 120s", errs[0].(map[string]any)["error"], "Locust's error: the message alone")
	examples := errs[0].(map[string]any)["examples"].([]any)
	require.NotEmpty(t, examples, "a few devices that failed so")
	require.LessOrEqual(t, len(examples), stats.MaxExamples)
	require.Regexp(t, `^LTK0000[1-7]$`, examples[0])

	workers := report["workers"].([]any)
	require.Len(t, workers, 2)
	w := workers[0].(map[string]any)
	require.ElementsMatch(t, []string{"id", "state", "user_count", "cpu_usage", "memory_usage",
		"ordinal", "host", "last_heartbeat"}, keys(w))
	require.Equal(t, "running", w["state"])
	require.EqualValues(t, 15, w["user_count"])
}

func TestStatsRequestsBeforeAnyTest(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	report := e.getJSON("/stats/requests")
	require.Equal(t, "ready", report["state"])
	rows := report["stats"].([]any)
	require.Len(t, rows, 1, "only the Aggregated row")
	require.Equal(t, []any{}, report["errors"])
}

func TestCSVDownloads(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	e.ctrl.FailEvery = 5
	e.running(20)
	require.Eventually(t, func() bool {
		errs, _ := e.getJSON("/stats/requests")["errors"].([]any)
		return len(errs) > 0
	}, 5*time.Second, testInterval)

	for _, tc := range []struct {
		path, file string
		header     []string
		row        string // a Name that must appear
	}{
		{"/stats/requests/csv", "requests_", []string{"Type", "Name", "Request Count", "Failure Count", "Median Response Time"}, "echo receive"},
		{"/stats/failures/csv", "failures_", []string{"Method", "Name", "Error", "Occurrences"}, "echo timeout"},
		{"/exceptions/csv", "exceptions_", []string{"Count", "Message", "Traceback", "Nodes"}, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := e.do(http.MethodGet, tc.path, nil, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
			require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment; filename="+tc.file)
			recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
			require.NoError(t, err)
			require.Equal(t, tc.header, recs[0][:len(tc.header)])
			if tc.row != "" {
				require.Contains(t, string(body), ","+tc.row+",")
			}
			if tc.file == "failures_" { // the examples follow the error, in Locust's columns
				require.Regexp(t, `,no echo within 120s \[e\.g\. LTK0000[1-7]( LTK0000[1-7]){0,2}\],`, string(body))
			}
		})
	}
}

func TestExceptions(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	require.Equal(t, map[string]any{"exceptions": []any{}}, e.getJSON("/exceptions"))
	e.ctrl.AddException(web.Exception{Count: 3, Message: "worker 1 could not load its block", Traceback: "detail", Nodes: []string{"w1", "w2"}})
	require.Equal(t, map[string]any{"exceptions": []any{map[string]any{
		"count": 3.0, "msg": "worker 1 could not load its block", "traceback": "detail", "nodes": "w1, w2",
	}}}, e.getJSON("/exceptions"))
}

func TestReportIsSelfContainedHTML(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	e.running(10)
	require.Eventually(t, func() bool {
		return len(e.getJSON("/api/history")["time"].([]any)) >= 2
	}, 5*time.Second, testInterval, "two points make a line")

	resp, body := e.do(http.MethodGet, "/stats/report", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	html := string(body)
	require.Contains(t, html, "echo receive")
	require.Contains(t, html, "Aggregated")
	require.Equal(t, 3, strings.Count(html, "<svg "), "three charts")
	require.Contains(t, html, "<polyline", "the charts have lines")
	require.NotContains(t, html, "<script", "no scripts")
	require.NotContains(t, html, "src=", "no external files")
	require.NotContains(t, html, "<link")
	require.Contains(t, html, "?download=1")

	resp, _ = e.do(http.MethodGet, "/stats/report?download=1", nil, nil)
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment; filename=report_")
}

func TestHistoryKeepsPointsAcrossRequests(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{HistoryLen: 5})
	e.running(10)
	var h map[string][]float64
	require.Eventually(t, func() bool {
		h = map[string][]float64{}
		require.NoError(t, json.Unmarshal(e.get("/api/history"), &h))
		return len(h["time"]) == 5
	}, 5*time.Second, testInterval, "the ring fills up to HistoryLen")
	require.ElementsMatch(t, []string{"time", "user_count", "current_rps", "current_fail_per_sec",
		"response_time_percentile_0.5", "response_time_percentile_0.95"}, mapKeys(h))
	for k, v := range h {
		require.Len(t, v, 5, k)
	}
	require.IsIncreasing(t, h["time"], "oldest first")
	require.Equal(t, 10.0, h["user_count"][4])
}

func TestWorkers(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	e.running(3)
	got := e.getJSON("/api/workers")["workers"].([]any)
	require.Len(t, got, 2)
	w1 := got[1].(map[string]any)
	require.Equal(t, map[string]any{"id": "worker-1", "host": "ltk-worker-1", "ordinal": 1.0, "state": "running",
		"user_count": 1.0, "cpu_usage": 12.5, "memory_usage": float64(48 << 20), "last_heartbeat": w1["last_heartbeat"]}, w1)
	require.InDelta(t, float64(time.Now().Unix()), w1["last_heartbeat"], 5)
}

func TestUIIsServed(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	for path, want := range map[string]string{
		"/":                               "<title>ltk</title>",
		"/app.js":                         "EventSource",
		"/style.css":                      ".tabs",
		"/vendor/uplot/uPlot.iife.min.js": "uPlot",
		"/vendor/uplot/uPlot.min.css":     ".uplot",
		"/vendor/uplot/LICENSE":           "MIT",
	} {
		require.Contains(t, string(e.get(path)), want, path)
	}
	for _, path := range []string{"/nope", "/vendor/", "/vendor/uplot/"} {
		resp, _ := e.do(http.MethodGet, path, nil, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s: no files, no directory listings", path)
	}
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLocalRunHasNoWorkers: Locust's clients tell a distributed run by the
// "workers" key, so a local run (ltk run) has none.
func TestLocalRunHasNoWorkers(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{Local: true})
	report := e.running(10)
	require.NotContains(t, keys(report), "workers")
	require.Contains(t, keys(start(t, web.Config{}).getJSON("/stats/requests")), "workers", "a master's has them, even none")
}

func TestTasks(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{Behavior: "telemetry"})
	want := map[string]any{"Device": map[string]any{"ratio": 1.0, "tasks": map[string]any{"telemetry": 1.0}}}
	require.Equal(t, map[string]any{"per_class": want, "total": want}, e.getJSON("/tasks"))
}

// historyCtrl is a fake controller that keeps a history, as the results
// store does for ltk master.
type historyCtrl struct{ *webtest.Controller }

func (historyCtrl) WriteHistoryCSV(w io.Writer) error {
	_, err := io.WriteString(w, "Timestamp,User Count\r\n1,2\r\n")
	return err
}

// TestFullHistoryCSV: /stats/requests_full_history/csv is the controller's
// history when it keeps one, and a 404 that says why when it does not.
func TestFullHistoryCSV(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	resp, body := e.do(http.MethodGet, "/stats/requests_full_history/csv", nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, string(body), "keeps no history")

	s := webtest.Start(t, historyCtrl{webtest.New(10, 1)}, web.Config{Interval: testInterval})
	h := &env{t: t, base: "http://" + s.Addr()}
	resp, body = h.do(http.MethodGet, "/stats/requests_full_history/csv", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "Timestamp,User Count\r\n1,2\r\n", string(body))
	require.Contains(t, resp.Header.Get("Content-Disposition"), "requests_full_history_")
}

// stuckController is a Controller whose Snapshot, once stuck, blocks until
// the test ends: a master busy merging reports.
type stuckController struct {
	*webtest.Controller
	stuck   atomic.Bool
	entered chan struct{} // receives when a Snapshot blocks (buffered: 1)
	release chan struct{} // closed when the test ends
	calls   atomic.Int64  // Snapshots called
}

func (c *stuckController) Snapshot(now time.Time) stats.Snapshot {
	c.calls.Add(1)
	if c.stuck.Load() {
		select {
		case c.entered <- struct{}{}:
		default:
		}
		<-c.release
	}
	return c.Controller.Snapshot(now)
}

// TestStatsRequestsServesTheTicksReport: GET /stats/requests serves the
// report the last tick encoded and never samples the Controller itself, so
// it answers at once, with the same bytes, while the master's Snapshot is
// held up, and however often it is polled.
func TestStatsRequestsServesTheTicksReport(t *testing.T) {
	t.Parallel()
	ctrl := &stuckController{Controller: newCtrl(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	s := webtest.Start(t, ctrl, web.Config{Interval: testInterval})
	t.Cleanup(func() { close(ctrl.release) }) // before the server stops
	client := &http.Client{Timeout: 10 * time.Second}
	get := func() string {
		resp, err := client.Get("http://" + s.Addr() + "/stats/requests")
		require.NoError(t, err, "a request that samples the Controller waits for it")
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
		return string(b)
	}
	get()

	ctrl.stuck.Store(true)
	<-ctrl.entered // a tick is stuck in Snapshot: the last frame is a tick old, and ageing
	calls := ctrl.calls.Load()
	last := get()
	require.Equal(t, "ready", decode(t, last)["state"])
	for range 20 {
		require.Equal(t, last, get(), "the same encoded report")
	}
	require.Equal(t, calls, ctrl.calls.Load(), "no request sampled the Controller")
}

func decode(t *testing.T, s string) map[string]any {
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}
