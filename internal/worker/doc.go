// Package worker runs simulated devices for a master.
//
// A [Worker] is one block of devices and the run settings ([runset.Settings],
// checked on receipt: they come from another process): it turns them
// into devices, spawns and stops them on request through a swarm, and hands
// out the stats recorded since the last report as deltas a master can merge.
//
// An [Agent] is a worker process's side of the master/worker protocol: it
// dials the master, says hello with its ordinal, receives its block and the
// settings over the stream, runs the share the master asks for, heartbeats
// every second and sends the stats it drains every second in reports. Its
// devices keep running while the master is away; it reconnects with backoff
// and resynchronises.
package worker
