package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultHost       = "0.0.0.0"
	DefaultPort       = 8089 // Locust's
	DefaultAddr       = ":8089"
	DefaultInterval   = 2 * time.Second // how often stats are pushed and history recorded
	DefaultHistoryLen = 10800           // 6 hours at DefaultInterval
	// shutdownTimeout bounds how long Run waits for requests in flight.
	shutdownTimeout = 5 * time.Second
)

// Config configures a Server. The zero value serves on :8089 without auth.
type Config struct {
	// Addr is the host:port to listen on; default ":8089". Port 0 picks a
	// free port (see Server.Addr).
	Addr string `json:"addr"`
	// Auth is "user:pass" to require HTTP basic auth on every route, /metrics
	// included; empty means no auth. The password may contain colons.
	Auth string `json:"-"`
	// AllowedHosts are the host names, besides IP addresses, localhost and
	// Addr's host, that requests may name in their Host header; others are
	// refused (421) against DNS rebinding. "*" allows any; ".example.com"
	// allows example.com's subdomains.
	AllowedHosts []string `json:"-"`
	// Interval is how often the server samples the Controller's stats to
	// record history, push them to browsers and update the metrics; default
	// DefaultInterval.
	Interval time.Duration `json:"interval"`
	// HistoryLen is how many points of chart history are kept; default
	// DefaultHistoryLen. The oldest are dropped first.
	HistoryLen int `json:"history_len"`
	// Registry receives the ltk_master_* metrics and is what /metrics serves,
	// so metrics other components register on it are served too. Nil: a
	// private registry.
	Registry *prometheus.Registry `json:"-"`
	// Version is shown in the UI's header; default "dev".
	Version string `json:"-"`
	// Log receives warnings (such as an exposed UI without auth); nil discards.
	Log *slog.Logger `json:"-"`
	// Broker is the URL of the broker the devices connect to: the UI shows
	// it, and POST /swarm answers it as Locust's "host" and refuses another
	// (ltk's broker is a setting of the master, not of a test).
	Broker string `json:"broker"`
	// Local says the workers are this process's own (ltk run): as for
	// Locust's local runner, GET /stats/requests then has no "workers".
	Local bool `json:"local"`
	// ExpectWorkers is how many workers the master waits for: until that
	// many are connected the UI says it is waiting and offers no Start.
	ExpectWorkers int `json:"expect_workers"`
	// Behavior names what each device does: the one user class and task
	// of GET /tasks. Default "echo".
	Behavior string `json:"behavior"`
	// Scenario, when the devices run a scenario, names it and its kinds
	// with their shares of the fleet: the UI shows them.
	Scenario *Scenario `json:"scenario,omitempty"`
}

// Scenario describes the scenario a test's devices run.
type Scenario struct {
	Name  string      `json:"name"`
	Kinds []KindShare `json:"kinds"`
}

// KindShare is one kind of device of a scenario: its share of the fleet
// (weights), or the fixed number of its clients (back ends).
type KindShare struct {
	Kind  string  `json:"kind"`
	Share float64 `json:"share,omitempty"` // 0..1
	Count int     `json:"count,omitempty"`
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.HistoryLen <= 0 {
		c.HistoryLen = DefaultHistoryLen
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Behavior == "" {
		c.Behavior = "echo"
	}
}

// Validate reports whether c (after defaults) is usable.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("web address %q: %w (want host:port, such as 0.0.0.0:8089)", c.Addr, err)
	}
	if c.Auth != "" {
		if _, _, err := splitAuth(c.Auth); err != nil {
			return err
		}
	}
	return nil
}

// errAuthFormat says how to write --web-auth.
var errAuthFormat = errors.New(`web auth must be "user:pass" with a non-empty user and password (--web-auth, LTK_WEB_AUTH)`)

// splitAuth splits "user:pass" at its first colon.
func splitAuth(s string) (user, pass string, err error) {
	user, pass, ok := strings.Cut(s, ":")
	if !ok || user == "" || pass == "" {
		return "", "", errAuthFormat
	}
	return user, pass, nil
}

// Exposed reports whether addr listens beyond the loopback interface: an
// empty host, an unspecified address, or any name or address other than
// localhost and 127.0.0.0/8 or ::1.
func Exposed(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
