package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/ltk-dev/ltk/internal/clustertls"
)

// SecretMasterTLS holds the master port's TLS: ca.crt (which workers
// mount, alone), tls.crt and tls.key (the master's).
const SecretMasterTLS = "ltk-master-tls"

// masterTLSRenewal is how long before its end a kept certificate is
// replaced.
const masterTLSRenewal = 30 * 24 * time.Hour

// masterNames are the names the master's Service answers to in namespace:
// what its certificate must hold.
func masterNames(namespace string) []string {
	return []string{"ltk-master", "ltk-master." + namespace, "ltk-master." + namespace + ".svc",
		"ltk-master." + namespace + ".svc.cluster.local"}
}

// masterTLS returns the data of the SecretMasterTLS Secret: the one in the
// cluster if it still fits (so that a re-run restarts no pod), else a new
// CA and a certificate for the master's Service, and a note saying which.
func (s *setup) masterTLS(ctx context.Context) (map[string][]byte, string, error) {
	ns := s.cfg.Values.Namespace
	out, err := s.r.Run(ctx, Cmd{Name: "kubectl", Query: true, Args: []string{"--context", s.kctx,
		"-n", ns, "get", "secret", SecretMasterTLS, "--ignore-not-found", "-o", "jsonpath={.data}"}})
	switch {
	case errors.Is(err, ErrDryRun):
	case err != nil:
		return nil, "", fmt.Errorf("read Secret %s: %w", SecretMasterTLS, err)
	default:
		if data, ok := keptMasterTLS(out, ns, time.Now()); ok {
			return data, "kept from the last setup", nil
		}
	}
	ca, err := clustertls.NewAuthority("ltk " + ns + " master CA")
	if err != nil {
		return nil, "", err
	}
	cert, key, err := ca.IssueServer(masterNames(ns)...)
	if err != nil {
		return nil, "", err
	}
	return map[string][]byte{"ca.crt": ca.CertPEM(), "tls.crt": cert, "tls.key": key}, "a new CA", nil
}

// keptMasterTLS decodes a SecretMasterTLS's data as kubectl prints it
// (JSON, base64 values) and reports whether its certificate goes with its
// key, is signed by its CA for the master's names in namespace, and is
// valid for a while after now.
func keptMasterTLS(out []byte, namespace string, now time.Time) (map[string][]byte, bool) {
	var enc map[string]string
	if json.Unmarshal(out, &enc) != nil {
		return nil, false
	}
	data := map[string][]byte{}
	for _, k := range []string{"ca.crt", "tls.crt", "tls.key"} {
		b, err := base64.StdEncoding.DecodeString(enc[k])
		if err != nil || len(b) == 0 {
			return nil, false
		}
		data[k] = b
	}
	if _, err := tls.X509KeyPair(data["tls.crt"], data["tls.key"]); err != nil {
		return nil, false
	}
	block, _ := pem.Decode(data["tls.crt"])
	if block == nil {
		return nil, false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, false
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(data["ca.crt"]) {
		return nil, false
	}
	for _, name := range masterNames(namespace) {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now.Add(masterTLSRenewal)}); err != nil {
			return nil, false
		}
	}
	return data, true
}
