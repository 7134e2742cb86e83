// Package srcaddr spreads many connections to one broker address over
// several source addresses. A TCP connection is named by its four-tuple, so
// one source address reaches one broker address through at most the
// ephemeral port range (28,232 ports by Linux's default), and connect()
// slows to a crawl well before (DefaultPerSource). ltk bench and workers
// with large blocks dial from several addresses: loopback ones (127.0.0.2,
// 127.0.0.3, …, all of 127/8 is local) for a broker on loopback, the ones a
// person gives otherwise.
package srcaddr

import (
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// portRangeFile holds the system's ephemeral port range ("32768	60999").
const portRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// fallbackPerSource is how many connections one source address carries
// when the ephemeral port range cannot be read.
const fallbackPerSource = 10_000

// DefaultPerSource is how many connections one source address carries
// before the next one is used: 95% of half the system's ephemeral port
// range. Linux's connect() picks ports of one parity first; once those of
// one address are taken, every further connect scans the whole range and
// takes milliseconds, which stalls a ramp for seconds and bunches the
// stalled devices' publishes into one burst for the rest of the run.
func DefaultPerSource() int {
	b, err := os.ReadFile(portRangeFile)
	if err != nil {
		return fallbackPerSource
	}
	return perSourceFor(string(b))
}

// perSourceFor is DefaultPerSource for the contents of portRangeFile.
func perSourceFor(portRange string) int {
	f := strings.Fields(portRange)
	if len(f) != 2 {
		return fallbackPerSource
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi <= lo {
		return fallbackPerSource
	}
	return max((hi-lo+1)/2*95/100, 1)
}

// Needed returns how many source addresses n connections take at
// perSource (≥ 1) each.
func Needed(n, perSource int) int { return (n + perSource - 1) / perSource }

// firstLoopback is the first loopback source address Loopback gives:
// 127.0.0.1 stays the default source of everything else on the machine.
var firstLoopback = netip.AddrFrom4([4]byte{127, 0, 0, 2})

// Loopback returns n loopback source addresses, 127.0.0.2 on.
func Loopback(n int) []netip.Addr {
	addrs := make([]netip.Addr, n)
	a := firstLoopback
	for i := range addrs {
		addrs[i] = a
		a = a.Next()
	}
	return addrs
}

// Plan assigns source addresses to the connections of a fleet, in order:
// the first PerSource connections dial from Addrs[0], the next PerSource
// from Addrs[1], and so on; past the last address it starts again at the
// first. The zero Plan dials from no particular address.
type Plan struct {
	Addrs     []netip.Addr
	PerSource int // ≥ 1 when Addrs is not empty
}

// For returns the source address of connection i; the zero Addr (the
// system's choice) when the plan has no addresses.
func (p Plan) For(i int) netip.Addr {
	if len(p.Addrs) == 0 || p.PerSource < 1 {
		return netip.Addr{}
	}
	return p.Addrs[i/p.PerSource%len(p.Addrs)]
}

// Short reports whether n connections overload the plan's addresses:
// more than PerSource each, counting the system's one address for a plan
// without any.
func (p Plan) Short(n int) bool {
	per := p.PerSource
	if per < 1 {
		per = DefaultPerSource()
	}
	return n > max(len(p.Addrs), 1)*per
}
