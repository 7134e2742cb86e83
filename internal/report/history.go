package report

import (
	"cmp"
	"encoding/csv"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
)

// locustQuantiles are the percentiles Locust's CSV files report.
var locustQuantiles = []float64{0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1}

// historyHeader is the header of Locust's _stats_history.csv.
var historyHeader = []string{
	"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s",
	"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
	"Total Request Count", "Total Failure Count", "Total Median Response Time", "Total Average Response Time",
	"Total Min Response Time", "Total Max Response Time", "Total Average Content Size",
}

// currentWindow is how many seconds the current rates and percentiles cover, as in Locust.
const currentWindow = 10

// WriteStatsHistoryCSV writes d as Locust's _stats_history.csv with
// --csv-full-history: for every second of the data, a row per entry that
// has had a request, then the Aggregated row (Type ""). The row stamped T
// (Unix seconds) covers what was recorded before T: Requests/s, Failures/s
// and the percentiles are over the 10 seconds before T (fewer at the
// start; the data is complete, so unlike Locust's live file there is no
// 2-second lag), the Total columns over everything since the first second.
// Times are in milliseconds, rounded as in _stats.csv; User Count is the
// devices running.
func WriteStatsHistoryCSV(w io.Writer, d *Data) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(historyHeader); err != nil {
		return err
	}
	lo, hi, ok := d.Span()
	if !ok {
		cw.Flush()
		return cw.Error()
	}
	devices := d.devicesFunc()
	byKey := map[[2]string]*history{}
	all := newHistory("", "Aggregated")
	var order []*history
	next := 0
	rec := make([]string, 0, len(historyHeader))
	for s := lo; s < hi; s++ {
		for _, h := range order {
			h.open(s)
		}
		all.open(s)
		for ; next < len(d.Samples) && d.Samples[next].Unix <= s; next++ {
			sm := &d.Samples[next]
			if sm.Unix < s {
				continue
			}
			k := [2]string{sm.Type, sm.Name}
			h, ok := byKey[k]
			if !ok {
				h = newHistory(sm.Type, sm.Name)
				h.open(s)
				byKey[k] = h
				order = append(order, h)
				slices.SortFunc(order, func(a, b *history) int { return cmp.Or(cmp.Compare(a.typ, b.typ), cmp.Compare(a.name, b.name)) })
			}
			h.add(sm)
			all.add(sm)
		}
		users := strconv.Itoa(devices(s))
		span := min(currentWindow, s+1-lo)
		for _, h := range append(order, all) {
			if h.total.Count == 0 {
				continue
			}
			rec = h.record(rec[:0], s+1, users, span)
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// history follows one entry (or all of them) second by second.
type history struct {
	typ, name string
	total     EntryTotal             // since the first second
	ring      [currentWindow]*second // the last seconds, by unix % currentWindow
	window    hist.Total             // the sum of ring
	qs        []time.Duration
}

// second is one second's sum of samples.
type second struct {
	unix     int64
	failures int64
	hist.Total
}

func newHistory(typ, name string) *history {
	h := &history{typ: typ, name: name, qs: make([]time.Duration, len(locustQuantiles))}
	h.window.Counts = make([]int64, hist.Len)
	for i := range h.ring {
		h.ring[i] = &second{unix: math.MinInt64}
	}
	return h
}

// open starts second s: the second it replaces in the ring leaves the window.
func (h *history) open(s int64) {
	old := h.ring[s%currentWindow]
	if old.unix == s {
		return
	}
	for i, c := range old.Counts {
		h.window.Counts[i] -= c
	}
	h.window.Count -= old.Count
	*old = second{unix: s, Total: hist.Total{Counts: old.Counts[:0]}}
	if old.Counts != nil {
		old.Counts = old.Counts[:hist.Len]
		clear(old.Counts)
	}
}

// add adds a sample of the open second.
func (h *history) add(sm *Sample) {
	h.total.add(sm)
	sec := h.ring[sm.Unix%currentWindow]
	sec.failures += sm.Failures
	sec.Add(&sm.Second)
	for i, c := range sm.Counts {
		h.window.Counts[i] += c
	}
	h.window.Count += sm.Count
}

// record appends the row stamped ts to rec.
func (h *history) record(rec []string, ts int64, users string, span int64) []string {
	var reqs, fails int64
	first := true
	for _, sec := range h.ring {
		if sec.unix <= ts-1-currentWindow || sec.Count == 0 {
			continue
		}
		reqs += sec.Count
		fails += sec.failures
		if first || sec.Min < h.window.Min {
			h.window.Min = sec.Min
		}
		if first || sec.Max > h.window.Max {
			h.window.Max = sec.Max
		}
		first = false
	}
	rec = append(rec, strconv.FormatInt(ts, 10), users, h.typ, h.name,
		strconv.FormatFloat(float64(reqs)/float64(span), 'f', 6, 64),
		strconv.FormatFloat(float64(fails)/float64(span), 'f', 6, 64))
	h.window.Quantiles(locustQuantiles, h.qs)
	for _, q := range h.qs {
		rec = append(rec, strconv.FormatInt(msRound(q), 10))
	}
	t := &h.total
	rec = append(rec, strconv.FormatInt(t.Count, 10), strconv.FormatInt(t.Failures, 10),
		strconv.FormatInt(msRound(t.Quantile(0.5)), 10), pyFloat(msFloat(t.Mean())),
		pyFloat(msFloat(t.Min)), pyFloat(msFloat(t.Max)), pyFloat(float64(t.Bytes)/float64(t.Count)))
	return rec
}

func msFloat(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msRound(d time.Duration) int64 { return int64(math.Round(msFloat(d))) }

// pyFloat formats x as Python's str(float) does for everyday magnitudes, as
// Locust's CSV files show floats: the shortest exact decimal, ".0" on whole numbers.
func pyFloat(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".NI") {
		s += ".0"
	}
	return s
}

// An Exception is a row of Locust's _exceptions.csv: an error ltk itself
// hit (not a request failure), how often, and on which nodes.
type Exception struct {
	Count     int64
	Message   string
	Traceback string
	Nodes     []string
}

// WriteExceptionsCSV writes Locust's _exceptions.csv (Count, Message,
// Traceback, Nodes; nodes joined with ", "). ltk's devices report failures,
// not exceptions, so it is often only the header.
func WriteExceptionsCSV(w io.Writer, exceptions []Exception) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"Count", "Message", "Traceback", "Nodes"}); err != nil {
		return err
	}
	for _, e := range exceptions {
		if err := cw.Write([]string{strconv.FormatInt(e.Count, 10), e.Message, e.Traceback, strings.Join(e.Nodes, ", ")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
