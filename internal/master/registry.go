package master

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// Reasons a session ends, from the master's side.
var (
	errShutdown = errors.New("the master is shutting down")
	errReplaced = errors.New("the same worker connected again")
	errSilent   = errors.New("no heartbeat")
)

// member is the master's record of the worker with one ordinal. It outlives
// the worker's sessions: a worker that comes back gets the same member.
type member struct {
	ordinal  int
	block    []device.Device
	workerID string
	hostname string
	cores    int
	sess     *session // nil while missing

	lastHeard    time.Time
	excused      time.Duration // the master's own stalls since lastHeard (Master.check)
	missingSince time.Time     // zero while connected
	state        ltkv1.State
	running      int    // devices running, as last heartbeated
	applied      uint64 // last command the worker applied
	stopSeq      uint64 // the last Stop sent
	inTest       bool   // takes a share of the test
	share        int    // devices asked of it now
	target       int    // its share of the test; share > target while it hands devices to a newcomer
	rate         float64
	cpuPercent   float64 // as last heartbeated, % of one core
	memoryBytes  uint64  // as last heartbeated
	cpuWarned    bool
}

// session is one worker connection as the master sees it.
type session struct {
	out    chan *ltkv1.MasterMessage // drained by the goroutine serving the stream
	cancel context.CancelCauseFunc
}

// sessionQueue is how many messages may wait for a worker's stream.
const sessionQueue = 64

// send queues msg for the worker; a worker that does not read its stream
// loses the session. m.mu is held.
func (s *session) send(msg *ltkv1.MasterMessage) {
	select {
	case s.out <- msg:
	default:
		s.cancel(errors.New("the worker does not read its stream"))
	}
}

// join registers a welcomed worker's session and returns its member, or
// an ALREADY_EXISTS status when another live worker holds the ordinal.
func (m *Master) join(h *ltkv1.Hello, sess *session, now time.Time) (*member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, status.Error(codes.Unavailable, "the master is shutting down")
	}
	ord := int(h.GetOrdinal())
	if ord < 0 {
		ord = m.freeOrdinal()
	}
	mem := m.members[ord]
	if mem != nil && mem.sess != nil {
		if mem.workerID != h.GetWorkerId() {
			return nil, status.Errorf(codes.AlreadyExists,
				"ordinal %d is taken by the worker on %s: give each worker its own --ordinal (or none, to have one assigned)",
				ord, mem.hostname)
		}
		mem.sess.cancel(errReplaced)
	}
	back := mem != nil && !mem.missingSince.IsZero()
	if mem == nil {
		mem = &member{ordinal: ord, block: device.Block(m.cfg.Devices, ord, m.cfg.BlockSize)}
		m.members[ord] = mem
	}
	mem.workerID, mem.hostname, mem.cores = h.GetWorkerId(), h.GetHostname(), int(h.GetCores())
	mem.sess, mem.lastHeard, mem.excused, mem.running = sess, now, 0, int(h.GetRunning())
	mem.state = ltkv1.State_STATE_UNSPECIFIED
	if back {
		m.printf("Worker %d (%s) is back after %v", ord, mem.hostname, now.Sub(mem.missingSince).Round(100*time.Millisecond))
	} else {
		m.printf("Worker %d (%s, %d cores) connected: %s", ord, mem.hostname, mem.cores, describeBlock(mem.block))
	}
	if len(mem.block) == 0 {
		m.printf("Worker %d has no devices: the device list holds %d in blocks of %d; start fewer workers or set a smaller LTK_BLOCK_SIZE",
			ord, len(m.cfg.Devices), m.cfg.BlockSize)
	}
	mem.missingSince = time.Time{}
	m.ring()
	return mem, nil
}

// freeOrdinal returns the lowest ordinal no connected worker holds. m.mu is held.
func (m *Master) freeOrdinal() int {
	for k := 0; ; k++ {
		if mem := m.members[k]; mem == nil || mem.sess == nil {
			return k
		}
	}
}

