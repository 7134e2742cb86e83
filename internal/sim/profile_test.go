package sim_test

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// publicKeys and secrets are in-memory registries for the target.
type (
	publicKeys map[string]crypto.PublicKey
	secrets    map[string]string
)

func (k publicKeys) PublicKey(d string) (crypto.PublicKey, bool) { v, ok := k[d]; return v, ok }
func (s secrets) Secret(d string) (string, bool)                 { v, ok := s[d]; return v, ok }

func profileTopics(t *testing.T, name string) runset.Topics {
	t.Helper()
	p, err := runset.ProfileByName(name)
	require.NoError(t, err)
	return p.Topics
}

// TestProfilesEchoOnTheEmbeddedTarget runs a device of each profile, on
// each client, against the embedded target emulating that profile's auth
// and topics, and awaits its echoes.
func TestProfilesEchoOnTheEmbeddedTarget(t *testing.T) {
	t.Parallel()
	const id = "LTK00001"
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, cfg *sim.Config) *targettest.Target
	}{
		{runset.ProfileAWS, func(t *testing.T, cfg *sim.Config) *targettest.Target {
			ca, err := device.NewCA("test CA")
			require.NoError(t, err)
			dev, err := device.Generate(id, device.ES256)
			require.NoError(t, err)
			certPEM, err := ca.IssueDevice(dev)
			require.NoError(t, err)
			server, err := ca.ServerCertificate("127.0.0.1")
			require.NoError(t, err)
			tt := targettest.Start(t, func(c *target.Config) {
				c.Auth, c.TLSAddr, c.TLSCertificate, c.ClientCA = target.AuthCert, "127.0.0.1:0", &server, ca.PEM
				c.Keys, c.Topics = publicKeys{id: dev.Public()}, profileTopics(t, runset.ProfileAWS)
			})
			cfg.Certificate, err = device.TLSCertificate(dev, string(certPEM))
			require.NoError(t, err)
			pool := x509.NewCertPool()
			pool.AddCert(ca.Cert)
			cfg.Broker, cfg.TLS = "ssl://"+tt.Target().TLSAddr(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			return tt
		}},
		{runset.ProfileAzure, func(t *testing.T, cfg *sim.Config) *targettest.Target {
			key := device.NewSymmetricKey()
			tt := targettest.Start(t, func(c *target.Config) {
				c.Auth, c.Secrets, c.Topics = target.AuthSAS, secrets{id: key}, profileTopics(t, runset.ProfileAzure)
			})
			src, err := device.NewSASSource(runset.DefaultAzureHub, id, key, time.Hour)
			require.NoError(t, err)
			cfg.Broker, cfg.Username, cfg.Credentials = tt.BrokerURL(), device.SASUsername(runset.DefaultAzureHub, id), src
			return tt
		}},
		{runset.ProfileGeneric, func(t *testing.T, cfg *sim.Config) *targettest.Target {
			tt := targettest.Start(t, func(c *target.Config) {
				c.Auth, c.Secrets = target.AuthDevicePassword, secrets{id: registry.PasswordHash("s3cret")}
			})
			cfg.Broker, cfg.Username = tt.BrokerURL(), id
			cfg.Credentials = sim.CredentialsFunc(func(time.Time) (string, time.Time, error) { return "s3cret", time.Time{}, nil })
			return tt
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachClient(t, func(t *testing.T, client string) {
				r := newRecorder()
				cfg := testConfig(client, "", id, r)
				cfg.Topics = profileTopics(t, tc.name)
				tc.setup(t, &cfg)
				stop := run(t, newDevice(t, cfg))
				r.waitFor(t, sim.EventEchoReceive, true, 3)
				require.NoError(t, stop())
				require.Empty(t, r.failures())
				require.Equal(t, 1, r.count(sim.EventConnect, true))
			})
		})
	}
}

// TestSASTokensAreRenewedBeforeTheyExpire: a device whose SAS tokens live
// 2 s reconnects with a fresh one before the target would drop it, so no
// connect fails and no echo is lost.
func TestSASTokensAreRenewedBeforeTheyExpire(t *testing.T) {
	t.Parallel()
	const id = "LTK00001"
	key := device.NewSymmetricKey()
	tt := targettest.Start(t, func(c *target.Config) {
		c.Auth, c.Secrets, c.Topics = target.AuthSAS, secrets{id: key}, profileTopics(t, runset.ProfileAzure)
	})
	src, err := device.NewSASSource(runset.DefaultAzureHub, id, key, 2*time.Second)
	require.NoError(t, err)
	r := newRecorder()
	cfg := testConfig(sim.ClientLean, tt.BrokerURL(), id, r)
	cfg.Topics, cfg.Username, cfg.Credentials = profileTopics(t, runset.ProfileAzure), device.SASUsername(runset.DefaultAzureHub, id), src
	stop := run(t, newDevice(t, cfg))
	r.waitFor(t, sim.EventConnect, true, 3) // two renewals
	require.NoError(t, stop())
	require.Empty(t, r.failures())
	require.Zero(t, r.count(sim.EventEchoTimeout, false))
}

// TestDevicesResumeOnlyTheirOwnTLSSessions: two devices with their own
// client certificates, one after the other, on one engine (whose TLS session
// cache the lean client shares): the second must not resume the first's
// session, which would show the broker the first's certificate (CN mismatch).
func TestDevicesResumeOnlyTheirOwnTLSSessions(t *testing.T) {
	t.Parallel()
	ca, err := device.NewCA("test CA")
	require.NoError(t, err)
	server, err := ca.ServerCertificate("127.0.0.1")
	require.NoError(t, err)
	ids := []string{"LTK00001", "LTK00002"}
	keys := publicKeys{}
	devs := make([]device.Device, len(ids))
	for i, id := range ids {
		devs[i], err = device.Generate(id, device.ES256)
		require.NoError(t, err)
		keys[id] = devs[i].Public()
	}
	tt := targettest.Start(t, func(c *target.Config) {
		c.Auth, c.TLSAddr, c.TLSCertificate, c.ClientCA = target.AuthCert, "127.0.0.1:0", &server, ca.PEM
		c.Keys, c.Topics = keys, profileTopics(t, runset.ProfileAWS)
	})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	shared := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	engine := sim.NewEngine()
	t.Cleanup(engine.Wait)
	for _, dev := range devs {
		certPEM, err := ca.IssueDevice(dev)
		require.NoError(t, err)
		r := newRecorder()
		cfg := testConfig(sim.ClientLean, "ssl://"+tt.Target().TLSAddr(), dev.ID, r)
		cfg.ClientID, cfg.Topics, cfg.TLS, cfg.Engine = dev.ID, profileTopics(t, runset.ProfileAWS), shared, engine
		cfg.Certificate, err = device.TLSCertificate(dev, string(certPEM))
		require.NoError(t, err)
		stop := run(t, newDevice(t, cfg))
		r.waitFor(t, sim.EventEchoReceive, true, 2) // the session ticket has arrived by then
		require.NoError(t, stop())
		require.Empty(t, r.failures(), dev.ID)
	}
}
