package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
)

// summaryQuantiles are the percentiles of the summary: 50 to 99.9, then the max.
var summaryQuantiles = []struct {
	q     float64
	label string
}{
	{0.50, "50%"}, {0.66, "66%"}, {0.75, "75%"}, {0.80, "80%"}, {0.90, "90%"},
	{0.95, "95%"}, {0.98, "98%"}, {0.99, "99%"}, {0.999, "99.9%"}, {1, "max"},
}

// WriteSummary writes harvest's summary.txt: the window and its runs,
// devices, throughput, every entry's totals and percentiles, the echo app's
// execution times and the failures by type. Times are in milliseconds.
func WriteSummary(w io.Writer, d *Data) error {
	var b strings.Builder
	dur := d.Duration()
	fmt.Fprintf(&b, "ltk results from %s to %s\n", d.Start.Format(time.RFC3339), d.End.Format(time.RFC3339))
	fmt.Fprintf(&b, "Covered by runs: %v\n", dur)
	for _, r := range d.Runs {
		fmt.Fprintf(&b, "  run %s\n", runLine(r))
	}

	peak, devSecs := d.DeviceStats()
	avg := 0.0
	if dur > 0 {
		avg = float64(devSecs) / dur.Seconds()
	}
	fmt.Fprintf(&b, "\nDevices: peak %d, average %.1f, %.2f device-hours\n", peak, avg, float64(devSecs)/3600)

	total := d.Total()
	fmt.Fprintf(&b, "Requests: %d, failures: %d (%.2f%%)\n", total.Requests, total.Failures, pct(total.Failures, total.Requests))
	if s := dur.Seconds(); s > 0 {
		fmt.Fprintf(&b, "Throughput: %.2f requests/s, %.2f failures/s\n", float64(total.Requests)/s, float64(total.Failures)/s)
	}

	b.WriteString("\nResponse times (ms)\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "Type\tName\t# reqs\t# fails\treq/s\tAvg\tMin\t"
	for _, q := range summaryQuantiles {
		head += q.label + "\t"
	}
	fmt.Fprintln(tw, head)
	entries := d.Entries()
	if len(entries) > 0 {
		entries = append(entries, total)
	}
	for _, e := range entries {
		row(tw, e.Type, e.Name, e.Requests, e.Failures, &e.Total, dur)
	}
	if len(entries) == 0 {
		fmt.Fprintln(tw, "(none)\t\t\t\t\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	b.WriteString("\nFunction execution times (ms): the echo app's, event received to echo published\n")
	if ex := d.ExecTotal(); ex.Count > 0 {
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, head)
		row(tw, FunctionEntry[0], FunctionEntry[1], ex.Count, 0, &ex, dur)
		if err := tw.Flush(); err != nil {
			return err
		}
	} else {
		b.WriteString("  none recorded (the target was not ltk's, or use --target URL to fetch them from a remote ltk target)\n")
	}

	b.WriteString("\nFailures by type\n")
	fails := d.FailureTotals()
	if len(fails) == 0 {
		b.WriteString("  none\n")
	}
	for _, f := range fails {
		fmt.Fprintf(&b, "  %8d  %s %s: %s\n", f.Count, f.Type, f.Name, f.ErrorText())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// row writes a row of reqs requests, fails failures among them, whose
// response times t holds (the untimed failures are in none).
func row(tw io.Writer, typ, name string, reqs, fails int64, t *hist.Total, dur time.Duration) {
	rps := 0.0
	if s := dur.Seconds(); s > 0 {
		rps = float64(reqs) / s
	}
	line := fmt.Sprintf("%s\t%s\t%d\t%d\t%.2f\t%s\t%s\t", typ, name, reqs, fails, rps, ms(t.Mean()), ms(t.Min))
	for _, q := range summaryQuantiles {
		line += ms(t.Quantile(q.q)) + "\t"
	}
	fmt.Fprintln(tw, line)
}

// runLine describes a run for the summary.
func runLine(r RunInfo) string {
	end := "did not end, last sample " + r.Last.Format(time.RFC3339)
	if !r.Stop.IsZero() {
		end = "to " + r.Stop.Truncate(time.Second).Format(time.RFC3339)
	}
	s := fmt.Sprintf("%d %q: %s %s, %d devices at %g/s, %d node(s)", r.ID, r.Name,
		r.Start.Truncate(time.Second).Format(time.RFC3339), end, r.Devices, r.SpawnRate, r.Nodes)
	if r.Target != "" {
		s += ", target " + r.Target
	}
	if name := r.ScenarioName(); name != "" {
		s += ", scenario " + name
	}
	if r.Dropped > 0 {
		s += fmt.Sprintf(", %d stats reports dropped (the store fell behind)", r.Dropped)
	}
	return s
}

func pct(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}
