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
	b := newHistoryBuilder(full, lo)
	if err := b.seconds(d, lo, hi, hw); err != nil {
		return err
	}
	return hw.Flush()
}

// historyBuilder follows a run's entries second by second, as the rows of
// _stats_history.csv need them: WriteStatsHistoryCSV runs it over a whole
// Data, a LiveCSV over the seconds as they are recorded. It keeps the
// totals since the first second and the last currentWindow seconds.
type historyBuilder struct {
	full  bool
	lo    int64 // the first second
	byKey map[[2]string]*history
	order []*history // by type, then name
	all   *history   // the Aggregated row
	row   stats.HistoryRow
}

func newHistoryBuilder(full bool, lo int64) *historyBuilder {
	return &historyBuilder{full: full, lo: lo, byKey: map[[2]string]*history{}, all: newHistory("", "Aggregated")}
}

// seconds adds the seconds [lo, hi) of d.
func (b *historyBuilder) seconds(d *Data, lo, hi int64, hw *stats.HistoryWriter) error {
	devices := d.devicesFunc()
	next := 0
	for s := lo; s < hi; s++ {
		first := next
		for ; next < len(d.Samples) && d.Samples[next].Unix <= s; next++ {
			if d.Samples[next].Unix < s { // before lo
				first = next + 1
			}
		}
		if err := b.second(s, d.Samples[first:next], devices(s), hw); err != nil {
			return err
		}
	}
	return nil
}

// second adds second s, whose samples (all of them) are given, and writes
// its rows, stamped s+1, with users the devices running in it.
func (b *historyBuilder) second(s int64, samples []Sample, users int, hw *stats.HistoryWriter) error {
	for _, h := range b.order {
		h.open(s)
	}
	b.all.open(s)
	for i := range samples {
		sm := &samples[i]
		k := [2]string{sm.Type, sm.Name}
		h, ok := b.byKey[k]
		if !ok {
			h = newHistory(sm.Type, sm.Name)
			h.open(s)
			b.byKey[k] = h
			b.order = append(b.order, h)
			slices.SortFunc(b.order, func(a, b *history) int { return cmp.Or(cmp.Compare(a.typ, b.typ), cmp.Compare(a.name, b.name)) })
		}
		h.add(sm)
		b.all.add(sm)
	}
	span := min(currentWindow, s+1-b.lo)
	if b.full {
		for _, h := range b.order {
			if err := b.write(h, s, users, span, hw); err != nil {
				return err
			}
		}
	}
	return b.write(b.all, s, users, span, hw)
}

// write writes h's row of second s, if h has had a request.
func (b *historyBuilder) write(h *history, s int64, users int, span int64, hw *stats.HistoryWriter) error {
	if h.total.Requests == 0 {
		return nil
	}
	h.row(&b.row, s+1, users, span, b.full)
	return hw.Write(&b.row)
}

// statsRows returns the rows of _stats.csv for the seconds added so far:
// an entry's, then the Aggregated row, with the rates over elapsed.
func (b *historyBuilder) statsRows(elapsed time.Duration) []stats.StatsRow {
	rows := make([]stats.StatsRow, 0, len(b.order)+1)
	for _, h := range b.order {
		rows = append(rows, h.total.statsRow(elapsed))
	}
	return append(rows, b.all.total.statsRow(elapsed))
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
	unix       int64
	requests   int64 // untimed ones included
	failures   int64
	hist.Total // the timed requests
}

func newHistory(typ, name string) *history {
	h := &history{typ: typ, name: name, total: EntryTotal{Type: typ, Name: name}, qs: make([]time.Duration, len(stats.CSVQuantiles))}
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
	sec.requests += sm.Requests
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
		if sec.unix <= ts-1-currentWindow || sec.requests == 0 {
			continue
		}
		reqs += sec.requests
		fails += sec.failures
		if sec.Count == 0 {
			continue // no response times
		}
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
