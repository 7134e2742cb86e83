package web

import (
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
)

// Controller is what the web server needs of the master. Its methods must be
// safe for concurrent use: HTTP handlers and the server's ticker call them
// from different goroutines.
type Controller interface {
	// Swarm starts a test with count devices spawned at rate devices per
	// second (0 = all at once), or, while a test runs, changes the count and
	// rate. The server has already checked 0 <= count <= Capacity() and
	// rate >= 0; it calls ResetStats first when the test is new (State is
	// ready or stopped), as Locust does. A run time, if any, is the server's
	// business: it calls Stop when it has passed.
	Swarm(count int, rate float64) error
	// Stop begins a graceful stop of every device. It should return promptly
	// and let State report StateStopping until the devices are gone.
	Stop() error
	// ResetStats forgets the statistics and exceptions recorded so far.
	ResetStats()
	// State is the test's state, with Locust's names.
	State() State
	// Snapshot returns the merged statistics of the test at now.
	Snapshot(now time.Time) stats.Snapshot
	// Running is the number of devices running now, on all workers.
	Running() int
	// Capacity is the number of devices in the device list: the most a
	// Swarm may ask for.
	Capacity() int
	// Workers describes the workers known to the master, sorted by ordinal.
	Workers() []WorkerInfo
	// Exceptions lists the errors that are not request failures (a worker
	// that could not start its devices, say), most frequent first.
	Exceptions() []Exception
}

// State is the state of a test or a worker, with Locust's names.
type State string

// The states of a test (and, but for spawning and stopping, of a worker).
const (
	StateReady    State = "ready"    // nothing started yet
	StateSpawning State = "spawning" // devices are being started
	StateRunning  State = "running"  // every device asked for is running
	StateStopping State = "stopping" // devices are waiting for their last echo
	StateStopped  State = "stopped"  // a test ran and has stopped
	StateMissing  State = "missing"  // a worker that stopped heartbeating
)

// active reports whether a test is under way in state s: a Swarm then changes
// the count rather than starting a new test.
func (s State) active() bool { return s == StateSpawning || s == StateRunning }

// WorkerInfo describes one worker as the Workers tab and /api/workers show it.
type WorkerInfo struct {
	Ordinal       int       // the worker's block of the device list (its StatefulSet ordinal)
	ID            string    // unique id the worker said hello with
	Host          string    // the worker's hostname
	State         State     // ready, running, missing, ...
	Devices       int       // devices running on the worker
	CPUPercent    float64   // CPU use of the worker process, in percent of one core
	MemoryBytes   uint64    // resident memory of the worker process
	LastHeartbeat time.Time // zero if none yet
}

// Exception is an error that is not a request failure, counted by message:
// a row of Locust's _exceptions.csv.
type Exception = stats.Exception
