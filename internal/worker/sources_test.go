package worker

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/srcaddr"
	"github.com/ltk-dev/ltk/internal/stats"
)

// TestWorkerSpreadsSourceAddresses runs a block of 5 devices, 2 per source
// address, against a listener on loopback that records where each
// connection comes from: 127.0.0.2 twice, 127.0.0.3 twice, 127.0.0.4 once.
func TestWorkerSpreadsSourceAddresses(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer lis.Close()
	from := make(chan netip.Addr)
	go func() {
		var conns []net.Conn // held open: the devices await their CONNACK and do not redial
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			from <- c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
		}
	}()

	s := validSettings()
	s.Broker = "tcp://" + lis.Addr().String()
	block := make([]device.Device, 5)
	for i := range block {
		block[i].ID = device.FormatID("W", 3, i+1)
	}
	plan, err := checkSettings(&s)
	require.NoError(t, err)
	w, err := newWorker(Block{Devices: block}, &s, plan, stats.NewRecorder(), srcaddr.Plan{PerSource: 2}, nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	require.NoError(t, w.Scale(5, 0))
	got := map[netip.Addr]int{}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for range 5 {
		select {
		case a := <-from:
			got[a]++
		case <-timeout.C:
			t.Fatalf("only %v connected", got)
		}
	}
	require.Equal(t, map[netip.Addr]int{
		netip.MustParseAddr("127.0.0.2"): 2, netip.MustParseAddr("127.0.0.3"): 2, netip.MustParseAddr("127.0.0.4"): 1,
	}, got)
	cancel()
	lis.Close()
	require.NoError(t, <-done)
}

func TestSourcePlan(t *testing.T) {
	t.Parallel()
	given := srcaddr.Plan{Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("10.0.0.6")}, PerSource: 100}
	for _, tc := range []struct {
		name    string
		sources srcaddr.Plan
		broker  string
		n       int
		addrs   int
		short   bool
	}{
		{"small block", srcaddr.Plan{PerSource: 100}, "tcp://127.0.0.1:1883", 100, 0, false},
		{"loopback", srcaddr.Plan{PerSource: 100}, "tcp://127.0.0.1:1883", 250, 3, false},
		{"localhost", srcaddr.Plan{PerSource: 100}, "ssl://localhost:8883", 101, 2, false},
		{"remote", srcaddr.Plan{PerSource: 100}, "tcp://mqtt.example.com:1883", 101, 0, true},
		{"IPv6 loopback", srcaddr.Plan{PerSource: 100}, "tcp://[::1]:1883", 101, 0, true},
		{"given", given, "tcp://mqtt.example.com:1883", 200, 2, false},
		{"given, short", given, "tcp://127.0.0.1:1883", 201, 2, true},
	} {
		p, short := sourcePlan(tc.sources, tc.broker, tc.n)
		require.Len(t, p.Addrs, tc.addrs, tc.name)
		require.Equal(t, tc.short, short, tc.name)
		if tc.addrs > 0 && !tc.short {
			require.Equal(t, p.Addrs[tc.addrs-1], p.For(tc.n-1), "%s: the last device dials from the last address", tc.name)
		}
	}
}
