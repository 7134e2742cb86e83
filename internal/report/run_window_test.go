package report

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunWindowHoldsItsLastSamples: a run read back by name (harvest --run,
// Run.Data, LoadRun) holds every sample it wrote, also those of its last
// second when the stop came within a millisecond of that second's start,
// and those stamped after the stop by a worker whose clock runs ahead.
func TestRunWindowHoldsItsLastSamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		lastDelta time.Time // end of the last delta, whose requests fall in its second
		stop      time.Time
	}{
		{"stop within a millisecond of the last second's start", time.Unix(1003, 300_000), time.Unix(1003, 800_000)},
		{"stop on the last delta's end", time.Unix(1003, 400e6), time.Unix(1003, 400e6)},
		{"last delta stamped after the stop", time.Unix(1004, 300e6), time.Unix(1003, 900e6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openTemp(t)
			run, err := st.Begin(RunMeta{Name: "short", Start: time.Unix(1000, 250e6)})
			require.NoError(t, err)
			var want int64
			for unix := int64(1000); unix < tc.lastDelta.Unix(); unix++ {
				run.AddDelta(syntheticDelta(unix, 5, 20*time.Millisecond))
				want += 5
			}
			last := syntheticDelta(tc.lastDelta.Unix(), 3, 20*time.Millisecond)
			last.Start, last.End = tc.lastDelta.Truncate(time.Second), tc.lastDelta
			run.AddDelta(last)
			run.SetDevices(tc.lastDelta, 5)
			want += 3
			require.NoError(t, run.End(tc.stop))

			d, err := run.Data(t.Context())
			require.NoError(t, err)
			require.Equal(t, want, d.Entry("echo", "echo receive").Count, "Run.Data")
			require.Equal(t, time.Duration(tc.lastDelta.Unix()+1-1000)*time.Second, d.Duration(), "the run covers its last sample's second")

			dir := t.TempDir()
			_, err = Harvest(t.Context(), st, HarvestConfig{Dir: dir, Run: "short"})
			require.NoError(t, err)
			require.Equal(t, map[string]int64{"echo/echo receive": want}, bucketSums(t, readCSV(t, filepath.Join(dir, DriverTimesFile))), "harvest --run")
		})
	}
}
