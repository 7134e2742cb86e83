package target

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// failingListener fails its next fail Accepts with EMFILE, as a process at
// its open-files limit does, then accepts from the real listener.
type failingListener struct {
	net.Listener
	mu   sync.Mutex
	fail int
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.fail > 0 {
		l.fail--
		l.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func (l *failingListener) failNext(n int) {
	l.mu.Lock()
	l.fail = n
	l.mu.Unlock()
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), substr)
}

// TestAcceptRetriesAndLogsOncePerBurst: failed accepts are retried with
// back-off, counted each, and logged once per burst.
func TestAcceptRetriesAndLogsOncePerBurst(t *testing.T) {
	t.Parallel()
	m, err := newMetrics(prometheus.NewRegistry())
	require.NoError(t, err)
	var logs syncBuffer
	g := newGate(guardLimits{connectTimeout: time.Minute, maxConnectSize: 1 << 10}, m, slog.New(slog.NewTextHandler(&logs, nil)))
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fl := &failingListener{Listener: inner}
	ln := g.wrap(fl)
	defer g.close(time.Second)

	for burst, fails := range []int{4, 2} {
		fl.failNext(fails)
		client, err := net.Dial("tcp", inner.Addr().String())
		require.NoError(t, err)
		c, err := ln.Accept()
		require.NoError(t, err, "burst %d", burst)
		require.NoError(t, c.Close())
		require.NoError(t, client.Close())
		require.Equal(t, burst+1, logs.count("cannot accept MQTT connections"), "one warning per burst")
		require.Equal(t, burst+1, logs.count("accepting MQTT connections again"))
	}
	require.Equal(t, 6.0, counterValue(t, m.acceptErrors))

	// Close ends a back-off at once.
	fl.failNext(1 << 30)
	done := make(chan error)
	go func() {
		_, err := ln.Accept()
		done <- err
	}()
	require.Eventually(t, func() bool { return counterValue(t, m.acceptErrors) > 6 }, 5*time.Second, time.Millisecond)
	g.close(time.Second)
	select {
	case err := <-done:
		require.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still backing off after close")
	}
}
