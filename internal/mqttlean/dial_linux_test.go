//go:build linux

package mqttlean

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// heldDial dials with the dial worker held just before it opens the
// socket: Dial must return while the worker is held, which it cannot if the
// socket's system calls run on the caller's goroutine. release lets the
// worker go on.
func heldDial(t *testing.T, o Options, h *chanHandler) (c *Conn, release func()) {
	t.Helper()
	entered, gate := make(chan struct{}), make(chan struct{})
	o.beforeConnect = func() {
		close(entered)
		<-gate
	}
	type result struct {
		c   *Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := Dial(&o, h)
		done <- result{c, err}
	}()
	res := receive(t, done, "Dial to return while its connect is held")
	require.NoError(t, res.err)
	receive(t, entered, "the dial worker")
	var once bool
	release = func() {
		if !once {
			once = true
			close(gate)
		}
	}
	t.Cleanup(release)
	return res.c, release
}

// TestDialOffCaller: a raw dial's socket is opened by a dial worker, not by
// Dial's caller; while that worker is held, other connections of the loops
// carry traffic, and the held connection stays dialing until it goes on
// (then connects), is closed, or times out.
func TestDialOffCaller(t *testing.T) {
	if !rawSupported {
		t.Skip("only the epoll transport dials on a worker")
	}
	t.Parallel()
	tt := targettest.Start(t)

	// A connection already up, to show the loops keep serving.
	hA := newChanHandler()
	a := dial(t, Options{Addr: tt.Addr(), ClientID: "A"}, hA)
	receive(t, hA.connected, "CONNACK of A")
	id, err := a.Subscribe("/devices/A/commands/#", 1)
	require.NoError(t, err)
	require.Equal(t, suback{id, 1}, receive(t, hA.subs, "SUBACK of A"))
	echo := func() {
		t.Helper()
		_, err := a.Publish("/devices/A/events", 1, []byte("ping"))
		require.NoError(t, err)
		require.Equal(t, message{"/devices/A/commands", "ping"}, receive(t, hA.msgs, "A's echo while a dial is held"))
	}
	dialing := func(c *Conn) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.st == stateDialing
	}

	t.Run("goes on", func(t *testing.T) {
		h := newChanHandler()
		c, release := heldDial(t, Options{Addr: tt.Addr(), ClientID: "B1"}, h)
		echo()
		require.True(t, dialing(c))
		release()
		receive(t, h.connected, "CONNACK after the held dial went on")
		c.Close()
		require.ErrorIs(t, h.waitClosed(t), ErrClosed)
	})

	t.Run("closed while held", func(t *testing.T) {
		h := newChanHandler()
		c, release := heldDial(t, Options{Addr: tt.Addr(), ClientID: "B2"}, h)
		c.Close() // must not wait for the worker
		echo()
		release()
		require.ErrorIs(t, h.waitClosed(t), ErrClosed)
		require.Empty(t, h.connected)
		_, err := c.Publish("/devices/B2/events", 0, nil)
		require.ErrorIs(t, err, ErrNotConnected)
	})

	t.Run("times out while held", func(t *testing.T) {
		h := newChanHandler()
		begin := time.Now()
		c, release := heldDial(t, Options{Addr: tt.Addr(), ClientID: "B3", ConnectTimeout: 50 * time.Millisecond}, h)
		require.Eventually(t, func() bool { return !dialing(c) }, waitLimit, time.Millisecond, "the connect timeout fires")
		release()
		require.ErrorIs(t, h.waitClosed(t), ErrConnectTimeout)
		require.GreaterOrEqual(t, time.Since(begin), 50*time.Millisecond)
		require.Empty(t, h.connected)
	})
}
