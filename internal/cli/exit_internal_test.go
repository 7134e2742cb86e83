package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/syncbuf"
)

func TestExit(t *testing.T) {
	t.Parallel()
	cause := errors.New("broker unreachable")
	for _, tc := range []struct {
		name   string
		run    func() error
		code   ExitCode
		stderr string // all of it
	}{
		{name: "ok", run: func() error { return nil }, code: ExitOK},
		{name: "plain error", run: func() error { return cause }, code: ExitError, stderr: "ltk: broker unreachable\n"},
		{
			name:   "usage",
			run:    func() error { return fmt.Errorf("run: %w", usageError(cause)) },
			code:   ExitUsage,
			stderr: "ltk: run: broker unreachable\nRun 'ltk --help' or 'ltk COMMAND --help' for usage.\n",
		},
		{
			name:   "hint keeps the code",
			run:    func() error { return withHint(usageError(cause), "start one: ltk target") },
			code:   ExitUsage,
			stderr: "ltk: broker unreachable\nhint: start one: ltk target\n",
		},
		{
			name:   "a new code keeps the hint",
			run:    func() error { return withExitCode(withHint(cause, "start one: ltk target"), ExitFailures) },
			code:   ExitFailures,
			stderr: "ltk: broker unreachable\nhint: start one: ltk target\n",
		},
		{name: "failures", run: func() error { return errFailuresRecorded }, code: ExitFailures},
		{name: "--exit-code-on-error", run: func() error { return withExitCode(errFailuresRecorded, 9) }, code: 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr syncbuf.Buffer
			require.Equal(t, tc.code, exit(&Env{Stderr: &stderr}, tc.run))
			require.Equal(t, tc.stderr, stderr.String())
		})
	}
}

func TestExitPanic(t *testing.T) {
	t.Parallel()
	var stderr syncbuf.Buffer
	code := exit(&Env{Stderr: &stderr}, func() error { panic("nil fleet") })
	require.Equal(t, ExitPanic, code)
	require.True(t, strings.HasPrefix(stderr.String(), "ltk: internal error: nil fleet\ngoroutine "), stderr.String())
	require.Contains(t, stderr.String(), "Please report this with the command you ran.")
}

func TestExitCodeUnwraps(t *testing.T) {
	t.Parallel()
	err := withHint(withExitCode(errSentinel, ExitUsage), "a hint")
	require.ErrorIs(t, err, errSentinel)
	require.Equal(t, ExitUsage, exitCodeOf(err))
}

var errSentinel = errors.New("sentinel")
