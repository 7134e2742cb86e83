package pace

import (
	"math"
	"time"
)

// maxDuration is the largest time.Duration; schedules saturate at it.
const maxDuration = time.Duration(math.MaxInt64)

// Spawn schedules the starts of a ramp at a constant rate. Device n (0-based)
// starts n/Rate seconds after the ramp began, so device 0 starts at once:
//
//	Next(n)      = ceil(n · 1e9 / Rate) ns
//	Due(elapsed) = #{n ≥ 0 : Next(n) ≤ elapsed} = floor(elapsed · Rate) + 1
//
// Rate is in devices per second. The zero value, and any Rate that is not a
// positive finite number, starts every device at once (Next is 0, Due is
// unbounded). Spawn is an open schedule: a device's start never depends on
// how long another device took to connect.
type Spawn struct {
	Rate float64 // devices per second; ≤ 0 = all at once
}

// allAtOnce reports whether the schedule has no rate limit.
func (s Spawn) allAtOnce() bool {
	return !(s.Rate > 0) || math.IsInf(s.Rate, 1)
}

// Next returns when device n (0-based) starts, measured from the start of
// the ramp. Negative n is treated as 0.
func (s Spawn) Next(n int) time.Duration {
	if n <= 0 || s.allAtOnce() {
		return 0
	}
	ns := math.Ceil(float64(n) * 1e9 / s.Rate)
	if ns >= float64(maxDuration) {
		return maxDuration
	}
	return time.Duration(ns)
}

// Due returns how many devices should have started elapsed after the start
// of the ramp: 1 at elapsed 0, 0 before it. It is exactly consistent with
// Next: device n has started by elapsed if and only if n < Due(elapsed).
// Without a rate limit it returns math.MaxInt; callers cap it at their count.
func (s Spawn) Due(elapsed time.Duration) int {
	if elapsed < 0 {
		return 0
	}
	if s.allAtOnce() {
		return math.MaxInt
	}
	est := math.Floor(elapsed.Seconds()*s.Rate) + 1
	if est >= 1<<52 { // beyond float precision; no device count gets here
		return int(min(est, math.MaxInt/2))
	}
	n := int(est)
	// The float estimate can be one off either way; Next is the authority.
	for range 3 {
		if n > 0 && s.Next(n-1) > elapsed {
			n--
		} else if s.Next(n) <= elapsed {
			n++
		} else {
			break
		}
	}
	return n
}

// Pace returns how long to wait, elapsed after the start of the ramp, until
// device n is due: 0 when it is due already. A starter loop calls it with the
// number of devices it has started so far and resets its timer to the result.
func (s Spawn) Pace(elapsed time.Duration, n int) time.Duration {
	if wait := s.Next(n) - elapsed; wait > 0 {
		return wait
	}
	return 0
}
