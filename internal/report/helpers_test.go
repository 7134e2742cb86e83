package report

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ltk-dev/ltk/internal/report/reporttest"
	"github.com/ltk-dev/ltk/internal/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childWriter(os.Getenv(childEnv)))
	}
	goleak.VerifyTestMain(m)
}

// golden compares got with testdata/<TestName>.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+"."+name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), got)
}

// openTemp opens a store in a fresh directory.
func openTemp(t *testing.T) *Store {
	t.Helper()
	st, err := Open(filepath.Join(t.TempDir(), "runs", "ltk.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

// bubbleStart is when time starts in a synctest bubble: 2000-01-01T00:00:00Z.
var bubbleStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture records a small echo test the way two workers would, in fake
// time from bubbleStart: each worker's 5 devices connect and subscribe in
// second 0, then publish and get echoes every 100 ms for 20 seconds, with
// response times growing over the test; a few echoes time out (failures
// without a response time, their devices as examples). Each worker
// drains every 2 seconds (an interval that does not match second edges).
// It returns the deltas in the order a master would collect them.
func fixture(t *testing.T) []*stats.Delta {
	var deltas []*stats.Delta
	synctest.Test(t, func(t *testing.T) {
		var recs [2]*stats.Recorder
		for w := range recs {
			recs[w] = stats.NewRecorder()
		}
		time.Sleep(300 * time.Millisecond)
		for w, r := range recs {
			for i := range 5 {
				r.Entry("MQTT", "MQTT connect").Record(time.Duration(20+i+w)*time.Millisecond, 0)
				r.Entry("MQTT", "MQTT subscribe").Record(time.Duration(3+i)*time.Millisecond, 0)
			}
		}
		step := 0
		for tick := range 200 { // 100 ms steps: 20 s
			time.Sleep(100 * time.Millisecond)
			step++
			for w, r := range recs {
				for dev := range 5 {
					n := tick*10 + dev + w
					rtt := time.Duration(40+tick)*time.Millisecond + time.Duration(n%37)*time.Millisecond
					r.Entry("MQTT", "MQTT publish").Record(time.Duration(1+n%5)*time.Millisecond, 64)
					if n%97 == 0 {
						r.Entry("echo", "echo timeout").Fail(stats.NoResponseTime, "no echo within 120s", fmt.Sprintf("LTK%05d", w*5+dev+1))
						continue
					}
					r.Entry("echo", "echo receive").Record(rtt, 64)
				}
			}
			if step%20 == 7 { // every 2 s, at .7 past the second
				for _, r := range recs {
					deltas = append(deltas, r.Drain(time.Now()))
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
		for _, r := range recs {
			deltas = append(deltas, r.Drain(time.Now()))
		}
	})
	return deltas
}

// aggregate merges deltas as the master does.
func aggregate(t *testing.T, deltas []*stats.Delta) stats.Snapshot {
	agg := stats.NewAggregate()
	for _, d := range deltas {
		require.NoError(t, agg.Add(d))
	}
	return agg.Snapshot(deltas[len(deltas)-1].End)
}

// record writes deltas as one run that starts at bubbleStart and returns its id.
func record(t *testing.T, st *Store, deltas []*stats.Delta, meta RunMeta) int64 {
	t.Helper()
	if meta.Start.IsZero() {
		meta.Start = bubbleStart
	}
	run, err := st.Begin(meta)
	require.NoError(t, err)
	for i, d := range deltas {
		run.AddDelta(d)
		run.SetDevices(d.End, min(10, 2*(i+1)))
	}
	require.NoError(t, run.End(deltas[len(deltas)-1].End))
	require.Zero(t, run.Dropped())
	return run.ID()
}

// syntheticDelta is one second of n echo receives of rtt each, in second unix.
func syntheticDelta(unix int64, n int64, rtt time.Duration) *stats.Delta {
	return reporttest.Delta(unix, "echo", "echo receive", n, rtt, 64)
}
