package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/report"
	"github.com/ltk-dev/ltk/internal/report/reporttest"
)

// recordRun writes a run into the store under root: devices devices for
// secs seconds from start, each publishing once a second and getting the
// echo, plus one connect and subscribe each in the first second.
func recordRun(t *testing.T, root, name string, start time.Time, secs, devices int) {
	t.Helper()
	st, err := report.Open(filepath.Join(root, report.DefaultPath))
	require.NoError(t, err)
	defer st.Close()
	run, err := st.Begin(report.RunMeta{Name: name, Start: start, Devices: devices, SpawnRate: float64(devices), Target: "embedded"})
	require.NoError(t, err)
	u := start.Unix()
	run.SetDevices(start, devices)
	run.AddDelta(reporttest.Delta(u, "MQTT", "MQTT connect", int64(devices), 20*time.Millisecond, 0))
	run.AddDelta(reporttest.Delta(u, "MQTT", "MQTT subscribe", int64(devices), 5*time.Millisecond, 0))
	for s := range int64(secs) {
		run.AddDelta(reporttest.Delta(u+s, "MQTT", "MQTT publish", int64(devices), 2*time.Millisecond, 64))
		run.AddDelta(reporttest.Delta(u+s, "echo", "echo receive", int64(devices), time.Duration(150+s%100)*time.Millisecond, 64))
	}
	require.NoError(t, run.End(start.Add(time.Duration(secs)*time.Second)))
}

func TestHarvestCommand(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	start := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	recordRun(t, e.Dir, "100t1", start, 60, 5)

	code := e.Run("harvest", "100t1", "2026-11-25T20:00:00Z", "2026-11-25T20:00:30Z")
	require.Equal(t, cli.ExitOK, code, e.Stderr())
	require.Contains(t, e.Stdout(), "Harvested 2026-11-25T20:00:00Z to 2026-11-25T20:00:30Z: 310 requests, 0 failures")
	for _, f := range []string{"driver_times.csv", "function_times.csv", "summary.txt", "report.html"} {
		_, err := os.Stat(filepath.Join(e.Dir, "runs", "100t1", f))
		require.NoError(t, err, f)
	}
	b, err := os.ReadFile(filepath.Join(e.Dir, "runs", "100t1", "driver_times.csv"))
	require.NoError(t, err)
	require.Contains(t, string(b), "echo,echo receive,100,200,150,100.00\n", "150 echoes in the 100–200 ms bucket")

	e.Reset() // the run's own window, in 50 ms buckets
	e.Vars["LTK_BUCKET"] = "50ms"
	require.Equal(t, cli.ExitOK, e.Run("harvest", "whole", "--run", "last"), e.Stderr())
	require.Contains(t, e.Stdout(), ": 610 requests")
	b, err = os.ReadFile(filepath.Join(e.Dir, "runs", "whole", "driver_times.csv"))
	require.NoError(t, err)
	require.Contains(t, string(b), "echo,echo receive,150,200,250,83.33\necho,echo receive,200,250,50,100.00\n")
}

func TestHarvestErrors(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitError, e.Run("harvest", "x", "2026-11-25T20:00:00Z", "2026-11-25T21:00:00Z"))
	require.Contains(t, e.Stderr(), "no results store at ")
	require.Contains(t, e.Stderr(), "hint: run a test first")

	recordRun(t, e.Dir, "first", time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), 10, 2)
	for _, tc := range []struct {
		args []string
		code cli.ExitCode
		want string
	}{
		{[]string{"x", "2026-11-25T21:00:00Z", "2026-11-25T20:00:00Z"}, cli.ExitUsage,
			"END 2026-11-25T20:00:00Z is not after START 2026-11-25T21:00:00Z"},
		{[]string{"x", "2026-11-25 20:00", "2026-11-25T21:00:00Z"}, cli.ExitUsage,
			`START "2026-11-25 20:00" is not an RFC 3339 time: use UTC like 2026-11-25T20:00:00Z`},
		{[]string{"x", "2026-11-25T20:00:00Z", "tomorrow"}, cli.ExitUsage, `END "tomorrow" is not an RFC 3339 time`},
		{[]string{"x", "2026-11-26T20:00:00Z", "2026-11-26T21:00:00Z"}, cli.ExitError,
			"no samples between 2026-11-26T20:00:00Z and 2026-11-26T21:00:00Z; the recorded runs are:\n  1 first        2026-11-25T20:00:00Z 2026-11-25T20:00:10Z  2 devices"},
		{[]string{"x"}, cli.ExitUsage, "want START and END after RUN_DIR, or --run"},
		{[]string{"a/b", "2026-11-25T20:00:00Z", "2026-11-25T21:00:00Z"}, cli.ExitUsage, "want a plain directory name"},
		{[]string{"x", "--run", "nope"}, cli.ExitUsage, `no such run "nope"`},
		{[]string{"x", "y"}, cli.ExitUsage, "want RUN_DIR START END"},
		{[]string{"x", "--run", "last", "--bucket", "1ns"}, cli.ExitUsage, "--bucket 1ns: want at least 1µs, the histograms' resolution"},
	} {
		e.Reset()
		code := e.Run(append([]string{"harvest"}, tc.args...)...)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, e.Stderr())
		require.Contains(t, e.Stderr(), tc.want, strings.Join(tc.args, " "))
		require.NoDirExists(t, filepath.Join(e.Dir, "runs", "x"), "a harvest that fails leaves no directory: %v", tc.args)
	}
}
