//go:build race

package sim

// poolSlack is the allocations per run a test tolerates because the race
// detector makes sync.Pool drop a share of what is put back (on purpose,
// to find misuse): the scratch buffers are then made again.
const poolSlack = 2
