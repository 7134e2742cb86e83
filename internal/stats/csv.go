package stats

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// statsHeader is the header of Locust's _stats.csv.
var statsHeader = []string{
	"Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
	"Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s",
	"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
}

// WriteStatsCSV writes s as Locust's _stats.csv: a row per entry, then the
// Aggregated row with an empty Type. Times are in milliseconds, as Locust
// writes them: the median and percentiles rounded to integers (N/A with no
// requests), the average, min and max exact, and, like every other fraction,
// in the shortest decimal form that reads back exactly, with ".0" on whole
// numbers as Python prints floats. Requests/s and Failures/s are over the
// whole test.
func WriteStatsCSV(w io.Writer, s Snapshot) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(statsHeader); err != nil {
		return err
	}
	for _, e := range rows(s) {
		if err := cw.Write(statsRecord(e)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func statsRecord(e EntryStats) []string {
	minMS, maxMS, size := "0", "0", "0" // Locust's integer zeros before any request
	if e.NumRequests > 0 {
		minMS, maxMS, size = pyFloat(ms(e.Min)), pyFloat(ms(e.Max)), pyFloat(e.AvgContentLength)
	}
	r := []string{
		e.Type, e.Name, itoa(e.NumRequests), itoa(e.NumFailures),
		itoa(msRound(e.Median)), pyFloat(ms(e.Avg)), minMS, maxMS, size,
		pyFloat(e.TotalRPS), pyFloat(e.TotalFailPerSec),
	}
	for _, p := range reportQuantiles {
		if e.NumRequests == 0 {
			r = append(r, "N/A")
		} else {
			r = append(r, itoa(msRound(e.Percentile(p.q))))
		}
	}
	return r
}

// WriteFailuresCSV writes s's failures as Locust's _failures.csv, most
// frequent first. Method is the entry's type; Error is the message as given
// to Entry.Fail.
func WriteFailuresCSV(w io.Writer, s Snapshot) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"Method", "Name", "Error", "Occurrences"}); err != nil {
		return err
	}
	for _, f := range s.Failures {
		if err := cw.Write([]string{f.Type, f.Name, f.Message, itoa(f.Occurrences)}); err != nil {
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
