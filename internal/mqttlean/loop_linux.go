//go:build linux

package mqttlean

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// Sizes of a loop's buffers: one read buffer and one event batch serve all
// of the loop's connections.
const (
	loopReadBuf = 64 << 10
	loopEvents  = 256
)

// Epoll interests of a connection's socket (level-triggered).
const (
	interestIn  = syscall.EPOLLIN | syscall.EPOLLRDHUP
	interestOut = interestIn | syscall.EPOLLOUT
)

// loopCount is the number of epoll loops for procs processors: one per two
// (rounded up), at most 8. One loop per processor cost more CPU per echo
// on two processors: two loop goroutines woken by Go's poller, each waking
// an idle processor, where one loop takes the events of both in one wake-up
// and a loopback write spends its time in the kernel anyway.
func loopCount(procs int) int {
	return min(max((procs+1)/2, 1), 8)
}

// poller spreads raw connections over the epoll loops of one Loops. A loop
// starts with its first connection and stops after its last, so idle Loops
// run none.
type poller struct {
	ticker *atomic.Pointer[func()] // the Loops' ticker (SetTicker)
	wg     sync.WaitGroup          // the loops' goroutines

	mu    sync.Mutex // Guards the fields below and every loop's n.
	loops []*loop    // nil where no loop runs; made on first use, after GOMAXPROCS is set
	next  int        // round-robin position
	gen   uint32     // last connection generation handed out
}

// add registers r with a loop, starting one if needed.
func (p *poller) add(r *raw) error {
	p.mu.Lock()
	if p.loops == nil {
		p.loops = make([]*loop, loopCount(runtime.GOMAXPROCS(0)))
	}
	i := p.next % len(p.loops)
	p.next++
	p.gen++
	if p.gen == 0 {
		p.gen = 1
	}
	r.gen = p.gen
	lp := p.loops[i]
	if lp == nil {
		var err error
		if lp, err = startLoop(p, i); err != nil {
			p.mu.Unlock()
			return err
		}
		p.loops[i] = lp
	}
	lp.n++
	p.mu.Unlock()

	r.lp = lp
	lp.mu.Lock()
	lp.conns[int32(r.fd)] = r
	lp.mu.Unlock()
	if err := lp.ctl(syscall.EPOLL_CTL_ADD, r, true); err != nil {
		lp.mu.Lock()
		delete(lp.conns, int32(r.fd))
		lp.mu.Unlock()
		p.done(lp)
		lp.wake() // so that a retired loop sees it
		return err
	}
	return nil
}

// done counts a connection of lp as gone. After the last one lp is retired:
// new connections go to a new loop, and lp's goroutine exits when it next
// looks.
func (p *poller) done(lp *loop) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lp.n--
	if lp.n == 0 {
		if p.loops[lp.idx] == lp {
			p.loops[lp.idx] = nil
		}
		lp.gone = true
	}
}

// retired reports whether lp has been retired.
func (lp *loop) retired() bool {
	lp.p.mu.Lock()
	defer lp.p.mu.Unlock()
	return lp.gone
}

// loop is one epoll instance and the goroutine that serves it. The epoll fd
// is itself watched by Go's network poller, so the goroutine parks like any
// reader while nothing happens, holding no thread.
type loop struct {
	p         *poller
	idx       int
	ep        int         // the epoll fd, owned by file
	efd       int         // eventfd that wakes the loop to finish killed connections
	tfd       int         // timerfd that runs the ticker (SetTicker); -1 = none
	tickArmed atomic.Bool // tfd is set: the ticker must run, here or, if the loop retires, as it goes
	file      *os.File    // ep, registered with Go's poller
	n         int         // connections registered; guarded by p.mu
	gone      bool        // retired: the goroutine returns; guarded by p.mu

	mu     sync.Mutex     // Guards the fields below.
	conns  map[int32]*raw // by fd
	dead   []*raw         // connections to finish
	closed bool           // efd and ep are closed

	events []syscall.EpollEvent // the goroutine's only
	buf    []byte
}

// startLoop creates loop i and starts its goroutine; p.mu held.
func startLoop(p *poller, i int) (*loop, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	efd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		_ = syscall.Close(ep)
		return nil, os.NewSyscallError("eventfd2", errno)
	}
	lp := &loop{p: p, idx: i, ep: ep, efd: int(efd), tfd: -1, conns: make(map[int32]*raw)}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(efd)}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, int(efd), &ev); err != nil {
		lp.closeFDs()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	if tfd, e := newTimerFD(); e == 0 { // without one, ArmTick passes the loop by
		lp.tfd = tfd
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(tfd)}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, tfd, &ev); err != nil {
			lp.closeFDs()
			return nil, os.NewSyscallError("epoll_ctl", err)
		}
	}
	if err := syscall.SetNonblock(ep, true); err != nil {
		lp.closeFDs()
		return nil, os.NewSyscallError("fcntl", err)
	}
	lp.file = os.NewFile(uintptr(ep), "mqttlean-epoll")
	rc, err := lp.file.SyscallConn()
	if err != nil {
		lp.closeFDs()
		return nil, err
	}
	lp.events = make([]syscall.EpollEvent, loopEvents)
	lp.buf = make([]byte, loopReadBuf)
	p.wg.Go(func() { lp.run(rc) })
	return lp, nil
}

