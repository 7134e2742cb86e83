// Package hist owns ltk's histograms of durations (response times, the echo
// app's execution times): their geometry, their compact encoding and their
// quantiles, so that every part of ltk buckets, carries and reads them the
// same way.
//
// The geometry is whole microseconds from 1 µs to 1 h with 2 significant
// digits, Len buckets ([Index], [Bounds]): any value stands for its bucket
// within 1%, and histograms add bucket by bucket, exactly. Package stats
// records into it on the hot path, one array of Len counts per shard.
//
// [AppendEncode] and [Decode] are the compact encoding of a histogram's
// counts: the master/worker protocol carries deltas' histograms in it, the
// results store keeps its per-second samples in it, and the target serves
// its execution times in it.
//
// [Quantile] is the one percentile algorithm: the live statistics (console,
// REST API, CSV, charts), the results store's reports and harvest all answer
// through it.
//
// The package also has the per-second record [Second] with its JSON form, a
// [Recorder] that files observed durations by second (the echo app's
// execution times), and a [Total] that sums seconds. It is a leaf package:
// stats, the wire protocol, the results store and ltk target import it.
package hist
