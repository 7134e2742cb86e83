// Package master coordinates ltk workers over gRPC (internal/wire/ltkv1).
//
// A [Master] listens for workers, admits those with the cluster token and
// the master's version, and keeps a registry of them by ordinal: worker k
// gets block k of the device list, keys included. [Master.Start] splits the
// requested devices and spawn rate between the connected workers; a worker
// that joins later gets a share at the spawn rate, and one that comes back
// after it went missing (3 missed heartbeats) resumes its share. Every stats
// delta the workers report is validated (a delta that is inconsistent or
// would overflow the totals is refused, logged, counted and shown as the
// worker's exception), merged exactly into one [stats.Aggregate] and then
// passed to [Config.OnDelta]; [Master.Collect] snapshots it. Deltas carry
// their worker's sequence numbers: the master acknowledges them in its
// heartbeat acks, counts a delta resent after a reconnect once, and counts
// gaps as lost ([Master.Deltas]). Text a worker sends (its host name,
// exceptions) is escaped before it reaches a terminal. [Master.RunHeadless]
// drives a test from waiting for workers to the summary.
package master
