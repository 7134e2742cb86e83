package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/target"
)

// caPaths returns the paths of the test CA of aws devices in the ltk root
// (device.CACertFile, device.CAKeyFile): the embedded target verifies
// device certificates with it and presents a server certificate it signs.
func caPaths(env *Env) (cert, key string) {
	return underRoot(env, device.CACertFile), underRoot(env, device.CAKeyFile)
}

// readTestCA reads the test CA, saying how to make one when there is none.
func readTestCA(env *Env) (*device.CA, error) {
	certPath, keyPath := caPaths(env)
	ca, err := device.ReadCA(certPath, keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, withHint(fmt.Errorf("no test CA at %s: %w", displayPath(env, certPath), err),
			"create X.509 devices first (it makes the CA): ltk devices create 1 10 --profile aws (or --profile azure --auth x509)")
	}
	return ca, err
}

// targetHosts are the names the embedded target's server certificate
// holds: loopback, and the in-cluster service.
var targetHosts = []string{"127.0.0.1", "::1", "localhost", "ltk-target"}

// targetAuth sets up cfg to emulate the device auth of a run's profile and
// auth mode (runset.Auth*), reading the local registry (and, for x509, the
// test CA) from the ltk root. The azure profile emulates IoT Hub, which
// takes SAS and X.509 devices alike, each as its registry entry says: with
// a TLS listener (cfg.TLSAddr) and a test CA, X.509 devices too. It returns
// the test CA when it signs the TLS listener's certificate, nil otherwise.
// A shared password (runset.AuthPassword) and none are not checked: the
// target takes any.
func targetAuth(env *Env, fleet *fleetFlags, profile, auth string, cfg *target.Config, log *slog.Logger) (*device.CA, error) {
	var reg *registry.Local
	if auth == runset.AuthJWT || auth == runset.AuthCert || auth == runset.AuthSAS || auth == runset.AuthDevicePassword {
		path := fleet.registryPath(env)
		var err error
		if reg, err = registry.OpenLocal(path, registry.WithLogger(log), registry.WithName(displayPath(env, path))); err != nil {
			return nil, err
		}
		if len(reg.IDs()) == 0 {
			log.Warn("no devices registered yet: every device will be refused until some are",
				"registry", displayPath(env, path), "hint", "ltk devices create 1 10")
		}
	}
	if profile == runset.ProfileAzure && (auth == runset.AuthSAS || auth == runset.AuthCert) {
		cfg.Auth, cfg.Secrets, cfg.Keys = target.AuthSAS, reg, reg
		if cfg.TLSAddr == "" {
			return nil, nil
		}
		ca, err := readTestCA(env)
		if errors.Is(err, fs.ErrNotExist) && auth == runset.AuthSAS {
			return nil, nil // no X.509 devices; TLS with the operator's certificate
		}
		if err != nil {
			return nil, err
		}
		cfg.ClientCA = ca.PEM
		return serveWithCA(ca, cfg)
	}
	switch auth {
	case runset.AuthJWT:
		cfg.Auth, cfg.Keys = target.AuthJWT, reg
	case runset.AuthSAS:
		cfg.Auth, cfg.Secrets = target.AuthSAS, reg
	case runset.AuthDevicePassword:
		cfg.Auth, cfg.Secrets = target.AuthDevicePassword, reg
	case runset.AuthCert:
		ca, err := readTestCA(env)
		if err != nil {
			return nil, err
		}
		cfg.Auth, cfg.Keys, cfg.ClientCA = target.AuthCert, reg, ca.PEM
		return serveWithCA(ca, cfg)
	case runset.AuthNone, runset.AuthPassword:
		cfg.Auth = target.AuthNone
	default:
		return nil, usageError(fmt.Errorf("auth %q is not one of %s", auth, strings.Join(runset.AuthModes(), ", ")))
	}
	return nil, nil
}

// serveWithCA gives cfg's TLS listener a server certificate from the test
// CA, unless the operator named one, and returns the CA devices must trust.
func serveWithCA(ca *device.CA, cfg *target.Config) (*device.CA, error) {
	if cfg.TLSCertificate == nil && cfg.TLSCert == "" {
		cert, err := ca.ServerCertificate(targetHosts...)
		if err != nil {
			return nil, err
		}
		cfg.TLSCertificate = &cert
	}
	return ca, nil
}

// hasTestCA reports whether the ltk root holds the test CA's certificate.
func hasTestCA(env *Env) bool {
	certPath, _ := caPaths(env)
	_, err := os.Stat(certPath)
	return err == nil
}
