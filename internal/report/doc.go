// Package report keeps the results of ltk's tests and turns them into
// reports.
//
// The results store is a SQLite database (pure Go, no cgo) at
// $LTK_ROOT/runs/ltk.db by default. Every test is a run: its metadata (start,
// stop, devices, spawn rate, target, settings) and one sample per second per
// stats entry (requests, failures, bytes, the exact sum, min and max, and the
// second's response-time histogram in package hist's compact encoding),
// failure messages per second, the device count over time, the echo app's
// execution times per second and the exceptions the workers reported
// (written when the run ends). Anyone can query it with sqlite3.
//
// The process that aggregates stats (ltk run or ltk master) opens the store,
// [Store.Begin]s a [Run] and hands it every worker's [stats.Delta] as it
// collects them. A Run merges them per (second, entry) in a goroutine of its
// own behind a bounded queue, so the caller never waits; it commits about
// once a second in WAL mode, so a process that is killed loses at most the
// last few seconds, and the store stays readable.
//
// [Store.Load] reads back the samples of a time window as [Data], from which
// the writers build ltk harvest's files (frequency distributions, a summary,
// the run report: a self-contained HTML page) and, with [LocustCSV], the
// four Locust CSV files that --csv writes at the end of a test; a
// [LiveCSV] writes them during the test, reading a run a few new seconds at
// a time. The store is their one source, so --csv, --html and ltk harvest
// of a run agree.
package report
