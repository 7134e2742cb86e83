package registry_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/registry/azuretest"
)

func azureEntries(t *testing.T, from, to int) []registry.Entry {
	t.Helper()
	var out []registry.Entry
	for n := from; n <= to; n++ {
		d, err := device.Generate(device.FormatID("LTK", 5, n), device.ES256)
		require.NoError(t, err)
		e := registry.EntryOf(d)
		e.Secret = device.NewSymmetricKey()
		out = append(out, e)
	}
	return out
}

func TestAzureRegistersListsAndDeletes(t *testing.T) {
	t.Parallel()
	hub := azuretest.Start(t, "ltk-test.azure-devices.net")
	cfg := registry.AzureConfig{ConnectionString: hub.ConnectionString(), Endpoint: hub.URL()}
	r, err := registry.OpenAzure(t.Context(), cfg)
	require.NoError(t, err)
	entries := azureEntries(t, 1, 5)
	require.NoError(t, r.Add(entries))
	for _, e := range entries {
		require.Equal(t, e.Secret, hub.Devices()[e.ID], "the device's key is its primary key")
	}
	var exists *registry.ExistsError
	require.ErrorAs(t, r.Add(entries[:1]), &exists)

	again, err := registry.OpenAzure(t.Context(), cfg) // lists them back
	require.NoError(t, err)
	require.Equal(t, []string{"LTK00001", "LTK00002", "LTK00003", "LTK00004", "LTK00005"}, again.IDs())

	n, err := again.Delete([]string{"LTK00002", "LTK00009"})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = again.DeleteAll()
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Empty(t, hub.Devices())
}

// TestAzureRegistersX509Devices: an entry without a symmetric key is a
// CA-signed X.509 device, registered without keys or thumbprints.
func TestAzureRegistersX509Devices(t *testing.T) {
	t.Parallel()
	hub := azuretest.Start(t, "ltk-test.azure-devices.net")
	r, err := registry.OpenAzure(t.Context(), registry.AzureConfig{ConnectionString: hub.ConnectionString(), Endpoint: hub.URL()})
	require.NoError(t, err)
	entries := azureEntries(t, 1, 2)
	entries[1].Secret = ""
	require.NoError(t, r.Add(entries))
	require.Equal(t, "sas", hub.AuthType("LTK00001"))
	require.Equal(t, entries[0].Secret, hub.Devices()["LTK00001"])
	require.Equal(t, "certificateAuthority", hub.AuthType("LTK00002"))
	require.Empty(t, hub.Devices()["LTK00002"], "no key")
	require.Equal(t, []string{"LTK00001", "LTK00002"}, r.IDs())
}

func TestAzureAddIsAllOrNothing(t *testing.T) {
	t.Parallel()
	hub := azuretest.Start(t, "ltk-test.azure-devices.net")
	r, err := registry.OpenAzure(t.Context(), registry.AzureConfig{ConnectionString: hub.ConnectionString(), Endpoint: hub.URL()})
	require.NoError(t, err)
	hub.FailCreate("LTK00003")
	err = r.Add(azureEntries(t, 1, 4))
	require.ErrorContains(t, err, "register LTK00003: IoT Hub PUT /devices/LTK00003: 500")
	require.Empty(t, hub.Devices(), "the two created first are deleted again")
	require.Empty(t, r.IDs())
}

func TestAzureRefusesAWrongPolicyKey(t *testing.T) {
	t.Parallel()
	hub := azuretest.Start(t, "ltk-test.azure-devices.net")
	wrong := fmt.Sprintf("HostName=ltk-test.azure-devices.net;SharedAccessKeyName=registryReadWrite;SharedAccessKey=%s", device.NewSymmetricKey())
	_, err := registry.OpenAzure(t.Context(), registry.AzureConfig{ConnectionString: wrong, Endpoint: hub.URL()})
	require.ErrorContains(t, err, "401 Unauthorized")
	require.ErrorContains(t, err, "registryReadWrite or iothubowner")
	_, err = registry.OpenAzure(t.Context(), registry.AzureConfig{ConnectionString: "HostName=x"})
	require.ErrorContains(t, err, "is not HostName=HUB.azure-devices.net;SharedAccessKeyName=NAME;SharedAccessKey=KEY")
}
