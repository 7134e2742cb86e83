package bench

import (
	"sync/atomic"
	"time"

	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/stats"
)

// recorder records device events into stats entries, like an ltk worker,
// and counts per kind the devices ready (connected and subscribed), the
// messages they sent and the awaited replies they received.
type recorder struct {
	stats   *stats.Recorder
	entries []*stats.Entry // by Event, for the plan's Events
	kinds   []kindCount
	ready   atomic.Int64 // devices that connected (and subscribed, if their program does)
}

// kindCount are one kind's counters.
type kindCount struct {
	sent, replies atomic.Int64
}

// newRecorder returns a recorder for the events of plan.
func newRecorder(plan *sim.Plan) *recorder {
	r := &recorder{stats: stats.NewRecorder(), entries: make([]*stats.Entry, len(plan.Events)), kinds: make([]kindCount, len(plan.Kinds))}
	for i, n := range plan.Events {
		r.entries[i] = r.stats.Entry(n.Type, n.Name)
	}
	return r
}

// role is what a recorded success means for a kind's message counts.
type role uint8

const (
	roleOther role = iota
	roleSent       // a publish or a reaction's reply went out
	roleReply      // an awaited reply came in (matched, or late)
	roleReady      // the device is ready: connected, and subscribed if it subscribes
)

// kindRecorder is the Recorder of one kind's devices: it records into the
// shared recorder and counts into the kind's counters.
type kindRecorder struct {
	rec   *recorder
	count *kindCount
	roles []role // by Event
}

// kind returns the Recorder of the devices of kind k, which run prog.
func (r *recorder) kind(k int, prog *sim.Program) *kindRecorder {
	roles := make([]role, len(r.entries))
	expect := func(x *sim.Expect) {
		if x == nil {
			return
		}
		roles[x.Match] = roleReply
		if x.Late != sim.EventNone {
			roles[x.Late] = roleReply
		}
	}
	for _, pub := range append(append([]*sim.Publish(nil), prog.OnConnect...), prog.Periodic...) {
		roles[pub.Event] = roleSent
		expect(pub.Expect)
	}
	for _, x := range prog.Reactions {
		roles[x.Event] = roleSent
		expect(x.Expect)
	}
	if len(prog.Subscribe) > 0 {
		roles[sim.EventSubscribe] = roleReady
	} else {
		roles[sim.EventConnect] = roleReady
	}
	return &kindRecorder{rec: r, count: &r.kinds[k], roles: roles}
}

func (r *kindRecorder) Success(ev sim.Event, d time.Duration, size int) {
	r.rec.entries[ev].Record(d, size)
	switch r.roles[ev] {
	case roleSent:
		r.count.sent.Add(1)
	case roleReply:
		r.count.replies.Add(1)
	case roleReady:
		r.rec.ready.Add(1)
	case roleOther:
	}
}

func (r *kindRecorder) Failure(ev sim.Event, d time.Duration, device string, f sim.Fault) {
	if d == sim.NoDuration {
		d = stats.NoResponseTime
	}
	r.rec.entries[ev].Fail(d, f.Message(), device)
}

// counts returns each kind's messages sent and replies received so far.
func (r *recorder) counts() (sent, replies []int64) {
	sent, replies = make([]int64, len(r.kinds)), make([]int64, len(r.kinds))
	for k := range r.kinds {
		sent[k], replies[k] = r.kinds[k].sent.Load(), r.kinds[k].replies.Load()
	}
	return sent, replies
}

// window drains what was recorded since the previous call into a snapshot.
func (r *recorder) window(now time.Time) (stats.Snapshot, error) {
	a := stats.NewAggregate()
	if err := a.Add(r.stats.Drain(now)); err != nil {
		return stats.Snapshot{}, err
	}
	return a.Snapshot(now), nil
}
