package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

// serveUI runs ltk with args (a web UI on 127.0.0.1:0) until the test
// ends, and returns the UI's base URL. At the end of the test it sends
// Ctrl-C and requires exit code 0 within 30 s.
func serveUI(t *testing.T, e *clitest.Env, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan cli.ExitCode, 1)
	go func() { done <- e.RunContext(ctx, append(args, "--web-host", "127.0.0.1", "--web-port", "0")...) }()
	t.Cleanup(func() {
		cancel() // Ctrl-C
		select {
		case code := <-done:
			require.Equal(t, cli.ExitOK, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
		case <-time.After(30 * time.Second):
			t.Fatal("ltk did not end after Ctrl-C")
		}
	})
	urlLine := regexp.MustCompile(`Web UI on (http://127\.0\.0\.1:\d+)`)
	var base string
	require.Eventually(t, func() bool { // no event to wait on: the CLI prints the address
		if m := urlLine.FindStringSubmatch(e.Stdout()); m != nil {
			base = m[1]
		}
		return base != ""
	}, 20*time.Second, 20*time.Millisecond, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	return base
}

func httpDo(t *testing.T, method, u string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// requestsKeys returns the keys of GET /stats/requests.
func requestsKeys(t *testing.T, base string) map[string]json.RawMessage {
	t.Helper()
	code, body := httpDo(t, http.MethodGet, base+"/stats/requests", nil)
	require.Equal(t, http.StatusOK, code, body)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	return m
}

// TestMasterUIKnowsItsBrokerAndWorkers: ltk master's UI lists workers (a
// distributed run, even with none yet), refuses another broker in POST
// /swarm's host, and serves the run's history CSV from the results store.
func TestMasterUIKnowsItsBrokerAndWorkers(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 2)
	base := serveUI(t, e, "master", "--broker", "tcp://127.0.0.1:1", "--auth", "none",
		"--master-bind-host", "127.0.0.1", "--master-bind-port", "0", "--expect-workers", "2")

	require.JSONEq(t, "[]", string(requestsKeys(t, base)["workers"]))
	code, body := httpDo(t, http.MethodPost, base+"/swarm", url.Values{"user_count": {"1"}, "host": {"tcp://elsewhere:1883"}})
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, "this master drives the broker tcp://127.0.0.1:1")

	code, body = httpDo(t, http.MethodGet, base+"/stats/requests_full_history/csv", nil)
	require.Equal(t, http.StatusOK, code, body)
	require.True(t, strings.HasPrefix(body, "Timestamp,User Count,Type,Name,"), body)
}

// TestRunUIHasNoWorkers: ltk run is a local run to Locust's clients, which
// tell a distributed one by the "workers" key.
func TestRunUIHasNoWorkers(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 2)
	base := serveUI(t, e, "run", "--auth", "none", "-c", "2")
	keys := requestsKeys(t, base)
	require.NotContains(t, keys, "workers")
	require.Contains(t, keys, "worker_count")
}
