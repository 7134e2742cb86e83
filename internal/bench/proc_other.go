//go:build !unix

package bench

import "time"

// selfCPU is unknown here: CPU per echo reads as 0.
func selfCPU() time.Duration { return 0 }

// fdLimit is unknown here.
func fdLimit() int { return 0 }
