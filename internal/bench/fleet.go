package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/srcaddr"
)

// lastMessageTimeout is the devices' last-message wait: short, because the
// stop is not measured.
const lastMessageTimeout = 2 * time.Second

// fleet is the run's devices and what the target needs to check them.
type fleet struct {
	devs         []device.Device
	registryFile string      // the local registry; empty with Alg "none"
	ca           *device.CA  // profile aws: the CA of the device certificates, written to the registry's directory
	certs        [][]byte    // profile aws: each device's certificate (PEM)
	keys         []string    // profile azure: each device's symmetric key
	tls          *tls.Config // profile aws: trusts ca, shared by the devices
}

// makeKeys makes a key pair per device of ids for cfg.Alg (ES256 for the
// aws and azure profiles) and the profile's credentials, registers them in
// a local registry file in dir (with the aws CA beside it) and returns
// the fleet. With Alg "none" it makes only ids.
func makeKeys(ctx context.Context, cfg *Config, ids []string, dir string) (*fleet, error) {
	if cfg.Alg == "none" {
		devs := make([]device.Device, len(ids))
		for i, id := range ids {
			devs[i] = device.Device{ID: id}
		}
		return &fleet{devs: devs}, nil
	}
	alg := device.Alg(cfg.Alg)
	if cfg.Profile == runset.ProfileAWS || cfg.Profile == runset.ProfileAzure {
		alg = device.ES256
	}
	fmt.Fprintf(cfg.Progress, "making %d %s keys\n", len(ids), alg)
	devs, err := device.GenerateAll(ctx, ids, alg, nil)
	if err != nil {
		return nil, err
	}
	f := &fleet{devs: devs, registryFile: filepath.Join(dir, registry.DefaultFile)}
	entries := registry.EntriesOf(devs)
	switch cfg.Profile {
	case runset.ProfileAWS:
		if err := f.makeCerts(dir); err != nil {
			return nil, err
		}
	case runset.ProfileAzure:
		f.keys = make([]string, len(devs))
		for i := range devs {
			f.keys[i] = device.NewSymmetricKey()
			entries[i].Secret = f.keys[i]
		}
	}
	reg, err := registry.OpenLocal(f.registryFile)
	if err != nil {
		return nil, err
	}
	if err := reg.Add(entries); err != nil {
		return nil, err
	}
	return f, nil
}

// makeCerts makes the run's CA (written to dir, where the target reads it)
// and a certificate per device.
func (f *fleet) makeCerts(dir string) error {
	ca, err := device.NewCA("ltk bench CA")
	if err != nil {
		return err
	}
	if err := device.WriteCA(ca, filepath.Join(dir, device.CACertFile), filepath.Join(dir, device.CAKeyFile)); err != nil {
		return err
	}
	f.ca, f.certs = ca, make([][]byte, len(f.devs))
	for i, d := range f.devs {
		if f.certs[i], err = ca.IssueDevice(d); err != nil {
			return err
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	f.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return nil
}

// simConfigs returns one device per device of fl against broker, each
// running the program of its kind in fp, all recording into rec (through
// one kindRecorder per kind) and run by eng.
func simConfigs(cfg *Config, fp *fleetPlan, fl *fleet, broker string, rec *recorder, eng *sim.Engine) ([]sim.Config, error) {
	cfgs := make([]sim.Config, len(fl.devs))
	kinds := make([]sim.Recorder, len(fp.plan.Kinds))
	for k, prog := range fp.plan.Kinds {
		kinds[k] = rec.kind(k, prog)
	}
	var sources srcaddr.Plan
	if n := cfg.sources(); n > 1 {
		sources = srcaddr.Plan{Addrs: srcaddr.Loopback(n), PerSource: cfg.PerSource}
	}
	for i, d := range fl.devs {
		index := fp.indices[i]
		kind := fp.plan.KindOf(index)
		c := sim.Config{
			Client:             cfg.Client,
			Broker:             broker,
			TLS:                fl.tls,
			DeviceID:           d.ID,
			ClientID:           "projects/" + benchProject + "/locations/" + benchRegion + "/registries/" + benchRegistry + "/devices/" + d.ID,
			QoS:                cfg.QoS,
			MQTTVersion:        cfg.MQTTVersion,
			WaitMin:            cfg.Interval,
			WaitMax:            cfg.Interval,
			LastMessageTimeout: lastMessageTimeout,
			Program:            fp.plan.Kinds[kind], // shared by the kind's devices
			Engine:             eng,
			Index:              index,
			Recorder:           kinds[kind],
		}
		if fp.columns != nil {
			c.Columns = fp.columns[index%len(fp.columns)]
		}
		if err := fl.credentials(&c, cfg.Profile, i); err != nil {
			return nil, err
		}
		c.LocalAddr = sources.For(i)
		cfgs[i] = c
	}
	return cfgs, nil
}

// credentials gives c device i's client id and credentials under profile.
func (f *fleet) credentials(c *sim.Config, profile string, i int) error {
	d := f.devs[i]
	switch {
	case profile == runset.ProfileAWS:
		cert, err := device.TLSCertificate(d, string(f.certs[i]))
		c.ClientID, c.Certificate = d.ID, cert
		return err
	case profile == runset.ProfileAzure:
		src, err := device.NewSASSource(runset.DefaultAzureHub, d.ID, f.keys[i], 0)
		c.ClientID, c.Username, c.Credentials = d.ID, device.SASUsername(runset.DefaultAzureHub, d.ID), src
		return err
	case d.Key != nil:
		c.Credentials = device.NewJWTSource(d, benchProject, 0)
	}
	return nil
}
