package web

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// hostCheck refuses requests whose Host header names a host this UI was
// not told it answers to, against DNS rebinding: a page on a name the
// attacker controls, re-pointed at this address, would otherwise drive the
// UI from a browser that can reach it. An IP address or localhost (a
// rebinding attack needs a name of its own) always passes, as do the host
// the UI listens on and the allowed names; allowed "*" turns the check off
// and ".example.com" allows the subdomains of example.com. A request with
// no Host (HTTP/1.0 tools) passes: browsers always send one.
type hostCheck struct {
	any   bool
	names map[string]bool
	zones []string // ".example.com"
}

func newHostCheck(addr string, allowed []string) *hostCheck {
	c := &hostCheck{names: map[string]bool{}}
	if host, _, err := net.SplitHostPort(addr); err == nil && host != "" {
		c.names[strings.ToLower(host)] = true
	}
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSpace(a))
		switch {
		case a == "*":
			c.any = true
		case strings.HasPrefix(a, "."):
			c.zones = append(c.zones, a)
		case a != "":
			c.names[a] = true
		}
	}
	return c
}

// ok reports whether the Host header host (with or without a port) passes.
func (c *hostCheck) ok(host string) bool {
	if c.any || host == "" {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") || c.names[host] {
		return true
	}
	for _, z := range c.zones {
		if strings.HasSuffix(host, z) {
			return true
		}
	}
	return false
}

// wrap refuses, with 421 Misdirected Request, every request to h whose
// Host does not pass.
func (c *hostCheck) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.ok(r.Host) {
			writeFailure(w, http.StatusMisdirectedRequest, fmt.Sprintf("this ltk UI does not answer to the host %q (a guard against DNS rebinding): "+
				"open it by IP address or localhost, or start the master with --web-allowed-hosts %s", printableHost(r.Host), printableHost(r.Host)))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// printableHost is a Host header cut to a sane length for a message.
func printableHost(h string) string {
	if len(h) > 100 {
		h = h[:100]
	}
	return strings.ToValidUTF8(h, "?")
}
