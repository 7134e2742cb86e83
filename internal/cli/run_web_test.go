package cli_test

import (
	"testing"

	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/web/webtest"
)

// TestRunWebUIInChromium starts `ltk run` with the web UI on the embedded
// target and drives the UI in headless Chromium: start 20 devices, see echo
// receive rows and the charts, reload and keep the history, stop. Ctrl-C
// then ends ltk run with exit code 0 (serveUI's cleanup).
func TestRunWebUIInChromium(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	base := serveUI(t, e, "run", "--auth", "none", "-c", "20")
	webtest.DriveUI(t, webtest.Browser(t), base, 20, 10, "ltk-run")
}
