package master

import (
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/syncbuf"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// rawWorker is the worker's end of a session the test drives message by
// message.
type rawWorker struct {
	p      *pipe
	served chan error
}

// dial opens a session with hello and reads the welcome and the block.
func dial(t *testing.T, m *Master, hello *ltkv1.Hello) *rawWorker {
	t.Helper()
	w := &rawWorker{p: newPipe(), served: make(chan error, 1)}
	if hello.Version == "" {
		hello.Version = m.cfg.Version
	}
	hello.Protocol = ltkv1.ProtocolVersion
	go func() {
		err := m.serve(w.p.ctx, w.p)
		w.p.cancel()
		w.served <- err
	}()
	w.p.toMaster <- &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Hello{Hello: hello}}
	t.Cleanup(func() { w.p.cancel() })
	return w
}

// ack heartbeats and returns the report_seq of the master's answer.
func (w *rawWorker) ack(t *testing.T, cpu float64) uint64 {
	t.Helper()
	w.p.toMaster <- &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Heartbeat{Heartbeat: &ltkv1.Heartbeat{
		State: ltkv1.State_STATE_READY, CpuPercent: cpu}}}
	for msg := range w.p.toWorker {
		if a := msg.GetHeartbeatAck(); a != nil {
			return a.GetReportSeq()
		}
	}
	t.Fatal("the stream ended before a heartbeat ack")
	return 0
}

// report sends one Report with a delta of n requests for each seq.
func (w *rawWorker) report(n int64, seqs ...uint64) {
	r := &ltkv1.Report{}
	for _, s := range seqs {
		md := ltkv1.EncodeDelta(echoes(n))
		md.Seq = s
		r.Deltas = append(r.Deltas, md)
	}
	w.p.toMaster <- &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Report{Report: r}}
}

// echoes is a delta of n 3 ms echoes.
func echoes(n int64) *stats.Delta {
	counts := make([]int64, hist.Index(3*time.Millisecond)+1)
	counts[len(counts)-1] = n
	return &stats.Delta{Start: time.Unix(1000, 0), End: time.Unix(1001, 0), Entries: []stats.EntryDelta{{
		Type: "echo", Name: "echo receive", Requests: n, Sum: time.Duration(n) * 3 * time.Millisecond,
		Min: 3 * time.Millisecond, Max: 3 * time.Millisecond, Hist: counts,
		Seconds: []stats.Second{{Unix: 1000, Requests: n}},
	}}}
}

// TestResentDeltasCountOnce: the master acknowledges the deltas it holds
// in its heartbeat acks; a worker that resends deltas after a reconnect
// (the old stream may have swallowed them) gets each counted once, also in
// what OnDelta sees; a gap in the sequence is counted and shown as lost.
func TestResentDeltasCountOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var events syncbuf.Buffer
		var mu sync.Mutex
		var seen int64
		cfg := testConfig(10, 1, &events)
		cfg.OnDelta = func(_ int, d *stats.Delta) {
			mu.Lock()
			defer mu.Unlock()
			seen += d.Entries[0].Requests
		}
		m, err := newMaster(cfg)
		require.NoError(t, err)
		start(t, m)

		w := dial(t, m, &ltkv1.Hello{WorkerId: "w", Hostname: "h", Ordinal: 0})
		require.Zero(t, w.ack(t, 0), "nothing reported yet")
		w.report(5, 1, 2)
		require.EqualValues(t, 2, w.ack(t, 0))
		w.p.cancel() // the stream dies; the worker comes back and resends from 1
		<-w.served
		w = dial(t, m, &ltkv1.Hello{WorkerId: "w", Hostname: "h", Ordinal: 0})
		w.report(5, 1, 2, 3)
		require.EqualValues(t, 3, w.ack(t, 0))
		require.Equal(t, Deltas{Merged: 3, Resent: 2}, m.Deltas())
		require.EqualValues(t, 15, m.Collect(time.Unix(1010, 0)).Total.NumRequests)

		w.report(5, 6)
		require.EqualValues(t, 6, w.ack(t, 0))
		require.Equal(t, Deltas{Merged: 4, Resent: 2, Lost: 2}, m.Deltas())
		require.True(t, events.Contains("Worker 0 (h): 2 stats reports lost (deltas 4 to 5 never arrived)"), events.String())
		mu.Lock()
		require.EqualValues(t, 20, seen)
		mu.Unlock()
	})
}

