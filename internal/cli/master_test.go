package cli_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

func TestMasterUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no broker", []string{"master", "--headless"}, "ltk master needs --broker"},
		{"expect workers", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "--expect-workers", "0"}, "--expect-workers 0"},
		{"block size", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "--block-size", "-1"}, "--block-size -1"},
		{"bad LTK_BLOCK_SIZE", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1"}, "LTK_BLOCK_SIZE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			if tc.name == "bad LTK_BLOCK_SIZE" {
				e.Vars["LTK_BLOCK_SIZE"] = "ten"
			}
			require.Equal(t, cli.ExitUsage, e.Run(tc.args...), e.Stderr())
			require.Contains(t, e.Stderr(), tc.want)
		})
	}
}

// TestMasterGivesUpOnWorkers: with no worker in time, the master says how
// many came and what to do.
func TestMasterGivesUpOnWorkers(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	code := e.Run("master", "--headless", "-c", "4", "--broker", "tcp://127.0.0.1:1", "--auth", "none",
		"--master-bind-host", "127.0.0.1", "--master-bind-port", "0", "--expect-workers", "2", "--expect-workers-max-wait", "300ms")
	require.Equal(t, cli.ExitError, code, e.Stdout())
	require.Contains(t, e.Stdout(), "4 devices in blocks of 2 for 2 workers")
	require.Contains(t, e.Stdout(), "Waiting for 2 workers (0 connected)")
	require.Contains(t, e.Stderr(), "0 of 2 expected workers connected within 300ms: start the others")
}

func TestWorkerUsageErrors(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitUsage, e.Run("worker", "--master-timeout", "-1s"))
	require.Contains(t, e.Stderr(), "master timeout -1s is negative")
}
