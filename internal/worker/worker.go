package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/srcaddr"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/swarm"
)

// Worker owns a block of devices and the stats they record.
// Its methods are safe for concurrent use.
type Worker struct {
	swarm *swarm.Swarm
	rec   *stats.Recorder
	size  int
}

// Block is a worker's share of the fleet: its devices, the names of their
// extra devicelist.csv columns, the fleet index of its first device and the
// worker's ordinal. A scenario picks each device's kind by its fleet index.
type Block struct {
	Devices []device.Device
	Columns []string
	First   int
	Ordinal int
}

// New checks settings and prepares a worker for the devices of block
// under them. Nothing connects before Scale.
func New(block Block, settings runset.Settings, log *slog.Logger) (*Worker, error) {
	plan, err := checkSettings(&settings)
	if err != nil {
		return nil, err
	}
	return newWorker(block, &settings, plan, stats.NewRecorder(), srcaddr.Plan{}, log)
}

// newWorker is New with settings already checked (plan is their scenario's,
// nil without one), the recorder the devices record into and the source
// addresses they dial from (sourcePlan).
func newWorker(block Block, settings *runset.Settings, plan *sim.Plan, rec *stats.Recorder, sources srcaddr.Plan, log *slog.Logger) (*Worker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	names := sim.BuiltinEvents()
	if plan != nil {
		names = plan.Events
	}
	cfgs, err := deviceConfigs(settings, block, plan, newRecorder(rec, names))
	if err != nil {
		return nil, err
	}
	src, short := sourcePlan(sources, settings.Broker, len(cfgs))
	if short {
		log.Warn("more devices than the source addresses carry to one broker address: connects will stall; "+
			"give the worker more source addresses (--source-addrs) or fewer devices",
			"devices", len(cfgs), "source_addresses", max(len(src.Addrs), 1), "per_source", src.PerSource)
	}
	for i := range cfgs {
		cfgs[i].Logger = log
		cfgs[i].LocalAddr = src.For(i)
	}
	sw, err := swarm.New(swarm.Config{Devices: cfgs, Logger: log})
	if err != nil {
		return nil, err
	}
	return &Worker{swarm: sw, rec: rec, size: len(block.Devices)}, nil
}

// Run runs the worker's devices until ctx ends, then stops them gracefully
// and returns once every device has disconnected.
func (w *Worker) Run(ctx context.Context) error { return w.swarm.Run(ctx) }

// Scale asks for count devices, started or stopped at rate devices per second.
func (w *Worker) Scale(count int, rate float64) error { return w.swarm.Scale(count, rate) }

// Stop stops every device gracefully (last-echo wait, then disconnect).
func (w *Worker) Stop() { w.swarm.Stop() }

// Running is the number of devices started and not stopped.
func (w *Worker) Running() int { return w.swarm.Running() }

// Size is the number of devices in the worker's block.
func (w *Worker) Size() int { return w.size }

// Spawned is signalled when the last Scale's ramp has completed.
func (w *Worker) Spawned() <-chan struct{} { return w.swarm.Spawned() }

// Drain returns the stats recorded since the previous Drain.
func (w *Worker) Drain(now time.Time) *stats.Delta { return w.rec.Drain(now) }

// recorder records sim events into stats entries resolved once, so recording
// is a slice index and a histogram update. Its entries are the built-in
// events' and, for a scenario's plan, the plan's own (sim.Plan.Events).
type recorder struct {
	entries []*stats.Entry
}

func newRecorder(r *stats.Recorder, names []sim.EventName) *recorder {
	rec := &recorder{entries: make([]*stats.Entry, len(names))}
	for i, n := range names {
		rec.entries[i] = r.Entry(n.Type, n.Name)
	}
	return rec
}

func (r *recorder) Success(ev sim.Event, d time.Duration, size int) { r.entries[ev].Record(d, size) }

// Failure records a failure; a miss (d = sim.NoDuration) is recorded with
// d = 0, as stats.Entry.Fail clamps it, so it adds no response time.
func (r *recorder) Failure(ev sim.Event, d time.Duration, msg string) { r.entries[ev].Fail(d, msg) }
