package stats

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// reportQuantiles are the percentiles Locust reports, with their labels.
var reportQuantiles = [...]struct {
	q     float64
	label string
}{
	{0.50, "50%"}, {0.66, "66%"}, {0.75, "75%"}, {0.80, "80%"}, {0.90, "90%"}, {0.95, "95%"},
	{0.98, "98%"}, {0.99, "99%"}, {0.999, "99.9%"}, {0.9999, "99.99%"}, {1, "100%"},
}

// WriteTable writes s as Locust's console table, with the current rates
// (the last 10 seconds). Times are in milliseconds (see msText). The Type and Name
// columns widen to fit the longest values.
func WriteTable(w io.Writer, s Snapshot) error {
	return writeTable(w, s, true)
}

// WriteFinalTable writes s as WriteTable does, but with the rates over the
// whole test, as Locust prints when a test ends.
func WriteFinalTable(w io.Writer, s Snapshot) error {
	return writeTable(w, s, false)
}

func writeTable(w io.Writer, s Snapshot, current bool) error {
	l := newLayout(s)
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s %-*s %7s %12s |%7s %7s %7s%7s | %7s %11s\n",
		l.typ, "Type", l.name, "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s")
	sep := l.separator()
	b.WriteString(sep + "\n")
	for _, e := range s.Entries {
		l.statsRow(&b, e, current)
	}
	b.WriteString(sep + "\n")
	l.statsRow(&b, s.Total, current)
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePercentiles writes s as Locust's "Response time percentiles
// (approximated)" table, in milliseconds (see msText).
func WritePercentiles(w io.Writer, s Snapshot) error {
	l := newLayout(s)
	var b strings.Builder
	b.WriteString("Response time percentiles (approximated)\n")
	fmt.Fprintf(&b, "%-*s %-*s", l.typ, "Type", l.name, "Name")
	sep := strings.Repeat("-", l.typ) + "|" + strings.Repeat("-", l.name)
	for i, p := range reportQuantiles {
		width := percentileWidth(i)
		fmt.Fprintf(&b, " %*s", width, p.label)
		sep += "|" + strings.Repeat("-", width)
	}
	fmt.Fprintf(&b, " %6s\n%s|------\n", "# reqs", sep)
	row := func(e EntryStats) {
		if e.NumRequests == 0 {
			return
		}
		fmt.Fprintf(&b, "%-*s %-*s", l.typ, e.Type, l.name, e.Name)
		for i, p := range reportQuantiles {
			fmt.Fprintf(&b, " %*s", percentileWidth(i), msText(e.Percentile(p.q)))
		}
		fmt.Fprintf(&b, " %6d\n", e.NumRequests)
	}
	for _, e := range s.Entries {
		row(e)
	}
	b.WriteString(sep + "|------\n")
	row(s.Total)
	_, err := io.WriteString(w, b.String())
	return err
}

// percentileWidth is the width of the i-th percentile column: Locust gives
// the first 8 characters and the others 6.
func percentileWidth(i int) int {
	if i == 0 {
		return 8
	}
	return 6
}

// WriteFailures writes s's failures as Locust's "Error report" table, most
// frequent first. It writes nothing if there were no failures.
func WriteFailures(w io.Writer, s Snapshot) error {
	if len(s.Failures) == 0 {
		return nil
	}
	l := newLayout(s)
	var b strings.Builder
	sep := strings.Repeat("-", 18) + "|" + strings.Repeat("-", max(len(l.separator())-19, 1))
	fmt.Fprintf(&b, "Error report\n%-18s %s\n%s\n", "# occurrences", "Error", sep)
	for _, f := range s.Failures {
		fmt.Fprintf(&b, "%-18d %s %s: %s\n", f.Occurrences, f.Type, f.Name, f.ErrorText())
	}
	b.WriteString(sep + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// layout holds the widths of a table's Type and Name columns: Locust's
// 8 and at least 24, widened for longer values.
type layout struct{ typ, name int }

func newLayout(s Snapshot) layout {
	l := layout{typ: 8, name: 24}
	for _, e := range rows(s) {
		l.typ = max(l.typ, utf8.RuneCountInString(e.Type)+1)
		l.name = max(l.name, utf8.RuneCountInString(e.Name))
	}
	return l
}

// separator returns the line between the header, the entries and the total
// of the console table.
func (l layout) separator() string {
	return strings.Repeat("-", l.typ) + "|" + strings.Repeat("-", l.name) +
		"|-------|-------------|-------|-------|-------|-------|--------|-----------"
}

// statsRow writes one row of the console table.
func (l layout) statsRow(b *strings.Builder, e EntryStats, current bool) {
	typ := e.Type
	if typ != "" {
		typ += " "
	}
	rps, fps := e.TotalRPS, e.TotalFailPerSec
	if current {
		rps, fps = e.CurrentRPS, e.CurrentFailPerSec
	}
	fails := fmt.Sprintf("%d(%.2f%%)", e.NumFailures, e.FailRatio()*100)
	fmt.Fprintf(b, "%-*s %-*s %7d %12s |%7s %7s %7s%7s | %7.2f %11.2f\n",
		l.typ, typ, l.name, e.Name, e.NumRequests, fails,
		msText(e.Avg), msText(e.Min), msText(e.Max), msText(e.Median), rps, fps)
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// msText formats d in milliseconds for the console tables. Locust prints
// whole milliseconds, which shows every loopback round trip as 0; ltk keeps
// two decimals below 10 ms and one below 100 ms, whole milliseconds above.
func msText(d time.Duration) string {
	switch v := ms(d); {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatInt(msRound(d), 10)
	}
}

// msRound returns d in whole milliseconds, rounded.
func msRound(d time.Duration) int64 { return int64(math.Round(ms(d))) }