// leave records the end of a member's session; why says how it ended.
func (m *Master) leave(mem *member, sess *session, why error, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mem.sess != sess { // replaced by a newer session of the same worker
		return
	}
	mem.sess, mem.missingSince, mem.running = nil, now, 0
	switch {
	case errors.Is(why, errShutdown), errors.Is(why, errQuitSent):
	default:
		m.printf("Worker %d (%s) missing: %v", mem.ordinal, mem.hostname, why)
	}
	m.ring()
}

// expire ends the sessions of workers that missed their heartbeats, their
// silence counted without the master's own stalls. m.mu is held.
func (m *Master) expire(now time.Time) {
	for _, mem := range m.members {
		if mem.sess == nil {
			continue
		}
		if quiet := now.Sub(mem.lastHeard); quiet-mem.excused > m.cfg.silence() {
			mem.sess.cancel(&silentError{m.cfg.MissedHeartbeats, quiet.Round(100 * time.Millisecond), mem.excused.Round(100 * time.Millisecond)})
		}
	}
}

// silentError is errSilent with how long the worker was quiet, and how much
// of that the master itself stalled.
type silentError struct {
	missed  int
	d       time.Duration
	excused time.Duration
}

func (e *silentError) Error() string {
	if e.excused > 0 {
		return fmt.Sprintf("missed %d heartbeats (silent for %v, %v of which this master stalled)", e.missed, e.d, e.excused)
	}
	return fmt.Sprintf("missed %d heartbeats (silent for %v)", e.missed, e.d)
}

func (e *silentError) Unwrap() error { return errSilent }

// sorted returns the members in ordinal order. m.mu is held.
func (m *Master) sorted() []*member {
	ms := make([]*member, 0, len(m.members))
	for _, mem := range m.members {
		ms = append(ms, mem)
	}
	slices.SortFunc(ms, func(a, b *member) int { return a.ordinal - b.ordinal })
	return ms
}

// Connected returns the number of workers connected now.
func (m *Master) Connected() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.connected()
}

func (m *Master) connected() int {
	n := 0
	for _, mem := range m.members {
		if mem.sess != nil {
			n++
		}
	}
	return n
}

// WorkerInfo describes one worker the master knows.
type WorkerInfo struct {
	Ordinal       int
	ID            string // the worker process's id
	Hostname      string
	Cores         int
	Connected     bool      // false: missing
	State         string    // "ready", "spawning", "running", "stopping", "stopped", "missing"
	Running       int       // devices running, as last heartbeated
	Share         int       // devices asked of it
	Block         int       // devices in its block
	CPUPercent    float64   // process CPU, % of one core, as last heartbeated
	MemoryBytes   uint64    // memory the worker process holds, as last heartbeated
	LastHeartbeat time.Time // when the master last heard from it
}

// Workers returns every worker the master has seen, by ordinal.
func (m *Master) Workers() []WorkerInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []WorkerInfo
	for _, mem := range m.sorted() {
		state := "missing"
		if mem.sess != nil {
			state = strings.ToLower(strings.TrimPrefix(mem.state.String(), "STATE_"))
			if mem.state == ltkv1.State_STATE_UNSPECIFIED {
				state = "ready"
			}
		}
		out = append(out, WorkerInfo{
			Ordinal: mem.ordinal, ID: mem.workerID, Hostname: mem.hostname, Cores: mem.cores,
			Connected: mem.sess != nil, State: state, Running: mem.running, Share: mem.share,
			Block: len(mem.block), CPUPercent: mem.cpuPercent, MemoryBytes: mem.memoryBytes,
			LastHeartbeat: mem.lastHeard,
		})
	}
	return out
}

// describeBlock names a block's size and first and last devices.
func describeBlock(b []device.Device) string {
	switch len(b) {
	case 0:
		return "no devices"
	case 1:
		return "block of 1 device, " + b[0].ID
	}
	return "block of " + itoa(len(b)) + " devices, " + b[0].ID + "–" + b[len(b)-1].ID
}
