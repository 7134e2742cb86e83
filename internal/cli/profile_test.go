package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
)

// TestProfilesRunOnTheEmbeddedTarget makes devices of each profile and
// runs them against the embedded target, which emulates the profile's
// device auth: every device connects and every publish is echoed.
func TestProfilesRunOnTheEmbeddedTarget(t *testing.T) {
	t.Parallel()
	for _, profile := range []string{"aws", "azure", "generic", "clearblade"} {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			run(t, e, cli.ExitOK, "devices", "create", "1", "3", "--profile", profile, "--quiet")
			run(t, e, cli.ExitOK, "run", "--headless", "-c", "3", "-r", "0", "-t", "3s", "--profile", profile, "--csv", "out")
			require.Contains(t, e.Stdout(), "(profile "+profile+", auth ")
			rows := readStats(t, filepath.Join(e.Dir, "out_stats.csv"))
			require.Equal(t, statsRow{3, 0}, rows["MQTT connect"])
			require.Positive(t, rows["echo receive"].requests)
			require.Equal(t, rows["MQTT publish"].requests, rows["echo receive"].requests, "every publish echoed")
			require.Zero(t, rows["Aggregated"].failures)
		})
	}
}

func TestDevicesCreateAWS(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--profile", "aws")
	require.Contains(t, e.Stdout(), "Made a test CA for X.509 devices: ltk-ca.pem (its key ltk-ca-key.pem, mode 0600).")
	require.Contains(t, e.Stdout(), "Created 2 devices LTK00001…LTK00002 (ES256, profile aws)")
	run(t, e, cli.ExitOK, "devices", "create", "3", "3", "--profile", "aws")
	require.NotContains(t, e.Stdout(), "Made a test CA", "the CA is made once")
	for name, mode := range map[string]os.FileMode{"devicelist.csv": 0o600, "ltk-ca-key.pem": 0o600, "ltk-ca.pem": 0o644, "registry.csv": 0o644} {
		fi, err := os.Stat(filepath.Join(e.Dir, name))
		require.NoError(t, err)
		require.Equal(t, mode, fi.Mode().Perm(), name)
	}
	ca, err := device.ReadCA(filepath.Join(e.Dir, "ltk-ca.pem"), filepath.Join(e.Dir, "ltk-ca-key.pem"))
	require.NoError(t, err)
	devs, cols, err := device.ReadFleetColumns(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	require.Equal(t, []string{"certificate"}, cols)
	require.Len(t, devs, 3)
	for _, d := range devs {
		pem, ok := device.Column(cols, d.Values, device.ColumnCertificate)
		require.True(t, ok, d.ID)
		c, err := device.TLSCertificate(d, pem)
		require.NoError(t, err, d.ID)
		require.Equal(t, d.ID, c.Leaf.Subject.CommonName, "CN = thing name = client id")
		require.NoError(t, c.Leaf.CheckSignatureFrom(ca.Cert), "signed by the one CA")
	}

	run(t, e, cli.ExitOK, "devices", "list")
	require.Contains(t, e.Stdout(), "LTK00002  ES256  aws      yes")
	run(t, e, cli.ExitOK, "devices", "delete", "2", "2")
	devs, cols, err = device.ReadFleetColumns(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	require.Equal(t, []string{"certificate"}, cols, "delete keeps the header")
	require.Equal(t, "LTK00003", devs[1].ID)
	_, ok := device.Column(cols, devs[1].Values, device.ColumnCertificate)
	require.True(t, ok, "delete keeps the certificates")
}

func TestDevicesCreateAzureAndGenericKeepSecretsPrivate(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--alg", "ES256") // an IoT Core fleet first: the columns are added to it
	run(t, e, cli.ExitOK, "devices", "create", "3", "4", "--profile", "azure")
	run(t, e, cli.ExitOK, "devices", "create", "5", "6", "--profile", "generic")
	devs, cols, err := device.ReadFleetColumns(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	require.Equal(t, []string{"symmetric_key", "username", "password"}, cols)
	reg, err := registry.OpenLocal(filepath.Join(e.Dir, "registry.csv"))
	require.NoError(t, err)
	key, _ := device.Column(cols, devs[2].Values, device.ColumnSymmetricKey)
	secret, ok := reg.Secret("LTK00003")
	require.True(t, ok)
	require.Equal(t, key, secret, "IoT Hub holds the device's key")
	pw, _ := device.Column(cols, devs[4].Values, device.ColumnPassword)
	secret, _ = reg.Secret("LTK00005")
	require.Equal(t, registry.PasswordHash(pw), secret, "the registry holds a hash of the password, not the password")
	_, ok = reg.Secret("LTK00001")
	require.False(t, ok)
	fi, err := os.Stat(filepath.Join(e.Dir, "registry.csv"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the registry holds symmetric keys")

	run(t, e, cli.ExitOK, "devices", "list")
	require.Contains(t, e.Stdout(), "LTK00001  ES256  iotcore  yes")
	require.Contains(t, e.Stdout(), "LTK00004  ES256  azure    yes")
	require.Contains(t, e.Stdout(), "LTK00006  ES256  generic  yes")
	run(t, e, cli.ExitUsage, "devices", "create", "7", "7", "--profile", "gcp")
	require.Contains(t, e.Stderr(), `profile "gcp" is not one of aws, azure, clearblade, generic, iotcore`)
}

func TestRunRegistryIsADeprecatedAliasOfRegistryID(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	e.Reset()
	code := e.Run("run", "--headless", "-c", "1", "-t", "1s", "--auth", "none", "--registry", "reg-x")
	require.Equal(t, cli.ExitOK, code, "stderr: %s", e.Stderr())
	require.Contains(t, e.Stderr(), "--registry (LTK_REGISTRY) of run is deprecated for the registry id: use --registry-id")
}

func TestRunRefusesDevicesWithoutTheProfilesCredentials(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--alg", "ES256", "--quiet")
	for profile, column := range map[string]string{"aws": "certificate", "azure": "symmetric_key", "generic": "username"} {
		run(t, e, cli.ExitUsage, "run", "--headless", "-c", "2", "-t", "1s", "--profile", profile)
		require.Contains(t, e.Stderr(), "device LTK00001 has no "+column, profile)
		require.Contains(t, e.Stderr(), "ltk devices create N M --profile "+profile, profile)
	}
}
