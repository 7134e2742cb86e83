package web

import (
	"math"
	"strings"
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
)

// maxRows caps the stats and errors in a report, as Locust does: a browser
// table with thousands of rows is unusable. The Aggregated row is kept.
const maxRows = 500

// requestsReport is GET /stats/requests, with the field names of Locust 2
// both current and 2.12-era, so clients of either read it. Times are in
// milliseconds; rates per second over the last 10 seconds.
type requestsReport struct {
	Stats           []entryJSON `json:"stats"` // entries, then the Aggregated row
	Errors          []errorJSON `json:"errors"`
	TotalRPS        float64     `json:"total_rps"`
	TotalFailPerSec float64     `json:"total_fail_per_sec"`
	FailRatio       float64     `json:"fail_ratio"` // over the whole test, 0 to 1
	// CurrentPercentiles has keys response_time_percentile_0.5 and _0.95.
	CurrentPercentiles map[string]float64 `json:"current_response_time_percentiles"`
	CurrentP50         float64            `json:"current_response_time_percentile_50"` // Locust 2.12's
	CurrentP95         float64            `json:"current_response_time_percentile_95"` // Locust 2.12's
	State              State              `json:"state"`
	UserCount          int                `json:"user_count"` // devices running
	WorkerCount        int                `json:"worker_count"`
	// Workers is nil for a local run (Config.Local): Locust's clients tell
	// a distributed run by the presence of the key.
	Workers *[]workerJSON `json:"workers,omitempty"`
}

// entryJSON is one row of stats[].
type entryJSON struct {
	Method            string  `json:"method"` // the entry's type, such as "echo"
	Name              string  `json:"name"`
	SafeName          string  `json:"safe_name"` // Locust's HTML-escaped name; ltk's UI never needs it escaped
	NumRequests       int64   `json:"num_requests"`
	NumFailures       int64   `json:"num_failures"`
	AvgResponseTime   float64 `json:"avg_response_time"`
	MinResponseTime   float64 `json:"min_response_time"`
	MaxResponseTime   float64 `json:"max_response_time"`
	CurrentRPS        float64 `json:"current_rps"`
	CurrentFailPerSec float64 `json:"current_fail_per_sec"`
	TotalRPS          float64 `json:"total_rps"`
	TotalFailPerSec   float64 `json:"total_fail_per_sec"`
	// MedianResponseTime is Locust's: a whole number of milliseconds,
	// rounded as Locust keeps response times (stats.LocustRound), unless
	// that falls outside [min, max]: then the min or max (see medianMS).
	MedianResponseTime float64 `json:"median_response_time"`
	P50                float64 `json:"response_time_percentile_0.5"` // ltk's: the median to 0.01 ms, which the UI shows
	P90                float64 `json:"ninetieth_response_time"`      // Locust 2.12's
	P99Old             float64 `json:"ninety_ninth_response_time"`   // Locust 2.12's
	P95                float64 `json:"response_time_percentile_0.95"`
	P99                float64 `json:"response_time_percentile_0.99"`
	AvgContentLength   float64 `json:"avg_content_length"`
}

// errorJSON is one row of errors[]: failures of one entry with one message.
// Examples is ltk's: a few of the devices that failed so.
type errorJSON struct {
	Method      string   `json:"method"`
	Name        string   `json:"name"`
	Error       string   `json:"error"`
	Occurrences int64    `json:"occurrences"`
	Examples    []string `json:"examples"`
}

// workerJSON is one row of workers[]: Locust's fields, then ltk's.
type workerJSON struct {
	ID            string  `json:"id"`
	State         State   `json:"state"`
	UserCount     int     `json:"user_count"`
	CPUUsage      float64 `json:"cpu_usage"`    // percent of one core
	MemoryUsage   uint64  `json:"memory_usage"` // bytes
	Ordinal       int     `json:"ordinal"`
	Host          string  `json:"host"`
	LastHeartbeat float64 `json:"last_heartbeat"` // Unix seconds; 0 if none yet
}

// exceptionJSON is one row of GET /exceptions.
type exceptionJSON struct {
	Count     int64  `json:"count"`
	Msg       string `json:"msg"`
	Traceback string `json:"traceback"`
	Nodes     string `json:"nodes"` // comma-separated, as Locust joins them
}

