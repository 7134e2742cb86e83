package cli_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

// TestRunNamesTheTargetsRefusal unregisters two of ten devices: the
// embedded target refuses them (unknown_device), which MQTT 3.1.1 can only
// answer with CONNACK 5 (not authorized). The run's failure row names the
// code in words and the target's reason, keeps the two devices as its
// examples, in _failures.csv under Locust's columns, and --loglevel debug
// prints each failing device.
func TestRunNamesTheTargetsRefusal(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 10)
	reg := filepath.Join(e.Dir, "registry.csv")
	b, err := os.ReadFile(reg)
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(line, "LTK00003,") && !strings.HasPrefix(line, "LTK00007,") {
			kept = append(kept, line)
		}
	}
	require.NoError(t, os.WriteFile(reg, []byte(strings.Join(kept, "")), 0o600))

	code := e.Run("run", "--headless", "-c", "10", "-r", "0", "-t", "3s", "--only-summary", "--loglevel", "debug", "--csv", "refused")
	require.Equal(t, cli.ExitFailures, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())

	f, err := os.Open(filepath.Join(e.Dir, "refused_failures.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"Method", "Name", "Error", "Occurrences"}, rows[0])
	var refused []string
	for _, r := range rows[1:] {
		if r[1] == "MQTT connect" {
			refused = r
		}
	}
	require.NotNil(t, refused, "rows: %q", rows)
	require.Len(t, rows, 2, "one row for both devices: %q", rows)
	require.Regexp(t, `^connection refused: not authorized \(CONNACK 0x05: unknown_device: the device is not registered\) \[e\.g\. (LTK00003 LTK00007|LTK00007 LTK00003)\]$`, refused[2])
	for _, id := range []string{"LTK00003", "LTK00007"} {
		require.Contains(t, e.Stderr(), `msg=failure device=`+id+` type=MQTT name="MQTT connect" error="connection refused: not authorized`)
	}
	require.Contains(t, e.Stdout(), "connection refused: not authorized (CONNACK 0x05: unknown_device: the device is not registered)")
}
