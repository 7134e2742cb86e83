package runtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStopCancelsAndReturnsTheError(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	stop := Start(t, "component", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return errors.New("stopped: " + context.Cause(ctx).Error())
	}, 5*time.Second)
	<-started
	require.EqualError(t, stop(), "stopped: context canceled")
	require.EqualError(t, stop(), "stopped: context canceled", "a second stop returns the same error")
}

func TestStopReportsARunThatHangs(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	ft := &fakeTB{TB: t}
	stop := Start(ft, "hanging component", func(context.Context) error { <-release; return nil }, 10*time.Millisecond)
	require.NoError(t, stop())
	require.Equal(t, "hanging component did not stop within 10ms", ft.msg)
}

// fakeTB records the failure Start reports instead of failing the test.
type fakeTB struct {
	testing.TB
	msg string
}

func (f *fakeTB) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }
