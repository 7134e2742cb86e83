package cli

import (
	"crypto/tls"

	"github.com/spf13/pflag"

	"github.com/ltk-dev/ltk/internal/clustertls"
)

// addMasterTLSFlags binds the TLS flags of the master's gRPC port to f: the
// master's certificate and key, and the CA of the other end (workers'
// client certificates on the master, the master's CA on a worker).
func addMasterTLSFlags(fs *pflag.FlagSet, f *clustertls.Files, worker bool) {
	if worker {
		fs.StringVar(&f.CA, "master-tls-ca", "", "PEM CA bundle that signed the master's certificate: connect over TLS (LTK_MASTER_TLS_CA)")
		fs.StringVar(&f.Cert, "master-tls-cert", "", "PEM client certificate for a master with mutual TLS (LTK_MASTER_TLS_CERT)")
		fs.StringVar(&f.Key, "master-tls-key", "", "PEM private key file of --master-tls-cert (LTK_MASTER_TLS_KEY)")
		fs.StringVar(&f.ServerName, "master-tls-server-name", "", "name the master's certificate holds (default: --master-host)")
		return
	}
	fs.StringVar(&f.Cert, "master-tls-cert", "", "PEM certificate (chain) file: serve the workers' port over TLS (LTK_MASTER_TLS_CERT)")
	fs.StringVar(&f.Key, "master-tls-key", "", "PEM private key file of --master-tls-cert (LTK_MASTER_TLS_KEY)")
	fs.StringVar(&f.CA, "master-tls-ca", "", "PEM CA bundle of the workers' client certificates: mutual TLS, a worker without one is refused")
}

// masterTLS is the master's TLS configuration from f, or nil for plaintext;
// an error is a usage error naming the flags.
func masterTLS(f clustertls.Files, worker bool) (*tls.Config, error) {
	var cfg *tls.Config
	var err error
	if worker {
		cfg, err = clustertls.Client(f)
	} else {
		cfg, err = clustertls.Server(f)
	}
	if err != nil {
		return nil, withHint(usageError(err), "give --master-tls-cert and --master-tls-key (and --master-tls-ca) readable PEM files")
	}
	return cfg, nil
}
