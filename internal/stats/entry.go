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
	bytes    int64
	sum      time.Duration
	min, max time.Duration
	counts   *[hist.Len]int64 // response times; nothing above the bucket of max
	msgs     map[string]int64 // failures by message
	secs     window
	_        [64]byte
}

func newEntry(typ, name string) *Entry {
	n := 1 << bits.Len(uint(runtime.GOMAXPROCS(0)-1)) // GOMAXPROCS rounded up to a power of two
	n = min(n, maxShards)
	e := &Entry{typ: typ, name: name, mask: uint32(n - 1), shards: make([]shard, n)}
	for i := range e.shards {
		e.shards[i].counts = new([hist.Len]int64)
		e.shards[i].msgs = make(map[string]int64)
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

// Fail records a failed request that took rtt. Failures are counted as
// requests too (as Locust counts them) and grouped by msg, which should come
// from a small set of constant strings: Fail allocates only the first time an
// Entry sees a msg within a Drain interval, and a report lists every distinct
// msg.
func (e *Entry) Fail(rtt time.Duration, msg string) {
	now := time.Now().Unix()
	s := e.lock()
	s.record(rtt, now)
	s.failures++
	s.secs.add(now, 0, 1)
	s.msgs[msg]++
	s.mu.Unlock()
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
	if s.requests == 0 || rtt < s.min {
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
func (e *Entry) drain(secs *window, msgs map[string]int64, fails []FailureDelta) (d EntryDelta, _ []FailureDelta, ok bool) {
	d = EntryDelta{Type: e.typ, Name: e.name}
	for i := range e.shards {
		s := &e.shards[i]
		s.mu.Lock()
		if s.requests == 0 {
			s.mu.Unlock()
			continue
		}
		if d.Requests == 0 || s.min < d.Min {
			d.Min = s.min
		}
		d.Max = max(d.Max, s.max)
		d.Requests += s.requests
		d.Failures += s.failures
		d.ContentBytes += s.bytes
		d.Sum += s.sum
		used := s.counts[:hist.Index(s.max)+1] // the buckets above are empty
		if n := len(used) - len(d.Hist); n > 0 {
			d.Hist = append(d.Hist, make([]int64, n)...)
		}
		hist.Add(d.Hist, used)
		clear(used)
		s.secs.moveTo(secs)
		for m, n := range s.msgs {
			msgs[m] += n
		}
		clear(s.msgs)
		s.requests, s.failures, s.bytes, s.sum, s.min, s.max = 0, 0, 0, 0, 0, 0
		s.mu.Unlock()
	}
	if d.Requests == 0 {
		return d, fails, false
	}
	d.Hist = hist.Trim(d.Hist)
	d.Seconds = secs.drain(nil)
	for m, n := range msgs {
		fails = append(fails, FailureDelta{Type: e.typ, Name: e.name, Message: m, Count: n})
	}
	clear(msgs)
	return d, fails, true
}
