package target

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// TestLimitsAddNoAllocationPerPacket: the hooks every publish now passes
// (OnPacketRead, OnPublish) and a guarded connection's reads after the
// CONNECT allocate nothing.
func TestLimitsAddNoAllocationPerPacket(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	require.NoError(t, err)
	cfg := Config{Auth: AuthNone}
	cfg.setDefaults()
	h := newHook(mqtt.New(nil), newAuthenticator(&cfg), retainLimits{maxRetained: 10, maxRetainedSize: 100}, m, slog.New(slog.DiscardHandler))
	cl := &mqtt.Client{ID: "dev-a"}
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "/devices/dev-a/events", Payload: []byte("x")}
	require.Zero(t, testing.AllocsPerRun(1000, func() {
		pk, _ = h.OnPacketRead(cl, pk)
		pk, _ = h.OnPublish(cl, pk)
	}))

	g := newGate(guardLimits{connectTimeout: time.Minute, maxConnectSize: 1 << 10}, m, slog.New(slog.DiscardHandler))
	connect := []byte{0x10, 0x02, 0x00, 0x00}
	c := g.guard(&pingConn{first: connect})
	buf := make([]byte, len(connect))
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	require.Equal(t, connect, buf)
	require.Zero(t, testing.AllocsPerRun(1000, func() { _, _ = c.Read(buf[:2]) }))
}

// pingConn is a connection that sends first, then PINGREQs for ever,
// without allocating (a socket's own reads may allocate under -race).
type pingConn struct {
	net.Conn // nil: only Read, SetDeadline and Close are called
	first    []byte
}

func (c *pingConn) Read(p []byte) (int, error) {
	if len(c.first) > 0 {
		n := copy(p, c.first)
		c.first = c.first[n:]
		return n, nil
	}
	return copy(p, []byte{0xc0, 0x00}), nil
}

func (c *pingConn) SetDeadline(time.Time) error { return nil }
func (c *pingConn) Close() error                { return nil }
