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
		{"negative run time", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "-t", "-5s"}, "--run-time -5s: want a positive time span"},
		{"run time rounds to 0", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "-t", "1e-10"}, "--run-time 1e-10: want a positive time span"},
		{"run time rounds to 0 ns", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "-t", "0.1ns"}, "--run-time 0.1ns: want a positive time span"},
		{"NaN run time", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "-t", "NaN"}, `"NaN" is not a time span`},
		{"NaN spawn rate", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "-r", "NaN"}, "--spawn-rate NaN: want a number of devices per second"},
		{"TLS key without certificate", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "--master-tls-key", "k.pem"}, "needs both its certificate file and its key file"},
		{"TLS CA alone", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "--master-tls-ca", "ca.pem"}, "needs the master's own certificate and key too"},
		{"JWT lifetime over a day", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "--jwt-ttl", "48h"}, "--jwt-ttl: token lifetime 48h0m0s"},
		{"Inf spawn rate", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "-r", "Inf"}, "--spawn-rate +Inf: want a number of devices per second"},
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

// TestMasterWarnsWithoutToken: with no --cluster-token, a master that
// hands workers secrets says so, as with --auth jwt so with --auth password
// (the MQTT password goes to every worker); with --auth none it has none.
func TestMasterWarnsWithoutToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		auth []string
		want string
	}{
		{[]string{"--auth", "password", "--username", "u", "--password", "p"}, "gets the devices' private keys and the MQTT password"},
		{[]string{"--auth", "none"}, ""},
	} {
		t.Run(tc.auth[1], func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			args := append([]string{"master", "--headless", "-c", "2", "--broker", "tcp://127.0.0.1:1",
				"--master-bind-host", "127.0.0.1", "--master-bind-port", "0", "--expect-workers-max-wait", "10ms"}, tc.auth...)
			require.Equal(t, cli.ExitError, e.Run(args...), e.Stderr())
			require.Contains(t, e.Stdout(), "Waiting for 1 worker (0 connected)", "the master started")
			if tc.want == "" {
				require.NotContains(t, e.Stderr(), "no --cluster-token")
				return
			}
			require.Contains(t, e.Stderr(), "ltk: warning: no --cluster-token: any process that reaches this port "+tc.want)
		})
	}
}

func TestWorkerUsageErrors(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitUsage, e.Run("worker", "--master-timeout", "-1s"))
	require.Contains(t, e.Stderr(), "master timeout -1s is negative")

	e = clitest.NewEnv(t)
	e.Vars["LTK_MASTER_TLS_CA"] = "missing-ca.pem"
	require.Equal(t, cli.ExitUsage, e.Run("worker"))
	require.Contains(t, e.Stderr(), "read the TLS CA bundle: open missing-ca.pem")
}
