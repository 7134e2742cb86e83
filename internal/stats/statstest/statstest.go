// Package statstest makes realistic stats deltas for tests and benchmarks
// of what merges them (the master, the results store).
package statstest

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
)

// BusyDeltas returns seconds one-second deltas, the first starting at
// start, of devices echo devices publishing once a second: an "MQTT
// publish" and an "echo receive" per device and second, response times
// spread log-uniformly over 0.2–50 ms (so the histograms fill many
// buckets, as a busy worker's do), and one "echo timeout" failure. The same
// seed gives the same deltas.
func BusyDeltas(seed uint64, seconds, devices int, start time.Time) []*stats.Delta {
	rng := rand.New(rand.NewPCG(seed, 2))
	rtt := func() time.Duration {
		return time.Duration(200e3 * math.Pow(250, rng.Float64())) // 0.2 ms × 250^u
	}
	rec := stats.NewRecorder()
	out := make([]*stats.Delta, 0, seconds)
	for s := range seconds {
		for _, name := range []string{"MQTT publish", "echo receive"} {
			e := rec.Entry("echo", name)
			for range devices {
				e.Record(rtt(), 60)
			}
		}
		rec.Entry("echo", "echo timeout").Fail(stats.NoResponseTime, "no echo within 5s", "LTK00001")
		out = append(out, rec.Drain(start.Add(time.Duration(s+1)*time.Second)))
	}
	return out
}
