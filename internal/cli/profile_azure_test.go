package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
)

// TestAzureX509DevicesRunOnTheEmbeddedTarget makes IoT Hub CA-signed X.509
// devices and runs them on the embedded target with each MQTT client:
// mutual TLS, the hub's username, no password; every publish is echoed.
func TestAzureX509DevicesRunOnTheEmbeddedTarget(t *testing.T) {
	t.Parallel()
	for _, client := range []string{"lean", "paho"} {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--profile", "azure", "--auth", "x509", "--quiet")
			require.Contains(t, e.Stdout(), "Made a test CA for X.509 devices")
			require.Contains(t, e.Stdout(), "Created 2 devices LTK00001…LTK00002 (ES256, profile azure, auth x509)")
			run(t, e, cli.ExitOK, "run", "--headless", "-c", "2", "-r", "0", "-t", "3s", "--profile", "azure", "--auth", "x509",
				"--mqtt-client", client, "--csv", "out")
			require.Contains(t, e.Stdout(), "(profile azure, auth x509)")
			rows := readStats(t, filepath.Join(e.Dir, "out_stats.csv"))
			require.Equal(t, statsRow{2, 0}, rows["MQTT connect"])
			require.Positive(t, rows["echo receive"].requests)
			require.Equal(t, rows["MQTT publish"].requests, rows["echo receive"].requests, "every publish echoed")
			require.Zero(t, rows["Aggregated"].failures)
		})
	}
}

// TestDevicesCreateAzureX509: a certificate each (CN = device id) from the
// test CA, no symmetric key in the list or the registry.
func TestDevicesCreateAzureX509(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "1", "--profile", "azure", "--auth", "x509", "--quiet")
	run(t, e, cli.ExitOK, "devices", "create", "2", "2", "--profile", "azure", "--auth", "sas", "--quiet")
	require.Contains(t, e.Stdout(), "Created 1 device LTK00002 (ES256, profile azure)", "sas is azure's own auth")
	ca, err := device.ReadCA(filepath.Join(e.Dir, "ltk-ca.pem"), filepath.Join(e.Dir, "ltk-ca-key.pem"))
	require.NoError(t, err)
	devs, cols, err := device.ReadFleetColumns(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	require.Equal(t, []string{"certificate", "symmetric_key"}, cols)
	pem, ok := device.Column(cols, devs[0].Values, device.ColumnCertificate)
	require.True(t, ok)
	c, err := device.TLSCertificate(devs[0], pem)
	require.NoError(t, err)
	require.Equal(t, "LTK00001", c.Leaf.Subject.CommonName, "CN = device id")
	require.NoError(t, c.Leaf.CheckSignatureFrom(ca.Cert))
	_, ok = device.Column(cols, devs[0].Values, device.ColumnSymmetricKey)
	require.False(t, ok, "an X.509 device has no symmetric key")
	reg, err := registry.OpenLocal(filepath.Join(e.Dir, "registry.csv"))
	require.NoError(t, err)
	_, ok = reg.Secret("LTK00001")
	require.False(t, ok, "the registry holds no secret for an X.509 device")
	_, ok = reg.Secret("LTK00002")
	require.True(t, ok)

	run(t, e, cli.ExitUsage, "devices", "create", "3", "3", "--profile", "aws", "--auth", "sas")
	require.Contains(t, e.Stderr(), "--auth sas: profile aws makes credentials for auth x509 only")
}
