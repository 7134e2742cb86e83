package cli_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

// uiState returns the test's state as GET /stats/requests says it.
func uiState(t *testing.T, base string) string {
	t.Helper()
	var s string
	require.NoError(t, json.Unmarshal(requestsKeys(t, base)["state"], &s))
	return s
}

// runsTable runs ltk runs in e's directory and returns its rows by id: the
// columns after the id.
func runsTable(t *testing.T, e *clitest.Env) map[int][]string {
	t.Helper()
	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("runs"), e.Stderr())
	rows := map[int][]string{}
	for _, line := range regexp.MustCompile(`(?m)^\d+ .*$`).FindAllString(e.Stdout(), -1) {
		f := regexp.MustCompile(`\s{2,}`).Split(line, -1)
		id, err := strconv.Atoi(f[0])
		require.NoError(t, err)
		rows[id] = f[1:]
	}
	return rows
}

// TestWebTestsAreRuns: two tests started from the web UI one after another
// are two runs in the results store, each with the devices and spawn rate
// it was started with (not the flags'), each with its stop time.
func TestWebTestsAreRuns(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 4)
	ctx, interrupt := context.WithCancel(t.Context())
	done := make(chan cli.ExitCode, 1)
	go func() {
		done <- e.RunContext(ctx, "run", "--auth", "none", "-c", "1", "-r", "1", "--wait-min", "100ms", "--wait-max", "100ms",
			"--last-message-timeout", "2s", "--web-host", "127.0.0.1", "--web-port", "0")
	}()
	var base string
	require.Eventually(t, func() bool { // no event to wait on: the CLI prints the address
		if m := regexp.MustCompile(`Web UI on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(e.Stdout()); m != nil {
			base = m[1]
		}
		return base != ""
	}, 20*time.Second, 20*time.Millisecond, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())

	// The local worker connects to the master after the UI serves: wait for it, as a person waits for READY.
	require.Eventually(t, func() bool {
		var n int
		return json.Unmarshal(requestsKeys(t, base)["worker_count"], &n) == nil && n == 1
	}, 20*time.Second, 20*time.Millisecond, "the local worker never connected")
	for _, test := range []struct{ count, rate string }{{"3", "3"}, {"2", "0"}} {
		code, body := httpDo(t, http.MethodPost, base+"/swarm", url.Values{"user_count": {test.count}, "spawn_rate": {test.rate}})
		require.Equal(t, http.StatusOK, code, body)
		require.Eventually(t, func() bool { return uiState(t, base) == "running" }, 20*time.Second, 50*time.Millisecond)
		code, body = httpDo(t, http.MethodGet, base+"/stop", nil)
		require.Equal(t, http.StatusOK, code, body)
		require.Eventually(t, func() bool { return uiState(t, base) == "stopped" }, 20*time.Second, 50*time.Millisecond)
	}
	code, body := httpDo(t, http.MethodPost, base+"/swarm", url.Values{"user_count": {"99"}, "spawn_rate": {"1"}})
	require.NotEqual(t, http.StatusOK, code, "more devices than the list holds: %s", body)
	interrupt()
	require.Equal(t, cli.ExitOK, <-done, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	require.Contains(t, e.Stdout(), "Recorded as run 2")

	runs := runsTable(t, e)
	require.Len(t, runs, 2, "the swarm that failed to start is no run: %s", e.Stdout())
	// NAME START STOP DEVICES RATE/S NODES TARGET SCENARIO
	require.Equal(t, []string{"3", "3"}, runs[1][3:5], "run 1: %v", runs[1])
	require.Equal(t, []string{"2", "0"}, runs[2][3:5], "run 2: %v", runs[2])
	for id, r := range runs {
		require.NotEqual(t, "not ended", r[2], "run %d has a stop time", id)
	}

	// --export: a copy that lists the same runs; an existing file is not overwritten.
	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("runs", "--export", "copy.db"), e.Stderr())
	require.Empty(t, e.Stdout())
	require.Contains(t, e.Stderr(), "Exported ")
	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("runs", "--results", "copy.db"), e.Stderr())
	copied := e.Stdout()
	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("runs"), e.Stderr())
	require.Equal(t, e.Stdout(), strings.ReplaceAll(copied, "copy.db", "ltk.db"))
	e.Reset()
	require.Equal(t, cli.ExitError, e.Run("runs", "--export", "copy.db"))
	require.Contains(t, e.Stderr(), "name a file that does not exist yet")
}

// TestNoTestNoRun: a busy web port, or Ctrl-C while a master waits for its
// workers, records no run that could become --run last.
func TestNoTestNoRun(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 2)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.Addr().String())
	require.Equal(t, cli.ExitError, e.Run("run", "--auth", "none", "--web-host", "127.0.0.1", "--web-port", port), e.Stdout())
	require.Contains(t, e.Stderr(), "pick another --web-port")

	ctx, interrupt := context.WithCancel(t.Context())
	done := make(chan cli.ExitCode, 1)
	e.Reset()
	go func() {
		done <- e.RunContext(ctx, "master", "--headless", "-c", "2", "--broker", "tcp://127.0.0.1:1", "--auth", "none",
			"--master-bind-host", "127.0.0.1", "--master-bind-port", "0", "--expect-workers", "2", "--csv", "out")
	}()
	require.Eventually(t, func() bool { return regexp.MustCompile(`Waiting for 2 workers`).MatchString(e.Stdout()) },
		20*time.Second, 20*time.Millisecond, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	interrupt()
	<-done
	require.Contains(t, e.Stderr(), "no test ran: nothing recorded, no --csv or --html files written")
	require.NoFileExists(t, e.Dir+"/out_stats.csv")

	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("runs"), e.Stderr())
	require.Contains(t, e.Stdout(), "No runs in ")
	e.Reset()
	require.Equal(t, cli.ExitUsage, e.Run("harvest", "x", "--run", "last"), e.Stdout())
	require.Contains(t, e.Stderr(), `no such run "last"`)
}

// TestFailedStartIsNoRun: a headless test whose start fails (the one
// worker's block holds fewer devices than asked for) says what to do and
// records no run.
func TestFailedStartIsNoRun(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 4)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan cli.ExitCode, 1)
	go func() {
		done <- e.RunContext(ctx, "master", "--headless", "-c", "4", "-r", "4", "-t", "2s", "--broker", "tcp://127.0.0.1:1", "--auth", "none",
			"--master-bind-host", "127.0.0.1", "--master-bind-port", "0", "--block-size", "2")
	}()
	var port string
	require.Eventually(t, func() bool { // no event to wait on: the CLI prints the address
		if m := regexp.MustCompile(`ltk master on 127\.0\.0\.1:(\d+)`).FindStringSubmatch(e.Stdout()); m != nil {
			port = m[1]
		}
		return port != ""
	}, 20*time.Second, 20*time.Millisecond, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	w := clitest.NewEnv(t)
	wdone := make(chan cli.ExitCode, 1)
	go func() {
		wdone <- w.RunContext(ctx, "worker", "--master-host", "127.0.0.1", "--master-port", port, "--ordinal", "0")
	}()
	require.Equal(t, cli.ExitError, <-done, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	cancel()
	<-wdone
	require.Contains(t, e.Stderr(), "not enough devices: asked for 4, the blocks of the 1 connected workers hold 2")

	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("runs"), e.Stderr())
	require.Contains(t, e.Stdout(), "No runs in ")
}
