// Package scenario loads scenario files: YAML descriptions of a fleet's
// devices (their kinds and mix, connections, subscriptions, publishes,
// expected replies and reactions) that users write instead of Go. Load
// checks a file, reporting every error at its line and column, and
// compiles it into a sim.Plan that the device engine runs: templates into
// parts that render without allocating, conditions and computed values
// into github.com/expr-lang/expr programs, and every named step into a
// stats entry. Check estimates the traffic a scenario makes at a number of
// devices.
//
// The format is documented in the README ("Describe your devices"); the
// examples ship in package examples/scenarios.
package scenario
