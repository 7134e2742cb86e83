package cli_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

// TestSetupSizesWorkers checks that setup derives the worker count from the
// test's devices and a worker's budget, given or from ltk bench's figures
// at the worker pods' CPU and the devices' message rate, and says so.
func TestSetupSizesWorkers(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "10", "--alg", "ES256", "--quiet")
	dry := []string{"setup", "--dry-run", "--use-context", "--image", "ltk:dev", "--build=false", "--target"}

	run(t, e, cli.ExitOK, append(dry, "-c", "10", "--devices-per-worker", "4")...)
	require.Contains(t, e.Stdout(), "LTK: 10 devices at up to 4 per worker (--devices-per-worker): 3 workers\n")
	require.Contains(t, e.Stdout(), "replicas: 3")
	require.Contains(t, e.Stdout(), "--expect-workers=3")

	// 1 millicore at 70% and 25 µs a message carry 28 messages a second: 2.8
	// devices publishing every 100 ms, so 2 a worker and 5 workers for 10.
	e.Vars["LTK_WAIT_MIN"], e.Vars["LTK_WAIT_MAX"] = "100ms", "100ms"
	run(t, e, cli.ExitOK, append(dry, "--worker-cpu", "1m")...)
	require.Contains(t, e.Stdout(), "LTK: 10 devices at up to 2 per worker (ltk bench's figures: 25 µs CPU a message")
	require.Contains(t, e.Stdout(), "10 messages/s a device: CPU-bound; --devices-per-worker to choose): 5 workers\n")
	require.Contains(t, e.Stdout(), "replicas: 5")

	run(t, e, cli.ExitOK, append(dry, "--workers", "2", "--devices-per-worker", "4")...)
	require.Contains(t, e.Stdout(), "LTK: warning: 2 workers for 10 devices is 5 each, more than the 4 a worker runs")
	require.Contains(t, e.Stdout(), "replicas: 2", "the workers asked for")

	run(t, e, cli.ExitUsage, append(dry, "-c", "11")...)
	require.Contains(t, e.Stderr(), "--devices 11: the device list holds 10")
	require.Contains(t, e.Stderr(), "ltk devices create 11 11")
}
