package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/clustertls"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// TestMasterPortOverTLS: a master process serving its port over TLS (a CA
// and certificate made here) with a cluster token. A worker given the CA in
// its .env (LTK_MASTER_TLS_CA) runs its block; one given another CA gives
// up at once saying why; one speaking plaintext never joins, and the master
// says it does not speak TLS.
func TestMasterPortOverTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(dir, name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	ca, err := clustertls.NewAuthority("e2e CA")
	require.NoError(t, err)
	other, err := clustertls.NewAuthority("another CA")
	require.NoError(t, err)
	cert, key, err := ca.IssueServer("localhost", "127.0.0.1")
	require.NoError(t, err)
	tt := targettest.Start(t)

	m, addr := startMaster(t, "master", dir, 0, append([]string{"-c", "4", "-r", "4", "-t", "4s", "--only-summary",
		"--broker", tt.BrokerURL(), "--cluster-token", "t0ken",
		"--master-tls-cert", write(dir, "tls.crt", cert), "--master-tls-key", write(dir, "tls.key", key)}, plain...)...)
	_, port, _ := cutPort(addr)

	plaintext := startWorker(t, "plaintext", ltkBin, addr, "--cluster-token", "t0ken")
	m.waitFor(t, `Refused a connection from 127\.0\.0\.1:\d+: it does not speak TLS; give the worker --master-tls-ca`, 20*time.Second)
	plaintext.kill9(t)

	wrongDir := t.TempDir()
	wrong := start(t, "wrong CA", ltkBin, wrongDir, "worker", "--master-host", "localhost", "--master-port", port,
		"--cluster-token", "t0ken", "--master-tls-ca", write(wrongDir, "ca.crt", other.CertPEM()))
	require.Equal(t, 2, wrong.wait(t, 20*time.Second), wrong.out.String())
	wrong.waitFor(t, `The master at localhost:\d+ is not trusted: its TLS certificate: .*certificate signed by unknown authority.*: give this worker the CA that signed it \(--master-tls-ca, LTK_MASTER_TLS_CA\)`, time.Second)

	goodDir := t.TempDir()
	write(goodDir, ".env", []byte("LTK_MASTER_TLS_CA="+write(goodDir, "ca.crt", ca.CertPEM())+"\nLTK_CLUSTER_TOKEN=t0ken\n"))
	good := start(t, "worker", ltkBin, goodDir, "worker", "--master-host", "localhost", "--master-port", port)
	good.waitFor(t, `connecting to master localhost:\d+ \(assigned by the master, TLS\)`, 10*time.Second)
	require.Equal(t, 0, m.wait(t, 60*time.Second), m.out.String())
	require.Equal(t, 0, good.wait(t, 20*time.Second), good.out.String())
	require.Positive(t, good.recorded(t))
	good.waitFor(t, `Worker 0 has its block: 4 devices`, time.Second)
	for _, p := range []*proc{m, wrong, good} {
		require.NotContains(t, p.out.String(), "PRIVATE KEY")
		require.NotContains(t, p.out.String(), "t0ken")
	}
}
