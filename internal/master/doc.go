// Package master coordinates workers: it splits the requested device count
// and spawn rate between them, collects their stats deltas, merges them into
// one picture of the test, and drives a headless test from start to summary.
package master
