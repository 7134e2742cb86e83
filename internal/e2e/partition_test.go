package e2e

import (
	"bufio"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/report"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// TestPartitionLosesNoStats: the path between a worker and the master is
// blackholed (the proxy stops forwarding and closes nothing) long enough
// for both sides to give the session up, then heals. Reports the worker
// sent into the dead stream are resent on its next session and counted
// once: per entry, the worker's own totals, the master's merged totals (its
// summary) and the results store hold the same request counts.
func TestPartitionLosesNoStats(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "results.db")
	m, addr := startMaster(t, "master", dir, 0, append([]string{"-c", "5", "-r", "0", "-t", "5m", "--only-summary",
		"--expect-workers", "1", "--broker", tt.BrokerURL(), "--results", store}, plain...)...)
	px := startProxy(t, addr)
	w := startWorker(t, "worker", ltkBin, px.addr(), "--ordinal", "0")
	m.waitFor(t, `All 5 devices spawned`, 20*time.Second)
	w.waitFor(t, `Connected to master`, time.Second)

	px.cut() // what the worker reports from now on goes into a stream that never delivers
	m.waitFor(t, `Worker 0 \([^)]*\) missing`, 10*time.Second)
	w.waitFor(t, `Lost the master`, 10*time.Second)
	px.restore()
	m.waitFor(t, `Worker 0 \([^)]*\) is back after`, 20*time.Second)

	require.NoError(t, m.cmd.Process.Signal(syscall.SIGINT)) // this test's own process: stop the test gracefully
	require.Equal(t, 0, m.wait(t, 60*time.Second))
	require.Equal(t, 0, w.wait(t, 20*time.Second))

	workerTotals := workerEntries(t, w.out.String())
	require.NotEmpty(t, workerTotals)
	require.Positive(t, workerTotals[[2]string{"echo", "echo receive"}], w.out.String())
	require.Equal(t, workerTotals, summaryEntries(t, m.out.String()), "the master's totals are the worker's")
	require.Equal(t, workerTotals, storeEntries(t, store), "the store holds the worker's totals")
	require.NotContains(t, m.out.String(), "lost")
	require.NotContains(t, m.out.String(), "refused")
}

// workerEntries reads a worker's per-entry totals, by (type, name).
func workerEntries(t *testing.T, out string) map[[2]string]int64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^Worker \d+ recorded (\d+) requests \(\d+ failures\) of ("[^"]*") ("[^"]*")$`)
	got := map[[2]string]int64{}
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		n, err := strconv.ParseInt(m[1], 10, 64)
		require.NoError(t, err)
		typ, err := strconv.Unquote(m[2])
		require.NoError(t, err)
		name, err := strconv.Unquote(m[3])
		require.NoError(t, err)
		got[[2]string{typ, name}] += n
	}
	return got
}

// summaryEntries reads the request counts of the master's final table,
// by (type, name), leaving out the Aggregated row.
func summaryEntries(t *testing.T, out string) map[[2]string]int64 {
	t.Helper()
	i := strings.Index(out, "\nSummary\n")
	require.GreaterOrEqual(t, i, 0, "no summary in:\n%s", out)
	sc := bufio.NewScanner(strings.NewReader(out[i+len("\nSummary\n"):]))
	require.True(t, sc.Scan())
	header := sc.Text()
	nameAt, reqsEnd := strings.Index(header, "Name"), strings.Index(header, "# reqs")+len("# reqs")
	require.True(t, nameAt > 0 && reqsEnd > nameAt, header)
	got := map[[2]string]int64{}
	sc.Scan() // the separator
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "---") {
		row := sc.Text()
		reqsAt := reqsEnd - 7 // the column is 7 wide, after the name's and a space
		typ, name := strings.TrimSpace(row[:nameAt]), strings.TrimSpace(row[nameAt:reqsAt])
		n, err := strconv.ParseInt(strings.TrimSpace(row[reqsAt:reqsEnd]), 10, 64)
		require.NoError(t, err, row)
		got[[2]string{typ, name}] = n
	}
	return got
}

// storeEntries reads the request counts of the store's only run, by (type, name).
func storeEntries(t *testing.T, path string) map[[2]string]int64 {
	t.Helper()
	st, err := report.OpenExisting(path)
	require.NoError(t, err)
	defer st.Close()
	runs, err := st.Runs(t.Context())
	require.NoError(t, err)
	require.Len(t, runs, 1)
	d, err := st.LoadRun(t.Context(), strconv.FormatInt(runs[0].ID, 10))
	require.NoError(t, err)
	got := map[[2]string]int64{}
	for _, s := range d.Samples {
		got[[2]string{s.Type, s.Name}] += s.Count
	}
	return got
}
