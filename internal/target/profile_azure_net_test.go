package target_test

import (
	"crypto/tls"
	"testing"
	"time"

	mqttpackets "github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// issued returns a certificate from ca for a fresh ES256 device id.
func issued(t *testing.T, ca *device.CA, id string) (device.Device, *tls.Certificate) {
	t.Helper()
	d, err := device.Generate(id, device.ES256)
	require.NoError(t, err)
	pem, err := ca.IssueDevice(d)
	require.NoError(t, err)
	cert, err := device.TLSCertificate(d, string(pem))
	require.NoError(t, err)
	return d, cert
}

// TestAzureX509AndSASDevices: one IoT Hub target takes CA-signed X.509
// devices (registered with a key, no symmetric key) and SAS devices side
// by side, each the way its registry entry says, and counts each refusal.
func TestAzureX509AndSASDevices(t *testing.T) {
	t.Parallel()
	ca, err := device.NewCA("test CA")
	require.NoError(t, err)
	other, err := device.NewCA("another CA")
	require.NoError(t, err)
	x509Dev, cert := issued(t, ca, "LTK00001")
	twin, twinCert := issued(t, ca, "LTK00003") // registered, X.509 too
	foreign, err := other.IssueDevice(x509Dev)  // the right key and CN, the wrong CA
	require.NoError(t, err)
	foreignCert, err := device.TLSCertificate(x509Dev, string(foreign))
	require.NoError(t, err)
	key := device.NewSymmetricKey()
	server, err := ca.ServerCertificate("127.0.0.1")
	require.NoError(t, err)
	tt := targettest.Start(t, func(c *target.Config) {
		c.Auth, c.TLSAddr, c.TLSCertificate, c.ClientCA = target.AuthSAS, "127.0.0.1:0", &server, ca.PEM
		c.Secrets = secrets{"LTK00002": key}
		c.Keys = keys{x509Dev.ID: x509Dev.Public(), twin.ID: twin.Public()}
	})
	f := &awsFleet{ca: ca, tt: tt}
	hub := runset.DefaultAzureHub
	params := func(id, user, password string) mqttpackets.ConnectParams {
		p := mqttpackets.ConnectParams{ClientIdentifier: id, Username: []byte(user), UsernameFlag: user != ""}
		if password != "" {
			p.Password, p.PasswordFlag = []byte(password), true
		}
		return p
	}
	sas, err := device.SASToken(hub, "LTK00002", key, time.Now().Add(time.Hour))
	require.NoError(t, err)

	require.Zero(t, f.connectTLSWith(t, params("LTK00001", device.SASUsername(hub, "LTK00001"), ""), cert), "X.509 device, no password")
	require.Zero(t, f.connectTLSWith(t, params("LTK00003", device.SASUsername(hub, "LTK00003"), ""), twinCert), "another X.509 device")
	require.Zero(t, f.connectTLSWith(t, params("LTK00002", device.SASUsername(hub, "LTK00002"), sas), nil), "SAS device on the same listener")
	for _, tc := range []struct {
		name   string
		params mqttpackets.ConnectParams
		cert   *tls.Certificate
		reason target.Reason
	}{
		{"no certificate", params("LTK00001", device.SASUsername(hub, "LTK00001"), ""), nil, target.ReasonNoCertificate},
		{"another CA", params("LTK00001", device.SASUsername(hub, "LTK00001"), ""), foreignCert, target.ReasonUnknownCA},
		{"CN not the client id", params("LTK00003", device.SASUsername(hub, "LTK00003"), ""), cert, target.ReasonCNMismatch},
		{"wrong username", params("LTK00001", "LTK00001", ""), cert, target.ReasonBadUsername},
		{"username of another device", params("LTK00001", device.SASUsername(hub, "LTK00003"), ""), cert, target.ReasonBadUsername},
		{"not registered", params("LTK00009", device.SASUsername(hub, "LTK00009"), ""), cert, target.ReasonUnknownDevice},
		{"SAS device without its token", params("LTK00002", device.SASUsername(hub, "LTK00002"), ""), cert, target.ReasonNoPassword},
	} {
		before := metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(tc.reason))
		want := byte(notAuthorized)
		if tc.reason == target.ReasonNoPassword {
			want = 4 // "bad user name or password"
		}
		require.Equal(t, want, f.connectTLSWith(t, tc.params, tc.cert), tc.name)
		require.Equal(t, before+1, metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(tc.reason)), tc.name)
	}
}

// TestAzureSASWithoutCAKnowsNoX509Devices: without a CA, a device the
// registry holds no symmetric key for is not an IoT Hub device.
func TestAzureSASWithoutCAKnowsNoX509Devices(t *testing.T) {
	t.Parallel()
	d, err := device.Generate("LTK00001", device.ES256)
	require.NoError(t, err)
	tt := targettest.Start(t, func(c *target.Config) {
		c.Auth, c.Secrets, c.Keys = target.AuthSAS, secrets{}, keys{d.ID: d.Public()}
	})
	code := rawConnect(t, tt.Addr(), mqttpackets.ConnectParams{ClientIdentifier: "LTK00001",
		Username: []byte(device.SASUsername(runset.DefaultAzureHub, "LTK00001")), UsernameFlag: true}, 4)
	require.Equal(t, byte(notAuthorized), code)
	require.Equal(t, 1.0, metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(target.ReasonUnknownDevice)))
}
