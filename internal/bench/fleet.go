package bench

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/sim"
)

// lastMessageTimeout is the devices' last-message wait: short, because the
// stop is not measured.
const lastMessageTimeout = 2 * time.Second

// firstSource is the first loopback source address used when the fleet is
// spread over several.
var firstSource = netip.AddrFrom4([4]byte{127, 0, 0, 2})

// makeKeys makes a key pair per device of ids for cfg.Alg, registers the
// public keys in a local registry file in dir and returns the devices and
// the file. With Alg "none" it makes only ids.
func makeKeys(ctx context.Context, cfg *Config, ids []string, dir string) ([]device.Device, string, error) {
	if cfg.Alg == "none" {
		devs := make([]device.Device, len(ids))
		for i, id := range ids {
			devs[i] = device.Device{ID: id}
		}
		return devs, "", nil
	}
	fmt.Fprintf(cfg.Progress, "making %d %s keys\n", len(ids), cfg.Alg)
	devs, err := device.GenerateAll(ctx, ids, device.Alg(cfg.Alg), nil)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, "registry.csv")
	reg, err := registry.OpenLocal(path)
	if err != nil {
		return nil, "", err
	}
	if err := reg.Add(registry.EntriesOf(devs)); err != nil {
		return nil, "", err
	}
	return devs, path, nil
}

// simConfigs returns one device per entry of devs against broker, each
// running the program of its kind in fp, all recording into rec (through
// one kindRecorder per kind) and run by eng.
func simConfigs(cfg *Config, fp *fleetPlan, devs []device.Device, broker string, rec *recorder, eng *sim.Engine) []sim.Config {
	cfgs := make([]sim.Config, len(devs))
	kinds := make([]sim.Recorder, len(fp.plan.Kinds))
	for k, prog := range fp.plan.Kinds {
		kinds[k] = rec.kind(k, prog)
	}
	spread := cfg.sources() > 1
	src := firstSource
	for i, d := range devs {
		index := fp.indices[i]
		kind := fp.plan.KindOf(index)
		c := sim.Config{
			Client:             cfg.Client,
			Broker:             broker,
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
		if d.Key != nil {
			c.Credentials = device.NewJWTSource(d, benchProject, 0)
		}
		if spread {
			if i > 0 && i%cfg.PerSource == 0 {
				src = src.Next()
			}
			c.LocalAddr = src
		}
		cfgs[i] = c
	}
	return cfgs
}
