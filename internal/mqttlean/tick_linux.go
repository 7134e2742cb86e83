//go:build linux

package mqttlean

import (
	"syscall"
	"time"
	"unsafe"
)

// ArmTick sets the time at which a running epoll loop of l calls the
// ticker, and reports false when none runs (the caller then keeps its own
// timer). A loop that retires with a time armed calls the ticker once as it
// goes, so that the ticker can arm elsewhere.
func (l *Loops) ArmTick(at time.Time) bool {
	p := &l.p
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, lp := range p.loops {
		if lp != nil && lp.tfd >= 0 {
			d := max(time.Until(at), time.Nanosecond) // zero would disarm
			var spec [4]int64                         // struct itimerspec: interval, then value
			spec[2], spec[3] = int64(d/time.Second), int64(d%time.Second)
			_, _, e := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(lp.tfd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
			if e != 0 {
				return false
			}
			lp.tickArmed.Store(true)
			return true
		}
	}
	return false
}

// newTimerFD creates a loop's timer (non-blocking, monotonic clock).
func newTimerFD() (int, syscall.Errno) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	return int(fd), e
}

// tick runs the ticker after the loop's timer fired.
func (lp *loop) tick() {
	var b [8]byte
	_, _ = readFD(lp.tfd, b[:])
	lp.tickArmed.Store(false)
	if f := lp.p.ticker.Load(); f != nil {
		(*f)()
	}
}
