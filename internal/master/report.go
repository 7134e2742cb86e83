package master

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// Limits on the text a worker sends that the master shows.
const (
	maxHostname  = 253  // bytes of a worker's host name (a DNS name's limit)
	maxException = 2000 // bytes of one exception message
	maxVersion   = 100  // bytes of a worker's ltk version
	maxCPU       = 1e6  // % of one core: 10,000 cores busy
)

// Deltas counts the stats deltas the workers reported, by what became of
// them. Merged + Refused + Resent is every delta received; Lost were never
// received (a worker's sequence numbers jumped).
type Deltas struct {
	Merged  int64 // merged into the totals (and handed to OnDelta)
	Resent  int64 // received again after a reconnect, and counted once
	Refused int64 // invalid or overflowing: a broken or hostile worker
	Lost    int64 // missing from a worker's sequence
}

// Deltas returns what became of the stats deltas the workers reported.
func (m *Master) Deltas() Deltas {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.deltas
}

// report merges one stats delta of a worker's, unless the master handled
// it already (a resend after a reconnect) or it cannot be merged faithfully.
// A refused delta is logged, counted and shown as an exception of the
// worker: its counts are not in the totals.
func (m *Master) report(mem *member, md *ltkv1.StatsDelta) {
	if !m.fresh(mem, md.GetSeq()) {
		return
	}
	d, err := ltkv1.DecodeDelta(md)
	if err == nil {
		err = m.agg.Add(d) // validates first: merges all of d or nothing
	}
	if err != nil {
		m.mu.Lock()
		m.deltas.Refused++
		n := m.deltas.Refused
		m.mu.Unlock()
		m.cfg.Logger.Warn("refused a worker's stats report", "worker", mem.ordinal, "seq", md.GetSeq(), "err", err)
		m.exception(mem, printable("refused a stats report: "+err.Error(), maxException)+
			" (refused "+strconv.FormatInt(n, 10)+" so far; is the worker's ltk broken?)")
		return
	}
	m.mu.Lock()
	m.deltas.Merged++
	m.mu.Unlock()
	if m.cfg.OnDelta != nil {
		m.cfg.OnDelta(mem.ordinal, d)
	}
}

// fresh records that the worker's delta seq arrived and reports whether it
// is new. Deltas arrive in order on a stream, and a worker resends the
// unacknowledged ones in order after a reconnect: seq at or below the last
// one handled is a resend, above the next one is a gap, counted as lost.
// Unnumbered deltas (seq 0) are always new.
func (m *Master) fresh(mem *member, seq uint64) bool {
	if seq == 0 {
		return true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	last, known := m.reportSeq[mem.workerID]
	switch {
	case known && seq <= last:
		m.deltas.Resent++
		return false
	case known && seq > last+1:
		lost := seq - last - 1
		m.deltas.Lost += int64(lost)
		m.printf("Worker %d (%s): %d stats reports lost (deltas %d to %d never arrived): the totals miss what they held",
			mem.ordinal, mem.hostname, lost, last+1, seq-1)
	}
	m.reportSeq[mem.workerID] = seq
	return true
}

// printable returns s, cut to at most limit bytes, for a terminal or a log:
// if it holds anything but printable characters (an escape sequence, a line
// break that would forge a log line, invalid UTF-8), it returns s quoted
// with Go escapes instead.
func printable(s string, limit int) string {
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r == utf8.RuneError || !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

// cpuPercent returns a heartbeat's CPU use as a number JSON and tables can
// carry: NaN and negatives are 0, and it is at most maxCPU.
func cpuPercent(p float64) float64 {
	if math.IsNaN(p) || p < 0 {
		return 0
	}
	return min(p, maxCPU)
}
