package cli_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/web/webtest"
)

// TestRunWebUIInChromium starts `ltk run` with the web UI on the embedded
// target and drives the UI in headless Chromium: start 20 devices, see echo
// receive rows and the charts, reload and keep the history, stop.
func TestRunWebUIInChromium(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan cli.ExitCode, 1)
	go func() {
		done <- e.RunContext(ctx, "run", "--auth", "none", "-c", "20",
			"--web-host", "127.0.0.1", "--web-port", "0")
	}()
	urlLine := regexp.MustCompile(`Web UI on (http://127\.0\.0\.1:\d+)`)
	var base string
	require.Eventually(t, func() bool { // no event to wait on: the CLI prints the address
		if m := urlLine.FindStringSubmatch(e.Stdout()); m != nil {
			base = m[1]
		}
		return base != ""
	}, 20*time.Second, 20*time.Millisecond, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())

	webtest.DriveUI(t, webtest.Browser(t), base, 20, 10, "ltk-run")

	cancel() // Ctrl-C
	select {
	case code := <-done:
		require.Equal(t, cli.ExitOK, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	case <-time.After(30 * time.Second):
		t.Fatal("ltk run did not end after Ctrl-C")
	}
}
