// Package swarm runs a population of simulated devices: it starts them at a
// spawn rate on an open schedule (a device's start never waits for another's
// connect), scales the population up or down on request, and stops devices
// gracefully. A Swarm knows nothing of the CLI or of stats: an ltk worker owns
// one and calls Scale on the master's orders; `ltk run` does the same locally.
package swarm
