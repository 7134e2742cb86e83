package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry/azuretest"
)

// TestDevicesAzureRegistry registers azure devices in an IoT Hub (a fake
// speaking its registry REST API) with their symmetric keys, lists and
// deletes them.
func TestDevicesAzureRegistry(t *testing.T) {
	t.Parallel()
	hub := azuretest.Start(t, "ltk-test.azure-devices.net")
	e := clitest.NewEnv(t)
	e.Vars["LTK_REGISTRY_ENDPOINT"] = hub.URL()
	e.Vars["LTK_AZURE_CONNECTION_STRING"] = hub.ConnectionString()
	run(t, e, cli.ExitOK, "devices", "create", "1", "3", "--profile", "azure", "--registry", "azure")
	require.Contains(t, e.Stdout(), "Created 3 devices LTK00001…LTK00003 (ES256, profile azure)")
	devs, cols, err := device.ReadFleetColumns(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	for _, d := range devs {
		key, ok := device.Column(cols, d.Values, device.ColumnSymmetricKey)
		require.True(t, ok)
		require.Equal(t, key, hub.Devices()[d.ID], "the hub holds the device's key")
	}
	run(t, e, cli.ExitOK, "devices", "create", "5", "5", "--profile", "azure", "--auth", "x509", "--registry", "azure", "--quiet")
	require.Equal(t, "certificateAuthority", hub.AuthType("LTK00005"), "a CA-signed X.509 device")
	require.Equal(t, "sas", hub.AuthType("LTK00001"))
	run(t, e, cli.ExitOK, "devices", "delete", "5", "5", "--registry", "azure")
	run(t, e, cli.ExitUsage, "devices", "create", "4", "4", "--registry", "azure")
	require.Contains(t, e.Stderr(), "add --profile azure")

	run(t, e, cli.ExitOK, "devices", "list", "--registry", "azure")
	require.Contains(t, e.Stdout(), "3 registered in IoT Hub ltk-test.azure-devices.net")
	run(t, e, cli.ExitOK, "devices", "delete", "2", "3", "--registry", "azure")
	require.Len(t, hub.Devices(), 1)
	require.Contains(t, hub.Devices(), "LTK00001")
}
