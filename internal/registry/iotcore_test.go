package registry

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"cloud.google.com/go/iot/apiv1/iotpb"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry/iotcoretest"
)

const testParent = "projects/iot-project/locations/us-central1/registries/ltk-registry"

func iotConfig(s *iotcoretest.Server) IoTCoreConfig {
	return IoTCoreConfig{Endpoint: s.Endpoint(), Project: "iot-project", Region: "us-central1", Registry: "ltk-registry"}
}

func openIoT(t *testing.T, s *iotcoretest.Server) *IoTCore {
	t.Helper()
	r, err := OpenIoTCore(t.Context(), iotConfig(s))
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// publicKeyOf decodes a device's credential back into a key.
func publicKeyOf(t *testing.T, d *iotpb.Device) (any, iotpb.PublicKeyFormat) {
	t.Helper()
	require.Len(t, d.GetCredentials(), 1)
	pk := d.GetCredentials()[0].GetPublicKey()
	b, _ := pem.Decode([]byte(pk.GetKey()))
	require.NotNil(t, b, "PEM")
	require.Equal(t, "PUBLIC KEY", b.Type)
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	require.NoError(t, err)
	return k, pk.GetFormat()
}

func TestIoTCoreAddListDelete(t *testing.T) {
	t.Parallel()
	s := iotcoretest.Start(t, testParent)
	r := openIoT(t, s)
	require.Empty(t, r.IDs())

	ec := ecEntries(t, 1, 4)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsaEntry := Entry{ID: "LTK00005", Alg: device.RS256, Public: &rk.PublicKey}
	require.NoError(t, r.Add(append(ec, rsaEntry)))
	require.Equal(t, []string{"LTK00001", "LTK00002", "LTK00003", "LTK00004", "LTK00005"}, r.IDs())

	devs := s.Devices(testParent)
	require.Len(t, devs, 5)
	for _, e := range ec {
		k, format := publicKeyOf(t, devs[e.ID])
		require.Equal(t, iotpb.PublicKeyFormat_ES256_PEM, format)
		require.True(t, e.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k), e.ID)
	}
	k, format := publicKeyOf(t, devs["LTK00005"])
	require.Equal(t, iotpb.PublicKeyFormat_RSA_PEM, format)
	require.True(t, rk.PublicKey.Equal(k))

	// A new client sees them all, across list pages.
	require.Greater(t, 5, iotcoretest.PageSize*2)
	require.Equal(t, r.IDs(), openIoT(t, s).IDs())

	n, err := r.Delete([]string{"LTK00002", "LTK00099"})
	require.NoError(t, err)
	require.Equal(t, 1, n, "unknown ids are ignored")
	require.NotContains(t, s.Devices(testParent), "LTK00002")
	n, err = r.DeleteAll()
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Empty(t, s.Devices(testParent))
	require.Empty(t, r.IDs())
}

func TestIoTCoreAddRefusesExisting(t *testing.T) {
	t.Parallel()
	s := iotcoretest.Start(t, testParent)
	r := openIoT(t, s)
	es := ecEntries(t, 1, 3)
	require.NoError(t, r.Add(es[:2]))
	err := r.Add(es[1:])
	var ee *ExistsError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, []string{"LTK00002"}, ee.IDs)
	require.Len(t, s.Devices(testParent), 2, "nothing created")
}

func TestIoTCoreAddAllOrNothing(t *testing.T) {
	t.Parallel()
	s := iotcoretest.Start(t, testParent)
	r := openIoT(t, s)
	s.FailCreate("LTK00007", codes.ResourceExhausted)
	err := r.Add(ecEntries(t, 1, 10))
	require.ErrorContains(t, err, "register LTK00007 in IoT Core registry "+testParent)
	require.ErrorContains(t, err, "ResourceExhausted")
	require.Empty(t, s.Devices(testParent), "the devices created before the failure are removed")
	require.Empty(t, r.IDs())
}

func TestIoTCoreErrors(t *testing.T) {
	t.Parallel()
	s := iotcoretest.Start(t, testParent)
	cfg := iotConfig(s)
	cfg.Registry = "no-such-registry"
	_, err := OpenIoTCore(t.Context(), cfg)
	require.ErrorContains(t, err, "list the devices of IoT Core registry projects/iot-project/locations/us-central1/registries/no-such-registry")
	require.ErrorContains(t, err, "LTK_TARGET_REGISTRY_ID")

	cfg = iotConfig(s)
	cfg.Project = "bad/project"
	_, err = OpenIoTCore(t.Context(), cfg)
	require.ErrorContains(t, err, "LTK_TARGET_PROJECT_ID")

	cfg = iotConfig(s)
	cfg.Endpoint = "ftp://" + s.Addr()
	_, err = OpenIoTCore(t.Context(), cfg)
	require.ErrorContains(t, err, "grpc://host:port")
}

func TestIoTCoreEndpointOptions(t *testing.T) {
	t.Parallel()
	for ep, n := range map[string]int{"": 0, "grpc://127.0.0.1:8085": 3, "iot.example.com": 1, "https://iot.example.com:8443": 1} {
		opts, err := (&IoTCoreConfig{Endpoint: ep}).ClientOptions()
		require.NoError(t, err, ep)
		require.Len(t, opts, n, "%q", ep)
	}
}
