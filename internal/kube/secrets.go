package kube

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
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

// MaxObjectBytes is the most data one Secret or ConfigMap may hold (etcd's
// limit is 1 MiB for the whole object; some room is left for the rest).
const MaxObjectBytes = 1000 * 1024

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

// RenderSecrets returns the Secret manifests holding s in namespace. With
// redact, every value is replaced by a placeholder, for printing.
func RenderSecrets(namespace string, s Secrets, redact bool) ([]byte, error) {
	if len(s.DeviceList) > MaxObjectBytes {
		return nil, fmt.Errorf("devicelist.csv is %d KiB, more than a Kubernetes Secret holds (%d KiB): "+
			"make fewer devices, or ES256 ones (ltk devices create --alg ES256), whose keys are a fifth the size",
			len(s.DeviceList)/1024, MaxObjectBytes/1024)
	}
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
	var b bytes.Buffer
	writeData(&b, "Secret", SecretDevices, namespace, "master", map[string][]byte{DeviceListKey: s.DeviceList}, redact)
	writeData(&b, "Secret", SecretCluster, namespace, "cluster", map[string][]byte{"token": []byte(s.ClusterToken)}, redact)
	writeData(&b, "Secret", SecretWeb, namespace, "master", web, redact)
	return b.Bytes(), nil
}

// RenderRegistry returns the ConfigMap holding the local registry file
// (public keys only) for the in-cluster target.
func RenderRegistry(namespace string, registryCSV []byte) ([]byte, error) {
	if len(registryCSV) > MaxObjectBytes {
		return nil, fmt.Errorf("registry.csv is %d KiB, more than a Kubernetes ConfigMap holds (%d KiB): "+
			"make fewer devices, or ES256 ones", len(registryCSV)/1024, MaxObjectBytes/1024)
	}
	var b bytes.Buffer
	writeData(&b, "ConfigMap", ConfigRegistry, namespace, "target", map[string][]byte{RegistryFileKey: registryCSV}, false)
	return b.Bytes(), nil
}

// writeData appends one Secret (base64 data) or ConfigMap (string data)
// document to b, keys sorted.
func writeData(b *bytes.Buffer, kind, name, namespace, component string, data map[string][]byte, redact bool) {
	if b.Len() > 0 {
		b.WriteString("---\n")
	}
	fmt.Fprintf(b, "apiVersion: v1\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n", kind, name, quote(namespace))
	fmt.Fprintf(b, "  labels:\n    app.kubernetes.io/name: ltk\n    app.kubernetes.io/component: %s\n"+
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
		fmt.Fprintf(b, "  %s: %s\n", quote(k), quote(v))
	}
}
