package device

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// Test certificates for mutual TLS (AWS IoT Core's device auth): a CA that
// ltk makes once per fleet, a certificate per device whose subject CN is
// the device id (the thing name, and the MQTT client id), and a server
// certificate the embedded target presents.

// The test CA's files in the ltk root, beside devicelist.csv: made by the
// first ltk devices create --profile aws, read by later ones and by the
// embedded target. The key is written 0600.
const (
	CACertFile = "ltk-ca.pem"
	CAKeyFile  = "ltk-ca-key.pem"
)

// Validity of what the CA signs, and of the CA itself.
const (
	CertValidity   = 2 * 365 * 24 * time.Hour
	CAValidity     = 10 * 365 * 24 * time.Hour
	certClockSkew  = time.Hour // NotBefore lies this far back, for clocks a little slow
	pemCertificate = "CERTIFICATE"
)

// CA is a test certificate authority. Its String form names the
// certificate only, never the key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer // ECDSA P-256
	PEM  []byte        // Cert, PEM encoded
}

// String returns the CA's subject.
func (ca *CA) String() string { return "CA " + ca.Cert.Subject.CommonName }

// NewCA makes a CA named cn with a fresh P-256 key.
func NewCA(cn string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"ltk test CA"}},
		NotBefore:             now.Add(-certClockSkew),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("sign CA certificate: %w", err)
	}
	cert, _ := x509.ParseCertificate(der) // just made
	return &CA{Cert: cert, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der})}, nil
}

// serial returns a random 128-bit certificate serial number.
func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return n
}

// WriteCA writes the CA's certificate to certPath (0644) and its key to
// keyPath (0600), each atomically.
func WriteCA(ca *CA, certPath, keyPath string) error {
	key, err := marshalPrivateKey(ca.Key)
	if err != nil {
		return fmt.Errorf("encode CA key: %w", err)
	}
	if err := WriteFileAtomic(keyPath, key, 0o600); err != nil {
		return err
	}
	return WriteFileAtomic(certPath, ca.PEM, 0o644)
}

// ReadCA reads a CA written by WriteCA.
func ReadCA(certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	cert, err := ParseCertificate(string(certPEM))
	if err != nil {
		return nil, fmt.Errorf("CA certificate %s %w", certPath, err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("read CA key: %w", err)
	}
	key, _, err := parsePrivateKey(string(keyPEM))
	if err != nil {
		return nil, fmt.Errorf("CA key %s %w", keyPath, err)
	}
	if !publicEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("CA key %s does not belong to the certificate %s: restore the pair, or remove both to make a new CA (and new devices)", keyPath, certPath)
	}
	return &CA{Cert: cert, Key: key, PEM: certPEM}, nil
}

// publicEqual reports whether two public keys are the same.
func publicEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// IssueDevice returns a client certificate (PEM) for d's key whose subject
// CN is d's id, signed by ca.
func (ca *CA) IssueDevice(d Device) ([]byte, error) {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: d.ID},
		NotBefore:    now.Add(-certClockSkew),
		NotAfter:     now.Add(CertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, d.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate of %s: %w", d.ID, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der}), nil
}

// IssueVerification returns a certificate (PEM) whose subject CN is code,
// for a fresh key that is dropped, signed by ca: the proof of possession of
// ca's key that AWS IoT's RegisterCACertificate asks for, code being its
// registration code.
func (ca *CA) IssueVerification(code string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate verification key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: code},
		NotBefore:    now.Add(-certClockSkew),
		NotAfter:     now.Add(CertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign verification certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der}), nil
}

// ServerCertificate returns a fresh server certificate for hosts (names or
// IP addresses) signed by ca, with its key, for a TLS listener.
func (ca *CA) ServerCertificate(hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate server key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "ltk target"},
		NotBefore:    now.Add(-certClockSkew),
		NotAfter:     now.Add(CertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("sign server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// ParseCertificate parses one PEM certificate, flattened (as devicelist.csv
// holds it) or not.
func ParseCertificate(s string) (*x509.Certificate, error) {
	b, err := onlyBlock(s)
	if errors.Is(err, errNoPEM) {
		return nil, problem(ErrNotPEM, "is not a PEM certificate")
	}
	if err != nil {
		return nil, problem(ErrBadKey, "%v", err)
	}
	if b.Type != pemCertificate {
		return nil, problem(ErrNotPEM, "is a %q PEM block, not a CERTIFICATE", b.Type)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, problem(ErrBadKey, "is a certificate that does not parse: %v", derError(err))
	}
	return c, nil
}

// TLSCertificate returns d's client certificate for a TLS handshake: cert
// (PEM, flattened or not), which must be for d's key.
func TLSCertificate(d Device, cert string) (*tls.Certificate, error) {
	c, err := ParseCertificate(cert)
	if err != nil {
		return nil, fmt.Errorf("certificate of %s %w", d.ID, err)
	}
	if d.Key == nil || !publicEqual(c.PublicKey, d.Public()) {
		return nil, fmt.Errorf("certificate of %s is not for its private key: make the device again with ltk devices create --profile aws", d.ID)
	}
	return &tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: d.Key, Leaf: c}, nil
}
