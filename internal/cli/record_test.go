package cli_test

import (
	"bytes"
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
)

// TestRunRecordsForHarvestAndCost runs a short test and reads it back through
// the results store: harvest's distributions add up to the run's own stats,
// the echo app's execution times are there, and cost sees the devices.
func TestRunRecordsForHarvestAndCost(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 5)
	code := e.Run("run", "--headless", "-c", "5", "-r", "0", "-t", "4s", "--only-summary",
		"--wait-min", "200ms", "--wait-max", "200ms", "--csv", "out", "--csv-full-history", "--html", "out.html", "--run-name", "short")
	require.Equal(t, cli.ExitOK, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	runOut := e.Stdout()
	require.Contains(t, runOut, "Recorded as run 1 in ")
	require.Contains(t, runOut, "ltk harvest run-1 --run 1\n")
	rows := readStats(t, filepath.Join(e.Dir, "out_stats.csv"))
	requireCSVsAgree(t, filepath.Join(e.Dir, "out"))
	for _, name := range []string{"out_stats_history.csv", "out_exceptions.csv", "out.html"} {
		info, err := os.Stat(filepath.Join(e.Dir, name))
		require.NoError(t, err)
		require.Positive(t, info.Size(), name)
	}

	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("harvest", "h1", "--run", "short"), e.Stderr())
	driver, err := os.ReadFile(filepath.Join(e.Dir, "runs", "h1", "driver_times.csv"))
	require.NoError(t, err)
	require.Equal(t, rows["echo receive"].requests, bucketSum(t, string(driver), "echo receive"), "stdout: %s", runOut)
	function, err := os.ReadFile(filepath.Join(e.Dir, "runs", "h1", "function_times.csv"))
	require.NoError(t, err)
	// Every echo the echo app executed was received: a device stopped while
	// its last publish was in flight waits for that echo.
	require.Equal(t, rows["echo receive"].requests, bucketSum(t, string(function), "echo execution"), "stdout: %s", runOut)

	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("cost", "--devices", "100", "--run", "short"), e.Stderr())
	require.Contains(t, e.Stdout(), "peak 5 devices")
}

// bucketSum adds the Count column of a distribution CSV's rows for name.
func bucketSum(t *testing.T, csv, name string) int {
	t.Helper()
	sum := 0
	for _, line := range strings.Split(csv, "\n") {
		f := strings.Split(line, ",")
		if len(f) == 6 && f[1] == name {
			n, err := strconv.Atoi(f[4])
			require.NoError(t, err)
			sum += n
		}
	}
	return sum
}

// requireCSVsAgree checks that --csv PREFIX's files tell one story: each
// entry of _stats.csv (its Aggregated row, without --csv-full-history) has
// the totals of its last row in _stats_history.csv,
// and _failures.csv adds up to the Aggregated Failure Count.
func requireCSVsAgree(t *testing.T, prefix string) {
	t.Helper()
	read := func(suffix string) [][]string {
		f, err := os.Open(prefix + suffix)
		require.NoError(t, err)
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		require.NoError(t, err, suffix)
		return recs
	}
	rows := readStats(t, prefix+"_stats.csv")
	last := map[string]statsRow{}
	for _, r := range read("_stats_history.csv")[1:] {
		req, err := strconv.Atoi(r[17])
		require.NoError(t, err)
		fail, err := strconv.Atoi(r[18])
		require.NoError(t, err)
		last[r[3]] = statsRow{req, fail}
	}
	if len(last) == 1 { // the Aggregated row alone, without --csv-full-history
		require.Equal(t, rows["Aggregated"], last["Aggregated"], "_stats.csv against the last row of _stats_history.csv")
	} else {
		require.Equal(t, rows, last, "_stats.csv against the last rows of _stats_history.csv")
	}
	occurrences := 0
	for _, r := range read("_failures.csv")[1:] {
		n, err := strconv.Atoi(r[3])
		require.NoError(t, err)
		occurrences += n
	}
	require.Equal(t, rows["Aggregated"].failures, occurrences, "_failures.csv against the Aggregated Failure Count")
	require.Equal(t, []string{"Count", "Message", "Traceback", "Nodes"}, read("_exceptions.csv")[0])
}

// TestRunWritesCSVDuringTheTest: --csv's files appear while the test runs
// (Locust rewrites them every second), whole, CRLF-ended, and the history
// holds the Aggregated row alone without --csv-full-history. The final
// files, written from the store after Ctrl-C, agree with each other.
func TestRunWritesCSVDuringTheTest(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 3)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan cli.ExitCode, 1)
	go func() {
		done <- e.RunContext(ctx, "run", "--headless", "-c", "3", "-r", "0", "--only-summary",
			"--wait-min", "100ms", "--wait-max", "100ms", "--csv", "live")
	}()
	prefix := filepath.Join(e.Dir, "live")
	// The stats file counts echoes while the test has not stopped: nothing
	// stops it but the cancel below. The four files are rewritten one after
	// the other, _exceptions.csv last: await it too, since all are read.
	require.Eventually(t, func() bool {
		if _, err := os.Stat(prefix + "_exceptions.csv"); err != nil {
			return false
		}
		b, err := os.ReadFile(prefix + "_stats.csv")
		if err != nil {
			return false
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		require.NoError(t, err, "a file read mid-test is whole")
		last := recs[len(recs)-1]
		return last[1] == "Aggregated" && last[2] != "0"
	}, time.Minute, 50*time.Millisecond, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	select {
	case code := <-done:
		t.Fatalf("the run ended (code %d) before the cancel: %s", code, e.Stderr())
	default:
	}
	for _, suffix := range []string{"_stats.csv", "_failures.csv", "_stats_history.csv", "_exceptions.csv"} {
		b, err := os.ReadFile(prefix + suffix)
		require.NoError(t, err)
		require.Equal(t, bytes.Count(b, []byte("\n")), bytes.Count(b, []byte("\r\n")), "%s: every line ends in CRLF", suffix)
	}
	cancel()
	require.Equal(t, cli.ExitOK, <-done, e.Stderr())
	f, err := os.Open(prefix + "_stats_history.csv")
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(recs), 1)
	for _, r := range recs[1:] {
		require.Equal(t, []string{"", "Aggregated"}, r[2:4], "without --csv-full-history, Aggregated rows only")
	}
	final := readStats(t, prefix+"_stats.csv")
	last := recs[len(recs)-1]
	require.Equal(t, strconv.Itoa(final["Aggregated"].requests), last[17], "the final files agree")
}
