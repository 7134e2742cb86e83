package worker

import (
	"runtime/metrics"
	"time"
)

// usage measures the process's CPU use between heartbeats.
type usage struct {
	lastCPU  time.Duration
	lastWall time.Time
}

// sample returns the CPU used since the previous sample, in % of one core,
// and the memory the Go runtime holds from the OS.
func (u *usage) sample(now time.Time) (cpuPercent float64, memBytes uint64) {
	cpu := cpuTime()
	if !u.lastWall.IsZero() {
		if wall := now.Sub(u.lastWall); wall > 0 {
			cpuPercent = 100 * float64(cpu-u.lastCPU) / float64(wall)
		}
	}
	u.lastCPU, u.lastWall = cpu, now
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		memBytes = s[0].Value.Uint64()
	}
	return max(cpuPercent, 0), memBytes
}
