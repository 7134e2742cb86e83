package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/examples/scenarios"
	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

func TestScenarioExample(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitOK, e.Run("scenario", "example"), e.Stderr())
	for _, name := range scenarios.Names() {
		require.Contains(t, e.Stdout(), name)
	}
	require.Contains(t, e.Stdout(), "The tutorial's echo device")

	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("scenario", "example", "fleet"), e.Stderr())
	want, _ := scenarios.Get("fleet")
	require.Equal(t, string(want), e.Stdout())

	e.Reset()
	require.Equal(t, cli.ExitUsage, e.Run("scenario", "example", "flet"))
	require.Contains(t, e.Stderr(), `no example scenario "flet": the examples are command-response, echo, fleet`)
}

// TestScenarioCheck prints an example, checks it at 5,000 devices and
// finds the hand-computed rates (see the scenario package's TestCheckFleet).
func TestScenarioCheck(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitOK, e.Run("scenario", "example", "fleet"))
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, "fleet.yaml"), []byte(e.Stdout()), 0o644))

	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("scenario", "check", "fleet.yaml", "-c", "5000"), e.Stderr())
	out := e.Stdout()
	for _, s := range []string{`Scenario "fleet" at 5000 devices`, "4500", "90.0%", "450.0", "368.6 kB/s", "Total: 542.8 messages/s"} {
		require.Contains(t, out, s)
	}

	e.Reset() // -c from the environment, as every flag
	e.Vars["LTK_DEVICES"] = "100"
	require.Equal(t, cli.ExitOK, e.Run("scenario", "check", "fleet.yaml"), e.Stderr())
	require.Contains(t, e.Stdout(), `at 100 devices`)
}

func TestScenarioCheckErrors(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	bad := "version: 1\nkinds:\n  a:\n    wieght: 2\n    publish:\n      - name: x\n        topic: /a/{{devce}}\n        every: -1s\n"
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, "bad.yaml"), []byte(bad), 0o644))
	require.Equal(t, cli.ExitUsage, e.Run("scenario", "check", "bad.yaml"))
	errs := e.Stderr()
	require.Contains(t, errs, "bad.yaml has 4 errors:\n")
	for _, s := range []string{
		`bad.yaml:4:5: kind a: unknown key "wieght" (did you mean "weight"?)`,
		`bad.yaml:7:21: kind a: publish x.topic: unknown value {{devce}} (did you mean "device"?)`,
		`bad.yaml:8:16: kind a: publish x.every: -1s is negative`,
		"hint: the examples",
	} {
		require.Contains(t, errs, s)
	}
	require.Less(t, strings.Index(errs, ":4:5:"), strings.Index(errs, ":7:21:"), "in file order")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scenario", "check", "missing.yaml"}, "read scenario: open"},
		{[]string{"scenario", "check", "bad.yaml", "-c", "0"}, "-c 0: say how many devices"},
		{[]string{"scenario", "check"}, "accepts 1 arg"},
	} {
		e.Reset()
		require.Equal(t, cli.ExitUsage, e.Run(tc.args...), tc.args)
		require.Contains(t, e.Stderr(), tc.want)
	}
}

// TestScenarioCheckMQTT5 checks the MQTT 5 example by name: the estimate
// lists each kind's MQTT 5 use.
func TestScenarioCheckMQTT5(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitOK, e.Run("scenario", "example", "request-response-v5"))
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, "rr.yaml"), []byte(e.Stdout()), 0o644))
	e.Reset()
	require.Equal(t, cli.ExitOK, e.Run("scenario", "check", "rr.yaml", "-c", "1000"), e.Stderr())
	out := e.Stdout()
	for _, s := range []string{
		"MQTT 5 (the kinds connect with connect.mqtt_version: 5, on the lean client):",
		"device  subscribe /devices/{{device}}/commands/responses: no_local",
		"publish request: properties content_type, payload_format, message_expiry, response_topic, correlation_data, user_properties",
		"publish request: expect.correlate: correlation_data",
		"react response: reply goes to the request's response topic and carries the request's correlation data",
		"Awaited: 199.8 replies/s",
	} {
		require.Contains(t, out, s)
	}
}
