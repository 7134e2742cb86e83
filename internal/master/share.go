package master

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

// errQuitSent ends a session after the master told the worker to quit.
var errQuitSent = errors.New("told to quit")

// Start asks the connected workers for count devices in all, spawned at
// rate devices per second in all (0 = at once). Count and rate are split
// evenly, remainders going to the lowest ordinals; a worker's share never
// exceeds its block. Workers that join later get a share too, at the spawn
// rate; a worker that comes back resumes its share at the spawn rate.
func (m *Master) Start(count int, rate float64) error {
	if count < 0 {
		return fmt.Errorf("device count %d is negative", count)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	capacity, n := 0, 0
	for _, mem := range m.members {
		mem.inTest = mem.sess != nil
		if mem.inTest {
			capacity += len(mem.block)
			n++
		}
	}
	if count > capacity {
		if count > len(m.cfg.Devices) {
			return fmt.Errorf("%w: asked for %d, the device list holds %d: create more devices (ltk devices create %d %d)",
				ErrNotEnoughDevices, count, len(m.cfg.Devices), len(m.cfg.Devices)+1, count)
		}
		return fmt.Errorf("%w: asked for %d, the blocks of the %d connected workers hold %d (blocks of %d): start more workers or set a larger LTK_BLOCK_SIZE",
			ErrNotEnoughDevices, count, n, capacity, m.cfg.BlockSize)
	}
	m.phase, m.count, m.rate, m.started = running, count, rate, true
	m.split(false)
	m.ring()
	return nil
}

// split recomputes the shares of the members in the test and sends Spawn
// to the connected ones whose share changed (all of them for a new test).
// When a worker joins mid-test (handoff), the workers whose share shrinks
// keep their devices until the newcomer's have started: handoff lowers them
// step by step, so the total stays at the count. m.mu is held.
func (m *Master) split(handoff bool) {
	var in []*member
	var sizes []int
	for _, mem := range m.sorted() {
		if mem.inTest {
			in = append(in, mem)
			sizes = append(sizes, len(mem.block))
		}
	}
	shares := Split(m.count, sizes)
	for i, mem := range in {
		r := m.rate
		if m.count > 0 {
			r = m.rate * float64(shares[i]) / float64(m.count)
		}
		mem.target, mem.rate = shares[i], r
		if handoff && mem.sess != nil && mem.share > mem.target {
			continue // a donor: handoff lowers it
		}
		changed := mem.share != mem.target
		mem.share = mem.target
		if mem.sess != nil && (changed || !handoff) {
			m.sendSpawn(mem)
		}
	}
}

// handoff lowers the shares of workers that give devices to a newcomer by
// as many devices as run beyond the count: the newcomer's, as it reports
// them started. m.mu is held.
func (m *Master) handoff() {
	if m.phase != running {
		return
	}
	surplus := -m.count
	var donors []*member
	for _, mem := range m.sorted() {
		if !mem.inTest || mem.sess == nil {
			continue
		}
		if mem.share > mem.target {
			donors = append(donors, mem)
			surplus += mem.share
		} else {
			surplus += min(mem.running, mem.share)
		}
	}
	for i := len(donors) - 1; i >= 0 && surplus > 0; i-- {
		mem := donors[i]
		step := min(surplus, mem.share-mem.target)
		mem.share -= step
		surplus -= step
		m.sendSpawn(mem)
	}
}

// sendSpawn sends mem its share. m.mu is held.
func (m *Master) sendSpawn(mem *member) {
	m.seq++
	mem.sess.send(&ltkv1.MasterMessage{Msg: &ltkv1.MasterMessage_Spawn{Spawn: &ltkv1.Spawn{
		Seq: m.seq, Count: int32(mem.share), SpawnRate: mem.rate, Settings: m.settings,
	}}})
}

// sendStop stops mem's devices. m.mu is held.
func (m *Master) sendStop(mem *member) {
	m.seq++
	mem.stopSeq = m.seq
	mem.sess.send(&ltkv1.MasterMessage{Msg: &ltkv1.MasterMessage_Stop{Stop: &ltkv1.Stop{Seq: m.seq}}})
}

// resync tells a worker that just (re)connected what it should run: its
// share while a test runs (a new worker gets one, and the shares are split
// again), nothing if it stopped. m.mu is held.
func (m *Master) resync(mem *member) {
	switch m.phase {
	case running:
		if !mem.inTest {
			mem.inTest = true
			m.split(true)
		}
		mem.share = mem.target // a donor that was away hands off at once
		m.sendSpawn(mem)
	case stopped:
		m.sendStop(mem)
	}
}

// Split divides count between blocks of the given sizes as evenly as they
// allow, remainders going to the lowest indexes. It fills in rounds: every
// block with room gets an equal share (capped at its room), until fewer
// devices are left than blocks with room; those go one each to the lowest
// indexes. More than the blocks hold stops at what they hold.
func Split(count int, sizes []int) []int {
	shares := make([]int, len(sizes))
	for left := count; left > 0; {
		open := 0
		for i, s := range sizes {
			if s > shares[i] {
				open++
			}
		}
		if open == 0 {
			break
		}
		each := left / open
		for i, s := range sizes {
			if left == 0 {
				break
			}
			if room := s - shares[i]; room > 0 {
				n := min(max(each, 1), room)
				shares[i] += n
				left -= n
			}
		}
	}
	return shares
}

// Stop stops every worker's devices gracefully. Workers that are missing
// stop when they come back.
func (m *Master) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.phase = stopped
	for _, mem := range m.members {
		if mem.sess != nil {
			m.sendStop(mem)
		}
	}
	m.ring()
}

