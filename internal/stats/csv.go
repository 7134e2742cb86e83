package stats

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// This file is the one home of Locust's CSV formats: _stats.csv,
// _failures.csv, _stats_history.csv and _exceptions.csv. The writers take
// rows whose numbers are already computed, so that any source (the live
// Aggregate's Snapshot for the web UI's downloads, a recorded run for
// --csv) prints them the same way.

// CSVQuantiles are the percentiles of the percentile columns of Locust's
// CSV files (50% to 100%), in column order.
var CSVQuantiles = func() []float64 {
	qs := make([]float64, len(reportQuantiles))
	for i, p := range reportQuantiles {
		qs[i] = p.q
	}
	return qs
}()

// statsHeader is the header of Locust's _stats.csv.
var statsHeader = []string{
	"Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
	"Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s",
	"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
}

// A StatsRow is one row of Locust's _stats.csv: an entry, or the Aggregated
// row (Type "", Name "Aggregated").
type StatsRow struct {
	Type, Name         string
	Requests, Failures int64 // failures are counted among the requests
	Median, Avg        time.Duration
	Min, Max           time.Duration
	AvgContentLength   float64         // bytes per request
	RPS, FailPerSec    float64         // over the whole test
	Percentiles        []time.Duration // at CSVQuantiles; unused without requests
}

// WriteStatsCSV writes s as Locust's _stats.csv: a row per entry, then the
// Aggregated row with an empty Type. See WriteStatsRows for the format.
func WriteStatsCSV(w io.Writer, s Snapshot) error {
	entries := rows(s)
	out := make([]StatsRow, len(entries))
	for i, e := range entries {
		out[i] = StatsRow{
			Type: e.Type, Name: e.Name, Requests: e.NumRequests, Failures: e.NumFailures,
			Median: e.Median, Avg: e.Avg, Min: e.Min, Max: e.Max, AvgContentLength: e.AvgContentLength,
			RPS: e.TotalRPS, FailPerSec: e.TotalFailPerSec,
		}
		if e.NumRequests > 0 {
			out[i].Percentiles = make([]time.Duration, len(reportQuantiles))
			for j, p := range reportQuantiles {
				out[i].Percentiles[j] = e.Percentile(p.q)
			}
		}
	}
	return WriteStatsRows(w, out)
}

