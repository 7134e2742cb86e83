package stats

import (
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
)

// maxShards caps the shards of an Entry, and so its memory (26 KiB of
// histogram per shard), on machines with many processors.
const maxShards = 64

// An Entry records the outcomes of one kind of request, named by its
// (type, name) pair. Get it once from Recorder.Entry and keep it: Record and
// Fail are safe for concurrent use, allocate nothing and take no lock that
// another caller holds for long.
type Entry struct {
	typ, name string
	mask      uint32  // len(shards)-1; len(shards) is a power of two
	shards    []shard // a call records into the first shard it can lock
}

// shard is one lockable part of an Entry. Padding keeps the hot fields of
// neighbouring shards off each other's cache lines.
type shard struct {
	mu       sync.Mutex // Guards the fields below.
	requests int64
	failures int64
	untimed  int64 // failures without a response time, among failures
	bytes    int64
	sum      time.Duration
	min, max time.Duration            // of the timed requests
	counts   *[hist.Len]int64         // response times; nothing above the bucket of max
	msgs     map[string]*failureTally // failures by message
	secs     window
	_        [64]byte
}

func newEntry(typ, name string) *Entry {
	n := 1 << bits.Len(uint(runtime.GOMAXPROCS(0)-1)) // GOMAXPROCS rounded up to a power of two
	n = min(n, maxShards)
	e := &Entry{typ: typ, name: name, mask: uint32(n - 1), shards: make([]shard, n)}
	for i := range e.shards {
		e.shards[i].counts = new([hist.Len]int64)
		e.shards[i].msgs = make(map[string]*failureTally)
	}
	return e
}

// Type returns the entry's type, such as "MQTT".
func (e *Entry) Type() string { return e.typ }

// Name returns the entry's name, such as "MQTT connect".
func (e *Entry) Name() string { return e.name }

// Record records a successful request that took rtt and returned size bytes
// of content. A negative rtt or size counts as zero.
func (e *Entry) Record(rtt time.Duration, size int) {
	now := time.Now().Unix()
	s := e.lock()
	s.record(rtt, now)
	s.bytes += int64(max(size, 0))
	s.mu.Unlock()
}

// Fail records a failed request that took rtt, or, for a negative rtt
// (NoResponseTime), one that has no response time, such as an awaited reply
// that never came: it counts as a request and a failure but is in no
// response time, percentile or average. Failures are grouped by msg, which
// should come from a small set of strings (past MaxMessages distinct ones in
// a Drain interval, the rest are grouped as OtherMessages). example, such as
// the failing device's id, is kept as one of up to MaxExamples examples of
// msg's row ("" keeps none); it must not change after the call. Fail
// allocates only the first time a shard sees a msg within a Drain interval.
func (e *Entry) Fail(rtt time.Duration, msg, example string) {
	now := time.Now().Unix()
	s := e.lock()
	if rtt < 0 {
		s.requests++
		s.untimed++
		s.secs.add(now, 1, 0)
	} else {
		s.record(rtt, now)
	}
	s.failures++
	s.secs.add(now, 0, 1)
	t := s.msgs[msg]
	if t == nil {
		t = s.tally(msg)
	}
	t.add(1, example)
	s.mu.Unlock()
}

// NoResponseTime is the rtt of Fail for a failure that has no response time.
const NoResponseTime time.Duration = -1

// tally returns the tally of a message the shard has not seen in this
// interval: a new one, or, past MaxMessages, OtherMessages's. s.mu is held.
func (s *shard) tally(msg string) *failureTally {
	if len(s.msgs) >= MaxMessages {
		msg = OtherMessages
		if t := s.msgs[msg]; t != nil {
			return t
		}
	}
	t := &failureTally{}
	s.msgs[msg] = t
	return t
}

// lock locks and returns a shard: the first free one from a random start, or
// the random one itself if all are busy.
func (e *Entry) lock() *shard {
	i := rand.Uint32()
	for range len(e.shards) {
		s := &e.shards[i&e.mask]
		if s.mu.TryLock() {
			return s
		}
		i++
	}
	s := &e.shards[i&e.mask]
	s.mu.Lock()
	return s
}

// record counts one request that took rtt and ended in second unix.
// s.mu must be held.
func (s *shard) record(rtt time.Duration, unix int64) {
	rtt = max(rtt, 0)
	if s.requests == s.untimed || rtt < s.min {
		s.min = rtt
	}
	s.max = max(s.max, rtt)
	s.requests++
	s.sum += rtt
	s.counts[hist.Index(rtt)]++
	s.secs.add(unix, 1, 0)
}

// drain moves everything the entry recorded into an EntryDelta, one shard at
// a time under its lock, so that every record lands in exactly one Drain. It
// uses secs and msgs (empty on entry, empty again on return) as scratch, and
// appends the entry's failures to fails. ok is false if nothing was recorded.
func (e *Entry) drain(secs *window, msgs map[string]*failureTally, fails []FailureDelta) (d EntryDelta, _ []FailureDelta, ok bool) {
	d = EntryDelta{Type: e.typ, Name: e.name}
	for i := range e.shards {
		s := &e.shards[i]
		s.mu.Lock()
		if s.requests == 0 {
			s.mu.Unlock()
			continue
		}
		if s.requests > s.untimed {
			if d.Requests == d.Untimed || s.min < d.Min {
				d.Min = s.min
			}
			d.Max = max(d.Max, s.max)
		}
		d.Requests += s.requests
		d.Failures += s.failures
		d.Untimed += s.untimed
		d.ContentBytes += s.bytes
		d.Sum += s.sum
		used := s.counts[:hist.Index(s.max)+1] // the buckets above are empty
		if n := len(used) - len(d.Hist); n > 0 {
			d.Hist = append(d.Hist, make([]int64, n)...)
		}
		hist.Add(d.Hist, used)
		clear(used)
		s.secs.moveTo(secs)
		for m, t := range s.msgs {
			if msgs[m] == nil && len(msgs) >= MaxMessages {
				m = OtherMessages
			}
			if msgs[m] == nil {
				msgs[m] = &failureTally{}
			}
			msgs[m].merge(t)
		}
		clear(s.msgs)
		s.requests, s.failures, s.untimed, s.bytes, s.sum, s.min, s.max = 0, 0, 0, 0, 0, 0, 0
		s.mu.Unlock()
	}
	if d.Requests == 0 {
		return d, fails, false
	}
	d.Hist = hist.Trim(d.Hist)
	d.Seconds = secs.drain(nil)
	for m, t := range msgs {
		fails = append(fails, FailureDelta{Type: e.typ, Name: e.name, Message: m, Count: t.n, Examples: t.list()})
	}
	clear(msgs)
	return d, fails, true
}
