package cli_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/cost"
)

// TestCostCommand estimates from a recorded run of 10 devices for 6
// minutes (one device-hour); the figures are computed by hand in the cost
// package's TestEstimateHandComputed.
func TestCostCommand(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	recordRun(t, e.Dir, "100t1", time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), 360, 10)

	require.Equal(t, cli.ExitOK, e.Run("cost", "--devices", "1000"), e.Stderr())
	out := e.Stdout()
	for _, s := range []string{
		`Cost estimate from run 1 "100t1"`, "peak 10 devices, 1.00 device-hours",
		"target per month", "9785.54 USD", "72.00 USD", "12977.86 USD per month", "Assumptions",
	} {
		require.Contains(t, out, s)
	}

	e.Reset() // the same as a window, with prices from a file given through the environment
	path := filepath.Join(e.Dir, "pricing.yaml")
	require.Equal(t, cli.ExitOK, e.Run("cost", "--print-pricing"))
	require.Equal(t, string(cost.DefaultPricingFile()), e.Stdout())
	require.NoError(t, os.WriteFile(path, []byte(e.Stdout()), 0o644))
	e.Reset()
	e.Vars["LTK_PRICING"] = "pricing.yaml"
	e.Vars["LTK_DEVICES"] = "1000"
	require.Equal(t, cli.ExitOK, e.Run("cost", "2026-11-25T20:00:00Z", "2026-11-25T20:06:00Z"), e.Stderr())
	require.Contains(t, e.Stdout(), "Cost estimate from window 2026-11-25T20:00:00Z to 2026-11-25T20:06:00Z")
	require.Contains(t, e.Stdout(), "9785.54 USD")
}

func TestCostErrors(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitError, e.Run("cost", "--devices", "5"))
	require.Contains(t, e.Stderr(), "no results store at")

	recordRun(t, e.Dir, "r", time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), 10, 2)
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, "bad.yaml"), []byte("messaging: {unit_byte: 1}"), 0o644))
	for _, tc := range []struct {
		args []string
		code cli.ExitCode
		want string
	}{
		{[]string{}, cli.ExitUsage, "--devices 0: say how many devices"},
		{[]string{"--devices", "5", "--run", "nope"}, cli.ExitUsage, `no such run "nope"`},
		{[]string{"--devices", "5", "2026-11-25T21:00:00Z", "2026-11-25T20:00:00Z"}, cli.ExitUsage, "END 2026-11-25T20:00:00Z is not after START"},
		{[]string{"--devices", "5", "now", "2026-11-25T20:00:00Z"}, cli.ExitUsage, `START "now" is not an RFC 3339 time: use UTC like 2026-11-25T20:00:00Z`},
		{[]string{"--devices", "5", "2026-11-26T20:00:00Z", "2026-11-26T21:00:00Z"}, cli.ExitError, "no samples between"},
		{[]string{"--devices", "5", "--pricing", "bad.yaml"}, cli.ExitUsage, "field unit_byte not found"},
		{[]string{"--devices", "5", "--pricing", "missing.yaml"}, cli.ExitUsage, "ltk cost --print-pricing writes one"},
		{[]string{"--devices", "5", "--run", "r", "2026-11-25T20:00:00Z", "2026-11-25T21:00:00Z"}, cli.ExitUsage, "not both"},
	} {
		e.Reset()
		require.Equal(t, tc.code, e.Run(append([]string{"cost"}, tc.args...)...), "%v: %s", tc.args, e.Stderr())
		require.Contains(t, e.Stderr(), tc.want, "%v", tc.args)
	}
}
