package srcaddr

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPerSourceFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"32768\t60999\n", 13410}, // Linux's default: 28,232 ports
		{"1024 65535", 30643},
		{"40000 40001", 1},
		{"", fallbackPerSource},
		{"60999 32768", fallbackPerSource},
		{"a b", fallbackPerSource},
		{"1 2 3", fallbackPerSource},
	} {
		require.Equal(t, tc.want, perSourceFor(tc.in), "%q", tc.in)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	require.Equal(t, []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")}, Loopback(2))
	p := Plan{Addrs: Loopback(255), PerSource: 3}
	require.Equal(t, netip.MustParseAddr("127.0.0.2"), p.For(2))
	require.Equal(t, netip.MustParseAddr("127.0.0.3"), p.For(3))
	require.Equal(t, netip.MustParseAddr("127.0.1.0"), p.For(3*254), "on past 127.0.0.255")
	require.Equal(t, netip.MustParseAddr("127.0.0.2"), p.For(3*255), "past the last address, the first again")
	require.False(t, p.Short(3*255))
	require.True(t, p.Short(3*255+1))
	require.Equal(t, netip.Addr{}, Plan{}.For(7), "no addresses: the system's choice")
	require.Equal(t, 4, Needed(10, 3))
	require.Equal(t, 1, Needed(3, 3))
}
