//go:build race

package mqttlean

// raceEnabled: the race detector makes sync.Pool drop buffers at random, so
// allocation counts through the pool mean nothing.
const raceEnabled = true
