package kube

import (
	"bytes"
	"crypto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
)

// Kubernetes' limits on one object: a Secret's or ConfigMap's data (the
// API server's validation, k8s.io/api MaxSecretSize), and what etcd
// stores of any object.
const (
	maxDataBytes   = 1 << 20
	maxObjectBytes = 3 << 19 // 1.5 MiB
)

// TestBigFleetPartsWithinLimits splits a device list of 7,000 ES256
// devices (1.7 MB, three Secrets) and its registry (1.4 MB) into
// parts and checks the arithmetic on every object: its data and its text
// under Kubernetes' limits, the master and the target mounting every part,
// and the parts reading back, in a directory laid out as a projected volume
// lays them out, as the device list and registry that were split.
func TestBigFleetPartsWithinLimits(t *testing.T) {
	t.Parallel()
	const n = 7_000
	keys, err := device.GenerateAll(t.Context(), []string{"K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8"}, device.ES256, nil)
	require.NoError(t, err)
	ids := make([]string, n)
	devs := make([]device.Device, n)
	for i := range ids { // real ES256 rows, a few keys shared, so that the test needs not make 7,000
		ids[i] = device.FormatID("LTK", 7, i+1)
		devs[i] = device.Device{ID: ids[i], Key: keys[i%len(keys)].Key, Alg: device.ES256}
	}
	var list bytes.Buffer
	require.NoError(t, device.EncodeFleet(&list, devs))
	regPath := filepath.Join(t.TempDir(), "registry.csv")
	reg, err := registry.OpenLocal(regPath)
	require.NoError(t, err)
	require.NoError(t, reg.Add(registry.EntriesOf(devs)))
	regCSV, err := os.ReadFile(regPath)
	require.NoError(t, err)

	wantParts := (list.Len() + PartBytes - 1) / PartBytes
	require.Greater(t, wantParts, 2, "the list needs several Secrets")
	require.GreaterOrEqual(t, Parts(list.Bytes()), wantParts)
	require.LessOrEqual(t, Parts(list.Bytes()), wantParts+1, "a cut at a line end wastes less than a row per part")

	docs, err := RenderSecrets("ltk", Secrets{DeviceList: list.Bytes(), ClusterToken: "t", WebUser: "u", WebPassword: "p"}, false)
	require.NoError(t, err)
	docs = append(docs, RenderRegistry("ltk", regCSV)...)
	devDir, regDir := t.TempDir(), t.TempDir()
	var secrets, configMaps []string
	for _, doc := range docs {
		require.Less(t, len(doc), maxDataBytes, "an object's manifest text stays under 1 MiB")
		o := decode(t, doc)
		switch {
		case len(o.secrets) == 1:
			s := o.secrets[0]
			require.LessOrEqual(t, dataSize(s.Data), maxDataBytes, s.Name)
			if strings.HasPrefix(s.Name, SecretDevices) {
				secrets = append(secrets, s.Name)
				writeVolume(t, devDir, s.Data)
			}
		case len(o.configMaps) == 1:
			c := o.configMaps[0]
			size := 0
			for _, v := range c.Data {
				size += len(v)
			}
			require.LessOrEqual(t, size, maxDataBytes, c.Name)
			configMaps = append(configMaps, c.Name)
			writeVolume(t, regDir, stringData(c.Data))
		default:
			t.Fatalf("one object per document, got:\n%s", doc)
		}
		require.Less(t, len(doc), maxObjectBytes)
	}
	require.Len(t, secrets, Parts(list.Bytes()))
	require.Len(t, configMaps, Parts(regCSV))

	got, err := device.ReadFleet(devDir)
	require.NoError(t, err)
	require.Len(t, got, n)
	for i := range got {
		require.Equal(t, devs[i].ID, got[i].ID)
		require.True(t, devs[i].Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(got[i].Key.Public()), devs[i].ID)
	}
	back, err := registry.OpenLocal(regDir)
	require.NoError(t, err)
	require.Equal(t, ids, back.IDs())
	pub, ok := back.PublicKey(ids[n-1])
	require.True(t, ok)
	require.True(t, devs[n-1].Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub))
	extra, err := device.Generate("EXTRA1", device.ES256)
	require.NoError(t, err)
	require.ErrorContains(t, back.Add(registry.EntriesOf([]device.Device{extra})), "directory of parts")

	cfg := Config{Secrets: Secrets{DeviceList: list.Bytes()}, RegistryCSV: regCSV, Values: fullValues()}
	cfg.setDefaults()
	cfg.Values.Image = "ltk:dev"
	pods := decode(t, render(t, cfg.Values)).pods()
	require.Equal(t, secrets, projected(pods["master"], func(s corev1.VolumeProjection) string { return secretName(s) }))
	require.Equal(t, configMaps, projected(pods["target"], func(s corev1.VolumeProjection) string { return configMapName(s) }))

	ends := Batches(docs, applyBatch)
	lo := 0
	for _, hi := range ends {
		require.LessOrEqual(t, len(joinDocs(docs[lo:hi])), applyBatch)
		lo = hi
	}
	require.Equal(t, len(docs), lo, "every document is applied")
}

// writeVolume writes data's keys as files in dir, behind the symbolic links
// and dot-named directory a Kubernetes volume has.
func writeVolume(t *testing.T, dir string, data map[string][]byte) {
	t.Helper()
	hidden := filepath.Join(dir, "..2026_01_01_00_00_00.1")
	require.NoError(t, os.MkdirAll(hidden, 0o755))
	for k, v := range data {
		require.NoError(t, os.WriteFile(filepath.Join(hidden, k), v, 0o600))
		require.NoError(t, os.Symlink(filepath.Join(hidden, k), filepath.Join(dir, k)))
	}
}

func dataSize(data map[string][]byte) int {
	n := 0
	for _, v := range data {
		n += len(v)
	}
	return n
}

func stringData(data map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range data {
		out[k] = []byte(v)
	}
	return out
}

// projected lists the names a pod's projected volume sources give.
func projected(p corev1.PodSpec, name func(corev1.VolumeProjection) string) []string {
	var out []string
	for _, v := range p.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if n := name(s); n != "" {
				out = append(out, n)
			}
		}
	}
	return slices.Clip(out)
}

func secretName(s corev1.VolumeProjection) string {
	if s.Secret == nil {
		return ""
	}
	return s.Secret.Name
}

func configMapName(s corev1.VolumeProjection) string {
	if s.ConfigMap == nil {
		return ""
	}
	return s.ConfigMap.Name
}