// StopAndWait stops every worker's devices and waits until each connected
// worker has stopped and reported its last stats, or until timeout or ctx
// ends. It reports whether all stopped.
func (m *Master) StopAndWait(ctx context.Context, timeout time.Duration) bool {
	m.Stop()
	return m.waitFor(ctx, timeout, func() bool {
		for _, mem := range m.members {
			if mem.sess != nil && (mem.applied < mem.stopSeq || mem.state != ltkv1.State_STATE_STOPPED) {
				return false
			}
		}
		return true
	})
}

// Quit tells every connected worker to quit and waits until their sessions
// have ended, or until timeout or ctx ends.
func (m *Master) Quit(ctx context.Context, reason string, timeout time.Duration) {
	m.mu.Lock()
	for _, mem := range m.members {
		if mem.sess != nil {
			mem.sess.send(&ltkv1.MasterMessage{Msg: &ltkv1.MasterMessage_Quit{Quit: &ltkv1.Quit{Reason: reason}}})
		}
	}
	m.mu.Unlock()
	m.waitFor(ctx, timeout, func() bool { return m.connected() == 0 })
}

// Running returns the number of devices running on the connected workers,
// as they last heartbeated.
func (m *Master) Running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.running()
}

// running is Running with m.mu held.
func (m *Master) running() int {
	n := 0
	for _, mem := range m.members {
		if mem.sess != nil {
			n += mem.running
		}
	}
	return n
}

// State is where a master's test is, with Locust's names.
type State string

// The states of a test.
const (
	StateReady    State = "ready"    // no test started yet
	StateSpawning State = "spawning" // started, fewer devices running than asked for
	StateRunning  State = "running"  // every device asked for is running
	StateStopping State = "stopping" // stopped, devices still running (awaiting their last echo)
	StateStopped  State = "stopped"  // a test ran and has stopped
)

// State returns where the test is, from what Start and Stop asked for and
// the devices the connected workers last heartbeated.
func (m *Master) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	running := m.running()
	switch {
	case !m.started:
		return StateReady
	case m.phase == stopped && running > 0:
		return StateStopping
	case m.phase == stopped:
		return StateStopped
	case running < m.count:
		return StateSpawning
	default:
		return StateRunning
	}
}

// WaitForWorkers waits until n workers are connected, or until timeout
// (0 = no limit) or ctx ends; it reports whether they are.
func (m *Master) WaitForWorkers(ctx context.Context, n int, timeout time.Duration) bool {
	return m.waitFor(ctx, timeout, func() bool { return m.connected() >= n })
}

func itoa(n int) string { return strconv.Itoa(n) }
