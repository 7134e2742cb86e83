// Package runtest runs a component's Run(ctx) in the background of a test
// and stops it on demand, failing the test if it does not return in time.
package runtest

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Start calls run in a goroutine with a context of its own and returns stop,
// which cancels that context and returns run's error once run has returned.
// stop fails the test if run is still going limit after the cancel; what
// names the component in that message. stop may be called more than once;
// the test's cleanup calls it too.
func Start(t testing.TB, what string, run func(context.Context) error, limit time.Duration) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			timer := time.NewTimer(limit)
			defer timer.Stop()
			select {
			case err = <-done:
			case <-timer.C:
				t.Fatalf("%s did not stop within %v", what, limit)
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}