// closeFDs closes the eventfd and the epoll fd, once nothing can write to
// the eventfd any more.
func (lp *loop) closeFDs() {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.closed = true
	_ = syscall.Close(lp.efd)
	if lp.tfd >= 0 {
		_ = syscall.Close(lp.tfd)
	}
	if lp.file != nil {
		_ = lp.file.Close()
	} else {
		_ = syscall.Close(lp.ep)
	}
}

// run serves events until the loop is retired. Should Go's poller fail on
// the epoll fd (it does not, short of a runtime bug), every connection of
// the loop ends with that error rather than hanging.
func (lp *loop) run(rc syscall.RawConn) {
	defer func() {
		lp.closeFDs()
		if lp.tickArmed.Load() {
			if f := lp.p.ticker.Load(); f != nil {
				(*f)() // the ticker arms another loop or its own timer
			}
		}
	}()
	err := rc.Read(func(uintptr) bool {
		for {
			n, e := epollWait(lp.ep, lp.events)
			if e == syscall.EINTR {
				continue
			}
			if n <= 0 {
				return lp.retired() // else park until Go's poller sees the epoll fd readable
			}
			for i := range n {
				lp.handle(&lp.events[i])
			}
			if lp.retired() {
				return true
			}
		}
	})
	if err != nil {
		lp.mu.Lock()
		rs := make([]*raw, 0, len(lp.conns))
		for _, r := range lp.conns {
			rs = append(rs, r)
		}
		lp.mu.Unlock()
		for _, r := range rs {
			lp.finish(r, fmt.Errorf("mqttlean event loop: %w", err))
		}
	}
}

// handle serves one event.
func (lp *loop) handle(ev *syscall.EpollEvent) {
	if int(ev.Fd) == lp.efd {
		lp.finishDead()
		return
	}
	if int(ev.Fd) == lp.tfd {
		lp.tick()
		return
	}
	lp.mu.Lock()
	r := lp.conns[ev.Fd]
	lp.mu.Unlock()
	if r == nil || r.gen != uint32(ev.Pad) {
		return // an event of a socket finished earlier in this batch
	}
	if ev.Events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 && r.outArmed() {
		if err := r.writable(); err != nil {
			lp.finish(r, err)
			return
		}
	}
	if ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) == 0 {
		return
	}
	for {
		n, e := readFD(r.fd, lp.buf)
		switch {
		case e == 0 && n > 0:
			if err := r.c.feed(lp.buf[:n]); err != nil {
				lp.finish(r, err)
			}
			return
		case e == 0: // end of stream
			lp.finish(r, nil)
			return
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return
		default:
			lp.finish(r, os.NewSyscallError("read", e))
			return
		}
	}
}

// outArmed reports whether r waits for the socket to be writable.
func (r *raw) outArmed() bool {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.pollOut
}

// finish unregisters r, closes its socket and tells its handler, once.
// Loop goroutine only: it alone changes r.fd.
func (lp *loop) finish(r *raw, readErr error) {
	lp.mu.Lock()
	if r.fd < 0 || lp.conns[int32(r.fd)] != r {
		lp.mu.Unlock()
		return
	}
	delete(lp.conns, int32(r.fd))
	lp.mu.Unlock()
	_ = syscall.EpollCtl(lp.ep, syscall.EPOLL_CTL_DEL, r.fd, nil)
	r.c.finish(readErr, r.release)
	lp.p.done(lp)
}

// kill queues r to be finished by the loop and wakes it; any goroutine.
func (lp *loop) kill(r *raw) {
	lp.mu.Lock()
	lp.dead = append(lp.dead, r)
	lp.wakeLocked()
	lp.mu.Unlock()
}

// wake makes the loop look at its dead list and whether it was retired.
func (lp *loop) wake() {
	lp.mu.Lock()
	lp.wakeLocked()
	lp.mu.Unlock()
}

// wakeLocked writes the eventfd unless it is closed (its number may already
// be another file's); lp.mu held.
func (lp *loop) wakeLocked() {
	if lp.closed {
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = syscall.Write(lp.efd, one[:]) // EAGAIN only when the counter is huge: the loop is awake anyway
}

// finishDead finishes the killed connections.
func (lp *loop) finishDead() {
	var b [8]byte
	_, _ = syscall.Read(lp.efd, b[:])
	lp.mu.Lock()
	dead := lp.dead
	lp.dead = nil
	lp.mu.Unlock()
	for _, r := range dead {
		lp.finish(r, nil)
	}
}

// ctl adds r's socket to the epoll set or changes its interest.
func (lp *loop) ctl(op int, r *raw, out bool) error {
	ev := syscall.EpollEvent{Events: interestIn, Fd: int32(r.fd), Pad: int32(r.gen)}
	if out {
		ev.Events = interestOut
	}
	if err := syscall.EpollCtl(lp.ep, op, r.fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}
