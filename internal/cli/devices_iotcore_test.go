package cli_test

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry/iotcoretest"
)

const iotParent = "projects/iot-project/locations/us-central1/registries/reg-1"

// iotEnv is an ltk root configured for the IoT-Core-API registry backend of
// a fake Device Manager, as a user's .env would.
func iotEnv(t *testing.T) (*clitest.Env, *iotcoretest.Server) {
	t.Helper()
	s := iotcoretest.Start(t, iotParent)
	e := clitest.NewEnv(t)
	e.Vars["LTK_REGISTRY_BACKEND"] = "iotcore"
	e.Vars["LTK_REGISTRY_ENDPOINT"] = s.Endpoint()
	e.Vars["LTK_TARGET_PROJECT_ID"] = "iot-project"
	e.Vars["LTK_TARGET_REGION"] = "us-central1"
	e.Vars["LTK_TARGET_REGISTRY_ID"] = "reg-1"
	e.Vars["LTK_REGISTRY"] = "reg-1" // run's registry id: the devices commands leave it alone
	return e, s
}

func TestDevicesIoTCore(t *testing.T) {
	t.Parallel()
	e, s := iotEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "3", "--alg", "ES256", "--quiet")
	require.Contains(t, e.Stdout(), "Created 3 devices LTK00001…LTK00003 (ES256)")

	devs, err := device.ReadFleet(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	registered := s.Devices(iotParent)
	require.Len(t, registered, 3)
	for _, d := range devs {
		r, ok := registered[d.ID]
		require.True(t, ok, d.ID)
		b, _ := pem.Decode([]byte(r.GetCredentials()[0].GetPublicKey().GetKey()))
		require.NotNil(t, b)
		pub, err := x509.ParsePKIXPublicKey(b.Bytes)
		require.NoError(t, err)
		require.True(t, d.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub), "%s: the registered key is the device's", d.ID)
	}
	require.NoFileExists(t, filepath.Join(e.Dir, "registry.csv"), "nothing registered locally")

	run(t, e, cli.ExitOK, "devices", "list")
	require.Contains(t, e.Stdout(), "3 registered in "+iotParent+" at "+s.Endpoint())

	run(t, e, cli.ExitOK, "devices", "delete", "2", "2")
	require.Contains(t, e.Stdout(), "Deleted 1 device from devicelist.csv and 1 from "+iotParent)
	ids := keys(s.Devices(iotParent))
	require.Equal(t, []string{"LTK00001", "LTK00003"}, ids)

	run(t, e, cli.ExitOK, "devices", "delete", "--all")
	require.Empty(t, s.Devices(iotParent))
}

func TestDevicesIoTCoreFlagAndErrors(t *testing.T) {
	t.Parallel()
	e, s := iotEnv(t)
	delete(e.Vars, "LTK_REGISTRY_BACKEND")
	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--alg", "ES256", "--quiet", "--registry", "iotcore")
	require.Len(t, s.Devices(iotParent), 2, "--registry iotcore")
	devicesBefore, _ := fleetFiles(t, e)

	// An unknown registry fails before anything changes.
	run(t, e, cli.ExitError, "devices", "create", "3", "4", "--alg", "ES256", "--quiet", "--registry", "iotcore",
		"--target-registry-id", "missing")
	require.Contains(t, e.Stderr(), "projects/iot-project/locations/us-central1/registries/missing")
	require.Contains(t, e.Stderr(), "LTK_TARGET_REGISTRY_ID")
	devicesAfter, _ := fleetFiles(t, e)
	require.Equal(t, devicesBefore, devicesAfter)

	run(t, e, cli.ExitUsage, "devices", "list", "--registry", "ltk-registry")
	require.Contains(t, e.Stderr(), `--registry "ltk-registry": want local, iotcore, azure or aws`)

	// Without the flag or LTK_REGISTRY_BACKEND, the local registry is used.
	run(t, e, cli.ExitOK, "devices", "list")
	require.Contains(t, e.Stdout(), "0 registered in registry.csv")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
