package web

import (
	"math"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
)

// A Point is one sample of the test for the charts, taken every
// Config.Interval. Response times are in milliseconds, over the last 10
// seconds (Locust's "current" percentiles); rates are Locust's current rates.
type Point struct {
	Time       time.Time
	Devices    int     // devices running
	RPS        float64 // requests per second, all entries
	FailPerSec float64 // failures per second, all entries
	P50, P95   float64 // response time percentiles, ms; 0 with no recent requests
}

// pointOf samples snap, with devices running, at snap.Now.
func pointOf(snap stats.Snapshot, devices int) Point {
	return Point{
		Time:       snap.Now,
		Devices:    devices,
		RPS:        snap.Total.CurrentRPS,
		FailPerSec: snap.Total.CurrentFailPerSec,
		P50:        ms(snap.Total.CurrentPercentile(0.5)),
		P95:        ms(snap.Total.CurrentPercentile(0.95)),
	}
}

// ms converts d to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// history is a bounded ring of Points, oldest first. It is safe for
// concurrent use.
type history struct {
	mu   sync.Mutex // Guards the fields below.
	buf  []Point    // len(buf) == capacity once full
	next int        // where the next point goes once full
	cap  int
	gen  int // how many times the history was reset
}

func newHistory(capacity int) *history {
	return &history{cap: capacity, buf: make([]Point, 0, min(capacity, 1024))}
}

// add appends p, dropping the oldest point when the ring is full.
func (h *history) add(p Point) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.buf) < h.cap {
		h.buf = append(h.buf, p)
		return
	}
	h.buf[h.next] = p
	h.next = (h.next + 1) % h.cap
}

// reset forgets every point, as a new test starts.
func (h *history) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf = h.buf[:0]
	h.next = 0
	h.gen++
}

// generation returns how many times the history was reset: a browser that
// sees it change fetches the history again instead of appending to a stale one.
func (h *history) generation() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gen
}

// points returns a copy of the points, oldest first.
func (h *history) points() []Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Point, 0, len(h.buf))
	out = append(out, h.buf[h.next:]...)
	return append(out, h.buf[:h.next]...)
}

// historyJSON is /api/history: one array per series, index-aligned, as
// charting libraries take them. time is in Unix seconds (fractional);
// response times in ms.
type historyJSON struct {
	Time       []float64 `json:"time"`
	UserCount  []int     `json:"user_count"`
	RPS        []float64 `json:"current_rps"`
	FailPerSec []float64 `json:"current_fail_per_sec"`
	P50        []float64 `json:"response_time_percentile_0.5"`
	P95        []float64 `json:"response_time_percentile_0.95"`
}

func columns(pts []Point) historyJSON {
	h := historyJSON{
		Time:       make([]float64, len(pts)),
		UserCount:  make([]int, len(pts)),
		RPS:        make([]float64, len(pts)),
		FailPerSec: make([]float64, len(pts)),
		P50:        make([]float64, len(pts)),
		P95:        make([]float64, len(pts)),
	}
	for i, p := range pts {
		h.Time[i] = unixSeconds(p.Time)
		h.UserCount[i] = p.Devices
		h.RPS[i] = round2(p.RPS)
		h.FailPerSec[i] = round2(p.FailPerSec)
		h.P50[i] = round2(p.P50)
		h.P95[i] = round2(p.P95)
	}
	return h
}

// pointJSON is one Point as the event stream sends it, with the field names
// of historyJSON.
type pointJSON struct {
	Time       float64 `json:"time"`
	UserCount  int     `json:"user_count"`
	RPS        float64 `json:"current_rps"`
	FailPerSec float64 `json:"current_fail_per_sec"`
	P50        float64 `json:"response_time_percentile_0.5"`
	P95        float64 `json:"response_time_percentile_0.95"`
}

func (p Point) json() pointJSON {
	return pointJSON{unixSeconds(p.Time), p.Devices, round2(p.RPS), round2(p.FailPerSec), round2(p.P50), round2(p.P95)}
}

func unixSeconds(t time.Time) float64 { return math.Round(float64(t.UnixMilli())) / 1000 }

// round2 rounds x to two decimals, which is all a chart or table shows.
func round2(x float64) float64 { return math.Round(x*100) / 100 }
