package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ltk-dev/ltk/internal/web"
	"github.com/ltk-dev/ltk/internal/web/webtest"
)

// The server's goroutines (serve, ticker, deadline, event streams) must all
// end with Run.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testInterval is the tick interval of test servers: fast, so tests that
// wait for a tick are quick.
const testInterval = 50 * time.Millisecond

// env is a running server over a fake controller.
type env struct {
	t    *testing.T
	ctrl *webtest.Controller
	srv  *web.Server
	base string
	user string // basic auth sent with every request when set
	pass string
}

// start runs a server with 100 devices over 2 workers, unless cfg says
// otherwise about the server.
func start(t *testing.T, cfg web.Config) *env {
	t.Helper()
	ctrl := webtest.New(100, 2)
	if cfg.Interval == 0 {
		cfg.Interval = testInterval
	}
	s := webtest.Start(t, ctrl, cfg)
	return &env{t: t, ctrl: ctrl, srv: s, base: "http://" + s.Addr()}
}

// startWith runs a server for a fake controller on cfg.Addr as it is, until
// the test ends.
func startWith(t *testing.T, cfg web.Config) *web.Server {
	t.Helper()
	s, err := web.New(cfg, newCtrl())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return s
}

// do sends a request and returns the response with its body read.
func (e *env) do(method, path string, form url.Values, header http.Header) (*http.Response, []byte) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.base+path, body)
	require.NoError(e.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if e.user != "" {
		req.SetBasicAuth(e.user, e.pass)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp, b
}

// get fetches path and requires status 200.
func (e *env) get(path string) []byte {
	e.t.Helper()
	resp, b := e.do(http.MethodGet, path, nil, nil)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, b)
	return b
}

// getJSON fetches path and decodes its JSON body into a generic map.
func (e *env) getJSON(path string) map[string]any {
	e.t.Helper()
	var m map[string]any
	require.NoError(e.t, json.Unmarshal(e.get(path), &m), "GET %s", path)
	return m
}

// swarm posts the swarm form and decodes the JSON answer.
func (e *env) swarm(form url.Values) (int, map[string]any) {
	e.t.Helper()
	resp, b := e.do(http.MethodPost, "/swarm", form, nil)
	var m map[string]any
	require.NoError(e.t, json.Unmarshal(b, &m), "POST /swarm: %s", b)
	return resp.StatusCode, m
}

// statsRow returns the row of GET /stats/requests named name, or nil.
func statsRow(report map[string]any, name string) map[string]any {
	rows, _ := report["stats"].([]any)
	for _, r := range rows {
		if m, ok := r.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

// keys returns the keys of m.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
