package sim

import (
	"math/bits"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/mqttlean"
)

// Shape of the timing wheel: 1 ms ticks, 2^16 slots (a 65-second turn, so
// every publish interval up to a minute lands in its own turn).
const (
	wheelTick  = time.Millisecond
	wheelSlots = 1 << 16
	wheelMask  = wheelSlots - 1
)

// A wheel schedules the wake-ups of an Engine's devices: each time it
// fires, one goroutine wakes all the devices due by then. With thousands of
// devices that is a few devices per wake-up instead of a goroutine and a
// thread wake-up per device event. While lean connections are open the
// wheel is fired by one of the Engine's mqttlean epoll loops (its timer is
// in the loop's epoll set), so the devices' publishes go out from the
// goroutine that reads their sockets and a tick costs no goroutine and no
// thread wake-up of its own; otherwise by a Go timer.
//
// wheel is a hashed timing wheel. A slot holds the timers due at its tick
// (or at the same tick a turn or more later); a bitmap of non-empty slots
// finds the next one. Its methods are safe for concurrent use.
type wheel struct {
	epoch time.Time       // tick 0
	loops *mqttlean.Loops // fire the wheel while one of their loops runs (ArmTick); nil = the Go timer only

	mu     sync.Mutex // Guards the fields below.
	slots  [wheelSlots]*wheelTimer
	used   [wheelSlots / 64]uint64 // bit i: slot i is not empty
	cursor int64                   // every tick up to here has fired
	n      int                     // timers scheduled
	timer  *time.Timer             // fires run; stopped when n == 0
	armed  int64                   // the tick timer is set for; -1 = none
}

// wheelTimer is one scheduled wake-up; its zero value is unscheduled. The
// owner embeds it and sets fire once.
type wheelTimer struct {
	fire       func() // called without the wheel's lock
	tick       int64  // due tick
	next, prev *wheelTimer
	queued     bool
}

// newWheel returns a wheel fired by loops' epoll loops when one runs
// (nil: by its Go timer only).
func newWheel(loops *mqttlean.Loops) *wheel {
	w := &wheel{epoch: time.Now(), armed: -1, loops: loops}
	w.timer = time.AfterFunc(time.Hour, w.run)
	w.timer.Stop()
	if loops != nil {
		loops.SetTicker(w.run)
	}
	return w
}

// tickOf returns the first tick at or after t.
func (w *wheel) tickOf(t time.Time) int64 {
	d := t.Sub(w.epoch)
	return int64((d + wheelTick - 1) / wheelTick)
}

// at returns the time of tick k.
func (w *wheel) at(k int64) time.Time { return w.epoch.Add(time.Duration(k) * wheelTick) }

// ceil returns t rounded up to the wheel's grid: schedules built on the grid
// fire on time, give or take the Go timer's own latency.
func (w *wheel) ceil(t time.Time) time.Time { return w.at(w.tickOf(t)) }

// clock returns t on the wheel's clock: the time since its epoch.
func (w *wheel) clock(t time.Time) time.Duration { return t.Sub(w.epoch) }

// clockCeil rounds c up to the wheel's grid.
func (w *wheel) clockCeil(c time.Duration) time.Duration {
	c += wheelTick - 1
	return c - c%wheelTick
}

// time returns the time of c on the wheel's clock.
func (w *wheel) time(c time.Duration) time.Time { return w.epoch.Add(c) }

// since returns the time elapsed since c on the wheel's clock.
func (w *wheel) since(c time.Duration) time.Duration { return time.Since(w.epoch) - c }

// reset schedules t at when (at once if when has passed), replacing any
// earlier schedule.
func (w *wheel) reset(t *wheelTimer, when time.Time) {
	k := w.tickOf(when)
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.queued {
		w.unlink(t)
	}
	if w.n == 0 { // idle until now: no slot behind the present needs a visit
		w.cursor = max(w.cursor, int64(time.Since(w.epoch)/wheelTick)-1)
	}
	if k <= w.cursor {
		k = w.cursor + 1
	}
	t.tick = k
	i := int(k & wheelMask)
	t.prev, t.next = nil, w.slots[i]
	if t.next != nil {
		t.next.prev = t
	}
	w.slots[i] = t
	w.used[i/64] |= 1 << (i % 64)
	t.queued = true
	w.n++
	if w.armed < 0 || k < w.armed {
		w.arm(k)
	}
}

// stop unschedules t.
func (w *wheel) stop(t *wheelTimer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.queued {
		w.unlink(t)
	}
}

// unlink removes t from its slot; w.mu held.
func (w *wheel) unlink(t *wheelTimer) {
	i := int(t.tick & wheelMask)
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		w.slots[i] = t.next
		if t.next == nil {
			w.used[i/64] &^= 1 << (i % 64)
		}
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.next, t.prev, t.queued = nil, nil, false
	w.n--
}

// arm sets the epoll loop's timer or the Go timer for tick k; w.mu held.
func (w *wheel) arm(k int64) {
	w.armed = k
	if w.loops != nil && w.loops.ArmTick(w.at(k)) {
		w.timer.Stop()
		return
	}
	w.timer.Reset(time.Until(w.at(k)))
}

// run fires every timer due by now, then arms the Go timer for the next
// non-empty slot.
func (w *wheel) run() {
	// The due timers are collected in a slice, not linked through their
	// fields: once unlocked, another goroutine may schedule them again.
	var buf [128]*wheelTimer
	due := buf[:0]
	w.mu.Lock()
	now := int64(time.Since(w.epoch) / wheelTick)
	for k := w.cursor + 1; k <= now; k++ {
		i := int(k & wheelMask)
		if w.used[i/64]&(1<<(i%64)) == 0 {
			if k < now { // skip to the next non-empty slot
				k = w.nextUsed(k, now) - 1
			}
			continue
		}
		for t := w.slots[i]; t != nil; {
			next := t.next
			if t.tick <= now {
				w.unlink(t)
				due = append(due, t)
			}
			t = next
		}
	}
	if now > w.cursor {
		w.cursor = now
	}
	w.armed = -1
	if w.n > 0 {
		w.arm(w.nextUsed(w.cursor, w.cursor+wheelSlots))
	}
	w.mu.Unlock()
	for _, t := range due {
		t.fire()
	}
}

// nextUsed returns the first tick after k, up to limit, whose slot is not
// empty (limit if none); w.mu held.
func (w *wheel) nextUsed(k, limit int64) int64 {
	for k < limit {
		k++
		i := int(k & wheelMask)
		word := w.used[i/64] >> (i % 64)
		if word != 0 {
			return k + int64(bits.TrailingZeros64(word))
		}
		k += int64(63 - i%64) // to the last tick of this word; the loop adds one
	}
	return limit
}
