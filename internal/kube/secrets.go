package kube

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"

	"github.com/ltk-dev/ltk/internal/device"
)

// Names of the Secrets and data ConfigMaps that ltk setup creates.
const (
	SecretDevices   = "ltk-devices"  // devicelist.csv: device ids and private keys; master only
	SecretCluster   = "ltk-cluster"  // token: the cluster token; master and workers
	SecretWeb       = "ltk-web"      // auth (user:pass), username, password[, mqtt-password]; master only
	ConfigRegistry  = "ltk-registry" // registry.csv: public keys; the in-cluster target only
	DeviceListKey   = "devicelist.csv"
	RegistryFileKey = "registry.csv"
)

// PartBytes is the most data of the device list (or of the registry) one
// Secret (ConfigMap) holds: a bigger file is split into parts (see
// device.SplitParts), one object each, which the pod mounts into one
// directory. Kubernetes refuses a Secret or ConfigMap holding more than 1 MiB
// of data, and etcd an object above 1.5 MiB; 750 KiB is 1,000 KiB in base64,
// so even the Secret's text as kubectl sends it stays under 1 MiB.
const PartBytes = 750 * 1024

// PartObject is the name of object i of a file split into parts: base for
// the first, so that a list of one part keeps the name it always had, then
// base-1, base-2 and so on.
func PartObject(base string, i int) string {
	if i == 0 {
		return base
	}
	return base + "-" + strconv.Itoa(i)
}

// Parts returns how many objects data takes (at least one).
func Parts(data []byte) int { return len(device.SplitParts(data, PartBytes)) }

// Secrets are the values of the Secrets ltk setup creates.
type Secrets struct {
	DeviceList   []byte // devicelist.csv as it is on disk
	ClusterToken string
	WebUser      string
	WebPassword  string
	MQTTPassword string // optional
}

// RandomToken returns n random bytes as lowercase hex, for generated cluster
// tokens and web passwords.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// RenderSecrets returns the Secret manifests holding s in namespace, one
// document each: the device list's parts (ltk-devices, ltk-devices-1, …:
// Parts of them), the cluster token, the web credentials. With redact,
// every value is replaced by a placeholder, for printing.
func RenderSecrets(namespace string, s Secrets, redact bool) ([][]byte, error) {
	if s.ClusterToken == "" || s.WebUser == "" || s.WebPassword == "" {
		return nil, fmt.Errorf("render secrets: cluster token and web credentials must be set")
	}
	web := map[string][]byte{
		"auth":     []byte(s.WebUser + ":" + s.WebPassword),
		"username": []byte(s.WebUser),
		"password": []byte(s.WebPassword),
	}
	if s.MQTTPassword != "" {
		web["mqtt-password"] = []byte(s.MQTTPassword)
	}
	var docs [][]byte
	for i, part := range device.SplitParts(s.DeviceList, PartBytes) {
		docs = append(docs, dataObject("Secret", PartObject(SecretDevices, i), namespace, "master",
			map[string][]byte{device.PartName(DeviceListKey, i): part}, redact))
	}
	docs = append(docs,
		dataObject("Secret", SecretCluster, namespace, "cluster", map[string][]byte{"token": []byte(s.ClusterToken)}, redact),
		dataObject("Secret", SecretWeb, namespace, "master", web, redact))
	return docs, nil
}

// RenderRegistry returns the ConfigMaps holding the local registry file
// (public keys only) for the in-cluster target, one document per part
// (ltk-registry, ltk-registry-1, …).
func RenderRegistry(namespace string, registryCSV []byte) [][]byte {
	var docs [][]byte
	for i, part := range device.SplitParts(registryCSV, PartBytes) {
		docs = append(docs, dataObject("ConfigMap", PartObject(ConfigRegistry, i), namespace, "target",
			map[string][]byte{device.PartName(RegistryFileKey, i): part}, false))
	}
	return docs
}

// Batches groups documents, in order, into runs whose YAML stream (Join of
// the run) stays under limit bytes, a document bigger than limit alone; it
// returns where each run ends. setup applies a list of a million devices in
// a few dozen kubectl calls this way, none of them too big a request.
func Batches(docs [][]byte, limit int) []int {
	var ends []int
	size := 0
	for i, d := range docs {
		if size > 0 && size+len(d)+len("---\n") > limit {
			ends = append(ends, i)
			size = 0
		}
		size += len(d) + len("---\n")
	}
	if len(docs) > 0 {
		ends = append(ends, len(docs))
	}
	return ends
}

// joinDocs returns documents as one YAML stream.
func joinDocs(docs [][]byte) []byte {
	return bytes.Join(docs, []byte("---\n"))
}

// dataObject returns one Secret (base64 data) or ConfigMap (string data)
// document, keys sorted.
func dataObject(kind, name, namespace, component string, data map[string][]byte, redact bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "apiVersion: v1\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n", kind, name, quote(namespace))
	fmt.Fprintf(&b, "  labels:\n    app.kubernetes.io/name: ltk\n    app.kubernetes.io/component: %s\n"+
		"    app.kubernetes.io/part-of: ltk\n    app.kubernetes.io/managed-by: ltk\n", component)
	if kind == "Secret" {
		b.WriteString("type: Opaque\n")
	}
	if kind == "Secret" && redact {
		b.WriteString("stringData:\n") // still a valid Secret, for reading
	} else {
		b.WriteString("data:\n")
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var v string
		switch {
		case redact:
			v = fmt.Sprintf("<redacted: %d bytes>", len(data[k]))
		case kind == "Secret":
			v = base64.StdEncoding.EncodeToString(data[k])
		default:
			v = string(data[k])
		}
		fmt.Fprintf(&b, "  %s: %s\n", quote(k), quote(v))
	}
	return b.Bytes()
}
