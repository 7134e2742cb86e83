package report

import (
	"io"
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
)

// A File is one file of a report: the suffix its name ends with and what
// it holds.
type File struct {
	Suffix string
	Write  func(io.Writer) error
}

// LocustCSV returns Locust's four CSV files of d, as --csv PREFIX writes
// them for a run: PREFIX_stats.csv, PREFIX_failures.csv,
// PREFIX_stats_history.csv and PREFIX_exceptions.csv. The history holds
// the Aggregated row alone, as Locust's does, unless fullHistory (Locust's
// --csv-full-history) adds a row per entry.
//
// All four come from d, the run as the results store holds it, so they
// agree with each other: the Aggregated row of _stats.csv counts what the
// last Aggregated row of _stats_history.csv totals, and the failures of
// _failures.csv add up to the Failure Count. They also agree with what
// --html and ltk harvest make of the same run. If the store dropped
// reports because its writer fell behind (Run.Dropped, a warning at the
// end of the test), all four lack them alike.
func LocustCSV(d *Data, fullHistory bool) []File {
	return []File{
		{"_stats.csv", func(w io.Writer) error { return stats.WriteStatsRows(w, statsRows(d)) }},
		{"_failures.csv", func(w io.Writer) error { return stats.WriteFailureRows(w, failureStats(d.FailureTotals())) }},
		{"_stats_history.csv", func(w io.Writer) error { return WriteStatsHistoryCSV(w, d, fullHistory) }},
		{"_exceptions.csv", func(w io.Writer) error { return stats.WriteExceptionsCSV(w, d.Exceptions) }},
	}
}

// statsRows returns the rows of _stats.csv: an entry's, then the
// Aggregated row, with the rates over the time the runs cover.
func statsRows(d *Data) []stats.StatsRow {
	elapsed := d.elapsed()
	entries := d.Entries()
	rows := make([]stats.StatsRow, 0, len(entries)+1)
	for i := range entries {
		rows = append(rows, entries[i].statsRow(elapsed))
	}
	total := d.Total()
	return append(rows, total.statsRow(elapsed))
}

// statsRow returns t as a row of _stats.csv, its rates over elapsed.
func (t *EntryTotal) statsRow(elapsed time.Duration) stats.StatsRow {
	r := t.totalsRow()
	if s := elapsed.Seconds(); s > 0 {
		r.RPS, r.FailPerSec = float64(t.Requests)/s, float64(t.Failures)/s
	}
	if t.Requests > 0 { // 0 ms without timed ones, as Locust's for requests of no response time
		r.Percentiles = make([]time.Duration, len(stats.CSVQuantiles))
		t.Quantiles(stats.CSVQuantiles, r.Percentiles)
	}
	return r
}

// totalsRow returns t's counts and times: the Total columns of
// _stats_history.csv.
func (t *EntryTotal) totalsRow() stats.StatsRow {
	r := stats.StatsRow{Type: t.Type, Name: t.Name, Requests: t.Requests, Failures: t.Failures}
	if t.Count > 0 { // timed requests
		r.Median, r.Avg, r.Min, r.Max = t.Quantile(0.5), t.Mean(), t.Min, t.Max
	}
	if t.Requests > 0 {
		r.AvgContentLength = float64(t.Bytes) / float64(t.Requests)
	}
	return r
}

// failureStats returns failure totals as the rows of _failures.csv.
func failureStats(fs []FailureTotal) []stats.FailureStats {
	rows := make([]stats.FailureStats, len(fs))
	for i, f := range fs {
		rows[i] = stats.FailureStats{Type: f.Type, Name: f.Name, Message: f.Message, Occurrences: f.Count, Examples: f.Examples}
	}
	return rows
}

// elapsed is the time the data covers, for the rates over the whole test:
// a run's exact start to stop when the data is one run's, else the whole
// seconds the runs cover (Duration).
func (d *Data) elapsed() time.Duration {
	if len(d.Runs) == 1 {
		r := d.Runs[0]
		lo, hi := r.Start, r.End()
		if lo.Before(d.Start) {
			lo = d.Start
		}
		if hi.After(d.End) {
			hi = d.End
		}
		if hi.After(lo) {
			return hi.Sub(lo)
		}
	}
	return d.Duration()
}
