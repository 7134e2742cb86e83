package worker

import (
	"net/netip"
	"net/url"

	"github.com/ltk-dev/ltk/internal/srcaddr"
)

// sourcePlan returns the source addresses the n devices of a block dial
// broker from: sources as configured when it names addresses; else, for
// a broker on IPv4 loopback and more devices than one address carries,
// loopback addresses from 127.0.0.2 on (as ltk bench does); else the
// system's choice. short reports a block more than the plan's addresses
// carry, whose later connects stall.
func sourcePlan(sources srcaddr.Plan, broker string, n int) (plan srcaddr.Plan, short bool) {
	if sources.PerSource < 1 {
		sources.PerSource = srcaddr.DefaultPerSource()
	}
	if len(sources.Addrs) == 0 && n > sources.PerSource && loopback4(broker) {
		sources.Addrs = srcaddr.Loopback(srcaddr.Needed(n, sources.PerSource))
	}
	if len(sources.Addrs) == 0 {
		return srcaddr.Plan{}, sources.Short(n)
	}
	return sources, sources.Short(n)
}

// loopback4 reports whether the broker URL names an IPv4 loopback host.
func loopback4(broker string) bool {
	u, err := url.Parse(broker)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(u.Hostname())
	return err == nil && a.Unmap().Is4() && a.IsLoopback()
}
