package report

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/stats"
)

// TestRunWritesSamples records two workers' deltas and reads them back:
// one sample per second per entry, whose totals are exactly what the
// master's aggregate holds, and whose per-second counts are the recorders'.
func TestRunWritesSamples(t *testing.T) {
	t.Parallel()
	deltas := fixture(t)
	st := openTemp(t)
	id := record(t, st, deltas, RunMeta{Name: "fixture", Devices: 10, SpawnRate: 5, Target: "embedded", Settings: map[string]int{"qos": 1}})

	d, err := st.LoadRun(t.Context(), "fixture")
	require.NoError(t, err)
	require.Len(t, d.Runs, 1)
	require.Equal(t, id, d.Runs[0].ID)
	require.JSONEq(t, `{"qos":1}`, string(d.Runs[0].Settings))
	require.False(t, d.Runs[0].Stop.IsZero())

	want := aggregate(t, deltas)
	got := d.Entries()
	require.Len(t, got, len(want.Entries))
	for i, w := range want.Entries {
		g := got[i]
		require.Equal(t, [2]string{w.Type, w.Name}, [2]string{g.Type, g.Name})
		require.Equal(t, w.NumRequests, g.Requests, w.Name)
		require.Equal(t, w.NumFailures, g.Failures, w.Name)
		require.Equal(t, w.NumUntimed, g.Untimed, w.Name)
		require.Equal(t, w.NumRequests-w.NumUntimed, g.Count, "%s: the histogram holds the timed requests", w.Name)
		require.Equal(t, w.Min, g.Min, w.Name)
		require.Equal(t, w.Max, g.Max, w.Name)
		require.Equal(t, w.Avg, g.Mean(), w.Name)
		require.InDelta(t, w.AvgContentLength, float64(g.Bytes)/float64(g.Requests), 1e-9, w.Name)
		for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
			require.Equal(t, w.Percentile(q), g.Quantile(q), "%s q=%v", w.Name, q)
		}
	}

	// Per second: the recorders' exact counts, each histogram holding one
	// value per request, failures matching their messages.
	perSecond := map[sampleKey]stats.Second{}
	for _, dl := range deltas {
		for _, e := range dl.Entries {
			for _, s := range e.Seconds {
				k := sampleKey{s.Unix, e.Type, e.Name}
				p := perSecond[k]
				p.Requests += s.Requests
				p.Failures += s.Failures
				perSecond[k] = p
			}
		}
	}
	require.Len(t, d.Samples, len(perSecond))
	msgs := map[sampleKey]int64{}
	for _, f := range d.Failures {
		msgs[sampleKey{f.Unix, f.Type, f.Name}] += f.Count
	}
	for _, s := range d.Samples {
		k := sampleKey{s.Unix, s.Type, s.Name}
		require.Equal(t, perSecond[k].Requests, s.Requests, "%v", k)
		require.Equal(t, s.Requests-s.Untimed, s.Count, "%v", k)
		require.Equal(t, perSecond[k].Failures, s.Failures, "%v", k)
		require.Equal(t, s.Failures, msgs[k], "%v", k)
		require.NoError(t, s.Validate())
	}
	ft := d.FailureTotals()
	require.Len(t, ft, 1)
	require.Equal(t, FailureTotal{Type: "echo", Name: "echo timeout", Message: "no echo within 120s", Count: want.Failures[0].Occurrences},
		FailureTotal{Type: ft[0].Type, Name: ft[0].Name, Message: ft[0].Message, Count: ft[0].Count})
	require.Len(t, ft[0].Examples, stats.MaxExamples, "examples are kept")
	require.Subset(t, []string{"LTK00001", "LTK00002", "LTK00003", "LTK00004", "LTK00005", "LTK00006", "LTK00007", "LTK00008",
		"LTK00009", "LTK00010"}, ft[0].Examples)
	tot := d.Total()
	require.Equal(t, want.Total.NumUntimed, tot.Untimed)
	require.Positive(t, tot.Untimed)
	require.Equal(t, want.Total.Percentile(0.01), tot.Quantile(0.01), "the misses are in no percentile")
	require.Equal(t, time.Millisecond, tot.Min, "the fastest publish, not a 0 ms miss")
	require.Zero(t, d.Entry("echo", "echo timeout").Count, "no response time of a miss is kept")
	peak, _ := d.DeviceStats()
	require.Equal(t, 10, peak)
}

