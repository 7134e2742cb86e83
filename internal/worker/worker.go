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
	return newWorker(block, &settings, plan, stats.NewRecorder(), srcaddr.Plan{}, log, nil)
}

// newWorker is New with settings already checked (plan is their scenario's,
// nil without one), the recorder the devices record into, the source
// addresses they dial from and the broker's refusal reasons (nil: none).
func newWorker(block Block, settings *runset.Settings, plan *sim.Plan, rec *stats.Recorder, sources srcaddr.Plan, log *slog.Logger, refusal RefusalFunc) (*Worker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	names := sim.BuiltinEvents()
	if plan != nil {
		names = plan.Events
	}
	cfgs, err := deviceConfigs(settings, block, plan, newRecorder(rec, names, log, refusal))
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

// A RefusalFunc says why the broker refused device's last connect, in
// words (ok false if it did not, or does not know).
type RefusalFunc func(device string) (reason string, ok bool)

// recorder records sim events into stats entries resolved once, so recording
// is a slice index and a histogram update. Its entries are the built-in
// events' and, for a scenario's plan, the plan's own (sim.Plan.Events).
// A failure keeps its device's id as an example of its row, and is logged
// at debug level with the device (--loglevel debug).
type recorder struct {
	entries []*stats.Entry
	log     *slog.Logger
	debug   bool        // log is enabled at debug level
	refusal RefusalFunc // may be nil
}

func newRecorder(r *stats.Recorder, names []sim.EventName, log *slog.Logger, refusal RefusalFunc) *recorder {
	rec := &recorder{entries: make([]*stats.Entry, len(names)), log: log,
		debug: log.Enabled(context.Background(), slog.LevelDebug), refusal: refusal}
	for i, n := range names {
		rec.entries[i] = r.Entry(n.Type, n.Name)
	}
	return rec
}

func (r *recorder) Success(ev sim.Event, d time.Duration, size int) { r.entries[ev].Record(d, size) }

// Failure records a failure of device under f's message; a miss
// (d = sim.NoDuration) is recorded without a response time. A refusing
// CONNACK without a reason string gets the broker's reason from refusal,
// if it knows one: "connection refused: not authorized (CONNACK 0x05:
// unknown_device: the device is not registered)".
func (r *recorder) Failure(ev sim.Event, d time.Duration, device string, f sim.Fault) {
	e := r.entries[ev]
	if d == sim.NoDuration {
		d = stats.NoResponseTime
	}
	if f.Packet == "CONNACK" && f.Reason == "" && r.refusal != nil {
		f.Reason, _ = r.refusal(device)
	}
	msg := f.Message()
	e.Fail(d, msg, device)
	if r.debug {
		r.log.Debug("failure", "device", device, "type", e.Type(), "name", e.Name(), "error", msg)
	}
}
