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
// loop takes a time. Not parallel: it needs the process's loops to itself,
// and the ticker is the process's.
func TestTickerOnLoop(t *testing.T) {
	fired := make(chan time.Time, 4)
	SetTicker(func() { fired <- time.Now() })
	t.Cleanup(func() { tickFunc.Store(nil) })

	tt := targettest.Start(t)
	h := newChanHandler()
	c := dial(t, Options{Addr: tt.Addr(), ClientID: "D-ticker", Username: "unused"}, h)
	receive(t, h.connected, "CONNACK")

	at := time.Now().Add(20 * time.Millisecond)
	require.True(t, ArmTick(at), "a loop runs: it takes the time")
	got := receive(t, fired, "the ticker")
	require.False(t, got.Before(at), "ran %v before the armed time", at.Sub(got))

	require.True(t, ArmTick(time.Now().Add(time.Hour)))
	c.Close()
	require.ErrorIs(t, h.waitClosed(t), ErrClosed)
	receive(t, fired, "the ticker from the retiring loop")
	require.False(t, ArmTick(time.Now().Add(time.Hour)), "no loop runs any more")
	select {
	case <-fired:
		t.Fatal("the ticker ran again")
	default:
	}
}
