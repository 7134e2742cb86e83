package bench

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/stats"
)

// lastMessageTimeout is the devices' last-message wait: short, because the
// stop is not measured.
const lastMessageTimeout = 2 * time.Second

// firstSource is the first loopback source address used when the fleet is
// spread over several.
var firstSource = netip.AddrFrom4([4]byte{127, 0, 0, 2})

// makeKeys makes a key pair per device for cfg.Alg, registers the public
// keys in a local registry file in dir and returns the devices and the
// file. With Alg "none" it makes only ids.
func makeKeys(ctx context.Context, cfg *Config, dir string) ([]device.Device, string, error) {
	ids := make([]string, cfg.Devices)
	for i := range ids {
		ids[i] = device.FormatID("LTK", 5, i+1)
	}
	if cfg.Alg == "none" {
		devs := make([]device.Device, len(ids))
		for i, id := range ids {
			devs[i] = device.Device{ID: id}
		}
		return devs, "", nil
	}
	fmt.Fprintf(cfg.Progress, "making %d %s keys\n", cfg.Devices, cfg.Alg)
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

// simConfigs returns one echo device per entry of devs against broker, all
// recording into rec and run by eng.
func simConfigs(cfg *Config, devs []device.Device, broker string, rec sim.Recorder, eng *sim.Engine) []sim.Config {
	cfgs := make([]sim.Config, len(devs))
	spread := cfg.sources() > 1
	src := firstSource
	for i, d := range devs {
		c := sim.Config{
			Client:             cfg.Client,
			Broker:             broker,
			DeviceID:           d.ID,
			ClientID:           "projects/" + benchProject + "/locations/" + benchRegion + "/registries/" + benchRegistry + "/devices/" + d.ID,
			QoS:                cfg.QoS,
			WaitMin:            cfg.Interval,
			WaitMax:            cfg.Interval,
			LastMessageTimeout: lastMessageTimeout,
			Recorder:           rec,
		}
		if d.Key != nil {
			c.Credentials = device.NewJWTSource(d, benchProject, 0)
		}
		if i == 0 { // one Program and one Engine for the fleet
			c.Program, c.Engine = sim.EchoProgram(&c), eng
		} else {
			c.Program, c.Engine = cfgs[0].Program, eng
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

// recorder records device events into stats entries, like an ltk worker,
// and counts the subscribes that mark a device as connected.
type recorder struct {
	stats      *stats.Recorder
	entries    [sim.NumEvents]*stats.Entry
	subscribed atomic.Int64
}

func newRecorder() *recorder {
	r := &recorder{stats: stats.NewRecorder()}
	for i := range sim.NumEvents {
		ev := sim.Event(i)
		r.entries[ev] = r.stats.Entry(ev.Type(), ev.Name())
	}
	return r
}

func (r *recorder) Success(ev sim.Event, d time.Duration, size int) {
	if ev == sim.EventSubscribe {
		r.subscribed.Add(1)
	}
	r.entries[ev].Record(d, size)
}

func (r *recorder) Failure(ev sim.Event, d time.Duration, msg string) { r.entries[ev].Fail(d, msg) }

// window drains what was recorded since the previous call into a snapshot.
func (r *recorder) window(now time.Time) (stats.Snapshot, error) {
	a := stats.NewAggregate()
	if err := a.Add(r.stats.Drain(now)); err != nil {
		return stats.Snapshot{}, err
	}
	return a.Snapshot(now), nil
}
