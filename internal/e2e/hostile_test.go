package e2e

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/target/targettest"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// TestHostileReportRefused: a worker (this test, speaking gRPC) with a
// forged host name sends one stats report whose counts overflow int64,
// then a valid one. The master refuses the first with an exception line
// naming the worker, keeps the second, and still stops at -t: the results
// writer used to spin on the overflowing report, so the master never
// finished, and its totals went negative.
func TestHostileReportRefused(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "results.db")
	m, addr := startMaster(t, "master", dir, 0, append([]string{"-c", "1", "-r", "0", "-t", "3s", "--only-summary",
		"--expect-workers", "1", "--broker", tt.BrokerURL(), "--results", store}, plain...)...)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	st, err := ltkv1.NewCoordinatorClient(conn).Connect(ctx)
	require.NoError(t, err)
	require.NoError(t, st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Hello{Hello: &ltkv1.Hello{
		WorkerId: "evil", Hostname: "evil\x1b[31m\nWorker 5 (x) connected", Ordinal: 0, Version: "v-e2e", Protocol: ltkv1.ProtocolVersion,
	}}}))
	// The reports go with the stop, as a worker's last ones do: their
	// second is well within the run the store records.
	report := func() *ltkv1.WorkerMessage {
		bad := pings(2)
		bad.Entries[0].Seconds = []stats.Second{{Unix: 1000, Requests: math.MaxInt64}, {Unix: 1001, Requests: math.MaxInt64}, {Unix: 1002, Requests: 4}}
		r := &ltkv1.Report{Deltas: []*ltkv1.StatsDelta{ltkv1.EncodeDelta(bad), ltkv1.EncodeDelta(pings(7))}}
		r.Deltas[0].Seq, r.Deltas[1].Seq = 1, 2
		return &ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Report{Report: r}}
	}
	// Play a worker that heartbeats, and stops and quits when told.
	hb := func(state ltkv1.State, applied uint64) error {
		return st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Heartbeat{Heartbeat: &ltkv1.Heartbeat{State: state, AppliedSeq: applied}}})
	}
	state, applied := ltkv1.State_STATE_READY, uint64(0)
	require.NoError(t, hb(state, applied))
	for {
		msg, err := st.Recv()
		if err != nil {
			break // the master ended the session after its quit
		}
		switch c := msg.GetMsg().(type) {
		case *ltkv1.MasterMessage_Spawn:
			state, applied = ltkv1.State_STATE_RUNNING, c.Spawn.GetSeq()
		case *ltkv1.MasterMessage_Stop:
			state, applied = ltkv1.State_STATE_STOPPED, c.Stop.GetSeq()
			require.NoError(t, st.Send(report()))
		}
		// One heartbeat per message keeps the master hearing from us. A
		// send fails only once the master has ended the session: the next
		// Recv says so.
		_ = hb(state, applied)
	}
	require.Equal(t, 0, m.wait(t, 30*time.Second))

	out := m.out.String()
	require.Contains(t, out, `Worker 0 ("evil\x1b[31m\nWorker 5 (x) connected"): refused a stats report: stats delta entry echo "echo receive": seconds hold more than`)
	require.NotContains(t, out, "\x1b")
	require.NotRegexp(t, `(?m)^Worker 5`, out)
	require.Contains(t, out, "The totals miss workers' stats: 0 reports lost, 1 refused as invalid")
	want := map[[2]string]int64{{"echo", "echo receive"}: 7}
	require.Equal(t, want, summaryEntries(t, out))
	require.Equal(t, want, storeEntries(t, store))
}

// pings is a delta of n 3 ms echoes in the last second.
func pings(n int64) *stats.Delta {
	now := time.Now().Truncate(time.Second)
	counts := make([]int64, hist.Index(3*time.Millisecond)+1)
	counts[len(counts)-1] = n
	return &stats.Delta{Start: now.Add(-time.Second), End: now, Entries: []stats.EntryDelta{{
		Type: "echo", Name: "echo receive", Requests: n, Sum: time.Duration(n) * 3 * time.Millisecond,
		Min: 3 * time.Millisecond, Max: 3 * time.Millisecond, Hist: counts,
		Seconds: []stats.Second{{Unix: now.Unix() - 1, Requests: n}},
	}}}
}
