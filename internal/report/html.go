package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"time"

	"github.com/ltk-dev/ltk/internal/chart"
	"github.com/ltk-dev/ltk/internal/hist"
)

// htmlRow is one line of the report's tables.
type htmlRow struct {
	Type, Name                              string
	Requests, Failures                      int64
	RPS                                     string
	Avg, Min, Max, P50, P90, P95, P99, P999 string
}

type htmlView struct {
	Start, End, Duration string
	Runs                 []string
	Devices              string
	Requests, Failures   int64
	Throughput           string
	Rows                 []htmlRow
	Exec                 []htmlRow
	Failed               []FailureTotal
	Series               []template.HTML
	Dists                []template.HTML
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ltk report {{.Start}} – {{.End}}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}th{background:#f5f5f5}
.muted{color:#777}svg.chart{display:block;width:100%;height:auto;margin:8px 0}
</style></head><body>
<h1>ltk report</h1>
<p>{{.Start}} to {{.End}}, {{.Duration}} covered by runs. {{.Devices}}<br>
{{.Requests}} requests, {{.Failures}} failures, {{.Throughput}}.</p>
{{range .Runs}}<div class="muted">run {{.}}</div>{{end}}
<h2>Response times (ms)</h2>
<table><tr><th>Type</th><th>Name</th><th># reqs</th><th># fails</th><th>req/s</th><th>Avg</th><th>Min</th><th>50%</th><th>90%</th><th>95%</th><th>99%</th><th>99.9%</th><th>Max</th></tr>
{{range .Rows}}<tr><td>{{.Type}}</td><td>{{.Name}}</td><td>{{.Requests}}</td><td>{{.Failures}}</td><td>{{.RPS}}</td><td>{{.Avg}}</td><td>{{.Min}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P95}}</td><td>{{.P99}}</td><td>{{.P999}}</td><td>{{.Max}}</td></tr>
{{end}}</table>
<h2>Function execution times (ms)</h2>
{{if .Exec}}<table><tr><th>Type</th><th>Name</th><th>count</th><th></th><th>per s</th><th>Avg</th><th>Min</th><th>50%</th><th>90%</th><th>95%</th><th>99%</th><th>99.9%</th><th>Max</th></tr>
{{range .Exec}}<tr><td>{{.Type}}</td><td>{{.Name}}</td><td>{{.Requests}}</td><td></td><td>{{.RPS}}</td><td>{{.Avg}}</td><td>{{.Min}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P95}}</td><td>{{.P99}}</td><td>{{.P999}}</td><td>{{.Max}}</td></tr>
{{end}}</table>{{else}}<p class="muted">None recorded: the target was not ltk's (harvest --target URL fetches them from a remote ltk target).</p>{{end}}
<h2>Over time</h2>
{{range .Series}}{{.}}{{end}}
<h2>Distributions</h2>
{{range .Dists}}{{.}}{{end}}
<h2>Failures</h2>
{{if .Failed}}<table><tr><th>Type</th><th>Name</th><th>Message</th><th>Occurrences</th></tr>
{{range .Failed}}<tr><td>{{.Type}}</td><td>{{.Name}}</td><td style="text-align:left">{{.ErrorText}}</td><td>{{.Count}}</td></tr>
{{end}}</table>{{else}}<p class="muted">None.</p>{{end}}
<p class="muted">Written by ltk. Percentiles are within 1% of the exact values; min, max and averages are exact.</p>
</body></html>
`))

// WriteHTML writes d as one self-contained HTML page (inline SVG charts, no
// scripts, nothing fetched): totals and percentiles per entry, the echo
// app's execution times, requests/s, response-time percentiles and devices
// over time, the distributions as histograms, and the failures.
func WriteHTML(w io.Writer, d *Data) error {
	dur := d.Duration()
	v := htmlView{
		Start: d.Start.Format(time.RFC3339), End: d.End.Format(time.RFC3339), Duration: dur.String(),
		Failed: d.FailureTotals(),
	}
	for _, r := range d.Runs {
		v.Runs = append(v.Runs, runLine(r))
	}
	peak, devSecs := d.DeviceStats()
	v.Devices = fmt.Sprintf("Devices: peak %d, %.2f device-hours.", peak, float64(devSecs)/3600)
	total := d.Total()
	v.Requests, v.Failures = total.Requests, total.Failures
	v.Throughput = "no throughput (no time covered)"
	if s := dur.Seconds(); s > 0 {
		v.Throughput = fmt.Sprintf("%.2f requests/s", float64(total.Requests)/s)
	}
	entries := d.Entries()
	for _, e := range entries {
		v.Rows = append(v.Rows, newHTMLRow(e.Type, e.Name, e.Requests, e.Failures, &e.Total, dur))
	}
	if len(entries) > 0 {
		v.Rows = append(v.Rows, newHTMLRow("", "Aggregated", total.Requests, total.Failures, &total.Total, dur))
	}
	ex := d.ExecTotal()
	if ex.Count > 0 {
		v.Exec = []htmlRow{newHTMLRow(FunctionEntry[0], FunctionEntry[1], ex.Count, 0, &ex, dur)}
	}
	v.Series = timeSeries(d)
	for _, n := range append(driverTotals(d), functionTotals(d)...) {
		v.Dists = append(v.Dists, distChart(n))
	}
	return page.Execute(w, v)
}

// newHTMLRow is a row of reqs requests, fails failures among them, whose
// response times t holds (the untimed failures are in none).
func newHTMLRow(typ, name string, reqs, fails int64, t *hist.Total, dur time.Duration) htmlRow {
	r := htmlRow{Type: typ, Name: name, Requests: reqs, Failures: fails,
		Avg: ms(t.Mean()), Min: ms(t.Min), Max: ms(t.Max),
		P50: ms(t.Quantile(0.5)), P90: ms(t.Quantile(0.9)), P95: ms(t.Quantile(0.95)),
		P99: ms(t.Quantile(0.99)), P999: ms(t.Quantile(0.999))}
	if s := dur.Seconds(); s > 0 {
		r.RPS = fmt.Sprintf("%.2f", float64(reqs)/s)
	}
	return r
}

// distChart draws one total's distribution up to its 99.9th percentile,
// the rest in an overflow bar.
func distChart(n Named) template.HTML {
	limit := n.Quantile(0.999)
	if limit <= 0 {
		limit = max(n.Max, time.Millisecond)
	}
	width := autoBucket(limit)
	counts := Distribution(n.Counts, width)
	keep := min(len(counts), int(limit/width)+1)
	var overflow int64
	for _, c := range counts[keep:] {
		overflow += c
	}
	bars := make([]chart.Bar, 0, keep+1)
	edges := make([]string, 0, keep+2)
	for i, c := range counts[:keep] {
		lo, hi := msEdge(time.Duration(i)*width), msEdge(time.Duration(i+1)*width)
		bars = append(bars, chart.Bar{Label: lo + "–" + hi + " ms", Count: c})
		edges = append(edges, lo)
	}
	edges = append(edges, msEdge(time.Duration(keep)*width))
	if overflow > 0 {
		bars = append(bars, chart.Bar{Label: "≥ " + edges[keep] + " ms", Count: overflow, Color: chart.Red})
		edges = append(edges, "")
	}
	return chart.Bars(fmt.Sprintf("%s %s: %d values", n.Type, n.Name, n.Count),
		fmt.Sprintf("ms (bucket %s ms)", msEdge(width)), bars, edges)
}

// autoBucket picks a bucket width of 1, 2 or 5 times a power of ten that
// spreads values up to limit over at most 60 bars.
func autoBucket(limit time.Duration) time.Duration {
	w := time.Duration(chart.NiceStep(float64(limit) / 60))
	return max(w, time.Microsecond)
}

// maxLinePoints is how many points a line chart shows at most: longer runs
// are drawn with seconds grouped.
const maxLinePoints = 1200

// timeSeries draws requests/s, response-time percentiles, devices and, if
// recorded, execution times over the covered seconds, grouping seconds when
// there are more than the charts can show.
func timeSeries(d *Data) []template.HTML {
	lo, hi, ok := d.Span()
	if !ok {
		return nil
	}
	step := max(1, (hi-lo+maxLinePoints-1)/maxLinePoints)
	n := int((hi - lo + step - 1) / step)
	xs := make([]time.Time, n)
	rps, fps := make([]float64, n), make([]float64, n)
	p50, p95, p99 := nanSlice(n), nanSlice(n), nanSlice(n)
	e50, e99 := nanSlice(n), nanSlice(n)
	devs := make([]float64, n)
	at := d.devicesFunc()
	next, nextExec := 0, 0
	qs := []float64{0.5, 0.95, 0.99}
	out := make([]time.Duration, 3)
	for g := range n {
		from := lo + int64(g)*step
		to := min(from+step, hi)
		xs[g] = time.Unix(from, 0).UTC()
		var t, ex hist.Total
		var reqs, fails int64
		for ; next < len(d.Samples) && d.Samples[next].Unix < to; next++ {
			if s := &d.Samples[next]; s.Unix >= from {
				t.Add(&s.Second)
				reqs += s.Requests
				fails += s.Failures
			}
		}
		for ; nextExec < len(d.Exec) && d.Exec[nextExec].Unix < to; nextExec++ {
			if s := &d.Exec[nextExec]; s.Unix >= from {
				ex.Add(s)
			}
		}
		secs := float64(to - from)
		rps[g], fps[g] = float64(reqs)/secs, float64(fails)/secs
		if t.Count > 0 {
			t.Quantiles(qs, out)
			p50[g], p95[g], p99[g] = msFloat(out[0]), msFloat(out[1]), msFloat(out[2])
		}
		if ex.Count > 0 {
			e50[g], e99[g] = msFloat(ex.Quantile(0.5)), msFloat(ex.Quantile(0.99))
		}
		devs[g] = float64(at(from))
	}
	line := func(name, color string, ys []float64) chart.Series {
		return chart.Series{Name: name, Color: color, Values: ys}
	}
	charts := []template.HTML{
		chart.Line("Requests per second", "per second", xs, line("requests/s", chart.Blue, rps), line("failures/s", chart.Red, fps)),
		chart.Line("Response time percentiles (all entries)", "ms", xs,
			line("50%", chart.Blue, p50), line("95%", chart.Green, p95), line("99%", chart.Red, p99)),
		chart.Line("Devices", "devices", xs, line("running", chart.Blue, devs)),
	}
	if len(d.Exec) > 0 {
		charts = append(charts, chart.Line("Function execution time", "ms", xs, line("50%", chart.Blue, e50), line("99%", chart.Red, e99)))
	}
	return charts
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}
