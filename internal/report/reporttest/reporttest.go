// Package reporttest builds the stats deltas that tests of the results store,
// harvest and cost feed in, with exactly known counts and times.
package reporttest

import (
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// Delta is one second (starting at unix) of n requests of entry typ/name,
// each taking rtt and carrying size bytes.
func Delta(unix int64, typ, name string, n int64, rtt time.Duration, size int64) *stats.Delta {
	counts := make([]int64, hist.Index(rtt)+1)
	counts[hist.Index(rtt)] = n
	return &stats.Delta{
		Start: time.Unix(unix, 0), End: time.Unix(unix+1, 0),
		Entries: []stats.EntryDelta{{
			Type: typ, Name: name, Requests: n, Sum: time.Duration(n) * rtt, Min: rtt, Max: rtt, ContentBytes: size * n,
			Hist:    counts,
			Seconds: []stats.Second{{Unix: unix, Requests: n}},
		}},
	}
}
