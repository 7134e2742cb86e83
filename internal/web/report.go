package web

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/ltk-dev/ltk/internal/chart"
	"github.com/ltk-dev/ltk/internal/stats"
)

//go:embed report.html.tmpl
var reportSource string

var reportTemplate = template.Must(template.New("report").
	Funcs(template.FuncMap{"bytes": humanBytes}).
	Parse(reportSource))

// reportQuantiles are the percentile columns of the report, as Locust's.
var reportQuantiles = []struct {
	q     float64
	label string
}{
	{0.50, "50%"}, {0.66, "66%"}, {0.75, "75%"}, {0.80, "80%"}, {0.90, "90%"}, {0.95, "95%"},
	{0.98, "98%"}, {0.99, "99%"}, {0.999, "99.9%"}, {0.9999, "99.99%"}, {1, "100%"},
}

// reportData is what report.html.tmpl renders.
type reportData struct {
	Version, Generated, Start, End, Duration string
	State                                    State
	Devices, Capacity                        int
	Rows                                     []reportRow // entries, then Aggregated
	QuantileLabels                           []string
	Failures                                 []stats.FailureStats
	Exceptions                               []exceptionJSON
	Workers                                  []WorkerInfo
	Charts                                   []template.HTML
	DownloadLink                             bool
}

// reportRow is one entry with its numbers already formatted.
type reportRow struct {
	Type, Name, Requests, Failures, Median, Avg, Min, Max, Size, RPS, FailPerSec string
	Quantiles                                                                    []string
	Total                                                                        bool // the Aggregated row
}

// handleReport is GET /stats/report, the live report: a self-contained
// HTML page (no scripts, no external files; charts are inline SVG) of the
// test so far, from the Controller's live statistics. (The finished run's
// report, from the results store, is report.WriteHTML.) With ?download=1 it
// is served as an attachment, as Locust does.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	smp := takeSample(s.c, now)
	download := r.URL.Query().Get("download") != ""
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, s.reportData(smp, now, !download)); err != nil {
		writeFailure(w, http.StatusInternalServerError, fmt.Sprintf("render report: %v", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if download {
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=report_%d.html", now.Unix()))
	}
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) reportData(smp sample, now time.Time, link bool) reportData {
	snap := smp.snap
	d := reportData{
		Version:      s.cfg.Version,
		Generated:    now.Format(time.RFC1123),
		Start:        snap.Start.Format(time.RFC1123),
		End:          now.Format(time.RFC1123),
		Duration:     now.Sub(snap.Start).Round(time.Second).String(),
		State:        smp.state,
		Devices:      smp.running,
		Capacity:     smp.capacity,
		Failures:     snap.Failures,
		Exceptions:   exceptionsOf(s.c.Exceptions()),
		Workers:      smp.workers,
		DownloadLink: link,
	}
	for _, q := range reportQuantiles {
		d.QuantileLabels = append(d.QuantileLabels, q.label)
	}
	total := snap.Total
	total.Name = "Aggregated"
	for _, e := range snap.Entries {
		d.Rows = append(d.Rows, rowOf(e))
	}
	agg := rowOf(total)
	agg.Total = true
	d.Rows = append(d.Rows, agg)
	pts := s.hist.points()
	ts := make([]time.Time, len(pts))
	var rps, fails, p50, p95, devices []float64
	for i, p := range pts {
		ts[i] = p.Time
		rps = append(rps, p.RPS)
		fails = append(fails, p.FailPerSec)
		p50 = append(p50, p.P50)
		p95 = append(p95, p.P95)
		devices = append(devices, float64(p.Devices))
	}
	d.Charts = []template.HTML{
		chart.Line("Total requests per second", "per second", ts,
			chart.Series{Name: "RPS", Color: chart.Green, Values: rps}, chart.Series{Name: "Failures/s", Color: chart.Red, Values: fails}),
		chart.Line("Response times", "ms", ts,
			chart.Series{Name: "Median", Color: chart.Blue, Values: p50}, chart.Series{Name: "95th percentile", Color: chart.Purple, Values: p95}),
		chart.Line("Devices running", "devices", ts, chart.Series{Name: "Devices", Color: chart.Cyan, Values: devices}),
	}
	return d
}

func rowOf(e stats.EntryStats) reportRow {
	r := reportRow{
		Type:       e.Type,
		Name:       e.Name,
		Requests:   strconv.FormatInt(e.NumRequests, 10),
		Failures:   strconv.FormatInt(e.NumFailures, 10),
		Median:     msText(e.Median),
		Avg:        msText(e.Avg),
		Min:        msText(e.Min),
		Max:        msText(e.Max),
		Size:       strconv.FormatFloat(e.AvgContentLength, 'f', 0, 64),
		RPS:        strconv.FormatFloat(e.TotalRPS, 'f', 2, 64),
		FailPerSec: strconv.FormatFloat(e.TotalFailPerSec, 'f', 2, 64),
	}
	for _, q := range reportQuantiles {
		if e.NumRequests == 0 {
			r.Quantiles = append(r.Quantiles, "N/A")
		} else {
			r.Quantiles = append(r.Quantiles, msText(e.Percentile(q.q)))
		}
	}
	return r
}

// msText prints a time in milliseconds: two decimals below 10 ms, where
// round trips on a LAN live, whole milliseconds above.
func msText(d time.Duration) string {
	v := ms(d)
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// humanBytes prints a byte count in binary units, for the workers table.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
