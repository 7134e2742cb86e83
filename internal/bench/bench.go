package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/swarm"
)

// Time allowances of a run.
const (
	maxSettle   = 2 * time.Second // after the ramp, before the window: let the first publishes spread
	rampGrace   = time.Minute     // on top of the ramp's planned length
	maxFailures = 5               // failure messages kept as samples
)

// Run runs one benchmark: keys and registry (for JWT auth), the target in a
// child process, the ramp, the measurement window. It returns after the
// devices stopped and the target exited.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.setDefaults()
	if err := cfg.Validate(fdLimit()); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ltk-bench-")
	if err != nil {
		return nil, fmt.Errorf("make a directory for the run's registry: %w", err)
	}
	defer os.RemoveAll(dir)
	fp, err := newFleetPlan(&cfg)
	if err != nil {
		return nil, err
	}
	for _, s := range fp.skipped {
		fmt.Fprintln(cfg.Progress, s)
	}
	fl, err := makeKeys(ctx, &cfg, fp.ids, dir)
	if err != nil {
		return nil, err
	}
	tp, err := startTarget(&cfg, fl.registryFile, dir)
	if err != nil {
		return nil, err
	}
	defer tp.stop()
	broker := tp.addr
	if cfg.Profile == runset.ProfileAWS {
		broker = "ssl://" + tp.tlsAddr
	}
	fmt.Fprintf(cfg.Progress, "target: MQTT on %s (process %d, auth %s)\n", broker, tp.pid(), authOf(&cfg, fl.registryFile))

	rec := newRecorder(fp.plan)
	eng := sim.NewEngine() // the benchmark's loops and timing wheel, shared by its devices
	defer eng.Wait()
	devices, err := simConfigs(&cfg, fp, fl, broker, rec, eng)
	if err != nil {
		return nil, err
	}
	sw, err := swarm.New(swarm.Config{Devices: devices, Engine: eng})
	if err != nil {
		return nil, err
	}

	r := &Result{
		Scenario: fp.name, Skipped: fp.skipped,
		Client: cfg.Client, Devices: cfg.Devices, Alg: cfg.Alg, QoS: cfg.QoS, MQTTVersion: cfg.MQTTVersion, Transport: cfg.Transport,
		IntervalS: cfg.Interval.Seconds(), Sources: cfg.sources(), GoMaxProcs: runtime.GOMAXPROCS(0),
		ExpectedEchoesPerS: fp.awaitedPerS,
	}
	if cfg.Profile == runset.ProfileAWS || cfg.Profile == runset.ProfileAzure {
		r.Alg = authOf(&cfg, "registry") + " (ES256)"
	}
	runtime.GC()
	debug.FreeOSMemory()
	rss0, err := rss()
	if err != nil {
		return nil, err
	}
	heap0 := heapInUse()

	runCtx, stopDevices := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = sw.Run(runCtx) })
	defer func() {
		fmt.Fprintln(cfg.Progress, "stopping the devices")
		stopDevices()
		wg.Wait()
	}()

	if err := ramp(ctx, &cfg, sw, rec, r); err != nil {
		return nil, err
	}
	settle := maxSettle // a scenario's own schedules (Interval 0) may be long
	if cfg.Interval > 0 {
		settle = min(maxSettle, 2*cfg.Interval)
	}
	if err := sleep(ctx, settle); err != nil {
		return nil, err
	}
	traffic0, err := tp.traffic(ctx) // before the window: its read may be slow
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Progress, "measuring for %v\n", cfg.Duration)
	begin := time.Now()
	rampSnap, err := rec.window(begin)
	if err != nil {
		return nil, err
	}
	r.RampFailures = rampSnap.Total.NumFailures
	sent0, replies0 := rec.counts()
	cpu0 := selfCPU()
	tcpu0, terr := procCPU(tp.pid())
	if err := measure(ctx, cfg.Duration, measureStep, cfg.Progress); err != nil {
		return nil, err
	}
	cpu1 := selfCPU()
	tcpu1, terr1 := procCPU(tp.pid())
	end := time.Now()
	sent1, replies1 := rec.counts()
	traffic1, err := tp.traffic(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := rec.window(end)
	if err != nil {
		return nil, err
	}
	rawRSS, err := rss()
	if err != nil {
		return nil, err
	}
	runtime.GC()
	debug.FreeOSMemory()
	rss1, err := rss()
	if err != nil {
		return nil, err
	}
	heap1 := heapInUse()
	if cfg.HeapProfile != "" {
		if err := writeHeapProfile(cfg.HeapProfile); err != nil {
			return nil, err
		}
	}

	window := end.Sub(begin)
	r.WindowS = window.Seconds()
	r.Connected = int(min(rec.ready.Load(), int64(cfg.Devices)))
	r.RSSPerDeviceKB = float64(rss1-rss0) / 1024 / float64(cfg.Devices)
	r.RSSPerDeviceRaw = float64(rawRSS-rss0) / 1024 / float64(cfg.Devices)
	r.HeapPerDeviceKB = float64(heap1-heap0) / 1024 / float64(cfg.Devices)
	r.CPUPercent = 100 * (cpu1 - cpu0).Seconds() / window.Seconds()
	echoes := entry(snap, sim.EventEchoReceive)
	r.EchoesPerS = float64(echoes.NumRequests-echoes.NumFailures) / window.Seconds()
	if r.ExpectedEchoesPerS > 0 {
		r.EchoRatio = r.EchoesPerS / r.ExpectedEchoesPerS
	}
	r.EchoP50Ms = millis(echoes.Percentile(0.5))
	r.EchoP99Ms = millis(echoes.Percentile(0.99))
	r.EchoMaxMs = millis(echoes.Max)
	r.PublishP99Ms = millis(entry(snap, sim.EventPublish).Percentile(0.99))
	if n := echoes.NumRequests - echoes.NumFailures; n > 0 {
		r.CPUPerEchoUs = float64((cpu1 - cpu0).Microseconds()) / float64(n)
		if terr == nil && terr1 == nil {
			r.TargetCPUPerEchoUs = float64((tcpu1 - tcpu0).Microseconds()) / float64(n)
		}
	}
	// The counts are a rate over their own reads, which a busy target may
	// answer late, rather than over the window.
	r.MessagesPerS = traffic1.perSecond(traffic0)
	if r.MessagesPerS > 0 {
		r.CPUPerMessageUs = float64((cpu1 - cpu0).Microseconds()) / window.Seconds() / r.MessagesPerS
	}
	r.Kinds = kindResults(fp, window, sent1, sent0, replies1, replies0)
	if terr == nil && terr1 == nil {
		r.TargetCPUPercent = 100 * (tcpu1 - tcpu0).Seconds() / window.Seconds()
	}
	r.Failures = snap.Total.NumFailures
	for _, f := range append(rampSnap.Failures, snap.Failures...) {
		if len(r.FailureSamples) == maxFailures {
			break
		}
		r.FailureSamples = append(r.FailureSamples, fmt.Sprintf("%s: %s (%d×)", f.Name, f.Message, f.Occurrences))
	}
	if r.EchoesPerS == 0 && r.ExpectedEchoesPerS*cfg.Duration.Seconds() >= 2 {
		return r, errNoEchoes
	}
	return r, nil
}

