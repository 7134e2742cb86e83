package mqttlean

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// resolveTTL is how long a resolved broker host name is reused. Fleets of
// thousands of devices dial the same host; one lookup serves them all.
const resolveTTL = 30 * time.Second

// resolveTimeout bounds one lookup.
const resolveTimeout = 10 * time.Second

// resolved is a cached lookup.
type resolved struct {
	ap    netip.AddrPort
	until time.Time
}

var (
	resolveMu    sync.Mutex // Guards resolveCache.
	resolveCache = map[string]resolved{}
)

// resolve turns "host:port" into an address, from the cache when it can.
func resolve(addr string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap, nil
	}
	now := time.Now()
	resolveMu.Lock()
	r, ok := resolveCache[addr]
	resolveMu.Unlock()
	if ok && now.Before(r.until) {
		return r.ap, nil
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("broker address %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("broker address %q: port %q is not a number from 0 to 65535", addr, portText)
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve broker host %q: %w", host, err)
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("resolve broker host %q: no addresses", host)
	}
	ip := ips[0]
	for _, a := range ips { // prefer IPv4, as most brokers listen there first
		if a.Unmap().Is4() {
			ip = a
			break
		}
	}
	ap := netip.AddrPortFrom(ip.Unmap(), uint16(port))
	resolveMu.Lock()
	resolveCache[addr] = resolved{ap: ap, until: now.Add(resolveTTL)}
	resolveMu.Unlock()
	return ap, nil
}
