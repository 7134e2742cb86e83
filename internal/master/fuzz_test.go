package master

import (
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// FuzzReport feeds the master arbitrary stats deltas as a worker's report
// carries them (the protobuf bytes of a StatsDelta). Whatever comes, the
// master either merges the delta or refuses it, never panics, and its
// totals stay consistent: no negative counts, failures among requests, and
// only merged deltas reach OnDelta, each of which validates.
func FuzzReport(f *testing.F) {
	for _, d := range []*stats.Delta{echoes(5), echoes(0), {}} {
		b, err := proto.Marshal(ltkv1.EncodeDelta(d))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	bad := echoes(2)
	bad.Entries[0].Seconds = []stats.Second{{Unix: 1000, Requests: math.MaxInt64}, {Unix: 1001, Requests: math.MaxInt64}, {Unix: 1002, Requests: 4}}
	b, err := proto.Marshal(ltkv1.EncodeDelta(bad))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var md ltkv1.StatsDelta
		if proto.Unmarshal(b, &md) != nil {
			return
		}
		cfg := testConfig(1, 1, nil)
		var handed []*stats.Delta
		cfg.OnDelta = func(_ int, d *stats.Delta) { handed = append(handed, d) }
		m, err := newMaster(cfg)
		if err != nil {
			t.Fatal(err)
		}
		mem := &member{workerID: "w"}
		md.Seq = 1
		m.report(mem, &md)
		m.report(mem, &md) // a resend: counted once
		if d := m.Deltas(); d.Merged+d.Refused != 1 || d.Resent != 1 || int64(len(handed)) != d.Merged {
			t.Fatalf("deltas %+v, %d handed on", d, len(handed))
		}
		for _, d := range handed {
			if err := d.Validate(); err != nil {
				t.Fatalf("OnDelta got an invalid delta: %v", err)
			}
		}
		s := m.Collect(time.Unix(1<<32, 0))
		for _, e := range append(s.Entries, s.Total) {
			if e.NumRequests < 0 || e.NumFailures < 0 || e.NumFailures > e.NumRequests || e.Avg < 0 || e.Min < 0 || e.Min > e.Max && e.NumRequests > 0 {
				t.Fatalf("inconsistent totals %+v", e)
			}
		}
	})
}
