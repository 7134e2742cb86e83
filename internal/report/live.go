package report

import (
	"bytes"
	"context"
	"io"
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
)

// LiveLag is how far behind the clock a LiveCSV reads a run: a worker
// reports every 2 s and the store writes every second, so a second younger
// than this may still change.
const LiveLag = 5 * time.Second

// A LiveCSV writes Locust's four CSV files of a run while it is recorded,
// as Locust rewrites them every second. Each Update reads from the store
// only the seconds it has not read yet (up to LiveLag ago) and keeps what
// the files need between updates: the totals and the last seconds of each
// entry, the failure counts, and the history rows written so far. Its cost
// per update is that of the new seconds, however long the run; its memory
// that of the entries and the history's text. The files agree with each
// other at the last second read; the final files come from the ended run
// (LocustCSV). A LiveCSV is not safe for concurrent use.
type LiveCSV struct {
	run      *Run
	next     int64 // the first second not read yet
	b        *historyBuilder
	history  bytes.Buffer // _stats_history.csv so far
	hw       *stats.HistoryWriter
	failures map[[3]string]*failureCount // by type, name, message
}

// LiveCSV returns the run's live CSV files, empty until Update reads its
// first seconds. With full, the history has a row per entry too.
func (r *Run) LiveCSV(full bool) *LiveCSV {
	lo := r.start.Unix()
	l := &LiveCSV{run: r, next: lo, b: newHistoryBuilder(full, lo), failures: map[[3]string]*failureCount{}}
	l.hw = stats.NewHistoryWriter(&l.history)
	return l
}

// Update reads the seconds recorded since the last update, up to LiveLag
// before now, and adds them to the files.
func (l *LiveCSV) Update(ctx context.Context, now time.Time) error {
	hi := now.Add(-LiveLag).Unix()
	if hi <= l.next {
		return nil
	}
	d, err := l.run.st.Load(ctx, time.Unix(l.next, 0), time.Unix(hi, 0), l.run.id)
	if err != nil {
		return err
	}
	_, end, ok := d.Span() // the seconds the store has written
	if !ok {
		return nil
	}
	end = min(end, hi)
	if err := l.b.seconds(d, l.next, end, l.hw); err != nil {
		return err
	}
	for _, f := range d.Failures {
		if f.Unix < end {
			addFailure(l.failures, [3]string{f.Type, f.Name, f.Message}, f.Count, f.Examples)
		}
	}
	l.next = end
	return l.hw.Flush()
}

// Files returns the four files as of the last second read: PREFIX_stats.csv,
// PREFIX_failures.csv, PREFIX_stats_history.csv and PREFIX_exceptions.csv,
// as LocustCSV names them. The rates of _stats.csv are over the run's
// start to the end of that second.
func (l *LiveCSV) Files() []File {
	elapsed := time.Unix(l.next, 0).Sub(l.run.start)
	return []File{
		{"_stats.csv", func(w io.Writer) error { return stats.WriteStatsRows(w, l.b.statsRows(elapsed)) }},
		{"_failures.csv", func(w io.Writer) error { return stats.WriteFailureRows(w, failureStats(failureTotals(l.failures))) }},
		{"_stats_history.csv", func(w io.Writer) error {
			_, err := w.Write(l.history.Bytes())
			return err
		}},
		{"_exceptions.csv", func(w io.Writer) error { return stats.WriteExceptionsCSV(w, l.run.Exceptions()) }},
	}
}
