package kube

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/ltk-dev/ltk/internal/clustertls"
)

// TestRenderMasterTLS: with MasterTLS the master mounts the certificate and
// key of SecretMasterTLS and serves with them; workers mount its ca.crt
// alone and verify the master with it.
func TestRenderMasterTLS(t *testing.T) {
	t.Parallel()
	v := fullValues()
	v.MasterTLS = true
	pods := decode(t, render(t, v)).pods()
	master, worker := pods["master"], pods["worker"]
	require.ElementsMatch(t, []string{SecretDevices, SecretCluster, SecretWeb, SecretMasterTLS}, secretsUsed(master))
	require.ElementsMatch(t, []string{SecretCluster, SecretMasterTLS}, secretsUsed(worker))

	items := func(p corev1.PodSpec) (keys []string, mount string) {
		for _, vol := range p.Volumes {
			if vol.Secret != nil && vol.Secret.SecretName == SecretMasterTLS {
				for _, it := range vol.Secret.Items {
					keys = append(keys, it.Key)
				}
				for _, vm := range p.Containers[0].VolumeMounts {
					if vm.Name == vol.Name {
						require.True(t, vm.ReadOnly)
						mount = vm.MountPath
					}
				}
			}
		}
		return keys, mount
	}
	keys, dir := items(master)
	require.Equal(t, []string{"tls.crt", "tls.key"}, keys)
	require.Subset(t, master.Containers[0].Args, []string{"--master-tls-cert=" + dir + "/tls.crt", "--master-tls-key=" + dir + "/tls.key"})
	keys, dir = items(worker)
	require.Equal(t, []string{"ca.crt"}, keys, "workers never see the master's key")
	require.Contains(t, worker.Containers[0].Args, "--master-tls-ca="+dir+"/ca.crt")

	v.MasterTLS = false
	pods = decode(t, render(t, v)).pods()
	require.NotContains(t, secretsUsed(pods["worker"]), SecretMasterTLS)
	require.NotContains(t, pods["worker"].Containers[0].Args, "--master-tls-ca=/etc/ltk/master-tls/ca.crt")
}

// secretJSON is a Secret's data as kubectl -o jsonpath={.data} prints it.
func secretJSON(t *testing.T, data map[string][]byte) []byte {
	t.Helper()
	enc := map[string]string{}
	for k, v := range data {
		enc[k] = base64.StdEncoding.EncodeToString(v)
	}
	b, err := json.Marshal(enc)
	require.NoError(t, err)
	return b
}

// TestKeptMasterTLS: a Secret from the last setup is kept while it fits
// the namespace and has time left; otherwise setup makes a new one.
func TestKeptMasterTLS(t *testing.T) {
	t.Parallel()
	s := &setup{cfg: Config{Values: Values{Namespace: "load"}}, r: &DryRunner{Out: io.Discard}}
	data, note, err := s.masterTLS(t.Context())
	require.NoError(t, err)
	require.Equal(t, "a new CA", note)

	pair, err := tls.X509KeyPair(data["tls.crt"], data["tls.key"])
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(data["ca.crt"]))
	for _, name := range []string{"ltk-master", "ltk-master.load.svc.cluster.local"} {
		_, err = pair.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots})
		require.NoError(t, err, name)
	}

	now := time.Now()
	kept, ok := keptMasterTLS(secretJSON(t, data), "load", now)
	require.True(t, ok)
	require.Equal(t, data, kept)
	_, ok = keptMasterTLS(secretJSON(t, data), "other", now)
	require.False(t, ok, "another namespace's names")
	_, ok = keptMasterTLS(secretJSON(t, data), "load", pair.Leaf.NotAfter.Add(-masterTLSRenewal/2))
	require.False(t, ok, "renewed before it ends")
	other, err := clustertls.NewAuthority("another CA")
	require.NoError(t, err)
	swapped := map[string][]byte{"ca.crt": other.CertPEM(), "tls.crt": data["tls.crt"], "tls.key": data["tls.key"]}
	_, ok = keptMasterTLS(secretJSON(t, swapped), "load", now)
	require.False(t, ok, "not signed by its CA")
	_, ok = keptMasterTLS([]byte(""), "load", now)
	require.False(t, ok, "no Secret")
}
