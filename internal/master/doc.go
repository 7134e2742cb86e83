// Package master coordinates ltk workers over gRPC (internal/wire/ltkv1).
//
// A [Master] listens for workers, admits those with the cluster token and
// the master's version, and keeps a registry of them by ordinal: worker k
// gets block k of the device list, keys included. [Master.Start] splits the
// requested devices and spawn rate between the connected workers; a worker
// that joins later gets a share at the spawn rate, and one that comes back
// after it went missing (3 missed heartbeats) resumes its share. Every stats
// delta the workers report passes [Config.OnDelta] and is merged exactly into
// one [stats.Aggregate]; [Master.Collect] snapshots it. [Master.RunHeadless]
// drives a test from waiting for workers to the summary.
package master
