package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

// The benchmark itself (a target child process, devices, measures) is
// tested in internal/bench; here, the command's flags.

func TestBenchUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"client", []string{"--mqtt-client", "mosquitto"}, `--mqtt-client "mosquitto": use lean, paho or lean,paho`},
		{"one bad client of two", []string{"--mqtt-client", "lean,pahoo"}, `--mqtt-client "lean,pahoo"`},
		{"rate and interval", []string{"--rate", "100", "--interval", "2s"}, "--rate and --interval both set the publish interval: give one"},
		{"negative rate", []string{"--rate", "-5"}, "--rate -5: give publishes per second, above 0"},
		{"alg", []string{"--alg", "HS256"}, `alg "HS256": use ES256, RS256, none`},
		{"devices", []string{"--devices", "0"}, "devices 0: run at least 1"},
		{"window", []string{"-t", "10ms"}, "measure for at least 1s"},
		{"qos", []string{"--qos", "3"}, "QoS 3 does not exist in MQTT: use 0, 1 or 2"},
		{"qos list", []string{"--qos", "1,two"}, `--qos "1,two": give 0, 1 or 2, or a comma-separated list`},
		{"mqtt version", []string{"--mqtt-version", "3.1.1,6"}, `MQTT version "6" is not one of 3.1.1, 5`},
		{"transport", []string{"--transport", "tcp,quic"}, `transport "quic": use tcp or ws`},
		{"paho v5", []string{"--mqtt-client", "lean,paho", "--mqtt-version", "5"}, "the paho MQTT client runs MQTT 3.1.1 at QoS 0 or 1 only, not MQTT 5"},
		{"paho ws", []string{"--mqtt-client", "paho", "--transport", "ws"}, "the paho MQTT client runs over TCP and TLS only, not WebSocket"},
		{"procs", []string{"--procs", "-1"}, "--procs -1: give a number of processors, or 0 for all"},
		{"arguments", []string{"extra"}, "unknown command"},
		{"scenario", []string{"--scenario", "echo,fleeet"}, `--scenario "fleeet" is neither a file nor an example: give a scenario file, one of the examples (command-response, echo, fleet`},
		{"rounds", []string{"--rounds", "0"}, "--rounds 0: run at least 1 round"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			code := e.Run(append([]string{"bench"}, tc.args...)...)
			require.Equal(t, cli.ExitUsage, code, e.Stderr())
			require.Contains(t, e.Stderr(), tc.want)
			require.Empty(t, e.Stdout())
		})
	}
}

func TestBenchRateSetsTheInterval(t *testing.T) {
	t.Parallel()
	// 10 devices at 1000 publishes/s: a 10 ms interval, which is valid;
	// 10 devices at 20000/s would be 0.5 ms, which is refused, so the rate
	// did set the interval.
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitUsage, e.Run("bench", "--devices", "10", "--rate", "20000"), e.Stderr())
	require.Contains(t, e.Stderr(), "interval 500µs: use at least 1ms")
}

func TestBenchHelp(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitOK, e.Run("bench", "--help"))
	for _, flag := range []string{"--devices", "--rate", "--interval", "--duration", "--spawn-rate", "--mqtt-client", "--alg", "--json", "--per-source", "--procs", "--cpuprofile", "--memprofile", "--scenario", "--rounds"} {
		require.Contains(t, e.Stdout(), flag)
	}
}

func TestBenchScenarioFileErrors(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	bad := "version: 1\nkinds:\n  device:\n    wieght: 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, "bad.yaml"), []byte(bad), 0o600))
	require.Equal(t, cli.ExitUsage, e.Run("bench", "--scenario", "builtin,bad.yaml"), e.Stderr())
	require.Contains(t, e.Stderr(), "bad.yaml:4:5")
	require.Contains(t, e.Stderr(), "weight")
	require.Empty(t, e.Stdout())
}