// buildReport turns a snapshot and the controller's view into the report;
// it lists the workers unless local.
func buildReport(snap stats.Snapshot, state State, running int, workers []WorkerInfo, local bool) requestsReport {
	p50, p95 := round2(ms(snap.Total.CurrentPercentile(0.5))), round2(ms(snap.Total.CurrentPercentile(0.95)))
	r := requestsReport{
		Stats:              make([]entryJSON, 0, min(len(snap.Entries), maxRows)+1),
		Errors:             make([]errorJSON, 0, min(len(snap.Failures), maxRows)),
		TotalRPS:           round2(snap.Total.CurrentRPS),
		TotalFailPerSec:    round2(snap.Total.CurrentFailPerSec),
		FailRatio:          snap.Total.FailRatio(),
		CurrentPercentiles: map[string]float64{"response_time_percentile_0.5": p50, "response_time_percentile_0.95": p95},
		CurrentP50:         p50,
		CurrentP95:         p95,
		State:              state,
		UserCount:          running,
		WorkerCount:        len(workers),
	}
	for _, e := range snap.Entries[:min(len(snap.Entries), maxRows)] {
		r.Stats = append(r.Stats, entryOf(e))
	}
	total := snap.Total
	total.Name = "Aggregated"
	r.Stats = append(r.Stats, entryOf(total))
	for _, f := range snap.Failures[:min(len(snap.Failures), maxRows)] {
		r.Errors = append(r.Errors, errorJSON{Method: f.Type, Name: f.Name, Error: f.Message, Occurrences: f.Occurrences,
			Examples: nonNil(f.Examples)})
	}
	if !local {
		ws := make([]workerJSON, 0, len(workers))
		for _, w := range workers {
			ws = append(ws, workerOf(w))
		}
		r.Workers = &ws
	}
	return r
}

func entryOf(e stats.EntryStats) entryJSON {
	return entryJSON{
		Method:             e.Type,
		Name:               e.Name,
		SafeName:           e.Name,
		NumRequests:        e.NumRequests,
		NumFailures:        e.NumFailures,
		AvgResponseTime:    round2(ms(e.Avg)),
		MinResponseTime:    round2(ms(e.Min)),
		MaxResponseTime:    round2(ms(e.Max)),
		MedianResponseTime: medianMS(e),
		P50:                round2(ms(e.Median)),
		CurrentRPS:         round2(e.CurrentRPS),
		CurrentFailPerSec:  round2(e.CurrentFailPerSec),
		TotalRPS:           round2(e.TotalRPS),
		TotalFailPerSec:    round2(e.TotalFailPerSec),
		P90:                round2(ms(e.Percentile(0.9))),
		P99Old:             round2(ms(e.Percentile(0.99))),
		P95:                round2(ms(e.Percentile(0.95))),
		P99:                round2(ms(e.Percentile(0.99))),
		AvgContentLength:   round2(e.AvgContentLength),
	}
}

// medianMS is e's median as Locust's median_response_time: rounded as
// Locust keeps response times (a whole number of milliseconds, to 10 ms
// from 100 ms, ...), unless that falls outside [min, max], where Locust
// gives the min or max instead.
func medianMS(e stats.EntryStats) float64 {
	if e.NumRequests == 0 {
		return 0
	}
	lo, hi := round2(ms(e.Min)), round2(ms(e.Max))
	return min(max(stats.LocustRound(ms(e.Median)), lo), hi)
}

func workerOf(w WorkerInfo) workerJSON {
	j := workerJSON{
		ID:          w.ID,
		State:       w.State,
		UserCount:   w.Devices,
		CPUUsage:    round2(finiteCPU(w.CPUPercent)),
		MemoryUsage: w.MemoryBytes,
		Ordinal:     w.Ordinal,
		Host:        w.Host,
	}
	if !w.LastHeartbeat.IsZero() {
		j.LastHeartbeat = unixSeconds(w.LastHeartbeat)
	}
	return j
}

func exceptionsOf(xs []Exception) []exceptionJSON {
	out := make([]exceptionJSON, 0, len(xs))
	for _, x := range xs {
		out = append(out, exceptionJSON{Count: x.Count, Msg: x.Message, Traceback: x.Traceback, Nodes: strings.Join(x.Nodes, ", ")})
	}
	return out
}

// maxCPU bounds a worker's CPU figure, in % of one core (10,000 cores busy).
const maxCPU = 1e6

// finiteCPU keeps a worker's CPU figure one JSON can carry: a worker may
// send anything, and NaN or ±Inf would fail the whole report.
func finiteCPU(p float64) float64 {
	if math.IsNaN(p) || p < 0 {
		return 0
	}
	return min(p, maxCPU)
}

// sample is what one tick (or one request) reads from the Controller.
type sample struct {
	snap     stats.Snapshot
	state    State
	running  int
	capacity int
	workers  []WorkerInfo
}

// takeSample reads everything a report needs from c at now.
func takeSample(c Controller, now time.Time) sample {
	return sample{
		snap:     c.Snapshot(now),
		state:    c.State(),
		running:  c.Running(),
		capacity: c.Capacity(),
		workers:  c.Workers(),
	}
}

func (s sample) report(local bool) requestsReport {
	return buildReport(s.snap, s.state, s.running, s.workers, local)
}

// nonNil returns s, or an empty slice for nil, so that JSON has [] not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
