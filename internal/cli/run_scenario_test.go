package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

// addColumn gives devicelist.csv a header naming column name and gives
// device i the value values[i % len(values)].
func addColumn(t *testing.T, e *clitest.Env, name string, values ...string) {
	t.Helper()
	path := filepath.Join(e.Dir, "devicelist.csv")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	rows := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	out := []string{"id,private_key," + name}
	for i, r := range rows {
		out = append(out, r+","+values[i%len(values)])
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o600))
}

// TestRunScenario runs a user's scenario on the embedded target: the kinds
// take their shares of the devices, every named step is a row of the
// stats, and the devices read their column of devicelist.csv.
func TestRunScenario(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 10)
	addColumn(t, e, "site", "berlin", "paris")
	file := filepath.Join(e.Dir, "plant.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`version: 1
name: plant
columns: [site]
kinds:
  meter:
    weight: 4
    subscribe:
      - topic: /devices/{{device}}/commands/#
        qos: 1
    publish:
      - name: reading
        topic: /devices/{{device}}/events
        payload: '{"site":"{{column "site"}}","seq":{{seq}}}'
        qos: 1
        every: 200ms
        expect:
          topic: /devices/{{device}}/commands/#
          correlate: payload
          timeout: 30s   # generous: a busy machine must not turn a slow echo into a miss
          name: reading echoed
  valve:
    weight: 1
    publish:
      - name: state
        topic: /devices/{{device}}/events
        payload: open
        qos: 1
        on: connect
`), 0o600))

	code := e.Run("run", "--headless", "-c", "10", "-r", "0", "-t", "3s", "--only-summary", "--scenario", file, "--csv", "out")
	require.Equal(t, cli.ExitOK, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	require.Contains(t, e.Stdout(), "Scenario plant: meter 8 (80%), valve 2 (20%)")

	rows := readStats(t, filepath.Join(e.Dir, "out_stats.csv"))
	require.Equal(t, statsRow{10, 0}, rows["MQTT connect"])
	require.Equal(t, statsRow{8, 0}, rows["MQTT subscribe"], "valves subscribe to nothing")
	require.Equal(t, statsRow{2, 0}, rows["state"], "each valve's state, once on connect")
	require.Positive(t, rows["reading"].requests)
	require.Zero(t, rows["reading"].failures)
	require.Equal(t, rows["reading"].requests, rows["reading echoed"].requests, "the stop waits for every echo")
	require.Zero(t, rows["reading echoed"].failures)

	// The run keeps its scenario: harvest's summary and report name it.
	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("harvest", "plant", "--run", "last"), e.Stderr())
	for _, f := range []string{"summary.txt", "report.html"} {
		out, err := os.ReadFile(filepath.Join(e.Dir, "runs", "plant", f))
		require.NoError(t, err)
		require.Contains(t, string(out), "scenario plant", f)
	}
}

// TestRunScenarioErrors: a scenario that does not load, or reads a column
// the device list lacks, is a usage error naming the place; nothing runs.
func TestRunScenarioErrors(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 2)
	bad := filepath.Join(e.Dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nname: bad\nkinds:\n  x:\n    wieght: 1\n"), 0o600))

	code := e.Run("run", "--headless", "-c", "2", "-t", "1s", "--scenario", bad)
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, e.Stderr(), `bad.yaml:5:5`)
	require.Contains(t, e.Stderr(), `did you mean "weight"`)

	e.Reset()
	code = e.Run("run", "--headless", "-c", "2", "-t", "1s", "--scenario", "fleet")
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, e.Stderr(), "scenario fleet reads the device list columns site")

	e.Reset()
	code = e.Run("run", "--headless", "-c", "2", "-t", "1s", "--scenario", "nosuch")
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, e.Stderr(), "no such file, and no example of that name")
	_, err := os.Stat(filepath.Join(e.Dir, "runs"))
	require.ErrorIs(t, err, os.ErrNotExist, "nothing was recorded")
}
