package cli_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

// TestRunMQTTClient: --mqtt-client (or LTK_MQTT_CLIENT) picks the engine the
// worker's devices run on, against the embedded target; the start line names
// it and the worker's info log shows which one it started the devices on.
func TestRunMQTTClient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		jwt   bool // devices with keys, JWT auth; else --auth none
		args  []string
		env   string // LTK_MQTT_CLIENT
		want  string
		other string
	}{
		{name: "paho", jwt: true, args: []string{"--mqtt-client", "paho"}, want: "paho", other: "lean"},
		{name: "lean", args: []string{"--mqtt-client", "lean"}, want: "lean", other: "paho"},
		{name: "default", want: "lean", other: "paho"},
		{name: "LTK_MQTT_CLIENT", env: "paho", want: "paho", other: "lean"},
		{name: "flag beats LTK_MQTT_CLIENT", args: []string{"--mqtt-client", "lean"}, env: "paho", want: "lean", other: "paho"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			args := []string{"run", "--headless", "-c", "5", "-r", "5", "-t", "3s", "--loglevel", "info"}
			if tc.jwt {
				createDevices(t, e, 5)
			} else {
				args = append(args, "--auth", "none")
			}
			if tc.env != "" {
				e.Vars["LTK_MQTT_CLIENT"] = tc.env
			}
			code := e.Run(append(args, tc.args...)...)
			require.Equal(t, cli.ExitOK, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
			require.Contains(t, e.Stdout(), "Ramping to 5 devices on the "+tc.want+" MQTT client at 5 devices/s (a 1s ramp) for 3s")
			require.Contains(t, e.Stderr(), `msg="starting devices" devices=5 mqtt_client=`+tc.want)
			require.NotContains(t, e.Stderr(), "mqtt_client="+tc.other)
			require.Contains(t, e.Stdout(), "Summary")
		})
	}
}

// TestMQTTClientUsageErrors: an unknown engine is refused before anything
// starts, naming the accepted ones, from the flag and from LTK_MQTT_CLIENT.
func TestMQTTClientUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"run flag", []string{"run", "--headless", "--mqtt-client", "quic"}, "", `invalid argument "quic" for "--mqtt-client" flag: MQTT client "quic" is not one of lean, paho`},
		{"run empty", []string{"run", "--headless", "--mqtt-client="}, "", "empty: use lean or paho"},
		{"master flag", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "--mqtt-client", "Paho"}, "", `MQTT client "Paho" is not one of lean, paho`},
		{"run env", []string{"run", "--headless"}, "lean,paho", `LTK_MQTT_CLIENT="lean,paho" (for --mqtt-client): MQTT client "lean,paho" is not one of lean, paho`},
		{"master env", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1"}, "quic", `LTK_MQTT_CLIENT="quic"`},
		{"version flag", []string{"run", "--headless", "--mqtt-version", "5.0"}, "", `invalid argument "5.0" for "--mqtt-version" flag: MQTT version "5.0" is not one of 3.1.1, 5: write 3.1.1 or 5`},
		{"version env", []string{"run", "--headless"}, "version=3", `LTK_MQTT_VERSION="3" (for --mqtt-version): MQTT version "3" is not one of 3.1.1, 5`},
		{"paho v5", []string{"run", "--headless", "--auth", "none", "--mqtt-client", "paho", "--mqtt-version", "5"}, "",
			"the paho MQTT client runs MQTT 3.1.1 at QoS 0 or 1 only, not MQTT 5: use the lean client (--mqtt-client lean)"},
		{"paho QoS 2", []string{"master", "--headless", "--broker", "tcp://127.0.0.1:1", "--qos", "2"}, "paho",
			"the paho MQTT client runs MQTT 3.1.1 at QoS 0 or 1 only, not QoS 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			if v, ok := strings.CutPrefix(tc.env, "version="); ok {
				e.Vars["LTK_MQTT_VERSION"] = v
			} else if tc.env != "" {
				e.Vars["LTK_MQTT_CLIENT"] = tc.env
			}
			require.Equal(t, cli.ExitUsage, e.Run(tc.args...), "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
			require.Contains(t, e.Stderr(), tc.want)
			require.Empty(t, e.Stdout(), "nothing started")
		})
	}
}
