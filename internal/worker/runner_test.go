package worker

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/srcaddr"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// TestRunnerReportsUnknownMQTTClient: a spawn naming an MQTT client this
// worker does not know (from a newer master) starts nothing and comes back
// as an exception naming the accepted clients, rather than a panic.
func TestRunnerReportsUnknownMQTTClient(t *testing.T) {
	t.Parallel()
	var events strings.Builder
	r := newRunner(slog.New(slog.DiscardHandler), &events, nil, srcaddr.Plan{})
	r.apply(t.Context(), blockCmd{Block{Devices: []device.Device{{ID: "W001"}}}})
	s := validSettings()
	s.MQTTClient = "quic"
	m, err := ltkv1.EncodeSettings(&s)
	require.NoError(t, err)
	r.apply(t.Context(), spawnCmd{seq: 1, count: 1, settings: m})

	_, exceptions := r.take()
	require.Equal(t, []string{`spawn: settings from the master: MQTT client "quic" is not one of lean, paho`}, exceptions)
	state, running, applied := r.status()
	require.Equal(t, ltkv1.State_STATE_READY, state)
	require.Zero(t, running)
	require.EqualValues(t, 1, applied)
	require.Empty(t, events.String(), "no devices started")
}

// TestRunnerKeepsDeltasUntilAcked: drained deltas are numbered; take hands
// out each once per session, ack forgets those the master holds, and a new
// session (resend) hands out the unacknowledged ones again, numbers kept.
func TestRunnerKeepsDeltasUntilAcked(t *testing.T) {
	t.Parallel()
	r := newRunner(slog.New(slog.DiscardHandler), io.Discard, nil, srcaddr.Plan{})
	e := r.rec.Entry("echo", "echo receive")
	now := time.Unix(1000, 0)
	drain := func() {
		e.Record(time.Millisecond, 1)
		now = now.Add(time.Second)
		r.drain(now, false)
	}
	seqs := func(ns []numbered) []uint64 {
		var out []uint64
		for _, n := range ns {
			out = append(out, n.seq)
		}
		return out
	}
	drain()
	drain()
	got, _ := r.take()
	require.Equal(t, []uint64{1, 2}, seqs(got))
	drain()
	got, _ = r.take()
	require.Equal(t, []uint64{3}, seqs(got), "sent ones are not sent again in the same session")
	r.ack(1)
	r.resend() // a new session: 2 and 3 may never have arrived
	got, _ = r.take()
	require.Equal(t, []uint64{2, 3}, seqs(got))
	r.ack(3)
	r.resend()
	got, _ = r.take()
	require.Empty(t, got)
	require.EqualValues(t, 3, r.totals().requests)
}

// TestRunnerBoundsPendingLosingNothing: with the master unreachable, at most
// maxPending deltas wait; what is recorded past that stays in the recorder
// and arrives, whole, in the first delta drained after the master
// acknowledges. Nothing is lost, only per-second resolution.
func TestRunnerBoundsPendingLosingNothing(t *testing.T) {
	t.Parallel()
	r := newRunner(slog.New(slog.DiscardHandler), io.Discard, nil, srcaddr.Plan{})
	e := r.rec.Entry("echo", "echo receive")
	now := time.Unix(1000, 0)
	const seconds = maxPending + 50
	for range seconds {
		e.Record(time.Millisecond, 1)
		now = now.Add(time.Second)
		r.drain(now, false)
	}
	got, _ := r.take()
	require.Len(t, got, maxPending, "the buffer is bounded")
	r.ack(got[len(got)-1].seq)
	now = now.Add(time.Second)
	r.drain(now, false)
	late, _ := r.take()
	require.Len(t, late, 1)
	require.EqualValues(t, seconds-maxPending, late[0].d.Entries[0].Requests, "the seconds past the bound, in one delta")
	var sent int64
	for _, n := range append(got, late...) {
		sent += n.d.Entries[0].Requests
	}
	require.EqualValues(t, seconds, sent)
	require.EqualValues(t, seconds, r.totals().requests)
}
