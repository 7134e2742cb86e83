package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/hist"
)

// readCSV returns the rows of a CSV file, header first.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

// bucketSums adds up the Count column of a distribution per entry.
func bucketSums(t *testing.T, rows [][]string) map[string]int64 {
	sums := map[string]int64{}
	require.Equal(t, []string{"Type", "Name", "Bucket Start (ms)", "Bucket End (ms)", "Count", "Cumulative %"}, rows[0])
	for _, r := range rows[1:] {
		n, err := strconv.ParseInt(r[4], 10, 64)
		require.NoError(t, err)
		sums[r[0]+"/"+r[1]] += n
	}
	return sums
}

// insertExec stores execution times for a run as a target's echo app would
// have recorded them: second i of n holds i+1 values of (i+1)·2 ms and 3 ms.
func insertExec(t *testing.T, st *Store, runID, from int64, n int) {
	for i := range n {
		var s hist.Second
		s.Unix = from + int64(i)
		counts := make([]int64, hist.Len)
		for _, d := range []time.Duration{time.Duration(i+1) * 2 * time.Millisecond, 3 * time.Millisecond} {
			for range i + 1 {
				counts[hist.Index(d)]++
				s.Count++
				s.Sum += d
				if s.Min == 0 || d < s.Min {
					s.Min = d
				}
				s.Max = max(s.Max, d)
			}
		}
		s.Counts = hist.Trim(counts)
		_, err := st.db.Exec(`INSERT INTO executions (run_id, unix, count, sum_ns, min_ns, max_ns, hist) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			runID, s.Unix, s.Count, s.Sum, s.Min, s.Max, hist.AppendEncode(nil, s.Counts))
		require.NoError(t, err)
	}
}

func TestHarvestGolden(t *testing.T) {
	t.Parallel()
	deltas := fixture(t)
	st := openTemp(t)
	id := record(t, st, deltas, RunMeta{Name: "100t1", Devices: 10, SpawnRate: 5, Nodes: 2, Target: "embedded"})
	insertExec(t, st, id, bubbleStart.Unix(), 20)

	dir := filepath.Join(t.TempDir(), "runs", "100t1")
	res, err := Harvest(t.Context(), st, HarvestConfig{Dir: dir, Start: bubbleStart, End: bubbleStart.Add(time.Minute), Bucket: 20 * time.Millisecond})
	require.NoError(t, err)
	require.Len(t, res.Files, 4)
	for _, f := range []string{DriverTimesFile, FunctionTimesFile, SummaryFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		golden(t, f, string(b))
	}

	// The buckets add up to the timed requests of every entry.
	want := aggregate(t, deltas)
	sums := bucketSums(t, readCSV(t, filepath.Join(dir, DriverTimesFile)))
	require.Len(t, sums, len(want.Entries)-1, "every entry but the echo timeouts, which have no response times")
	for _, e := range want.Entries {
		require.Equal(t, e.NumRequests-e.NumUntimed, sums[e.Type+"/"+e.Name], e.Name)
	}
	require.EqualValues(t, 2*210, bucketSums(t, readCSV(t, filepath.Join(dir, FunctionTimesFile)))["function/echo execution"])

	page, err := os.ReadFile(filepath.Join(dir, ReportFile))
	require.NoError(t, err)
	html := string(page)
	for _, s := range []string{"<svg", "Requests per second", "Response time percentiles", "Devices", "echo receive",
		"Function execution time", "no echo within 120s", "100t1"} {
		require.Contains(t, html, s)
	}
	for _, s := range []string{"<script", " src=", " href=", "@import"} {
		require.NotContains(t, html, s, "the report must need nothing from the network")
	}
}

// TestHarvestWindowEdges: a second is in the window when it starts at or
// after START and before END.
func TestHarvestWindowEdges(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	run, err := st.Begin(RunMeta{Start: time.Unix(1000, 0)})
	require.NoError(t, err)
	for i := range int64(10) { // second 1000+i holds i+1 echoes
		run.AddDelta(syntheticDelta(1000+i, i+1, 30*time.Millisecond))
	}
	require.NoError(t, run.End(time.Unix(1010, 0)))

	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       int64
	}{
		{"whole seconds", time.Unix(1003, 0), time.Unix(1006, 0), 4 + 5 + 6},
		{"start inside a second excludes it", time.Unix(1003, 5e8), time.Unix(1006, 0), 5 + 6},
		{"end inside a second includes it", time.Unix(1003, 0), time.Unix(1006, 1), 4 + 5 + 6 + 7},
		{"one second", time.Unix(1009, 0), time.Unix(1010, 0), 10},
		{"beyond the run", time.Unix(900, 0), time.Unix(2000, 0), 55},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, err := Harvest(t.Context(), st, HarvestConfig{Dir: dir, Start: tc.start, End: tc.end})
			require.NoError(t, err)
			require.Equal(t, map[string]int64{"echo/echo receive": tc.want}, bucketSums(t, readCSV(t, filepath.Join(dir, DriverTimesFile))))
		})
	}
}

func TestHarvestBadWindows(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	run, err := st.Begin(RunMeta{Name: "first", Start: time.Unix(1000, 0), Devices: 3})
	require.NoError(t, err)
	run.AddDelta(syntheticDelta(1000, 1, time.Millisecond))
	require.NoError(t, run.End(time.Unix(1001, 0)))

	_, err = Harvest(t.Context(), st, HarvestConfig{Dir: t.TempDir(), Start: time.Unix(2000, 0), End: time.Unix(1000, 0)})
	require.ErrorIs(t, err, ErrBadWindow)
	require.ErrorContains(t, err, "END 1970-01-01T00:16:40Z is not after START 1970-01-01T00:33:20Z")

	_, err = Harvest(t.Context(), st, HarvestConfig{Dir: t.TempDir(), Start: time.Unix(5000, 0), End: time.Unix(6000, 0)})
	var nd *NoDataError
	require.ErrorAs(t, err, &nd)
	require.ErrorContains(t, err, "no samples between 1970-01-01T01:23:20Z and 1970-01-01T01:40:00Z; the recorded runs are:\n  1 first")
	require.ErrorContains(t, err, "1970-01-01T00:16:40Z 1970-01-01T00:16:41Z  3 devices")

	for _, s := range []string{"2026-11-25 20:00", "yesterday", "2026-11-25T20:00:00"} {
		_, err := ParseTime(s)
		require.ErrorIs(t, err, ErrBadTime)
		require.ErrorContains(t, err, "use UTC like 2026-11-25T20:00:00Z")
	}
	got, err := ParseTime("2026-11-25T21:00:00+01:00")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), got)
}

// TestHarvestFailsLeavingNothing: a bucket below the histograms'
// resolution is refused before anything is read, and one too narrow for
// the times recorded (a 10 s echo in 1 µs buckets) fails before the
// directory is made: neither leaves an empty directory behind.
func TestHarvestFailsLeavingNothing(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	run, err := st.Begin(RunMeta{Name: "slow", Start: time.Unix(1000, 0), Devices: 1})
	require.NoError(t, err)
	run.AddDelta(syntheticDelta(1000, 1, 10*time.Second))
	require.NoError(t, run.End(time.Unix(1001, 0)))
	window := HarvestConfig{Start: time.Unix(1000, 0), End: time.Unix(1001, 0)}

	for _, tc := range []struct {
		bucket time.Duration
		want   string
	}{
		{time.Nanosecond, "bucket 1ns: want at least 1µs, the histograms' resolution"},
		{-time.Second, "bucket -1s: want at least 1µs"},
		{time.Microsecond, "driver_times.csv: 1µs buckets make 9994240 rows (the longest time is 10s): use a wider bucket"},
	} {
		cfg := window
		cfg.Dir, cfg.Bucket = filepath.Join(t.TempDir(), "runs", "x"), tc.bucket
		_, err := Harvest(t.Context(), st, cfg)
		require.ErrorContains(t, err, tc.want)
		require.NoDirExists(t, cfg.Dir, tc.bucket.String())
	}
}

// TestDistributionCountsRowsFirst: a bucket too narrow for the times is
// refused after counting its rows, not making them (1 ns buckets over a
// 10 ms time are 10 million rows, 80 MB). Not parallel: it reads the
// process's allocation total.
func TestDistributionCountsRowsFirst(t *testing.T) {
	counts := make([]int64, hist.Index(10*time.Millisecond)+1)
	counts[len(counts)-1] = 1
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := WriteDistributionCSV(io.Discard, []Named{{Type: "echo", Name: "slow", Total: hist.Total{Count: 1, Counts: counts}}}, time.Nanosecond)
	runtime.ReadMemStats(&after)
	require.ErrorContains(t, err, "1ns buckets make 10015001 rows")
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "the row count is computed, not allocated")
}

// TestHarvestRemoteExecutionTimes fetches function times from a target's
// endpoint when the store has none.
func TestHarvestRemoteExecutionTimes(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	run, err := st.Begin(RunMeta{Start: time.Unix(1000, 0)})
	require.NoError(t, err)
	run.AddDelta(syntheticDelta(1000, 4, time.Millisecond))
	require.NoError(t, run.End(time.Unix(1002, 0)))

	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.String()
		s := hist.Series{Start: 1000, End: 1002, Seconds: []hist.Second{{Unix: 1001, Count: 2, Sum: 4 * time.Millisecond,
			Min: 2 * time.Millisecond, Max: 2 * time.Millisecond, Counts: countsOf(2*time.Millisecond, 2)}}}
		if err := json.NewEncoder(w).Encode(s); err != nil { // a handler cannot stop the test: the harvest below fails instead
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	res, err := Harvest(t.Context(), st, HarvestConfig{Dir: dir, Start: time.Unix(1000, 0), End: time.Unix(1002, 0), TargetURL: srv.URL})
	require.NoError(t, err)
	require.True(t, res.RemoteExecs)
	require.Equal(t, hist.ExecutionTimesPath+"?end=1002&start=1000", asked)
	require.Equal(t, map[string]int64{"function/echo execution": 2}, bucketSums(t, readCSV(t, filepath.Join(dir, FunctionTimesFile))))

	_, err = Harvest(t.Context(), st, HarvestConfig{Dir: dir, Start: time.Unix(1000, 0), End: time.Unix(1002, 0), TargetURL: "localhost:9883"})
	require.ErrorContains(t, err, "want the target's metrics address, like http://host:9883")
}

func countsOf(d time.Duration, n int64) []int64 {
	c := make([]int64, hist.Index(d)+1)
	c[hist.Index(d)] = n
	return c
}

func TestStatsHistoryCSV(t *testing.T) {
	t.Parallel()
	deltas := fixture(t)
	st := openTemp(t)
	record(t, st, deltas, RunMeta{Name: "history"})
	d, err := st.LoadRun(t.Context(), "history")
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, WriteStatsHistoryCSV(&b, d, true))
	golden(t, "csv", b.String())

	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "Timestamp", rows[0][0])
	last := rows[len(rows)-1]
	want := aggregate(t, deltas).Total
	require.Equal(t, "Aggregated", last[3])
	require.Equal(t, strconv.FormatInt(want.NumRequests, 10), last[17])
	require.Equal(t, strconv.FormatInt(want.NumFailures, 10), last[18])
}
