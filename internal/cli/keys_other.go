//go:build !linux

package cli

import "context"

// readKeys reads Locust's headless keys on Linux only; elsewhere the
// channel is nil (it never receives) and stop does nothing.
func readKeys(context.Context, *Env) (changes <-chan int, stop func()) { return nil, func() {} }
