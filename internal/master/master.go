package master

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
)

// Worker is what the master needs of a worker, local or remote.
type Worker interface {
	Scale(count int, rate float64) error
	Stop()
	Running() int
	Size() int
	Drain(now time.Time) *stats.Delta
}

// ErrNotEnoughDevices is returned by Start when the workers' blocks hold
// fewer devices than asked for.
var ErrNotEnoughDevices = errors.New("not enough devices")

// Master splits work between workers and merges their stats.
// Its methods are safe for concurrent use.
type Master struct {
	workers []Worker
	log     *slog.Logger

	mu  sync.Mutex // Guards agg.
	agg *stats.Aggregate
}

// New returns a master over workers; log may be nil.
func New(log *slog.Logger, workers ...Worker) *Master {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Master{workers: workers, log: log, agg: stats.NewAggregate()}
}

// Capacity is the number of devices the workers' blocks hold.
func (m *Master) Capacity() int {
	n := 0
	for _, w := range m.workers {
		n += w.Size()
	}
	return n
}

// Start asks the workers for count devices in all, spawned at rate devices
// per second in all. Count and rate are split evenly, remainders going to the
// lowest-numbered workers; a worker's share never exceeds its block.
func (m *Master) Start(count int, rate float64) error {
	if count < 0 {
		return fmt.Errorf("device count %d is negative", count)
	}
	if c := m.Capacity(); count > c {
		return fmt.Errorf("%w: asked for %d, the device list holds %d", ErrNotEnoughDevices, count, c)
	}
	shares := Split(count, m.workers)
	var errs []error
	for i, w := range m.workers {
		r := rate
		if count > 0 {
			r = rate * float64(shares[i]) / float64(count)
		}
		if err := w.Scale(shares[i], r); err != nil {
			errs = append(errs, fmt.Errorf("worker %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// Split divides count between workers as evenly as their block sizes allow,
// remainders going to the lowest indexes. It fills in rounds: every worker
// with room gets an equal share (capped at its room), until fewer devices are
// left than workers with room; those go one each to the lowest indexes.
func Split(count int, workers []Worker) []int {
	shares := make([]int, len(workers))
	room := func(i int) int { return workers[i].Size() - shares[i] }
	for left := count; left > 0; {
		open := 0
		for i := range workers {
			if room(i) > 0 {
				open++
			}
		}
		if open == 0 {
			break
		}
		each := left / open
		for i := range workers {
			if left == 0 {
				break
			}
			if r := room(i); r > 0 {
				n := min(max(each, 1), r)
				shares[i] += n
				left -= n
			}
		}
	}
	return shares
}

// Stop stops every worker's devices gracefully.
func (m *Master) Stop() {
	for _, w := range m.workers {
		w.Stop()
	}
}

// Running is the number of devices running on all workers.
func (m *Master) Running() int {
	n := 0
	for _, w := range m.workers {
		n += w.Running()
	}
	return n
}

// Collect merges every worker's stats since the last collection and returns
// the test's snapshot at now.
func (m *Master) Collect(now time.Time) stats.Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, w := range m.workers {
		if err := m.agg.Add(w.Drain(now)); err != nil {
			m.log.Warn("dropped a worker's stats report", "worker", i, "err", err)
		}
	}
	return m.agg.Snapshot(now)
}

// Reset forgets the stats collected so far (Locust's "reset stats").
func (m *Master) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.agg.Reset()
}
