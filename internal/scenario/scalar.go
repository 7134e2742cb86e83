package scenario

import (
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ltk-dev/ltk/internal/sim"
)

// The scalar readers: each parses one value, records what is wrong with it
// at its position, and returns def when it is absent or wrong.

// scalar returns v's text, recording an error when v is a mapping or a list.
func (e *errs) scalar(v value, where string) (string, bool) {
	if !v.set() {
		return "", false
	}
	if v.n.Kind != yaml.ScalarNode {
		e.at(v.n, "%s must be a single value, not a mapping or a list", where)
		return "", false
	}
	return v.n.Value, true
}

// text returns v as a string (def when absent).
func (e *errs) text(v value, where, def string) string {
	if s, ok := e.scalar(v, where); ok {
		return s
	}
	return def
}

// integer returns v as a whole number in [lo, hi].
func (e *errs) integer(v value, where string, lo, hi, def int) int {
	s, ok := e.scalar(v, where)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		e.at(v.n, "%s: %q is not a whole number", where, s)
		return def
	}
	if n < lo || n > hi {
		e.at(v.n, "%s: %d is out of range: use %d to %d", where, n, lo, hi)
		return def
	}
	return n
}

// boolean returns v as true or false.
func (e *errs) boolean(v value, where string, def bool) bool {
	s, ok := e.scalar(v, where)
	if !ok {
		return def
	}
	switch s {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	e.at(v.n, "%s: %q is not true or false", where, s)
	return def
}

// qos returns v as an MQTT QoS, 0, 1 or 2.
func (e *errs) qos(v value, where string, def byte) byte {
	s, ok := e.scalar(v, where)
	if !ok {
		return def
	}
	switch s {
	case "0":
		return 0
	case "1":
		return 1
	case "2":
		return 2
	default:
		e.at(v.n, "%s: QoS %q: use 0, 1 or 2", where, s)
	}
	return def
}

// duration returns v as a duration ≥ 0 ("10s", "250ms", "1m30s").
func (e *errs) duration(v value, where string, def time.Duration) time.Duration {
	s, ok := e.scalar(v, where)
	if !ok {
		return def
	}
	d, ok := e.parseDuration(v.n, where, s)
	if !ok {
		return def
	}
	return d
}

// parseDuration parses s, part of v's value, as a duration ≥ 0.
func (e *errs) parseDuration(n *yaml.Node, where, s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	switch {
	case err != nil && s != "" && strings.Trim(s, "0123456789.") == "":
		e.at(n, "%s: %q has no unit: write %ss (or ms, m, h)", where, s, s)
	case err != nil:
		e.at(n, "%s: %q is not a duration: write one such as 10s, 250ms or 1m30s", where, s)
	case d < 0:
		e.at(n, "%s: %s is negative: use a duration ≥ 0", where, s)
	default:
		return d, true
	}
	return 0, false
}

// A schedule is when a step repeats, as written: "10s" (fixed), "2s..8s"
// (uniform in the range) or "poisson 10s" (exponential waits with that
// mean: Poisson arrivals).
type schedule struct {
	every sim.Schedule
	mean  time.Duration // the mean wait
	fixed bool
}

// schedule parses v; positive says the wait must be above zero.
func (e *errs) schedule(v value, where string, positive bool) (schedule, bool) {
	s, ok := e.scalar(v, where)
	if !ok {
		return schedule{}, false
	}
	bad := func() (schedule, bool) {
		e.at(v.n, "%s: %q: write a fixed wait (10s), a range (2s..8s) or a mean for Poisson arrivals (poisson 10s)", where, s)
		return schedule{}, false
	}
	switch lo, hi, isRange := strings.Cut(s, ".."); {
	case isRange:
		a, ok1 := e.parseDuration(v.n, where, lo)
		b, ok2 := e.parseDuration(v.n, where, hi)
		if !ok1 || !ok2 {
			return schedule{}, false
		}
		if b < a {
			e.at(v.n, "%s: %s..%s: the end of the range is before its start", where, lo, hi)
			return schedule{}, false
		}
		if positive && b == 0 {
			e.at(v.n, "%s: %s: the wait must be above zero", where, s)
			return schedule{}, false
		}
		span := float64(b-a) + 1
		return schedule{mean: (a + b) / 2, every: func(u float64) time.Duration {
			return a + min(max(time.Duration(u*span), 0), b-a)
		}}, true
	case strings.HasPrefix(s, "poisson"):
		m, ok := e.parseDuration(v.n, where, strings.TrimPrefix(s, "poisson"))
		if !ok {
			return schedule{}, false
		}
		if m == 0 {
			e.at(v.n, "%s: %s: the mean must be above zero", where, s)
			return schedule{}, false
		}
		mean := float64(m)
		return schedule{mean: m, every: func(u float64) time.Duration {
			return time.Duration(-math.Log1p(-min(max(u, 0), 1-1e-16)) * mean)
		}}, true
	case s == "" || !strings.ContainsAny(s[:1], "-+.0123456789"):
		return bad()
	default:
		d, ok := e.parseDuration(v.n, where, s)
		if !ok {
			return schedule{}, false
		}
		if positive && d == 0 {
			e.at(v.n, "%s: %s: the wait must be above zero", where, s)
			return schedule{}, false
		}
		return schedule{mean: d, fixed: true, every: func(float64) time.Duration { return d }}, true
	}
}
