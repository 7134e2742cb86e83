// Package hist holds the response-time histograms of ltk's results: one
// histogram per second, in the same geometry as package stats (whole
// microseconds from 1 µs to 1 h, 2 significant digits), so that any run of
// seconds adds up to an exact distribution.
//
// It provides the compact encoding the results store and the target's
// execution-time endpoint use ([AppendEncode], [Decode]), the per-second
// record [Second] with its JSON form, a [Recorder] that files observed
// durations by second (the echo app's execution times), and a [Total] that
// sums seconds and answers percentiles.
//
// It is a leaf package: ltk target imports it without the results store.
package hist
