//go:build linux

package mqttlean

import (
	"errors"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
)

// dialer is a small pool of goroutines that finish pending dials: it runs
// the socket, bind and connect system calls of raw connections off the
// caller's goroutine. The caller may be an epoll loop (ltk's timing wheel
// dials from the ticker), and connect can take milliseconds in the kernel
// when a source address's ephemeral ports run short: every connection of
// the loop would wait for it. A worker starts when a dial is queued and
// fewer than the bound run, and exits when the queue is empty, so idle
// Loops run none.
type dialer struct {
	p       *poller        // where dialed sockets go
	wg      sync.WaitGroup // the workers
	mu      sync.Mutex     // Guards the fields below.
	queue   []*pendingDial
	workers int
}

// pendingDial is a raw connection waiting for its socket.
type pendingDial struct {
	r             *raw
	family        int
	sa            syscall.Sockaddr
	local         netip.Addr // Options.LocalAddr
	beforeConnect func()     // Options.beforeConnect
}

// dialWorkers bounds the dial goroutines: a few, so that slow connects
// overlap without a thread each.
func dialWorkers() int { return max(runtime.GOMAXPROCS(0), 4) }

// start queues d and makes sure a worker will take it.
func (p *dialer) start(d *pendingDial) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue = append(p.queue, d)
	if p.workers < dialWorkers() {
		p.workers++
		p.wg.Go(p.work)
	}
}

// work finishes queued dials until none is left.
func (p *dialer) work() {
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.workers--
			p.queue = nil // drop the backing array of a burst
			p.mu.Unlock()
			return
		}
		d := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		d.run(p.p)
	}
}

// run opens the socket, starts the connect and hands the socket to a loop,
// with CONNECT waiting as output until the connect completes. A failure,
// or a Close or timeout that came first, ends the connection through
// Conn.finish and Handler.Closed.
func (d *pendingDial) run(p *poller) {
	r, c := d.r, d.r.c
	if d.beforeConnect != nil {
		d.beforeConnect()
	}
	c.mu.Lock()
	closing := c.st >= stateClosing
	c.mu.Unlock()
	if closing {
		c.finish(nil, r.release)
		return
	}
	fd, err := openSocket(d.family, d.sa, d.local)
	if err != nil {
		c.finish(dialError(r.addr, err), r.release)
		return
	}
	c.mu.Lock()
	if c.st >= stateClosing {
		c.mu.Unlock()
		_ = syscall.Close(fd)
		c.finish(nil, r.release)
		return
	}
	r.fd = fd
	err = p.add(r)
	if err != nil {
		r.fd = -1
		_ = syscall.Close(fd)
	}
	c.mu.Unlock()
	if err != nil {
		c.finish(dialError(r.addr, err), r.release)
	}
}

// openSocket creates a non-blocking socket, sets it up and starts its
// connect.
func openSocket(family int, sa syscall.Sockaddr, local netip.Addr) (int, error) {
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := setupSocket(fd, family, local); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Connect(fd, sa); err != nil && !errors.Is(err, syscall.EINPROGRESS) {
		_ = syscall.Close(fd)
		return -1, os.NewSyscallError("connect", err)
	}
	return fd, nil
}