// TestLateDeltaMerges sends a delta for a second the writer wrote and
// forgot long ago: it is read back and merged, not overwritten.
func TestLateDeltaMerges(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	st.flushEvery = time.Millisecond
	flushed := make(chan int64, 1)
	st.onFlush = func(last int64) {
		select {
		case flushed <- last:
		default:
		}
	}
	run, err := st.Begin(RunMeta{Start: time.Unix(1000, 0)})
	require.NoError(t, err)
	run.AddDelta(syntheticDelta(1000, 10, 5*time.Millisecond))
	run.AddDelta(syntheticDelta(1100, 1, 5*time.Millisecond))
	for n := 0; n <= keepGenerations+2; {
		<-flushed
		n++
	}
	run.AddDelta(syntheticDelta(1000, 5, 50*time.Millisecond))
	require.NoError(t, run.End(time.Unix(1101, 0)))

	d, err := st.Load(t.Context(), time.Unix(1000, 0), time.Unix(1001, 0), run.ID())
	require.NoError(t, err)
	require.Len(t, d.Samples, 1)
	s := d.Samples[0]
	require.EqualValues(t, 15, s.Count)
	require.Equal(t, 5*time.Millisecond, s.Min)
	require.Equal(t, 50*time.Millisecond, s.Max)
	require.EqualValues(t, 15*64, s.Bytes)
	require.NoError(t, s.Validate())
}

// TestFullQueueDropsAndCounts blocks the writer: reports beyond the queue
// are dropped, counted, and the caller never waits.
func TestFullQueueDropsAndCounts(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	st.flushEvery = time.Millisecond
	blocked, release := make(chan struct{}), make(chan struct{})
	first := true
	st.onFlush = func(int64) {
		if first {
			first = false
			close(blocked)
			<-release
		}
	}
	run, err := st.Begin(RunMeta{Start: time.Unix(1000, 0)})
	require.NoError(t, err)
	<-blocked
	for i := range QueueLen + 10 {
		run.AddDelta(syntheticDelta(1000+int64(i%50), 1, time.Millisecond))
	}
	require.EqualValues(t, 10, run.Dropped())
	close(release)
	require.NoError(t, run.End(time.Unix(1050, 0)))
	require.ErrorIs(t, run.End(time.Unix(1050, 0)), ErrEnded)
	runs, err := st.Runs(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 10, runs[0].Dropped)
	d, err := st.LoadRun(t.Context(), strconv.FormatInt(run.ID(), 10))
	require.NoError(t, err)
	require.EqualValues(t, QueueLen, d.Total().Count)
}

func TestExecutionTimes(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	now := time.Now()
	run, err := st.Begin(RunMeta{Start: now.Add(-time.Minute)})
	require.NoError(t, err)
	for i := range 100 {
		run.ObserveExecution(time.Duration(i+1) * time.Millisecond)
	}
	require.NoError(t, run.End(now.Add(time.Minute)))
	d, err := run.Data(t.Context())
	require.NoError(t, err)
	tot := d.ExecTotal()
	require.EqualValues(t, 100, tot.Count)
	require.Equal(t, 100*time.Millisecond, tot.Max)
	require.Equal(t, time.Millisecond, tot.Min)
}

func TestOpenExisting(t *testing.T) {
	t.Parallel()
	_, err := OpenExisting(filepath.Join(t.TempDir(), "nothing.db"))
	require.ErrorIs(t, err, ErrNoStore)

	bad := filepath.Join(t.TempDir(), "bad.db")
	require.NoError(t, os.WriteFile(bad, []byte("this is not a database, it is a text file of some length ..........................................."), 0o644))
	_, err = OpenExisting(bad)
	require.ErrorContains(t, err, "SQLite")

	st := openTemp(t)
	_, err = st.FindRun(t.Context(), "nope")
	require.ErrorIs(t, err, ErrNoRun)
}

