package bench

import (
	"os"
	"strconv"
	"strings"
)

// portRangeFile holds the system's ephemeral port range ("32768	60999").
const portRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// DefaultPerSource is how many connections one loopback source address
// carries before the next one is used: 95% of half the system's ephemeral
// port range. Linux's connect() picks ports of one parity first; once those
// of one address are taken, every further connect scans the whole range and
// takes milliseconds, which stalls a ramp for seconds and bunches the
// stalled devices' publishes into one burst for the rest of the run.
func DefaultPerSource() int {
	b, err := os.ReadFile(portRangeFile)
	if err != nil {
		return fallbackPerSource
	}
	return perSourceFor(string(b))
}

// perSourceFor is DefaultPerSource for the contents of portRangeFile.
func perSourceFor(portRange string) int {
	f := strings.Fields(portRange)
	if len(f) != 2 {
		return fallbackPerSource
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi <= lo {
		return fallbackPerSource
	}
	return max((hi-lo+1)/2*95/100, 1)
}