// WriteStatsRows writes rows as Locust's _stats.csv. Times are in
// milliseconds, as Locust writes them: the median and percentiles rounded
// to integers (N/A with no requests), the average, min and max exact, and,
// like every other fraction, in the shortest decimal form that reads back
// exactly, with ".0" on whole numbers as Python prints floats.
func WriteStatsRows(w io.Writer, rows []StatsRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(statsHeader); err != nil {
		return err
	}
	rec := make([]string, 0, len(statsHeader))
	for i := range rows {
		if err := cw.Write(rows[i].record(rec[:0])); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// record appends r's columns to rec.
func (r *StatsRow) record(rec []string) []string {
	minMS, maxMS, size := "0", "0", "0" // Locust's integer zeros before any request
	if r.Requests > 0 {
		minMS, maxMS, size = pyFloat(ms(r.Min)), pyFloat(ms(r.Max)), pyFloat(r.AvgContentLength)
	}
	rec = append(rec, r.Type, r.Name, itoa(r.Requests), itoa(r.Failures),
		itoa(msRound(r.Median)), pyFloat(ms(r.Avg)), minMS, maxMS, size,
		pyFloat(r.RPS), pyFloat(r.FailPerSec))
	for i := range reportQuantiles {
		if r.Requests == 0 || i >= len(r.Percentiles) {
			rec = append(rec, "N/A")
		} else {
			rec = append(rec, itoa(msRound(r.Percentiles[i])))
		}
	}
	return rec
}

// WriteFailuresCSV writes s's failures as Locust's _failures.csv.
func WriteFailuresCSV(w io.Writer, s Snapshot) error { return WriteFailureRows(w, s.Failures) }

// WriteFailureRows writes failures as Locust's _failures.csv, in their
// order (Snapshot's: most frequent first). Method is the entry's type;
// Error is the message as given to Entry.Fail.
func WriteFailureRows(w io.Writer, failures []FailureStats) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"Method", "Name", "Error", "Occurrences"}); err != nil {
		return err
	}
	for _, f := range failures {
		if err := cw.Write([]string{f.Type, f.Name, f.Message, itoa(f.Occurrences)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// historyHeader is the header of Locust's _stats_history.csv.
var historyHeader = []string{
	"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s",
	"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
	"Total Request Count", "Total Failure Count", "Total Median Response Time", "Total Average Response Time",
	"Total Min Response Time", "Total Max Response Time", "Total Average Content Size",
}

// A HistoryRow is one row of Locust's _stats_history.csv: one entry (or
// the Aggregated row) at one moment.
type HistoryRow struct {
	Timestamp   int64 // Unix seconds
	Users       int   // devices running
	Type, Name  string
	RPS         float64         // over the recent window
	FailPerSec  float64         // over the recent window
	Percentiles []time.Duration // over the recent window, at CSVQuantiles
	// Total is everything since the start: its Requests, Failures,
	// Median, Avg, Min, Max and AvgContentLength fill the Total columns.
	Total StatsRow
}

// A HistoryWriter writes Locust's _stats_history.csv a row at a time.
type HistoryWriter struct {
	cw  *csv.Writer
	rec []string
	err error
}

// NewHistoryWriter writes the header to w and returns the writer of the
// rows. Call Flush after the last row.
func NewHistoryWriter(w io.Writer) *HistoryWriter {
	h := &HistoryWriter{cw: csv.NewWriter(w), rec: make([]string, 0, len(historyHeader))}
	h.err = h.cw.Write(historyHeader)
	return h
}

// Write writes r: rates with six decimals, times in milliseconds (rounded
// or exact) as in _stats.csv.
func (h *HistoryWriter) Write(r *HistoryRow) error {
	if h.err != nil {
		return h.err
	}
	t := &r.Total
	rec := h.rec[:0]
	rec = append(rec, strconv.FormatInt(r.Timestamp, 10), strconv.Itoa(r.Users), r.Type, r.Name,
		strconv.FormatFloat(r.RPS, 'f', 6, 64), strconv.FormatFloat(r.FailPerSec, 'f', 6, 64))
	for _, q := range r.Percentiles {
		rec = append(rec, itoa(msRound(q)))
	}
	rec = append(rec, itoa(t.Requests), itoa(t.Failures), itoa(msRound(t.Median)), pyFloat(ms(t.Avg)),
		pyFloat(ms(t.Min)), pyFloat(ms(t.Max)), pyFloat(t.AvgContentLength))
	h.rec = rec
	h.err = h.cw.Write(rec)
	return h.err
}

// Flush writes what is buffered and returns the first error.
func (h *HistoryWriter) Flush() error {
	if h.err != nil {
		return h.err
	}
	h.cw.Flush()
	return h.cw.Error()
}

// An Exception is a row of Locust's _exceptions.csv: an error ltk itself
// hit (not a request failure), counted by message.
type Exception struct {
	Count     int64
	Message   string
	Traceback string   // detail, such as a stack trace; may be empty
	Nodes     []string // where it happened: worker ids or hostnames
}

// WriteExceptionsCSV writes Locust's _exceptions.csv (Count, Message,
// Traceback, Nodes; nodes joined with ", "), in the order given. ltk's
// devices report failures, not exceptions, so it is often only the header.
func WriteExceptionsCSV(w io.Writer, exceptions []Exception) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"Count", "Message", "Traceback", "Nodes"}); err != nil {
		return err
	}
	for _, e := range exceptions {
		if err := cw.Write([]string{itoa(e.Count), e.Message, e.Traceback, strings.Join(e.Nodes, ", ")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pyFloat formats x as Python's str(float) does for everyday magnitudes:
// the shortest decimal that reads back as x, with ".0" on whole numbers.
func pyFloat(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".NI") { // not NaN, Inf
		s += ".0"
	}
	return s
}