// TestExport: the exported copy is a store of its own holding the same runs
// and samples, made while the store is open, and nothing is left beside the
// store.
func TestExport(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	deltas := []*stats.Delta{syntheticDelta(bubbleStart.Unix(), 10, 5*time.Millisecond), syntheticDelta(bubbleStart.Unix()+1, 20, 7*time.Millisecond)}
	id := record(t, st, deltas, RunMeta{Name: "exported"})

	var b bytes.Buffer
	require.NoError(t, st.Export(t.Context(), &b))
	entries, err := os.ReadDir(filepath.Dir(st.Path()))
	require.NoError(t, err)
	for _, e := range entries {
		require.NotContains(t, e.Name(), ".export-", "the snapshot is removed")
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, os.WriteFile(copyPath, b.Bytes(), 0o600))
	cp, err := OpenExisting(copyPath)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cp.Close() })
	want, err := st.Runs(t.Context())
	require.NoError(t, err)
	got, err := cp.Runs(t.Context())
	require.NoError(t, err)
	require.Equal(t, want, got)
	run, err := cp.FindRun(t.Context(), "exported")
	require.NoError(t, err)
	require.Equal(t, id, run.ID)
}

// The killed-process test: a child (this test binary again) writes samples
// until it is killed with SIGKILL; the store must open and hold every
// second the child had reported as committed.

const childEnv = "LTK_REPORT_TEST_CHILD_DB"

// childBase is the first second the child writes.
const childBase = 1_800_000_000

// childWriter is the child: it writes one second of 100 echoes per 2 ms
// and prints "flushed N" after each commit, N being the end of the last
// second written. It stops by itself after 30 s if nobody kills it.
func childWriter(path string) int {
	st, err := Open(path)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	st.flushEvery = 20 * time.Millisecond
	st.onFlush = func(last int64) { fmt.Printf("flushed %d\n", last) }
	run, err := st.Begin(RunMeta{Name: "killed", Start: time.Unix(childBase, 0)})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(30 * time.Second)
	for i := int64(0); time.Now().Before(deadline); i++ {
		<-tick.C
		run.AddDelta(syntheticDelta(childBase+i, 100, 7*time.Millisecond))
	}
	return 2
}

func TestKilledProcessLeavesReadableStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ltk.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var committed int64
	lines := bufio.NewScanner(out)
	for committed < childBase+20 && lines.Scan() {
		line := lines.Text()
		require.False(t, strings.HasPrefix(line, "error"), line)
		if n, ok := strings.CutPrefix(line, "flushed "); ok {
			committed, err = strconv.ParseInt(n, 10, 64)
			require.NoError(t, err)
		}
	}
	require.GreaterOrEqual(t, committed, int64(childBase+20), "child stopped early: %v", lines.Err())
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	err = cmd.Wait()
	require.ErrorContains(t, err, "killed")

	st, err := OpenExisting(path)
	require.NoError(t, err)
	defer st.Close()
	var check string
	require.NoError(t, st.db.QueryRowContext(context.Background(), "PRAGMA integrity_check").Scan(&check))
	require.Equal(t, "ok", check)
	r, err := st.FindRun(t.Context(), "killed")
	require.NoError(t, err)
	require.True(t, r.Stop.IsZero(), "the run never ended")
	require.GreaterOrEqual(t, r.Last.Unix(), committed)

	d, err := st.LoadRun(t.Context(), "killed")
	require.NoError(t, err)
	require.GreaterOrEqual(t, int64(len(d.Samples)), committed-childBase)
	for i, s := range d.Samples {
		require.Equal(t, int64(childBase+i), s.Unix, "no second missing")
		require.EqualValues(t, 100, s.Count)
		require.NoError(t, s.Validate())
		require.Equal(t, 7*time.Millisecond, s.Max)
	}
}

