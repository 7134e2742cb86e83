package report

import (
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// bigDelta is a worker's report over 2 s that straddle 3 seconds: 5
// entries of perEntry requests each, response times spread over 1–300 ms.
func bigDelta(unix, perEntry int64) *stats.Delta {
	d := &stats.Delta{Start: time.Unix(unix, 3e8), End: time.Unix(unix+2, 3e8)}
	for _, name := range []string{"MQTT connect", "MQTT publish", "MQTT subscribe", "echo late", "echo receive"} {
		counts := make([]int64, hist.Index(300*time.Millisecond)+1)
		var sum time.Duration
		for i := range perEntry {
			rtt := time.Millisecond + time.Duration(i*7919%299)*time.Millisecond
			counts[hist.Index(rtt)]++
			sum += rtt
		}
		third := perEntry / 3
		d.Entries = append(d.Entries, stats.EntryDelta{Type: "echo", Name: name, Requests: perEntry, Sum: sum,
			Min: time.Millisecond, Max: 299 * time.Millisecond, ContentBytes: 64 * perEntry,
			Hist:    hist.Trim(counts),
			Seconds: []stats.Second{{Unix: unix, Requests: third}, {Unix: unix + 1, Requests: perEntry - 2*third}, {Unix: unix + 2, Requests: third}}})
	}
	return d
}

// BenchmarkAddDelta is the caller's side: queueing a delta, which never
// waits and allocates nothing.
func BenchmarkAddDelta(b *testing.B) {
	st, err := Open(b.TempDir() + "/ltk.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	run, err := st.Begin(RunMeta{Start: time.Unix(1000, 0)})
	if err != nil {
		b.Fatal(err)
	}
	d := syntheticDelta(1000, 100, 5*time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		run.AddDelta(d)
	}
	b.StopTimer()
	_ = run.End(time.Unix(1001, 0))
}

// BenchmarkWriterMerge is the writer's side: splitting a worker's 2-second
// delta (5 entries, 4,000 requests with spread response times) into
// per-second samples. The store keeps up with this many deltas per second.
func BenchmarkWriterMerge(b *testing.B) {
	d := bigDelta(1000, 2000)
	w := &writer{accs: make(map[sampleKey]*acc), evictedMax: -1 << 62}
	b.ReportAllocs()
	for b.Loop() {
		w.add(item{delta: d})
	}
	var n int64
	for _, e := range d.Entries {
		n += e.Requests
	}
	b.ReportMetric(float64(n), "requests/delta")
}

// BenchmarkLocustCSVOfAnHour is what writing --csv's files costs once a
// run has lasted an hour (5 entries): "final" reads the run back from the
// store and writes the four files, as at the end of the test; "live" is a
// LiveCSV's rewrite during the test, which reads the 2 seconds new since
// the last one and writes the files from what it kept.
func BenchmarkLocustCSVOfAnHour(b *testing.B) {
	st, err := Open(b.TempDir() + "/ltk.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	run, err := st.Begin(RunMeta{Start: time.Unix(1000, 0)})
	if err != nil {
		b.Fatal(err)
	}
	for unix := int64(1000); unix < 1000+3600; unix += 2 {
		for len(run.queue) > QueueLen/2 { // let the writer keep up rather than drop
			runtime.Gosched()
		}
		run.AddDelta(bigDelta(unix, 200))
	}
	if err := run.End(time.Unix(1000+3600, 0)); err != nil {
		b.Fatal(err)
	}
	if n := run.Dropped(); n > 0 {
		b.Fatalf("the store dropped %d reports", n)
	}
	write := func(fs []File) {
		for _, f := range fs {
			if err := f.Write(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("final", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, err := run.Data(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			write(LocustCSV(d, false))
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/write")
	})
	b.Run("live", func(b *testing.B) {
		now := time.Unix(1000+3600, 0).Add(LiveLag)
		l := run.LiveCSV(false)
		if err := l.Update(b.Context(), now); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			l.next -= 2 // read the last 2 seconds again, as if new (counted twice: only the cost matters here)
			if err := l.Update(b.Context(), now); err != nil {
				b.Fatal(err)
			}
			write(l.Files())
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/write")
	})
}
