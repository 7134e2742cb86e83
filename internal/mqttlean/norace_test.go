//go:build !race

package mqttlean

const raceEnabled = false