// TestWriterSurvivesOverflowingDelta: a delta whose per-second counts
// overflow int64 (as a hostile worker may send) is dropped with a reason,
// and the writer goes on: the next delta reaches the store. It used to
// spin apportioning the overflowed counts for ever.
func TestWriterSurvivesOverflowingDelta(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	run, err := st.Begin(RunMeta{Start: time.Unix(1000, 0)})
	require.NoError(t, err)
	bad := syntheticDelta(1000, 2, time.Millisecond)
	bad.Entries[0].Seconds = []stats.Second{{Unix: 1000, Requests: math.MaxInt64}, {Unix: 1001, Requests: math.MaxInt64}, {Unix: 1002, Requests: 4}}
	run.AddDelta(bad)
	run.AddDelta(syntheticDelta(1001, 3, time.Millisecond))
	ended := make(chan error, 1)
	go func() { ended <- run.End(time.Unix(1002, 0)) }()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case err = <-ended:
	case <-timer.C:
		t.Fatal("the writer did not finish: it spins on the overflowing delta")
	}
	require.ErrorContains(t, err, "dropped a stats report")
	d, err := st.LoadRun(t.Context(), strconv.FormatInt(run.ID(), 10))
	require.NoError(t, err)
	require.EqualValues(t, 3, d.Total().Count, "only the good delta")
}

// TestExceptionNodesOnce: an exception a host reports many times names the
// host once, in memory and read back from the store.
func TestExceptionNodesOnce(t *testing.T) {
	t.Parallel()
	st := openTemp(t)
	run, err := st.Begin(RunMeta{Start: time.Unix(1000, 0)})
	require.NoError(t, err)
	for range 3 {
		run.AddException("w-0", "spawn failed")
		run.AddException("w-1", "spawn failed")
	}
	want := []stats.Exception{{Count: 6, Message: "spawn failed", Nodes: []string{"w-0", "w-1"}}}
	require.Equal(t, want, run.Exceptions())
	require.NoError(t, run.End(time.Unix(1001, 0)))
	d, err := run.Data(t.Context())
	require.NoError(t, err)
	require.Equal(t, want, d.Exceptions)
}

// TestOpenUpgradesLayout1 opens a store of layout 1 (before untimed
// failures and failure examples): its runs read as before, and new runs
// keep misses out of the response times.
func TestOpenUpgradesLayout1(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ltk.db")
	st, err := Open(path)
	require.NoError(t, err)
	old := record(t, st, []*stats.Delta{syntheticDelta(bubbleStart.Unix(), 10, 5*time.Millisecond)}, RunMeta{Name: "old"})
	for _, q := range []string{"ALTER TABLE samples DROP COLUMN untimed", "ALTER TABLE failures DROP COLUMN examples", "PRAGMA user_version = 1"} {
		_, err := st.db.ExecContext(t.Context(), q)
		require.NoError(t, err, q)
	}
	require.NoError(t, st.Close())

	st, err = Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	var v int
	require.NoError(t, st.db.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v))
	require.Equal(t, schemaVersion, v)
	d, err := st.LoadRun(t.Context(), strconv.FormatInt(old, 10))
	require.NoError(t, err)
	tot := d.Total()
	require.EqualValues(t, 10, tot.Requests)
	require.EqualValues(t, 10, tot.Count)
	require.Equal(t, 5*time.Millisecond, tot.Quantile(0.5))

	r := stats.NewRecorder()
	r.Entry("echo", "echo receive").Record(5*time.Millisecond, 0)
	r.Entry("echo", "echo timeout").Fail(stats.NoResponseTime, "no echo", "LTK00002")
	dl := r.Drain(time.Now())
	run, err := st.Begin(RunMeta{Name: "new", Start: dl.Start})
	require.NoError(t, err)
	run.AddDelta(dl)
	require.NoError(t, run.End(dl.End))
	d, err = st.LoadRun(t.Context(), "new")
	require.NoError(t, err)
	tot = d.Total()
	require.EqualValues(t, 2, tot.Requests)
	require.EqualValues(t, 1, tot.Untimed)
	require.Equal(t, 5*time.Millisecond, tot.Min)
	require.Equal(t, []FailureTotal{{Type: "echo", Name: "echo timeout", Message: "no echo", Count: 1, Examples: []string{"LTK00002"}}},
		d.FailureTotals())
}
