package report

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLiveCSVGrowsIntoTheFinalFiles: a LiveCSV read part-way has the first
// rows of the final history; read to the end, its history and failures are
// the final files' byte for byte, and its _stats.csv too but for the rates
// (over the seconds read rather than the run's exact stop). A second read
// of nothing new changes nothing.
func TestLiveCSVGrowsIntoTheFinalFiles(t *testing.T) {
	t.Parallel()
	for _, full := range []bool{false, true} {
		deltas := fixture(t)
		st := openTemp(t)
		run, err := st.Begin(RunMeta{Name: "live", Start: bubbleStart})
		require.NoError(t, err)
		for i, d := range deltas {
			run.AddDelta(d)
			run.SetDevices(d.End, min(10, 2*(i+1)))
		}
		require.NoError(t, run.End(deltas[len(deltas)-1].End))
		d, err := st.LoadRun(t.Context(), "live")
		require.NoError(t, err)
		final := files(t, LocustCSV(d, full))

		live := run.LiveCSV(full)
		require.NoError(t, live.Update(t.Context(), bubbleStart.Add(8*time.Second+LiveLag)))
		part := files(t, live.Files())
		require.True(t, strings.HasPrefix(final["_stats_history.csv"], part["_stats_history.csv"]), "a prefix of the final history")
		require.Less(t, len(part["_stats_history.csv"]), len(final["_stats_history.csv"]))
		require.Equal(t, 8, strings.Count(part["_stats_history.csv"], ",,Aggregated,"), "8 seconds read, an Aggregated row each")

		require.NoError(t, live.Update(t.Context(), bubbleStart.Add(time.Hour)))
		got := files(t, live.Files())
		require.Equal(t, final["_stats_history.csv"], got["_stats_history.csv"], "full %v", full)
		require.Equal(t, final["_failures.csv"], got["_failures.csv"])
		require.Equal(t, final["_exceptions.csv"], got["_exceptions.csv"])
		want, have := records(t, final["_stats.csv"]), records(t, got["_stats.csv"])
		require.Len(t, have, len(want))
		for i := range want {
			want[i][9], want[i][10], have[i][9], have[i][10] = "", "", "", "" // Requests/s, Failures/s
			require.Equal(t, want[i], have[i])
		}

		require.NoError(t, live.Update(t.Context(), bubbleStart.Add(2*time.Hour)))
		require.Equal(t, got, files(t, live.Files()), "nothing new read")
	}
}

// files writes each file to a string, by suffix.
func files(t *testing.T, fs []File) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range fs {
		var b strings.Builder
		require.NoError(t, f.Write(&b), f.Suffix)
		out[f.Suffix] = b.String()
	}
	return out
}

func records(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	require.NoError(t, err)
	return recs
}
