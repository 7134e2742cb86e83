package worker_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/clustertls"
	"github.com/ltk-dev/ltk/internal/master"
	"github.com/ltk-dev/ltk/internal/syncbuf"
	"github.com/ltk-dev/ltk/internal/target/targettest"
	"github.com/ltk-dev/ltk/internal/worker"
)

// pki is a CA made for one test, with the master's server certificate and
// a worker's client certificate, as files.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	ca, err := clustertls.NewAuthority("ltk test CA")
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	var p pki
	p.ca = write("ca.crt", ca.CertPEM())
	cert, key, err := ca.IssueServer("localhost", "127.0.0.1")
	require.NoError(t, err)
	p.serverCert, p.serverKey = write("tls.crt", cert), write("tls.key", key)
	cert, key, err = ca.IssueClient("ltk-worker-0")
	require.NoError(t, err)
	p.clientCert, p.clientKey = write("client.crt", cert), write("client.key", key)
	return p
}

// tlsMaster starts a master over TLS (and token) whose server certificate
// p issued; with mutual, workers need a client certificate from p's CA.
func tlsMaster(t *testing.T, tt *targettest.Target, p pki, mutual bool) (*master.Master, *syncbuf.Buffer) {
	t.Helper()
	f := clustertls.Files{Cert: p.serverCert, Key: p.serverKey}
	if mutual {
		f.CA = p.ca
	}
	cfg, err := clustertls.Server(f)
	require.NoError(t, err)
	var events syncbuf.Buffer
	m, _ := startMaster(t, "127.0.0.1:0", tt, 4, 1, "tok", func(c *master.Config) { c.TLS, c.Events = cfg, &events })
	return m, &events
}

// TestAgentOverTLS: a worker that trusts the master's CA runs its share
// over TLS, with the cluster token, and with mutual TLS when it presents
// a client certificate.
func TestAgentOverTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	for _, mutual := range []bool{false, true} {
		t.Run(map[bool]string{false: "server", true: "mutual"}[mutual], func(t *testing.T) {
			t.Parallel()
			tt := targettest.Start(t)
			m, _ := tlsMaster(t, tt, p, mutual)
			f := clustertls.Files{CA: p.ca, ServerName: "localhost"}
			if mutual {
				f.Cert, f.Key = p.clientCert, p.clientKey
			}
			cfg, err := clustertls.Client(f)
			require.NoError(t, err)
			done, events := startAgent(t, worker.Config{MasterAddr: m.Addr(), Ordinal: 0, Token: "tok", TLS: cfg})
			require.True(t, m.WaitForWorkers(t.Context(), 1, 10*time.Second), events.String())
			require.NoError(t, m.Start(4, 0))
			require.Eventually(t, func() bool { return m.Collect(time.Now()).Total.NumRequests > 10 }, 20*time.Second, 20*time.Millisecond)
			require.True(t, m.StopAndWait(t.Context(), 10*time.Second))
			m.Quit(t.Context(), "done", 5*time.Second)
			require.NoError(t, <-done)
			require.Equal(t, recorded(t, events.String()), m.Collect(time.Now()).Total.NumRequests)
		})
	}
}

// TestAgentWithoutTheCARefused: a worker that does not trust the master's
// certificate gives up at once with an error that names the flag, rather
// than retrying until --master-timeout.
func TestAgentWithoutTheCARefused(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	p := newPKI(t)
	m, _ := tlsMaster(t, tt, p, false)
	cfg := &tls.Config{ServerName: "localhost", MinVersion: tls.VersionTLS12} // the system's roots only
	start := time.Now()
	done, events := startAgent(t, worker.Config{MasterAddr: m.Addr(), Token: "tok", TLS: cfg, MasterTimeout: time.Minute})
	err := <-done
	require.ErrorIs(t, err, worker.ErrRefused)
	require.ErrorContains(t, err, "certificate signed by unknown authority")
	require.ErrorContains(t, err, "--master-tls-ca")
	require.Contains(t, events.String(), "The master at "+m.Addr()+" is not trusted")
	require.Less(t, time.Since(start), 30*time.Second, "refused at once, not after --master-timeout")
}

// TestMasterTellsWhyAWorkerFailsTLS: the master names a worker that speaks
// no TLS, and one without a client certificate under mutual TLS; neither
// gets in.
func TestMasterTellsWhyAWorkerFailsTLS(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	p := newPKI(t)
	t.Run("plaintext", func(t *testing.T) {
		t.Parallel()
		m, events := tlsMaster(t, tt, p, false)
		startAgent(t, worker.Config{MasterAddr: m.Addr(), Token: "tok"})
		require.Eventually(t, func() bool { return strings.Contains(events.String(), "it does not speak TLS") }, 20*time.Second, 20*time.Millisecond)
		require.Zero(t, m.Connected(), "a plaintext worker never joins")
	})
	t.Run("no client certificate", func(t *testing.T) {
		t.Parallel()
		m, events := tlsMaster(t, tt, p, true)
		cfg, err := clustertls.Client(clustertls.Files{CA: p.ca, ServerName: "localhost"})
		require.NoError(t, err)
		startAgent(t, worker.Config{MasterAddr: m.Addr(), Token: "tok", TLS: cfg})
		require.Eventually(t, func() bool { return strings.Contains(events.String(), "didn't provide a certificate") }, 20*time.Second, 20*time.Millisecond)
		require.Zero(t, m.Connected(), "a worker without a client certificate never joins")
	})
}
