package clustertls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Files names the PEM files of one end of the master's port. The zero value
// means plaintext.
type Files struct {
	// Cert and Key are this end's certificate (chain) and private key: the
	// master's server certificate, or a worker's client certificate for
	// mutual TLS. Both or neither.
	Cert, Key string
	// CA is the bundle that verifies the other end: on a worker, the
	// master's CA (empty: the system's roots); on the master, the CA of
	// the workers' client certificates, which turns on mutual TLS.
	CA string
	// ServerName is the name a worker expects in the master's certificate;
	// empty: the host it dials.
	ServerName string
}

// Server returns the master's TLS configuration, or nil for plaintext (no
// certificate). With a CA, every worker must present a certificate it signed.
func Server(f Files) (*tls.Config, error) {
	if f.Cert == "" && f.Key == "" {
		if f.CA != "" {
			return nil, errors.New("a CA for workers' certificates (mutual TLS) needs the master's own certificate and key too")
		}
		return nil, nil
	}
	cert, err := keyPair(f)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if f.CA != "" {
		if cfg.ClientCAs, err = pool(f.CA); err != nil {
			return nil, err
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Client returns a worker's TLS configuration, or nil for plaintext (no
// file named: ServerName alone does not turn TLS on). A client certificate
// is presented for mutual TLS.
func Client(f Files) (*tls.Config, error) {
	if f.Cert == "" && f.Key == "" && f.CA == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.Cert != "" || f.Key != "" {
		cert, err := keyPair(f)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if f.CA != "" {
		var err error
		if cfg.RootCAs, err = pool(f.CA); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// keyPair loads f's certificate and key. Its errors name the files and
// never quote them.
func keyPair(f Files) (tls.Certificate, error) {
	if f.Cert == "" || f.Key == "" {
		return tls.Certificate{}, errors.New("a TLS certificate needs both its certificate file and its key file")
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS certificate %s with key %s: %w", f.Cert, f.Key, err)
	}
	return cert, nil
}

// pool reads the CA bundle at path.
func pool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the TLS CA bundle: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("TLS CA bundle %s holds no PEM certificate", path)
	}
	return p, nil
}
