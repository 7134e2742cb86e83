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

// TestEnvPrecedence checks that a flag beats LTK_*, and LTK_* beats .env.
func TestEnvPrecedence(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, ".env"),
		[]byte("LTK_PREFIX=DOT\nLTK_WIDTH=4\nLTK_ALG=ES256\n"), 0o600))
	e.Vars["LTK_WIDTH"] = "3"

	require.Equal(t, cli.ExitOK, e.Run("devices", "create", "1", "1", "--quiet"), e.Stderr())
	require.Contains(t, e.Stdout(), "DOT001", ".env prefix, environment width")
	require.Equal(t, cli.ExitOK, e.Run("devices", "create", "2", "2", "--quiet", "--width", "5"), e.Stderr())
	require.Contains(t, e.Stdout(), "DOT00002", "the flag beats the environment")
	data, err := os.ReadFile(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	require.Contains(t, string(data), "EC PRIVATE KEY", "LTK_ALG from .env")
}

func TestEnvBadValue(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	e.Vars["LTK_SPAWN_RATE"] = "fast"
	require.Equal(t, cli.ExitUsage, e.Run("run", "--headless"))
	require.Contains(t, e.Stderr(), `LTK_SPAWN_RATE="fast" (for --spawn-rate)`)
}

func TestDotenvMalformed(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, ".env"), []byte("LTK_DEVICES='unterminated\n"), 0o600))
	require.NotEqual(t, cli.ExitOK, e.Run("devices", "list"))
	require.Contains(t, e.Stderr(), ".env")
}

// TestRunUsageErrors covers run's refusals: each names what to fix.
func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		code cli.ExitCode
		want string
	}{
		{"zero devices", []string{"run", "--headless", "-c", "0"}, cli.ExitUsage, "want at least 1 device"},
		{"negative rate", []string{"run", "--headless", "-r", "-1"}, cli.ExitUsage, "--spawn-rate -1"},
		{"bad auth", []string{"run", "--headless", "--auth", "oauth"}, cli.ExitUsage, `auth "oauth"`},
		{"bad run time", []string{"run", "--headless", "-t", "soon"}, cli.ExitUsage, "is not a time span"},
		{"bad behavior", []string{"run", "--headless", "--behavior", "dance"}, cli.ExitUsage, "dance"},
		{"drop rate", []string{"run", "--headless", "--target-drop-rate", "2"}, cli.ExitUsage, "outside 0..1"},
		{"JWT lifetime over a day", []string{"run", "--headless", "--jwt-ttl", "48h"}, cli.ExitUsage, "--jwt-ttl: token lifetime 48h0m0s is out of range (want 1s to 24h"},
		{"no device list", []string{"run", "--headless", "-c", "5"}, cli.ExitError, "ltk devices create 1 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			require.Equal(t, tc.code, e.Run(tc.args...), e.Stderr())
			require.Contains(t, e.Stderr(), tc.want)
		})
	}
}

func TestRunTooManyDevices(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 3)
	before, err := os.ReadFile(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	require.Equal(t, cli.ExitError, e.Run("run", "--headless", "-c", "5", "-t", "1s"))
	require.Contains(t, e.Stderr(), "holds 3 devices; asked for 5")
	require.Contains(t, e.Stderr(), "ltk devices create 4 5")
	after, err := os.ReadFile(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.NotContains(t, e.Stderr(), "PRIVATE KEY")
}

// TestIoTCoreBackendDefaultsBroker: with the IoT-Core-API registry backend,
// run drives that service's MQTT bridge unless --broker says otherwise.
func TestIoTCoreBackendDefaultsBroker(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	e.Vars["LTK_REGISTRY_BACKEND"] = "iotcore"
	e.Vars["LTK_MQTT_BRIDGE"] = "tcp://127.0.0.1:1"
	code := e.Run("run", "--headless", "-c", "1", "-t", "1s", "--auth", "none", "--only-summary")
	require.NotContains(t, e.Stdout(), "Embedded IoT target", "no embedded target with the iotcore backend")
	require.Equal(t, cli.ExitFailures, code, "nothing listens on the bridge: connects fail; stdout: %s", e.Stdout())
	require.Contains(t, e.Stdout(), "MQTT connect")
}

// TestDotenvErrorHidesValues: a .env syntax error names the file and line
// but prints none of the file, which holds tokens and passwords; the same
// through a .env symlinked to another file.
func TestDotenvErrorHidesValues(t *testing.T) {
	t.Parallel()
	const secrets = "LTK_CLUSTER_TOKEN=tok-s3cr3t\nLTK_WEB_AUTH=ltk:pw-s3cr3t\nLTK_PASSWORD=mqtt-s3cr3t\n"
	for _, tc := range []struct {
		name, src string
		line      string
	}{
		{"unterminated quote", "LTK_DEVICES='5\n" + secrets, ".env:1:"},
		{"no equals at the end", secrets + "LTK_OOPS", ".env:4:"},
		{"no equals in the middle", "LTK_DEVICES=5\nhunter2-s3cr3t\n" + secrets, ".env:2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			require.NoError(t, os.WriteFile(filepath.Join(e.Dir, ".env"), []byte(tc.src), 0o600))
			require.Equal(t, cli.ExitUsage, e.Run("devices", "list"))
			require.Contains(t, e.Stderr(), tc.line)
			require.NotContains(t, e.Stderr(), "s3cr3t")
		})
	}
	t.Run("symlink", func(t *testing.T) {
		t.Parallel()
		e := clitest.NewEnv(t)
		other := filepath.Join(t.TempDir(), "other")
		require.NoError(t, os.WriteFile(other, []byte("root:x:0:0:s3cr3t\n"+secrets), 0o600))
		require.NoError(t, os.Symlink(other, filepath.Join(e.Dir, ".env")))
		require.Equal(t, cli.ExitUsage, e.Run("devices", "list"))
		require.Contains(t, e.Stderr(), ".env:1:")
		require.NotContains(t, e.Stderr(), "s3cr3t")
		require.NotContains(t, e.Stderr(), "root:x")
	})
}

// TestDotenvTypoWarns: an LTK_* key of .env that no flag has is named in a
// warning with the closest valid key; the command still runs.
func TestDotenvTypoWarns(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, ".env"),
		[]byte("LTK_ROOT=\nLTK_WIDHT=4\nOTHER_THING=1\nLTK_NUM_GKE_NODES=2\n"), 0o600))
	require.Equal(t, cli.ExitOK, e.Run("devices", "create", "1", "1", "--quiet"), e.Stderr())
	require.Contains(t, e.Stderr(), ".env:2: LTK_WIDHT is no flag's variable and is ignored; did you mean LTK_WIDTH?")
	require.Equal(t, 1, strings.Count(e.Stderr(), "warning"), e.Stderr())
}

// TestDotenvBOM: a .env saved with a UTF-8 byte order mark is read.
func TestDotenvBOM(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, ".env"), []byte("\uFEFFLTK_PREFIX=BOM\r\n"), 0o600))
	require.Equal(t, cli.ExitOK, e.Run("devices", "create", "1", "1", "--quiet", "--width", "2"), e.Stderr())
	require.Contains(t, e.Stdout(), "BOM01")
	require.NotContains(t, e.Stderr(), "warning")
}
