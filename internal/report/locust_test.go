package report

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/stats"
)

// locustFiles writes LocustCSV(d) and parses each file, by suffix.
func locustFiles(t *testing.T, d *Data) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	for _, f := range LocustCSV(d, true) {
		var b strings.Builder
		require.NoError(t, f.Write(&b), f.Suffix)
		recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
		require.NoError(t, err, f.Suffix)
		out[f.Suffix] = recs
	}
	require.Len(t, out, 4)
	return out
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	x, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, "%q", s)
	return x
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, "%q", s)
	return n
}

// requireAgree checks that the four files tell one story: each entry's
// counts in _stats.csv are its last totals in _stats_history.csv, the
// Aggregated row sums the entries, the failures of _failures.csv add up to
// the Failure Count, and _exceptions.csv holds want.
func requireAgree(t *testing.T, files map[string][][]string, want []stats.Exception) (requests, failures int64) {
	t.Helper()
	st := files["_stats.csv"][1:]
	require.NotEmpty(t, st)
	lastTotals := map[string][2]string{} // by Name: Total Request Count, Total Failure Count
	for _, r := range files["_stats_history.csv"][1:] {
		lastTotals[r[3]] = [2]string{r[17], r[18]}
	}
	var sumReqs, sumFails int64
	for _, r := range st {
		require.Equal(t, [2]string{r[2], r[3]}, lastTotals[r[1]], "%s: _stats.csv against the last row of _stats_history.csv", r[1])
		if r[1] != "Aggregated" {
			sumReqs += atoi(t, r[2])
			sumFails += atoi(t, r[3])
		}
	}
	agg := st[len(st)-1]
	require.Equal(t, []string{"", "Aggregated"}, agg[:2])
	require.Equal(t, sumReqs, atoi(t, agg[2]), "Aggregated requests sum the entries")
	require.Equal(t, sumFails, atoi(t, agg[3]), "Aggregated failures sum the entries")
	var occurrences int64
	for _, r := range files["_failures.csv"][1:] {
		occurrences += atoi(t, r[3])
	}
	require.Equal(t, sumFails, occurrences, "_failures.csv adds up to the Failure Count")
	exc := files["_exceptions.csv"]
	require.Equal(t, []string{"Count", "Message", "Traceback", "Nodes"}, exc[0])
	require.Len(t, exc, len(want)+1)
	for i, e := range want {
		require.Equal(t, []string{strconv.FormatInt(e.Count, 10), e.Message, e.Traceback, strings.Join(e.Nodes, ", ")}, exc[i+1])
	}
	return sumReqs, sumFails
}

// TestLocustCSVAgreeWhenTheStoreDrops blocks the store's writer so that
// the last reports of a run are dropped: the four files still agree with
// each other (they lack the dropped reports alike), though no longer with
// what the master merged live.
func TestLocustCSVAgreeWhenTheStoreDrops(t *testing.T) {
	t.Parallel()
	deltas := fixture(t)
	st := openTemp(t)
	st.flushEvery = time.Millisecond
	blocked, release := make(chan struct{}), make(chan struct{})
	first := true
	st.onFlush = func(int64) { // runs on the writer's goroutine only
		if first {
			first = false
			close(blocked)
			<-release
		}
	}
	run, err := st.Begin(RunMeta{Start: bubbleStart, Name: "dropping"})
	require.NoError(t, err)
	<-blocked
	keep := len(deltas) - 3
	for i, d := range deltas[:keep] {
		run.AddDelta(d)
		run.SetDevices(d.End, min(10, 2*(i+1)))
	}
	for range QueueLen - 2*keep { // fill the queue: what follows is dropped
		run.SetDevices(deltas[keep-1].End, 10)
	}
	for _, d := range deltas[keep:] {
		run.AddDelta(d)
	}
	require.EqualValues(t, len(deltas)-keep, run.Dropped())
	run.AddException("w-0", "worker lost")
	run.AddException("w-1", "worker lost")
	run.AddException("w-1", "bad report")
	close(release)
	require.NoError(t, run.End(deltas[len(deltas)-1].End))

	d, err := run.Data(t.Context())
	require.NoError(t, err)
	files := locustFiles(t, d)
	reqs, fails := requireAgree(t, files, []stats.Exception{
		{Count: 2, Message: "worker lost", Nodes: []string{"w-0", "w-1"}},
		{Count: 1, Message: "bad report", Nodes: []string{"w-1"}},
	})
	kept, live := aggregate(t, deltas[:keep]).Total, aggregate(t, deltas).Total
	require.Equal(t, kept.NumRequests, reqs, "the files hold what the store kept")
	require.Equal(t, kept.NumFailures, fails)
	require.Less(t, reqs, live.NumRequests, "the dropped reports are missing from all four files alike")
}

// TestLocustCSVMatchesTheLiveStats records a run without drops: its
// _stats.csv and _failures.csv say what the master's live aggregate says.
// The counts, averages, min, max and sizes are the same bytes; the
// percentiles come from the store's histograms and agree within their
// precision (1%, rounded as Locust rounds them).
func TestLocustCSVMatchesTheLiveStats(t *testing.T) {
	t.Parallel()
	deltas := fixture(t)
	st := openTemp(t)
	record(t, st, deltas, RunMeta{Name: "clean"})
	d, err := st.LoadRun(t.Context(), "clean")
	require.NoError(t, err)
	files := locustFiles(t, d)
	requireAgree(t, files, nil)

	live := aggregate(t, deltas)
	var b strings.Builder
	require.NoError(t, stats.WriteStatsCSV(&b, live))
	want, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	require.NoError(t, err)
	got := files["_stats.csv"]
	require.Len(t, got, len(want))
	for i := range want {
		for _, c := range []int{0, 1, 2, 3, 5, 6, 7, 8} { // type, name, counts, average, min, max, size
			require.Equal(t, want[i][c], got[i][c], "row %d column %q", i, want[0][c])
		}
		if i == 0 {
			require.Equal(t, want[0], got[0], "header")
			continue
		}
		for _, c := range append([]int{4}, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21) { // median, percentiles
			w, g := atof(t, want[i][c]), atof(t, got[i][c])
			tol := max(1, 0.01*w)
			if w >= 100 { // Locust rounds to 10 ms there: 1% may cross a step
				tol += 10
			}
			require.InDelta(t, w, g, tol, "row %d column %q", i, want[0][c])
		}
	}

	b.Reset()
	require.NoError(t, stats.WriteFailuresCSV(&b, live))
	var fb strings.Builder
	require.NoError(t, LocustCSV(d, true)[1].Write(&fb))
	require.Equal(t, b.String(), fb.String(), "_failures.csv")
}