// kindResults returns each kind's devices and message rates over the
// window, from the counts at its start (sent0, replies0) and end.
func kindResults(fp *fleetPlan, window time.Duration, sent1, sent0, replies1, replies0 []int64) []KindResult {
	ks := make([]KindResult, len(fp.plan.Kinds))
	for k, prog := range fp.plan.Kinds {
		ks[k] = KindResult{
			Kind: prog.Kind, Backend: prog.Backend,
			SentPerS:    float64(sent1[k]-sent0[k]) / window.Seconds(),
			RepliesPerS: float64(replies1[k]-replies0[k]) / window.Seconds(),
		}
	}
	for _, i := range fp.indices {
		ks[fp.plan.KindOf(i)].Devices++
	}
	return ks
}

// ramp starts every device and waits until all subscribed, reporting
// progress each second; it fills the ramp's measures of r.
func ramp(ctx context.Context, cfg *Config, sw *swarm.Swarm, rec *recorder, r *Result) error {
	planned := time.Duration(0)
	if cfg.SpawnRate > 0 {
		planned = time.Duration(float64(cfg.Devices) / cfg.SpawnRate * float64(time.Second))
	}
	limit := planned + rampGrace
	fmt.Fprintf(cfg.Progress, "ramp: %d %s devices at %s\n", cfg.Devices, cfg.Client, rateText(cfg.SpawnRate))
	cpu0, begin := selfCPU(), time.Now()
	rate := cfg.SpawnRate
	if rate < 0 {
		rate = 0 // swarm: all at once
	}
	if err := sw.Scale(cfg.Devices, rate); err != nil {
		return err
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	lastReport := begin
	for rec.ready.Load() < int64(cfg.Devices) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-tick.C:
			if now.Sub(begin) > limit {
				return fmt.Errorf("only %d of %d devices connected within %v: see the failures with a smaller fleet, or lower --spawn-rate",
					rec.ready.Load(), cfg.Devices, limit.Round(time.Second))
			}
			if now.Sub(lastReport) >= time.Second {
				lastReport = now
				fmt.Fprintf(cfg.Progress, "ramp: %d/%d connected\n", rec.ready.Load(), cfg.Devices)
			}
		}
	}
	took := time.Since(begin)
	cpu := selfCPU() - cpu0
	r.RampS = took.Seconds()
	r.ConnectsPerS = float64(cfg.Devices) / took.Seconds()
	r.CPUPerConnectUs = float64(cpu.Microseconds()) / float64(cfg.Devices)
	fmt.Fprintf(cfg.Progress, "ramp: %d connected in %.1fs\n", cfg.Devices, took.Seconds())
	return nil
}

func rateText(rate float64) string {
	if rate < 0 {
		return "once"
	}
	return fmt.Sprintf("%g/s", rate)
}

// authOf names the devices' auth: none, jwt, x509 or sas.
func authOf(cfg *Config, registryFile string) string {
	switch {
	case registryFile == "":
		return "none"
	case cfg.Profile == runset.ProfileAWS:
		return "x509"
	case cfg.Profile == runset.ProfileAzure:
		return "sas"
	}
	return "jwt"
}

// sleep waits d or until ctx ends.
// measureStep is how often the measuring window reports its progress.
const measureStep = 10 * time.Second

// measure waits out the measuring window d, printing the time gone every
// step so that a long window shows it is alive.
func measure(ctx context.Context, d, step time.Duration, progress io.Writer) error {
	for gone := time.Duration(0); gone < d; {
		wait := min(step, d-gone)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		gone += wait
		if gone < d {
			fmt.Fprintf(progress, "measuring: %v of %v\n", gone, d)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// writeHeapProfile writes a pprof heap profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("heap profile %s: %w", path, err)
	}
	return f.Close()
}

// heapInUse returns the bytes in in-use heap spans.
func heapInUse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// entry returns the stats of ev in s (zero if none was recorded).
func entry(s stats.Snapshot, ev sim.Event) stats.EntryStats {
	for _, e := range s.Entries {
		if e.Type == ev.Type() && e.Name == ev.Name() {
			return e
		}
	}
	return stats.EntryStats{}
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
