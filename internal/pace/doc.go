// Package pace computes ltk's schedules as pure functions: when the next
// device of a ramp starts (Spawn), how long a device waits between publishes
// (Interval), and how long it backs off before reconnecting (Backoff).
//
// Nothing here sleeps, keeps a timer or draws random numbers: callers pass the
// elapsed time, the count and, where a schedule is random, a number drawn
// uniformly from [0, 1). That keeps every schedule allocation-free and testable
// without a clock; the caller owns the single timer it resets to the result.
package pace
