// Package worker runs one block of simulated devices: it turns the block and
// the run Settings into devices, spawns and stops them on request through a
// swarm, and hands out the stats recorded since the last report as deltas a
// master can merge.
package worker
