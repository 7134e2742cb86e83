//go:build linux

package mqttlean

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// TestTickerOnLoop arms the ticker on the loop of an open connection, sees
// it run no earlier than armed, then arms it far ahead and closes the
// connection: the retiring loop runs the ticker as it goes, after which no
// loop takes a time. Its Loops are its own, so it runs in parallel.
func TestTickerOnLoop(t *testing.T) {
	t.Parallel()
	loops := NewLoops()
	fired := make(chan time.Time, 4)
	loops.SetTicker(func() { fired <- time.Now() })

	tt := targettest.Start(t)
	h := newChanHandler()
	c := dial(t, Options{Addr: tt.Addr(), ClientID: "D-ticker", Username: "unused", Loops: loops}, h)
	receive(t, h.connected, "CONNACK")

	at := time.Now().Add(20 * time.Millisecond)
	require.True(t, loops.ArmTick(at), "a loop runs: it takes the time")
	got := receive(t, fired, "the ticker")
	require.False(t, got.Before(at), "ran %v before the armed time", at.Sub(got))

	require.True(t, loops.ArmTick(time.Now().Add(time.Hour)))
	c.Close()
	require.ErrorIs(t, h.waitClosed(t), ErrClosed)
	receive(t, fired, "the ticker from the retiring loop")
	require.False(t, loops.ArmTick(time.Now().Add(time.Hour)), "no loop runs any more")
	select {
	case <-fired:
		t.Fatal("the ticker ran again")
	default:
	}
}
