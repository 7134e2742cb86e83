package stats

import (
	"encoding/csv"
	"io"
	"math"
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

// WriteStatsRows writes rows as Locust's _stats.csv, lines ending in CRLF
// as Python's csv module ends them. Times are in milliseconds, as Locust
// writes them: the median and percentiles as Locust rounds its response
// times (see PercentileText and medianText; N/A with no requests), the
// average, min and max exact and, like every other fraction, in the
// shortest decimal form that reads back exactly, with ".0" on whole
// numbers as Python prints floats.
func WriteStatsRows(w io.Writer, rows []StatsRow) error {
	cw := newCSVWriter(w)
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
	minMS, maxMS, size := r.minMaxSize()
	rec = append(rec, r.Type, r.Name, itoa(r.Requests), itoa(r.Failures),
		r.medianText(), pyFloat(ms(r.Avg)), minMS, maxMS, size,
		pyFloat(r.RPS), pyFloat(r.FailPerSec))
	return appendPercentiles(rec, r.Requests, r.Percentiles)
}

// minMaxSize formats the min, max and average content size as Locust
// does: its integer zeros before any request, and a min of 0 too, since it
// writes "min_response_time or 0".
func (r *StatsRow) minMaxSize() (minMS, maxMS, size string) {
	if r.Requests == 0 {
		return "0", "0", "0"
	}
	minMS = "0"
	if r.Min > 0 {
		minMS = pyFloat(ms(r.Min))
	}
	return minMS, pyFloat(ms(r.Max)), pyFloat(r.AvgContentLength)
}

// appendPercentiles appends the percentile columns: N/A without requests.
func appendPercentiles(rec []string, requests int64, ps []time.Duration) []string {
	for i := range reportQuantiles {
		if requests == 0 || i >= len(ps) {
			rec = append(rec, "N/A")
		} else {
			rec = append(rec, PercentileText(ps[i]))
		}
	}
	return rec
}

// PercentileText formats a percentile in milliseconds as Locust's CSV
// files do: Locust keeps response times rounded (to 1 ms below 100 ms, to
// 10 ms below 1 s, to 100 ms below 10 s, to 1 s above: LocustRound) and
// writes a percentile as an integer. Below 1 ms ltk keeps two decimals,
// as its console does, where Locust would write 0 or 1: every loopback
// round trip is below 1 ms.
func PercentileText(d time.Duration) string {
	switch v := ms(d); {
	case v == 0:
		return "0"
	case v < 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(LocustRound(v), 'f', 0, 64)
	}
}

// medianText formats the median as Locust's CSV files do: rounded as a
// percentile is, but kept within [min, max] (Locust's median_response_time
// clamps to them, exact), and, since Python's round(x, -1) returns a float,
// written with ".0" from 100 ms on.
func (r *StatsRow) medianText() string {
	v := ms(r.Median)
	switch {
	case r.Requests == 0:
		return "0"
	case v < 1:
		return PercentileText(r.Median)
	}
	rounded := LocustRound(v)
	switch {
	case rounded > ms(r.Max):
		return pyFloat(ms(r.Max))
	case rounded < ms(r.Min):
		return pyFloat(ms(r.Min))
	case v < 100:
		return strconv.FormatFloat(rounded, 'f', 0, 64)
	}
	return pyFloat(rounded)
}

// LocustRound rounds a response time in milliseconds as Locust keeps it:
// to 1 ms below 100 ms, to 10 ms below 1,000 ms, to 100 ms below 10,000
// ms and to 1,000 ms above, halves to even as Python's round does. ltk's
// CSV files, REST API and UI round their percentiles and medians so.
func LocustRound(v float64) float64 {
	var unit float64
	switch {
	case v < 100:
		unit = 1
	case v < 1000:
		unit = 10
	case v < 10000:
		unit = 100
	default:
		unit = 1000
	}
	return math.RoundToEven(v/unit) * unit
}

// WriteFailuresCSV writes s's failures as Locust's _failures.csv.
func WriteFailuresCSV(w io.Writer, s Snapshot) error { return WriteFailureRows(w, s.Failures) }

// WriteFailureRows writes failures as Locust's _failures.csv, in their
// order (Snapshot's: most frequent first). Method is the entry's type;
// Error is the message as given to Entry.Fail, followed by its examples
// (ErrorText), so that the columns stay Locust's.
func WriteFailureRows(w io.Writer, failures []FailureStats) error {
	cw := newCSVWriter(w)
	if err := cw.Write([]string{"Method", "Name", "Error", "Occurrences"}); err != nil {
		return err
	}
	for _, f := range failures {
		if err := cw.Write([]string{f.Type, f.Name, f.ErrorText(), itoa(f.Occurrences)}); err != nil {
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
	h := &HistoryWriter{cw: newCSVWriter(w), rec: make([]string, 0, len(historyHeader))}
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
	rec = appendPercentiles(rec, t.Requests, r.Percentiles)
	minMS, maxMS, size := t.minMaxSize()
	rec = append(rec, itoa(t.Requests), itoa(t.Failures), t.medianText(), pyFloat(ms(t.Avg)),
		minMS, maxMS, size)
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
	cw := newCSVWriter(w)
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

// newCSVWriter returns a CSV writer that ends lines in CRLF, as Python's
// csv module (and so Locust) does.
func newCSVWriter(w io.Writer) *csv.Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw
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
