package e2e

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// TestSecondInterrupt: a second SIGINT 100 ms after the first (as timeout(1)
// may deliver) cuts short the wait for the last echoes, which here would
// take a minute (the target echoes nothing), yet the summary is printed,
// every requested file is written and the run has a stop time.
func TestSecondInterrupt(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.DisableEcho = true })
	dir := t.TempDir()
	run := start(t, "run", ltkBin, dir, "run", "--headless", "-c", "10", "-r", "0", "--broker", tt.BrokerURL(),
		"--auth", "none", "--client-id-format", "plain", "--wait-min", "100ms", "--wait-max", "100ms",
		"--last-message-timeout", "1m", "--csv", "out", "--html", "report.html", "--run-name", "interrupted")
	run.waitFor(t, `All 10 devices spawned`, 30*time.Second)
	// Spawned is started, not connected: await every device's first publish,
	// whose echo never comes, so that the stop has echoes to wait for.
	require.Eventually(t, func() bool { return tt.Metric(t, "ltk_target_messages_received_total") >= 10 },
		30*time.Second, 20*time.Millisecond)

	require.NoError(t, run.cmd.Process.Signal(syscall.SIGINT))
	time.Sleep(100 * time.Millisecond) // the scenario itself: a second signal 100 ms later, not a synchronisation
	require.NoError(t, run.cmd.Process.Signal(syscall.SIGINT))
	code := run.wait(t, 40*time.Second) // well under the minute the devices would wait
	out := run.out.String()
	require.Contains(t, out, "Second interrupt: not waiting for the last echoes")
	require.Contains(t, out, "Summary")
	require.Contains(t, out, "Aggregated")
	require.Contains(t, out, "Recorded as run 1")
	require.Contains(t, []int{0, 1}, code, "exit 1 if echoes were due, never 2 (an error); output:\n%s", out)
	for _, f := range []string{"out_stats.csv", "out_stats_history.csv", "out_failures.csv", "out_exceptions.csv", "report.html"} {
		require.FileExists(t, filepath.Join(dir, f))
	}

	runs := start(t, "runs", ltkBin, dir, "runs")
	require.Equal(t, 0, runs.wait(t, 20*time.Second), runs.out.String())
	runs.waitFor(t, `(?m)^\s*1\s+interrupted\s+\S+\s+\S+\s+\S+`, time.Second)
	require.NotContains(t, runs.out.String(), "not ended", "the run has a stop time")
}

// TestUIMasterInterruptQuitsWorkers: Ctrl-C of a master serving the web UI
// tells its workers to quit, rather than leave them retrying for
// --master-timeout.
func TestUIMasterInterruptQuitsWorkers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := start(t, "master", ltkBin, dir, "master", "--broker", "tcp://127.0.0.1:1", "--auth", "none",
		"--master-bind-host", "127.0.0.1", "--master-bind-port", "0", "--web-host", "127.0.0.1", "--web-port", "0",
		"--expect-workers", "1", "--cluster-token", "t0ken")
	addr := m.waitFor(t, `ltk master on (127\.0\.0\.1:\d+)`, 20*time.Second)[1]
	m.waitFor(t, `Web UI on http://`, 20*time.Second)
	w := startWorker(t, "worker", ltkBin, addr, "--cluster-token", "t0ken", "--master-timeout", "10m")
	m.waitFor(t, `Worker 0 .*connected|worker.*joined|joined`, 20*time.Second)

	require.NoError(t, m.cmd.Process.Signal(syscall.SIGINT))
	require.Equal(t, 0, m.wait(t, 30*time.Second), m.out.String())
	require.Equal(t, 0, w.wait(t, 20*time.Second), "the worker quits with the master, not after --master-timeout 10m")
	w.waitFor(t, `The master says quit: the master is stopping`, time.Second)
}
