package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/ltk-dev/ltk/internal/cost"
	"github.com/ltk-dev/ltk/internal/kube"
)

// sizeFlags say how big a test setup prepares the cluster for.
type sizeFlags struct {
	devices   int // -c: devices the test runs; 0 = every device of the list
	perWorker int // devices one worker pod runs; 0 = a worker pod's capacity (cost.Capacity)
}

func addSizeFlags(fs *pflag.FlagSet, f *sizeFlags) {
	fs.IntVarP(&f.devices, "devices", "c", 0,
		"devices the test will run, to size the workers for (default: every device of the device list)")
	fs.IntVar(&f.perWorker, "devices-per-worker", 0,
		"devices one worker pod runs (default: what ltk bench measured a worker to carry, at the worker pods' CPU and memory requests and the devices' message rate)")
}

// Memory the master pod plans for: a base, and per device of the list
// (BenchmarkBlockDelivery: about 1 KB of heap a device for its parsed key
// and wire form, doubled for the garbage collector's headroom, plus the
// file read at start).
const (
	masterBaseMiB        = 512
	masterBytesPerDevice = 2600
)

// sizeCluster sets the worker count from the test's devices and a worker's
// budget, unless --workers (LTK_NUM_LOCUST_WORKERS) names it, and the master's
// memory from the device list's size; it prints what it chose and why.
// listed is the device list's size (0 in a dry run without one).
func sizeCluster(out io.Writer, f *sizeFlags, workersGiven bool, listed int, cfg *kube.Config) error {
	n := f.devices
	switch {
	case n < 0 || f.perWorker < 0:
		return usageError(errors.New("--devices and --devices-per-worker must not be negative"))
	case n == 0:
		n = listed
	case listed > 0 && n > listed:
		return withHint(usageError(fmt.Errorf("--devices %d: the device list holds %d", n, listed)),
			fmt.Sprintf("create more: ltk devices create %d %d (or lower --devices)", listed+1, n))
	}
	if mib := masterBaseMiB + int64(listed)*masterBytesPerDevice>>20; mib > 1024 {
		cfg.Values.Master.Memory = fmt.Sprintf("%dMi", mib/2)
		cfg.Values.Master.MemoryLimit = fmt.Sprintf("%dMi", mib)
		fmt.Fprintf(out, "LTK: the master holds %d devices: memory request %s, limit %s\n",
			listed, cfg.Values.Master.Memory, cfg.Values.Master.MemoryLimit)
	}
	if n == 0 {
		return nil // nothing to size for: the workers asked for, or the default
	}
	budget, why, err := workerBudget(f, cfg)
	if err != nil {
		return err
	}
	want := (n + budget - 1) / budget
	if workersGiven {
		if cfg.Values.Workers < want {
			fmt.Fprintf(out, "LTK: warning: %d workers for %d devices is %d each, more than the %d a worker runs (%s): "+
				"leave --workers (LTK_NUM_LOCUST_WORKERS) unset to have %d\n",
				cfg.Values.Workers, n, (n+cfg.Values.Workers-1)/cfg.Values.Workers, budget, why, want)
		}
		return nil
	}
	if want > kube.MaxWorkers {
		return withHint(usageError(fmt.Errorf("%d devices at %d per worker need %d workers; setup makes at most %d", n, budget, want, kube.MaxWorkers)),
			"give each worker more devices (--devices-per-worker, with a larger --worker-cpu), or run fewer devices")
	}
	cfg.Values.Workers = want
	fmt.Fprintf(out, "LTK: %d devices at up to %d per worker (%s): %s\n", n, budget, why, plural(want, "worker"))
	return nil
}

// workerBudget returns how many devices one worker pod runs, and why.
func workerBudget(f *sizeFlags, cfg *kube.Config) (int, string, error) {
	if f.perWorker > 0 {
		return f.perWorker, "--devices-per-worker", nil
	}
	d := cost.DefaultPricing().Driver
	cpu, err := quantity("--worker-cpu", cfg.Values.Worker.CPU, "1")
	if err != nil {
		return 0, "", err
	}
	mem, err := quantity("--worker-memory", cfg.Values.Worker.Memory, "1Gi")
	if err != nil {
		return 0, "", err
	}
	d.VCPUs, d.MemoryMB = cpu, mem/(1<<20)
	rate := 1 / meanWait(cfg.Values.Settings).Seconds()
	c, bound := cost.Capacity(d, rate)
	why := fmt.Sprintf("ltk bench's figures: %g µs CPU a message, %g KB a device, %d connections to a broker address; "+
		"a worker of %g CPU and %s at %.0f%%, %.3g messages/s a device: %s-bound; --devices-per-worker to choose",
		d.CPUPerMessageMicros, d.MemoryPerDeviceKB, d.ConnectionsPerNode, cpu, resource.NewQuantity(int64(mem), resource.BinarySI),
		100*d.Utilization, rate, bound)
	return int(c), why, nil
}

// quantity parses a Kubernetes quantity ("500m", "1Gi") of a flag.
func quantity(flag, v, def string) (float64, error) {
	if v == "" {
		v = def
	}
	q, err := resource.ParseQuantity(v)
	if err != nil || q.Sign() <= 0 {
		return 0, usageError(fmt.Errorf("%s %q: want a positive Kubernetes quantity such as 500m, 2 or 1Gi", flag, v))
	}
	return q.AsApproximateFloat64(), nil
}

// meanWait is the devices' mean wait between publishes, from the test's
// settings (LTK_WAIT_MIN, LTK_WAIT_MAX; 1 s each by default).
func meanWait(settings map[string]string) time.Duration {
	get := func(k string) time.Duration {
		if d, err := time.ParseDuration(settings[k]); err == nil && d > 0 {
			return d
		}
		return time.Second
	}
	lo, hi := get(EnvName("wait-min")), get(EnvName("wait-max"))
	return time.Duration(math.Max(float64(lo+hi)/2, float64(time.Millisecond)))
}
