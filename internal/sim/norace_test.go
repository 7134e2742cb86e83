//go:build !race

package sim

// poolSlack is the allocations per run a test tolerates from sync.Pool: none
// without the race detector.
const poolSlack = 0
