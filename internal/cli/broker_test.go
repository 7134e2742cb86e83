package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

// TestBrokerUsable: a broker devices cannot dial is a usage error (exit 3)
// that names what to write, at the command line, before any device, target
// or results store exists.
func TestBrokerUsable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"run", "--headless", "-c", "10", "-r", "10", "--broker", "127.0.0.1:1883"}, nil,
			`broker "127.0.0.1:1883" has no scheme: write tcp://127.0.0.1:1883`},
		{[]string{"run", "--headless", "-c", "1", "-t", "1s"}, map[string]string{"LTK_BROKER": "ftp://h:21"},
			`scheme "ftp" is not supported: write tcp://h:21`},
		{[]string{"master", "--headless", "-c", "1", "--broker", "tcp://broker"}, nil,
			`broker "tcp://broker" has no port: write tcp://broker:1883`},
		{[]string{"run", "--headless", "--auth", "none", "--mqtt-client", "paho", "--broker", "ws://h:9001/mqtt"}, nil,
			`the paho MQTT client runs over TCP and TLS only, not WebSocket: use the lean client`},
		{[]string{"run", "--broker", "http://h:8089"}, nil, `scheme "http" is not supported`},
	} {
		e := clitest.NewEnv(t)
		for k, v := range tc.env {
			e.Vars[k] = v
		}
		require.Equal(t, cli.ExitUsage, e.Run(tc.args...), "%v %v: stderr: %s", tc.args, tc.env, e.Stderr())
		require.Contains(t, e.Stderr(), tc.want, tc.args)
		require.NoDirExists(t, filepath.Join(e.Dir, "runs"), "no run recorded")
	}
}
