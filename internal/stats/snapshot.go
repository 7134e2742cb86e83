package stats

import (
	"slices"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
)

// A Snapshot is the statistics of a test at one moment, as Locust shows them.
type Snapshot struct {
	Start    time.Time      // when the test (or the last reset) started
	Now      time.Time      // when the snapshot was taken
	Entries  []EntryStats   // entries with at least one request, sorted by (Type, Name)
	Total    EntryStats     // all entries together: Locust's "Aggregated" row (Type "")
	Failures []FailureStats // sorted by Occurrences, most first
}

// EntryStats is the statistics of one entry. Failures count as requests, as
// in Locust, and their response times count too, but for the untimed ones
// (an awaited reply that never came), which are in no response time,
// average or percentile, as Locust's requests with a response time of None.
// The zero value is an entry with no requests.
type EntryStats struct {
	Type, Name  string
	NumRequests int64 // requests, failures included
	NumFailures int64
	NumUntimed  int64 // failures without a response time, among NumFailures

	Avg, Min, Max time.Duration // exact, over the timed requests; 0 if none
	Median        time.Duration // Percentile(0.5)

	AvgContentLength float64 // bytes per request

	TotalRPS        float64 // requests per second since Start
	TotalFailPerSec float64 // failures per second since Start

	// CurrentRPS and CurrentFailPerSec are averaged over the 10 whole
	// seconds before the last 2, as Locust does: the last 2 are left out
	// because workers have not reported all of them yet.
	CurrentRPS        float64
	CurrentFailPerSec float64

	hist    []int64 // response-time buckets (package hist); read-only, nil if no requests
	recent  []int64 // the same for the last 10 seconds; nil if none
	recentN int64   // the values recent holds
}

// FailureStats counts the failures of one entry that had one message.
type FailureStats struct {
	Type, Name, Message string
	Occurrences         int64
	Examples            []string // up to MaxExamples, such as failing devices' ids
}

// Percentile returns the response time that a fraction q (0 to 1) of the
// timed requests took at most, such as 0.99 for the 99th percentile: hist.Quantile,
// within 1% (and 1 µs) of the exact value, never below Min or above Max
// (which q <= 0 and q >= 1 return exactly).
func (e EntryStats) Percentile(q float64) time.Duration {
	if e.hist == nil {
		return 0
	}
	t := hist.Total{Count: e.NumRequests - e.NumUntimed, Min: e.Min, Max: e.Max, Counts: e.hist}
	return t.Quantile(q)
}

// CurrentPercentile is Percentile for the requests in the Deltas added that
// ended in the last 10 seconds: Locust's current response time percentile,
// which its charts show. It is 0 if there were none.
func (e EntryStats) CurrentPercentile(q float64) time.Duration {
	if e.recent == nil {
		return 0
	}
	return min(max(hist.Quantile(e.recent, e.recentN, q), e.Min), e.Max)
}

// FailRatio returns the fraction of requests that failed, from 0 to 1.
func (e EntryStats) FailRatio() float64 {
	if e.NumRequests == 0 {
		return 0
	}
	return float64(e.NumFailures) / float64(e.NumRequests)
}

// rows returns the entries of s followed by its total, for the writers.
func rows(s Snapshot) []EntryStats {
	return slices.Concat(s.Entries, []EntryStats{s.Total})
}
