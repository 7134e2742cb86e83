package pace

import "time"

// Interval draws a wait uniformly from [Min, Max], like Locust's
// between(min, max): the time a device waits between two publishes.
// Min == Max gives a constant interval; Max < Min is treated as Max == Min.
type Interval struct {
	Min, Max time.Duration
}

// Next maps u, uniform in [0, 1), to a wait uniform in [Min, Max] (to the
// nanosecond, both ends included). u outside [0, 1) is clamped.
func (i Interval) Next(u float64) time.Duration {
	if i.Max <= i.Min {
		return i.Min
	}
	span := i.Max - i.Min
	d := time.Duration(u * (float64(span) + 1))
	return i.Min + min(max(d, 0), span)
}
