package report

import (
	"cmp"
	"io"
	"math"
	"slices"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// currentWindow is how many seconds the current rates and percentiles cover, as in Locust.
const currentWindow = 10

// WriteStatsHistoryCSV writes d as Locust's _stats_history.csv: for every
// second of the data, the Aggregated row (Type ""), after, with full (as
// with Locust's --csv-full-history), a row per entry that has had a
// request. The row stamped T (Unix seconds) covers what was recorded
// before T: Requests/s and Failures/s are over the 10 seconds before T
// (fewer at the start; the data is complete, so unlike Locust's live file
// there is no 2-second lag), the Total columns over everything since the
// first second. The percentiles are, as Locust writes them, those since
// the first second without full and those of the 10 seconds before T with
// it. Times are in milliseconds, formatted as in _stats.csv; User Count is
// the devices running.
func WriteStatsHistoryCSV(w io.Writer, d *Data, full bool) error {
	hw := stats.NewHistoryWriter(w)
	lo, hi, ok := d.Span()
	if !ok {
		return hw.Flush()
	}
	devices := d.devicesFunc()
	byKey := map[[2]string]*history{}
	all := newHistory("", "Aggregated")
	var order []*history
	next := 0
	var row stats.HistoryRow
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
		users := devices(s)
		span := min(currentWindow, s+1-lo)
		rows := []*history{all}
		if full {
			rows = append(order, all)
		}
		for _, h := range rows {
			if h.total.Count == 0 {
				continue
			}
			h.row(&row, s+1, users, span, full)
			if err := hw.Write(&row); err != nil {
				return err
			}
		}
	}
	return hw.Flush()
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
	h := &history{typ: typ, name: name, qs: make([]time.Duration, len(stats.CSVQuantiles))}
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

// row fills r with the row stamped ts, its percentiles those of the window
// if current, else those since the first second.
func (h *history) row(r *stats.HistoryRow, ts int64, users int, span int64, current bool) {
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
	if current {
		h.window.Quantiles(stats.CSVQuantiles, h.qs)
	} else {
		h.total.Quantiles(stats.CSVQuantiles, h.qs)
	}
	*r = stats.HistoryRow{
		Timestamp: ts, Users: users, Type: h.typ, Name: h.name,
		RPS: float64(reqs) / float64(span), FailPerSec: float64(fails) / float64(span),
		Percentiles: h.qs,
		Total:       h.total.totalsRow(),
	}
}

func msFloat(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
