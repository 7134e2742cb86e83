package target_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	mqttpackets "github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// secrets is an in-memory SecretStore.
type secrets map[string]string

func (s secrets) Secret(d string) (string, bool) { v, ok := s[d]; return v, ok }

// notAuthorized is the MQTT 3.1.1 CONNACK return code of every refusal.
const notAuthorized = 5

// awsFleet is a test CA, a device with a certificate from it, and the
// target that emulates AWS IoT Core for them.
type awsFleet struct {
	ca   *device.CA
	dev  device.Device
	cert *tls.Certificate
	tt   *targettest.Target
}

func startAWS(t *testing.T) *awsFleet {
	t.Helper()
	ca, err := device.NewCA("test CA")
	require.NoError(t, err)
	dev, err := device.Generate("LTK00001", device.ES256)
	require.NoError(t, err)
	certPEM, err := ca.IssueDevice(dev)
	require.NoError(t, err)
	cert, err := device.TLSCertificate(dev, device.Flatten(certPEM))
	require.NoError(t, err)
	server, err := ca.ServerCertificate("127.0.0.1")
	require.NoError(t, err)
	tt := targettest.Start(t, func(c *target.Config) {
		c.Auth, c.TLSAddr, c.TLSCertificate, c.ClientCA = target.AuthCert, "127.0.0.1:0", &server, ca.PEM
		c.Keys = keys{dev.ID: dev.Public()}
	})
	return &awsFleet{ca: ca, dev: dev, cert: cert, tt: tt}
}

// connectTLS sends a CONNECT as clientID over TLS presenting cert (nil:
// none) and returns the CONNACK's return code.
func (f *awsFleet) connectTLS(t *testing.T, clientID string, cert *tls.Certificate) byte {
	t.Helper()
	return f.connectTLSWith(t, mqttpackets.ConnectParams{ClientIdentifier: clientID}, cert)
}

// connectTLSWith sends a CONNECT with params over TLS presenting cert
// (nil: none) and returns the CONNACK's return code.
func (f *awsFleet) connectTLSWith(t *testing.T, params mqttpackets.ConnectParams, cert *tls.Certificate) byte {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(f.ca.Cert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: waitFor}, "tcp", f.tt.Target().TLSAddr(), cfg)
	require.NoError(t, err)
	return connectOver(t, conn, params, 4).ReasonCode
}

func TestAWSClientCertificates(t *testing.T) {
	t.Parallel()
	f := startAWS(t)
	other, err := device.NewCA("another CA")
	require.NoError(t, err)
	foreign, err := other.IssueDevice(f.dev) // the right key and CN, the wrong CA
	require.NoError(t, err)
	foreignCert, err := device.TLSCertificate(f.dev, string(foreign))
	require.NoError(t, err)
	twin, err := device.Generate("LTK00002", device.ES256) // signed by the CA, never registered
	require.NoError(t, err)
	twinPEM, err := f.ca.IssueDevice(twin)
	require.NoError(t, err)
	twinCert, err := device.TLSCertificate(twin, string(twinPEM))
	require.NoError(t, err)

	code := f.connectTLS(t, "LTK00001", f.cert)
	for _, r := range target.Reasons {
		if v := metric(t, f.tt.Registry(), "ltk_target_connects_refused_total", "reason", string(r)); v > 0 {
			t.Log(r, v)
		}
	}
	require.Zero(t, code)
	for _, tc := range []struct {
		name, clientID string
		cert           *tls.Certificate
		reason         target.Reason
	}{
		{"no certificate", "LTK00001", nil, target.ReasonNoCertificate},
		{"another CA", "LTK00001", foreignCert, target.ReasonUnknownCA},
		{"CN not the client id", "LTK00003", f.cert, target.ReasonCNMismatch},
		{"not registered", "LTK00002", twinCert, target.ReasonUnknownDevice},
	} {
		before := metric(t, f.tt.Registry(), "ltk_target_connects_refused_total", "reason", string(tc.reason))
		require.Equal(t, byte(notAuthorized), f.connectTLS(t, tc.clientID, tc.cert), tc.name)
		require.Equal(t, before+1, metric(t, f.tt.Registry(), "ltk_target_connects_refused_total", "reason", string(tc.reason)), tc.name)
	}
}

func TestAzureSASTokens(t *testing.T) {
	t.Parallel()
	key, wrong := device.NewSymmetricKey(), device.NewSymmetricKey()
	tt := targettest.Start(t, func(c *target.Config) {
		c.Auth, c.Secrets = target.AuthSAS, secrets{"LTK00001": key}
	})
	hub, user := runset.DefaultAzureHub, device.SASUsername(runset.DefaultAzureHub, "LTK00001")
	token := func(hub, key string, exp time.Time) string {
		tok, err := device.SASToken(hub, "LTK00001", key, exp)
		require.NoError(t, err)
		return tok
	}
	later := time.Now().Add(time.Hour)
	connect := func(user, password string) byte {
		return rawConnect(t, tt.Addr(), mqttpackets.ConnectParams{ClientIdentifier: "LTK00001",
			Username: []byte(user), UsernameFlag: true, Password: []byte(password), PasswordFlag: true}, 4)
	}
	require.Zero(t, connect(user, token(hub, key, later)))
	for _, tc := range []struct {
		name, user, password string
		reason               target.Reason
	}{
		{"wrong key", user, token(hub, wrong, later), target.ReasonBadSignature},
		{"expired", user, token(hub, key, time.Now().Add(-time.Second)), target.ReasonExpired},
		{"another hub's resource", user, token("other.azure-devices.net", key, later), target.ReasonWrongResource},
		{"username of another hub", "other.azure-devices.net/LTK00001/?api-version=2021-04-12", token(hub, key, later), target.ReasonBadUsername},
		{"not a SAS token", user, "hunter2", target.ReasonMalformedToken},
	} {
		before := metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(tc.reason))
		require.Equal(t, byte(notAuthorized), connect(tc.user, tc.password), tc.name)
		require.Equal(t, before+1, metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(tc.reason)), tc.name)
	}
}

func TestGenericDevicePasswords(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) {
		c.Auth, c.Secrets = target.AuthDevicePassword, secrets{"LTK00001": registry.PasswordHash("right")}
	})
	connect := func(id, password string) byte {
		return rawConnect(t, tt.Addr(), mqttpackets.ConnectParams{ClientIdentifier: id,
			Username: []byte(id), UsernameFlag: true, Password: []byte(password), PasswordFlag: true}, 4)
	}
	require.Zero(t, connect("LTK00001", "right"))
	require.Equal(t, byte(notAuthorized), connect("LTK00001", "wrong"))
	require.Equal(t, 1.0, metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(target.ReasonWrongPassword)))
	require.Equal(t, byte(notAuthorized), connect("LTK00009", "right"))
	require.Equal(t, 1.0, metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(target.ReasonUnknownDevice)))
}
