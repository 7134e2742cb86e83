// Package stats records request outcomes in ltk workers and merges them into
// Locust-style statistics on the master.
//
// Recording happens on the hot path. A [Recorder] hands out one [Entry] per
// (type, name), such as ("echo", "echo receive"); device goroutines keep the
// Entry and call [Entry.Record] or [Entry.Fail], which allocate nothing and
// never wait on each other for long: an Entry is split into shards, one per
// processor, each a mutex over exact counters, a histogram of response times
// (package hist's geometry) and per-second counts, and a call takes the first shard it can lock.
//
// Every report interval the worker calls [Recorder.Drain], which moves what
// was recorded since the previous Drain, shard by shard under its lock, into a
// [Delta]: plain exported data (counts, exact min/max/sum, histogram bucket
// counts, per-second counts, failures grouped by message with a few examples
// each) that the master/worker protocol can carry as it is.
//
// A failure may have no response time ([NoResponseTime]: an awaited reply
// that never came, Locust's response time of None): it counts as a request
// and a failure, but is in no histogram, average, extreme or percentile. The
// histograms hold one value per timed request (requests - untimed).
//
// The master adds every Delta to an [Aggregate]. Adding is exact: histogram
// buckets, counts and per-second counts add, and min and max combine, so
// deltas from any number of workers give the same result in any order, the
// same as if one process had recorded everything. [Aggregate.Snapshot] turns
// the totals into a [Snapshot] of [EntryStats] (percentiles, averages, total
// and current rates) that the writers print as Locust's console tables and
// CSV files.
//
// Response times go into the histograms in package hist's geometry (whole
// microseconds, from 1 µs to 1 h, 2 significant digits) and percentiles come
// from hist.Quantile: within 1% (and 1 µs) of the true value, clamped to the
// exact min and max, the same as the results store reports for the same
// values. A shard's histogram takes 26 KiB.
package stats
