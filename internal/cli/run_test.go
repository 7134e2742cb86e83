package cli_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/target/mosquittotest"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// statsRow is one row of a Locust-style _stats.csv.
type statsRow struct{ requests, failures int }

// readStats reads PREFIX_stats.csv into rows keyed by Name.
func readStats(t *testing.T, path string) map[string]statsRow {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(recs), 1, "no rows in %s", path)
	require.Equal(t, []string{"Type", "Name", "Request Count", "Failure Count"}, recs[0][:4])
	rows := map[string]statsRow{}
	for _, r := range recs[1:] {
		req, err := strconv.Atoi(r[2])
		require.NoError(t, err)
		fail, err := strconv.Atoi(r[3])
		require.NoError(t, err)
		rows[r[1]] = statsRow{req, fail}
	}
	return rows
}

func createDevices(t *testing.T, e *clitest.Env, n int) {
	t.Helper()
	code := e.Run("devices", "create", "1", strconv.Itoa(n), "--alg", "ES256", "--quiet")
	require.Equal(t, cli.ExitOK, code, "stderr: %s", e.Stderr())
}

// TestRunEmbeddedEcho is the quick start: devices with JWT auth against the
// embedded target; every publish is echoed and counted once.
func TestRunEmbeddedEcho(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	const devices = 50
	createDevices(t, e, devices)

	code := e.Run("run", "--headless", "-c", "50", "-r", "0", "-t", "10s", "--csv", "out")
	require.Equal(t, cli.ExitOK, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	require.Contains(t, e.Stdout(), "Embedded IoT target on 127.0.0.1:")
	require.Contains(t, e.Stdout(), "Summary")

	rows := readStats(t, filepath.Join(e.Dir, "out_stats.csv"))
	require.Equal(t, statsRow{devices, 0}, rows["MQTT connect"])
	require.Equal(t, statsRow{devices, 0}, rows["MQTT subscribe"])
	recv := rows["echo receive"]
	require.Zero(t, recv.failures)
	// One publish per device per second for 10 s, each after the last echo
	// came back: at most 11 (the one at 0 s too), fewer when echoes are slow
	// on a busy machine; every one echoed (the stop waits for the last).
	require.GreaterOrEqual(t, recv.requests, devices*5, "echo receive count")
	require.LessOrEqual(t, recv.requests, devices*11, "echo receive count")
	require.Equal(t, rows["MQTT publish"].requests, recv.requests, "every publish echoed exactly once")
	require.Zero(t, rows["Aggregated"].failures)
	_, err := os.Stat(filepath.Join(e.Dir, "out_failures.csv"))
	require.NoError(t, err)
}

// TestRunDropRate provokes echo timeouts on purpose: every publish is either
// echoed or timed out, and failures make the exit code 1.
func TestRunDropRate(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 20)

	// The echo timeout is far above any echo's time on a busy machine, so
	// that only the dropped echoes time out.
	code := e.Run("run", "--headless", "-c", "20", "-r", "0", "-t", "10s", "--only-summary",
		"--wait-min", "200ms", "--wait-max", "200ms", "--echo-timeout", "2s", "--last-message-timeout", "2s",
		"--target-drop-rate", "0.1", "--csv", "drop")
	require.Equal(t, cli.ExitFailures, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	require.Contains(t, e.Stdout(), "echo timeout")

	rows := readStats(t, filepath.Join(e.Dir, "drop_stats.csv"))
	requireCSVsAgree(t, filepath.Join(e.Dir, "drop"))
	timeouts := rows["echo timeout"].failures + rows["last message timeout"].failures
	require.Positive(t, rows["echo timeout"].failures)
	// A publish whose PUBACK did not come within the echo timeout (a busy
	// machine), or whose connection went, failed: its echo is no longer
	// awaited, so it is neither a receive nor a timeout.
	require.Equal(t, rows["MQTT publish"].requests, rows["echo receive"].requests+timeouts+rows["MQTT publish"].failures,
		"publishes = receives + timeouts + failed publishes: %v", rows)
	ratio := float64(timeouts) / float64(rows["MQTT publish"].requests)
	require.InDelta(t, 0.1, ratio, 0.06, "drop ratio of %d publishes", rows["MQTT publish"].requests)
}

// TestRunMosquitto drives Debian's Mosquitto with `ltk echo` as the back end.
func TestRunMosquitto(t *testing.T) {
	t.Parallel()
	m := mosquittotest.Start(t)
	echoEnv := clitest.NewEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	echoDone := make(chan cli.ExitCode, 1)
	go func() { echoDone <- echoEnv.RunContext(ctx, "echo", "--broker", m.URL(), "--loglevel", "info") }()
	t.Cleanup(func() { cancel(); <-echoDone })
	// Events published before the back end subscribes are lost, as on any broker.
	require.Eventually(t, func() bool { return strings.Contains(echoEnv.Stderr(), "echo: subscribed") },
		10*time.Second, 10*time.Millisecond, "ltk echo subscribes; stderr: %s", echoEnv.Stderr())

	e := clitest.NewEnv(t)
	code := e.Run("run", "--headless", "-c", "50", "-r", "0", "-t", "10s", "--only-summary",
		"--broker", m.URL(), "--auth", "none", "--client-id-format", "plain", "--csv", "mq")
	require.Equal(t, cli.ExitOK, code, "stdout: %s\nstderr: %s\necho: %s", e.Stdout(), e.Stderr(), echoEnv.Stderr())

	rows := readStats(t, filepath.Join(e.Dir, "mq_stats.csv"))
	require.Equal(t, statsRow{50, 0}, rows["MQTT connect"])
	// At most 11 a device in 10 s (see TestRunEmbeddedEcho), fewer when busy.
	require.GreaterOrEqual(t, rows["echo receive"].requests, 50*5)
	require.LessOrEqual(t, rows["echo receive"].requests, 50*11)
	require.Equal(t, rows["MQTT publish"].requests, rows["echo receive"].requests)
	require.Zero(t, rows["Aggregated"].failures)
}

// TestRunBrokerRestart stops the broker mid-test: devices record the lost
// connection, reconnect when it is back, and the test goes on.
func TestRunBrokerRestart(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	const devices = 20
	e := clitest.NewEnv(t)
	done := make(chan cli.ExitCode, 1)
	go func() {
		done <- e.Run("run", "--headless", "-c", "20", "-r", "0", "-t", "12s", "--only-summary",
			"--broker", tt.BrokerURL(), "--auth", "none", "--client-id-format", "plain",
			"--wait-min", "200ms", "--wait-max", "200ms", "--echo-timeout", "2s", "--csv", "rs")
	}()
	connections := func() int { return tt.Metric(t, "ltk_target_connections") }
	received := func() int { return tt.Metric(t, "ltk_target_messages_received_total") }
	// Connected and publishing: most devices have subscribed by now.
	require.Eventually(t, func() bool { return connections() == devices && received() >= 3*devices },
		10*time.Second, 20*time.Millisecond, "devices connect and publish")
	tt.Stop()
	tt.Restart(t)
	require.Eventually(t, func() bool { return connections() == devices }, 10*time.Second, 20*time.Millisecond, "devices reconnect")

	code := <-done
	require.Equal(t, cli.ExitFailures, code, "lost connections are failures; stdout: %s", e.Stdout())
	rows := readStats(t, filepath.Join(e.Dir, "rs_stats.csv"))
	// Every device lost its connection: as an established session (MQTT
	// disconnect) or, if it was still subscribing, as a failed subscribe.
	lost := rows["MQTT disconnect"].failures + rows["MQTT subscribe"].failures
	require.GreaterOrEqual(t, lost, devices, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	require.GreaterOrEqual(t, rows["MQTT disconnect"].failures, devices/2)
	require.GreaterOrEqual(t, rows["MQTT connect"].requests, 2*devices)
	require.Positive(t, rows["echo receive"].requests)
}

// TestRunLocalWorkers splits the devices over three local workers, each
// with its block, speaking gRPC to the in-process master: every device
// connects once and every publish is echoed and counted once.
func TestRunLocalWorkers(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	code := e.Run("run", "--headless", "-c", "31", "-r", "0", "-t", "5s", "--only-summary", "--workers", "3",
		"--auth", "none", "--client-id-format", "plain", "--wait-min", "200ms", "--wait-max", "200ms", "--csv", "lw")
	require.Equal(t, cli.ExitOK, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	rows := readStats(t, filepath.Join(e.Dir, "lw_stats.csv"))
	require.Equal(t, statsRow{31, 0}, rows["MQTT connect"])
	require.Positive(t, rows["echo receive"].requests)
	require.Equal(t, rows["MQTT publish"].requests, rows["echo receive"].requests)

	require.Equal(t, cli.ExitUsage, e.Run("run", "--headless", "--workers", "0"))
	require.Contains(t, e.Stderr(), "--workers 0: want at least 1 local worker")
}
