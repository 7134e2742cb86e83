package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/stats"
)

// RunMeta describes a run as it starts.
type RunMeta struct {
	Name      string    // how users refer to the run; "" = "run-ID"
	Start     time.Time // zero = now
	Devices   int       // devices asked for
	SpawnRate float64   // devices started per second
	Nodes     int       // machines generating the load (for the driver's cost); 0 = 1
	Target    string    // the broker driven, such as "tcp://host:1883" or "embedded"
	Settings  any       // anything else worth keeping, stored as JSON; nil = {}
}

// QueueLen is how many reports (deltas, device counts) a Run queues for its
// writer; beyond it they are dropped and counted (Run.Dropped).
const QueueLen = 1024

// A Run records one test into the store. AddDelta, SetDevices and
// ObserveExecution never block and are safe for concurrent use; End must
// be called once, after the last of them.
type Run struct {
	st    *Store
	id    int64
	start time.Time
	exec  *hist.Recorder
	queue chan item

	excMu      sync.Mutex // Guards exceptions: the errors workers reported that are not request failures, by message.
	exceptions map[string]*stats.Exception

	dropped  atomic.Int64
	mu       sync.RWMutex // Guards ended against sends on queue: held for reading by senders.
	ended    bool
	done     chan struct{} // closed when the writer has exited
	writeErr error         // the writer's first error; read after done
}

// item is one queued report: a delta, or a device count.
type item struct {
	delta   *stats.Delta
	unix    int64
	devices int
}

// Begin records the start of a run and starts its writer.
func (s *Store) Begin(meta RunMeta) (*Run, error) {
	if meta.Start.IsZero() {
		meta.Start = time.Now()
	}
	if meta.Nodes <= 0 {
		meta.Nodes = 1
	}
	settings := []byte("{}")
	if meta.Settings != nil {
		b, err := json.Marshal(meta.Settings)
		if err != nil {
			return nil, fmt.Errorf("record run settings: %w", err)
		}
		settings = b
	}
	ctx := context.Background()
	start := meta.Start.UnixMilli()
	res, err := s.db.ExecContext(ctx, `INSERT INTO runs (name, start_ms, last_ms, devices, spawn_rate, nodes, target, settings)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, meta.Name, start, start, meta.Devices, meta.SpawnRate, meta.Nodes, meta.Target, string(settings))
	if err != nil {
		return nil, fmt.Errorf("record run in %s: %w", s.path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	if meta.Name == "" {
		if _, err := s.db.ExecContext(ctx, "UPDATE runs SET name = ? WHERE id = ?", fmt.Sprintf("run-%d", id), id); err != nil {
			return nil, fmt.Errorf("name run: %w", err)
		}
	}
	r := &Run{st: s, id: id, start: meta.Start, exec: hist.NewRecorder(0),
		queue: make(chan item, QueueLen), done: make(chan struct{}),
		exceptions: map[string]*stats.Exception{}}
	w := newWriter(r)
	go func() {
		defer close(r.done)
		r.writeErr = w.run()
	}()
	return r, nil
}

// ID returns the run's id in the store.
func (r *Run) ID() int64 { return r.id }

// AddDelta queues a worker's delta, as the master collects it, to be merged
// into the per-second samples. The Run keeps d: the caller must not change
// it afterwards (reading it, as stats.Aggregate.Add does, is fine). A delta
// that does not fit in the queue is dropped and counted.
func (r *Run) AddDelta(d *stats.Delta) {
	if d == nil || len(d.Entries) == 0 && len(d.Failures) == 0 {
		return
	}
	r.send(item{delta: d})
}

// SetDevices records that n devices were running at now. Call it at every
// collection; the count holds until the next call.
func (r *Run) SetDevices(now time.Time, n int) {
	r.send(item{unix: now.Unix(), devices: max(n, 0)})
}

func (r *Run) send(it item) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.ended {
		return
	}
	select {
	case r.queue <- it:
	default:
		r.dropped.Add(1)
	}
}

// ObserveExecution records one echo execution time (the embedded target's
// echo.Config.Observer). It aggregates by second; it allocates nothing but
// once a second.
func (r *Run) ObserveExecution(d time.Duration) { r.exec.Observe(d) }

// Dropped returns how many reports were dropped because the writer fell behind.
func (r *Run) Dropped() int64 { return r.dropped.Load() }

// ErrEnded is returned by a second End.
var ErrEnded = errors.New("run already ended")

// End writes what is still queued and the exceptions, marks the run
// stopped at stop and waits for the writer to exit. It returns the first
// error, if any.
func (r *Run) End(stop time.Time) error {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return ErrEnded
	}
	r.ended = true
	close(r.queue)
	r.mu.Unlock()
	<-r.done
	ctx := context.Background()
	excErr := r.writeExceptions(ctx)
	_, err := r.st.db.ExecContext(ctx, "UPDATE runs SET stop_ms = ?, dropped = ? WHERE id = ?",
		stop.UnixMilli(), r.dropped.Load(), r.id)
	if err != nil {
		err = fmt.Errorf("mark run %d stopped: %w", r.id, err)
	}
	return errors.Join(r.writeErr, excErr, err)
}

// Data reads back what the run wrote, its whole window: after End, for the
// end-of-test files (LocustCSV, WriteHTML).
func (r *Run) Data(ctx context.Context) (*Data, error) {
	return r.st.LoadRun(ctx, strconv.FormatInt(r.id, 10))
}