// TestRefusesOverflowingReport: a delta whose counts overflow (a hostile
// worker with the cluster token) is refused before OnDelta and the totals
// see it, with a logged, counted reason and an exception naming the
// worker; the worker's next valid delta counts, and the ack covers both.
func TestRefusesOverflowingReport(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var events syncbuf.Buffer
		var mu sync.Mutex
		var deltas []*stats.Delta
		var exceptions []string
		cfg := testConfig(10, 1, &events)
		cfg.OnDelta = func(_ int, d *stats.Delta) { mu.Lock(); deltas = append(deltas, d); mu.Unlock() }
		cfg.OnException = func(_ int, host, msg string) { mu.Lock(); exceptions = append(exceptions, host+": "+msg); mu.Unlock() }
		m, err := newMaster(cfg)
		require.NoError(t, err)
		start(t, m)
		w := dial(t, m, &ltkv1.Hello{WorkerId: "w", Hostname: "evil", Ordinal: 0})

		for i, spoil := range []func(d *stats.Delta){
			func(d *stats.Delta) { // per-second counts that wrap around to the entry's
				d.Entries[0].Seconds = []stats.Second{{Unix: 1000, Requests: math.MaxInt64}, {Unix: 1001, Requests: math.MaxInt64}, {Unix: 1002, Requests: 7}}
			},
			func(d *stats.Delta) {
				d.Entries[0].Requests, d.Entries[0].Hist[len(d.Entries[0].Hist)-1] = math.MaxInt64, math.MaxInt64
			},
			func(d *stats.Delta) { d.Entries[0].Sum = math.MaxInt64 },
		} {
			d := echoes(5)
			spoil(d)
			md := ltkv1.EncodeDelta(d)
			md.Seq = uint64(i + 1)
			w.p.toMaster <- &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Report{Report: &ltkv1.Report{Deltas: []*ltkv1.StatsDelta{md}}}}
		}
		w.report(5, 4)
		require.EqualValues(t, 4, w.ack(t, 0))
		require.Equal(t, Deltas{Merged: 1, Refused: 3}, m.Deltas())
		snap := m.Collect(time.Unix(1010, 0))
		require.EqualValues(t, 5, snap.Total.NumRequests)
		require.Equal(t, 3*time.Millisecond, snap.Total.Avg)
		mu.Lock()
		require.Len(t, deltas, 1, "OnDelta (the results store) sees only the valid delta")
		require.Len(t, exceptions, 3)
		require.Contains(t, exceptions[0], "evil: refused a stats report: stats delta entry echo \"echo receive\": seconds hold more than")
		require.Contains(t, exceptions[2], "(refused 3 so far")
		mu.Unlock()
		require.True(t, events.Contains("Worker 0 (evil): refused a stats report"), events.String())
	})
}

// TestWorkerTextEscaped: a worker's host name and exceptions reach the
// terminal with control characters escaped, so that they can neither drive
// the terminal nor forge lines, also when the worker is refused before it
// authenticates. An impossible CPU figure is kept finite.
func TestWorkerTextEscaped(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var events syncbuf.Buffer
		cfg := testConfig(10, 1, &events)
		cfg.Token = "s3cret"
		m, err := newMaster(cfg)
		require.NoError(t, err)
		start(t, m)
		forged := "h\x1b[2J\nWorker 7 (x) connected: block of 10 devices"

		refused := dial(t, m, &ltkv1.Hello{WorkerId: "a", Hostname: forged, Ordinal: 0})
		require.Equal(t, codes.Unauthenticated, status.Code(<-refused.served))
		refused = dial(t, m, &ltkv1.Hello{WorkerId: "a", Hostname: "h", Ordinal: 0, ClusterToken: "s3cret", Version: "v\x1b[2J\nWorker 3 (y) connected"})
		require.Equal(t, codes.FailedPrecondition, status.Code(<-refused.served))
		w := dial(t, m, &ltkv1.Hello{WorkerId: "b", Hostname: forged, Ordinal: 0, ClusterToken: "s3cret"})
		w.p.toMaster <- &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Exception{Exception: &ltkv1.Exception{
			Message: "boom\r\nWorker 3 (y) missing: forged\x07"}}}
		w.ack(t, math.Inf(1))
		require.Equal(t, maxCPU, m.Workers()[0].CPUPercent)
		w.ack(t, math.NaN())
		require.Zero(t, m.Workers()[0].CPUPercent)

		out := events.String()
		require.NotContains(t, out, "\x1b")
		require.NotContains(t, out, "\x07")
		require.NotContains(t, out, "\r")
		for line := range strings.Lines(out) {
			require.NotRegexp(t, `^Worker [37] `, line, "a forged line:\n%s", out)
		}
		require.Contains(t, out, `Refused the worker on "h\x1b[2J\nWorker 7 (x) connected: block of 10 devices"`)
		require.Contains(t, out, `"boom\r\nWorker 3 (y) missing: forged\a"`)
		require.Contains(t, out, `worker version "v\x1b[2J\nWorker 3 (y) connected" (protocol 3) does not match`)
		require.Equal(t, `"h\x1b[2J\nWorker 7 (x) connected: block of 10 devices"`, m.Workers()[0].Hostname)
	})
}

// TestOrdinalBeyondTheBlocksRefused: a worker asking for an ordinal past
// the device list's blocks (it would run nothing) is refused, and does not
// count toward the expected workers.
func TestOrdinalBeyondTheBlocksRefused(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var events syncbuf.Buffer
		m, err := newMaster(testConfig(10, 2, &events)) // blocks 0 and 1 of 5 devices
		require.NoError(t, err)
		start(t, m)
		for _, ord := range []int32{2, 1e9} {
			w := dial(t, m, &ltkv1.Hello{WorkerId: "far", Hostname: "h", Ordinal: ord})
			err := <-w.served
			require.Equal(t, codes.InvalidArgument, status.Code(err), err)
			require.ErrorContains(t, err, "is beyond the device list's 2 blocks of 5 devices: give the worker an ordinal from 0 to 1")
		}
		require.Zero(t, m.Connected())
		w := dial(t, m, &ltkv1.Hello{WorkerId: "near", Hostname: "h", Ordinal: 1})
		w.ack(t, 0)
		require.Equal(t, 1, m.Connected())
	})
}
