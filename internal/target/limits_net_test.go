package target_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqttpackets "github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// awaitClosed reads conn until the target closes it (EOF or reset) and fails
// the test if it is still open after waitFor.
func awaitClosed(t testing.TB, conn net.Conn, what string) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(waitFor)))
	_, err := io.Copy(io.Discard, conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the target kept the connection open for %v", what, waitFor)
	}
}

// TestSilentSocketIsClosed: a connection that sends no CONNECT, or only part
// of one, is closed after the connect timeout and counted.
func TestSilentSocketIsClosed(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.ConnectTimeout = 200 * time.Millisecond })
	silent, err := net.Dial("tcp", tt.Addr())
	require.NoError(t, err)
	defer silent.Close()
	slow, err := net.Dial("tcp", tt.Addr())
	require.NoError(t, err)
	defer slow.Close()
	_, err = slow.Write([]byte{0x10, 0x20, 0x00}) // a CONNECT of 34 bytes, 1 sent
	require.NoError(t, err)

	awaitClosed(t, silent, "silent socket")
	awaitClosed(t, slow, "socket that sent part of a CONNECT")
	require.Eventually(t, func() bool {
		return metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(target.ReasonConnectTimeout)) == 2
	}, waitFor, 5*time.Millisecond)

	// A prompt device is not affected.
	mustDial(t, tt.BrokerURL(), "dev-a", "", nil)
}

// TestHostileConnectsKeepMemoryBounded opens 50 sockets that each announce a
// CONNECT of 256 MiB ("10 ff ff ff 7f") and send garbage. mochi v2.7.9
// allocates the announced length before reading it (256 MiB per socket; the
// attack took a target from 25 MB to 287 MB with one socket); the target must
// refuse each from its fixed header. The bound: 50 connections cost a few
// hundred KiB (goroutines, buffers), so 16 MiB of heap growth leaves room for
// the GC's timing on a busy machine and is 16 times smaller than one
// announced CONNECT.
func TestHostileConnectsKeepMemoryBounded(t *testing.T) {
	tt := targettest.Start(t)
	const sockets, bound = 50, 16 << 20
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	garbage := bytes.Repeat([]byte{0xa5}, 64<<10)
	conns := make([]net.Conn, sockets)
	var wg sync.WaitGroup
	for i := range conns {
		c, err := net.Dial("tcp", tt.Addr())
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		conns[i] = c
		wg.Go(func() {
			// The target may close before the garbage is written: ignore write errors.
			if _, err := c.Write([]byte{0x10, 0xff, 0xff, 0xff, 0x7f}); err == nil {
				_, _ = c.Write(garbage)
			}
		})
	}
	wg.Wait()
	open := 0 // sockets the target still holds after waitFor
	deadline := time.Now().Add(waitFor)
	for _, c := range conns {
		require.NoError(t, c.SetReadDeadline(deadline))
		if _, err := io.Copy(io.Discard, c); errors.Is(err, os.ErrDeadlineExceeded) {
			open++
		}
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("HeapInuse %d -> %d bytes (growth %d) for %d hostile sockets", before.HeapInuse, after.HeapInuse, growth, sockets)
	require.Less(t, growth, int64(bound))
	require.Zero(t, open, "sockets that announced a 256 MiB CONNECT still open")
	require.Equal(t, float64(sockets), metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(target.ReasonConnectTooLarge)))
}

// TestMaxPacketSize: an authenticated device's publish over the limit closes
// its connection and is not echoed; one under the limit is.
func TestMaxPacketSize(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	tt := targettest.Start(t, func(c *target.Config) { c.MaxPacketSize = limit })
	lost := make(chan error, 1)
	echoes := make(chan paho.Message, 2)
	c := mustDial(t, tt.BrokerURL(), "dev-a", "", lost)
	require.Equal(t, byte(1), subackCode(t, c, "/devices/dev-a/commands/#", func(_ paho.Client, m paho.Message) { echoes <- m }))

	small := strings.Repeat("s", limit-100)
	wait(t, c.Publish("/devices/dev-a/events", 1, false, small))
	require.Len(t, receive(t, echoes, "echo of a publish under the limit").Payload(), len(small))

	c.Publish("/devices/dev-a/events", 1, false, strings.Repeat("L", limit+1))
	receive(t, lost, "disconnect after a publish over the limit")
	select {
	case m := <-echoes:
		t.Fatalf("publish over the limit echoed (%d bytes)", len(m.Payload()))
	default:
	}
}

// TestRetainedLimits: retained publishes beyond the count or size limit are
// delivered but not retained.
func TestRetainedLimits(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) {
		c.DisableEcho, c.MaxRetained, c.MaxRetainedSize = true, 3, 100
	})
	pub := mustDial(t, tt.BrokerURL(), "ltk-echo-publisher", "", nil)
	for _, topic := range []string{"r/1", "r/2", "r/3", "r/4", "r/5"} {
		wait(t, pub.Publish(topic, 1, true, "kept?"))
	}
	wait(t, pub.Publish("r/1", 1, true, "replaces a retained message: fits"))
	wait(t, pub.Publish("r/big", 1, true, strings.Repeat("b", 101)))

	// Retained messages reach a new subscriber before anything it publishes
	// itself afterwards (mochi sends them while handling the SUBSCRIBE).
	got := make(chan paho.Message, 10)
	sub := mustDial(t, tt.BrokerURL(), "ltk-echo-subscriber", "", nil)
	require.Equal(t, byte(1), subackCode(t, sub, "r/#", func(_ paho.Client, m paho.Message) { got <- m }))
	wait(t, sub.Publish("r/marker", 1, false, "end"))
	var retained []string
	for m := receive(t, got, "retained or marker"); m.Topic() != "r/marker"; m = receive(t, got, "retained or marker") {
		// mochi acknowledges a publish before it delivers it, so on a busy
		// machine the last publish may reach the subscriber live (flag
		// unset) after its SUBSCRIBE: only retained deliveries count here.
		if m.Retained() {
			retained = append(retained, m.Topic()+"="+string(m.Payload()))
		}
	}
	require.ElementsMatch(t, []string{"r/1=replaces a retained message: fits", "r/2=kept?", "r/3=kept?"}, retained)
	require.Equal(t, 3.0, metric(t, tt.Registry(), "ltk_target_retained_refused_total"))
}

// TestInflightLimitIsAdvertised: MQTT 5 clients learn the per-client
// inflight limit from the CONNACK's Receive Maximum.
func TestInflightLimitIsAdvertised(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.MaxInflight = 7 })
	_, ack := rawConnectConn(t, tt.Addr(), mqttpackets.ConnectParams{ClientIdentifier: "dev-a"}, 5)
	require.Zero(t, ack.ReasonCode)
	require.Equal(t, uint16(7), ack.Properties.ReceiveMaximum)
}
