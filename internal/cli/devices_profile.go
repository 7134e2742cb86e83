package cli

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/runset"
)

// profileCreds are the credentials ltk devices create makes for a profile
// beside each device's key: the devicelist.csv columns they fill, each
// device's values (in devs order), the registry's secret of each, and,
// for aws, the certificate (PEM) of each, the test CA that issued them and
// the CA again when it is new and must be written.
type profileCreds struct {
	columns []string
	values  [][]string
	secrets []string
	certs   []string
	ca      *device.CA
	newCA   *device.CA
}

// makeProfileCreds makes the credentials of devs under profile p and its
// auth mode (runset.Auth*, "" for the profile's): for aws, and for azure
// with x509, a certificate each from the test CA (made when there is none
// yet; CN = device id), for azure a symmetric key each, for generic a
// username and password each.
func makeProfileCreds(env *Env, p, auth string, devs []device.Device) (*profileCreds, error) {
	c := &profileCreds{values: make([][]string, len(devs)), secrets: make([]string, len(devs)), certs: make([]string, len(devs))}
	if auth == runset.AuthCert {
		p = runset.ProfileAWS // the same certificates; an X.509 IoT Hub device has no symmetric key
	}
	switch p {
	case runset.ProfileAWS:
		ca, err := readTestCA(env)
		if errors.Is(err, fs.ErrNotExist) {
			if ca, err = device.NewCA("ltk test CA"); err != nil {
				return nil, err
			}
			c.newCA = ca
		} else if err != nil {
			return nil, err
		}
		c.columns, c.ca = []string{device.ColumnCertificate}, ca
		for i, d := range devs {
			cert, err := ca.IssueDevice(d)
			if err != nil {
				return nil, err
			}
			c.values[i], c.certs[i] = []string{device.Flatten(cert)}, string(cert)
		}
	case runset.ProfileAzure:
		c.columns = []string{device.ColumnSymmetricKey}
		for i := range devs {
			key := device.NewSymmetricKey()
			c.values[i], c.secrets[i] = []string{key}, key
		}
	case runset.ProfileGeneric:
		c.columns = []string{device.ColumnUsername, device.ColumnPassword}
		for i, d := range devs {
			pw := randomPassword()
			c.values[i], c.secrets[i] = []string{d.ID, pw}, registry.PasswordHash(pw)
		}
	}
	return c, nil
}

// apply gives devs their values and entries their secrets and certificates.
func (c *profileCreds) apply(devs []device.Device, entries []registry.Entry) {
	for i := range devs {
		devs[i].Values = c.values[i]
		entries[i].Secret, entries[i].Certificate = c.secrets[i], c.certs[i]
	}
}

// writeCA writes a new test CA, the key 0600, unless one was there.
func (c *profileCreds) writeCA(env *Env) error {
	if c.newCA == nil {
		return nil
	}
	certPath, keyPath := caPaths(env)
	if _, err := os.Stat(keyPath); err == nil {
		return fmt.Errorf("%s exists without %s: restore the CA certificate, or remove the key to make a new CA", displayPath(env, keyPath), displayPath(env, certPath))
	}
	if err := device.WriteCA(c.newCA, certPath, keyPath); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Made a test CA for X.509 devices: %s (its key %s, mode 0600).\n", displayPath(env, certPath), displayPath(env, keyPath))
	return nil
}

// randomPassword returns a fresh 24-character device password.
func randomPassword() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// profileOf names the profile whose credentials a device of a list with
// columns carries.
func profileOf(columns []string, d device.Device) string {
	has := func(name string) bool { _, ok := device.Column(columns, d.Values, name); return ok }
	switch {
	case has(device.ColumnCertificate):
		return runset.ProfileAWS
	case has(device.ColumnSymmetricKey):
		return runset.ProfileAzure
	case has(device.ColumnUsername) && has(device.ColumnPassword):
		return runset.ProfileGeneric
	}
	return runset.ProfileIoTCore
}
