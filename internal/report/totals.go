package report

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// An EntryTotal sums an entry's samples.
type EntryTotal struct {
	Type, Name string
	Requests   int64 // failures and untimed ones included
	Failures   int64
	Untimed    int64 // failures without a response time
	Bytes      int64
	hist.Total // the timed requests (Count) and their response times
}

func (t *EntryTotal) add(s *Sample) {
	t.Requests += s.Requests
	t.Failures += s.Failures
	t.Untimed += s.Untimed
	t.Bytes += s.Bytes
	t.Total.Add(&s.Second)
}

// Entries returns the window's totals per entry, sorted by type and name.
func (d *Data) Entries() []EntryTotal {
	byKey := map[[2]string]*EntryTotal{}
	for i := range d.Samples {
		s := &d.Samples[i]
		k := [2]string{s.Type, s.Name}
		t, ok := byKey[k]
		if !ok {
			t = &EntryTotal{Type: s.Type, Name: s.Name}
			byKey[k] = t
		}
		t.add(s)
	}
	out := make([]EntryTotal, 0, len(byKey))
	for _, t := range byKey {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b EntryTotal) int { return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name)) })
	return out
}

// Total returns all entries together: Locust's "Aggregated" row.
func (d *Data) Total() EntryTotal {
	t := EntryTotal{Name: "Aggregated"}
	for i := range d.Samples {
		t.add(&d.Samples[i])
	}
	return t
}

// Entry returns the total of one entry (zero if it has no samples).
func (d *Data) Entry(typ, name string) EntryTotal {
	t := EntryTotal{Type: typ, Name: name}
	for i := range d.Samples {
		if s := &d.Samples[i]; s.Type == typ && s.Name == name {
			t.add(s)
		}
	}
	return t
}

// ExecTotal sums the echo app's execution times.
func (d *Data) ExecTotal() hist.Total {
	var t hist.Total
	for i := range d.Exec {
		t.Add(&d.Exec[i])
	}
	return t
}

// A FailureTotal counts an entry's failures with one message.
type FailureTotal struct {
	Type, Name, Message string
	Count               int64
	Examples            []string // up to stats.MaxExamples, the earliest seconds' first
}

// ErrorText is the message followed by the examples (stats.FailureStats.ErrorText).
func (f FailureTotal) ErrorText() string {
	return stats.FailureStats{Message: f.Message, Examples: f.Examples}.ErrorText()
}

// FailureTotals returns the window's failures by entry and message, most first.
func (d *Data) FailureTotals() []FailureTotal {
	byKey := map[[3]string]*failureCount{}
	for _, f := range d.Failures {
		addFailure(byKey, [3]string{f.Type, f.Name, f.Message}, f.Count, f.Examples)
	}
	return failureTotals(byKey)
}

// addFailure adds n failures of key k with examples to byKey.
func addFailure(byKey map[[3]string]*failureCount, k [3]string, n int64, examples []string) {
	c := byKey[k]
	if c == nil {
		c = &failureCount{}
		byKey[k] = c
	}
	c.n += n
	c.examples = stats.AddExamples(c.examples, examples)
}

// failureTotals returns counts by type, name and message, most frequent first.
func failureTotals(byKey map[[3]string]*failureCount) []FailureTotal {
	out := make([]FailureTotal, 0, len(byKey))
	for k, c := range byKey {
		out = append(out, FailureTotal{Type: k[0], Name: k[1], Message: k[2], Count: c.n, Examples: slices.Clone(c.examples)})
	}
	slices.SortFunc(out, func(a, b FailureTotal) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Message, b.Message))
	})
	return out
}

// Span returns the seconds [lo, hi) of the window that the runs cover (the
// first sample to the last if the data has no runs, such as execution times
// fetched from a target); ok is false if they cover none.
func (d *Data) Span() (lo, hi int64, ok bool) {
	wlo, whi := Seconds(d.Start, d.End)
	lo, hi = whi, wlo
	for _, r := range d.Runs {
		rlo, rhi := Seconds(r.Window())
		lo, hi = min(lo, max(rlo, wlo)), max(hi, min(rhi, whi))
	}
	if len(d.Runs) == 0 {
		for _, s := range d.Samples {
			lo, hi = min(lo, s.Unix), max(hi, s.Unix+1)
		}
		for _, s := range d.Exec {
			lo, hi = min(lo, s.Unix), max(hi, s.Unix+1)
		}
	}
	return lo, hi, lo < hi
}

// Duration is how much of the window the runs cover: what throughput and
// cost are measured over. Runs that overlap count once.
func (d *Data) Duration() time.Duration {
	wlo, whi := Seconds(d.Start, d.End)
	type iv struct{ lo, hi int64 }
	var ivs []iv
	for _, r := range d.Runs {
		rlo, rhi := Seconds(r.Window())
		if lo, hi := max(rlo, wlo), min(rhi, whi); lo < hi {
			ivs = append(ivs, iv{lo, hi})
		}
	}
	if len(d.Runs) == 0 {
		if lo, hi, ok := d.Span(); ok {
			ivs = append(ivs, iv{lo, hi})
		}
	}
	slices.SortFunc(ivs, func(a, b iv) int { return cmp.Compare(a.lo, b.lo) })
	var secs, end int64
	end = -1 << 62
	for _, v := range ivs {
		if v.lo > end {
			secs += v.hi - v.lo
			end = v.hi
		} else if v.hi > end {
			secs += v.hi - end
			end = v.hi
		}
	}
	return time.Duration(secs) * time.Second
}

// devicesFunc returns the number of devices running in second unix, summed
// over the runs (a run counts only within its own window).
func (d *Data) devicesFunc() func(unix int64) int {
	byRun := map[int64][]DeviceSample{}
	for _, v := range d.Devices {
		byRun[v.RunID] = append(byRun[v.RunID], v)
	}
	type runDevices struct {
		lo, hi  int64
		samples []DeviceSample
	}
	var runs []runDevices
	for _, r := range d.Runs {
		lo, hi := Seconds(r.Window())
		runs = append(runs, runDevices{lo, hi, byRun[r.ID]})
	}
	return func(unix int64) int {
		n := 0
		for _, r := range runs {
			if unix < r.lo || unix >= r.hi {
				continue
			}
			i := sort.Search(len(r.samples), func(i int) bool { return r.samples[i].Unix > unix })
			if i > 0 {
				n += r.samples[i-1].Devices
			}
		}
		return n
	}
}

// DeviceStats sums the devices over the covered seconds of the window: the
// peak, and device-seconds (which are connection-seconds: each running
// device holds one connection).
func (d *Data) DeviceStats() (peak int, deviceSeconds int64) {
	lo, hi, ok := d.Span()
	if !ok {
		return 0, 0
	}
	at := d.devicesFunc()
	for s := lo; s < hi; s++ {
		n := at(s)
		peak = max(peak, n)
		deviceSeconds += int64(n)
	}
	return peak, deviceSeconds
}
