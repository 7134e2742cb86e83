//go:build linux

package mqttlean

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
)

// rawSupported says that plain TCP connections can use the epoll loops.
const rawSupported = true

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (absent from package
// syscall): with a source address bound, the port is chosen at connect time
// per destination, so one source address serves more than its ephemeral
// range across brokers and TIME_WAIT sockets do not block a bind.
const ipBindAddressNoPort = 24

// raw is the transport of a plain TCP connection on Linux: a non-blocking
// socket watched by one of the shared epoll loops, which reads it, writes
// what did not fit at once, and closes it. No goroutine is spent on it.
type raw struct {
	c       *Conn
	lp      *loop  // nil while dialing; set under c.mu
	addr    string // the broker, for dial errors
	fd      int    // -1 while dialing; set by the dial worker, then closed and set to -1 only by the loop, under c.mu
	gen     uint32 // tells this socket's events from a reused fd's
	out     []byte // output the socket did not take yet; guarded by c.mu
	pollOut bool   // EPOLLOUT is armed; guarded by c.mu
}

// dialRaw checks the broker's address and queues the socket's creation and
// connect for the dial workers (see dialer): the connection stays dialing
// until its socket is on a loop. c.mu held.
func dialRaw(c *Conn, o *Options, connect []byte) error {
	ap, err := resolve(o.Addr)
	if err != nil {
		return err
	}
	family, sa := sockaddr(ap)
	if o.LocalAddr.IsValid() && o.LocalAddr.Unmap().Is4() != (family == syscall.AF_INET) {
		return dialError(o.Addr, errors.New("source address "+o.LocalAddr.String()+" is not of the broker's address family"))
	}
	r := &raw{c: c, addr: o.Addr, fd: -1, out: connect, pollOut: true}
	c.tr = r
	o.loops().d.start(&pendingDial{r: r, family: family, sa: sa, local: o.LocalAddr, beforeConnect: o.beforeConnect})
	return nil
}

// setupSocket sets TCP_NODELAY (MQTT packets are small and latency is what
// ltk measures) and binds the source address if one is given.
func setupSocket(fd, family int, local netip.Addr) error {
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	if !local.IsValid() {
		return nil
	}
	_ = syscall.SetsockoptInt(fd, syscall.SOL_IP, ipBindAddressNoPort, 1) // best effort: old kernels lack it
	lfam, lsa := sockaddr(netip.AddrPortFrom(local, 0))
	if lfam != family {
		return errors.New("source address " + local.String() + " is not of the broker's address family")
	}
	if err := syscall.Bind(fd, lsa); err != nil {
		return os.NewSyscallError("bind "+local.String(), err)
	}
	return nil
}

// sockaddr converts ap for package syscall.
func sockaddr(ap netip.AddrPort) (family int, sa syscall.Sockaddr) {
	a := ap.Addr().Unmap()
	if a.Is4() {
		return syscall.AF_INET, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	return syscall.AF_INET6, &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
}

// dialError wraps err as net.Dial would.
func dialError(addr string, err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: stringAddr(addr), Err: err}
}

// stringAddr is a net.Addr for error messages.
type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }

// write writes b, or queues it behind output already waiting. c.mu held.
func (r *raw) write(_ *Conn, b []byte) error {
	if len(r.out) > 0 {
		if len(r.out)+len(b) > maxPending {
			return errOutputFull
		}
		r.out = append(r.out, b...)
		return nil
	}
	n, err := writeFD(r.fd, b)
	if err != nil {
		return err
	}
	if n < len(b) {
		r.out = append(r.out, b[n:]...)
		return r.armOut(true)
	}
	return nil
}

// writeFD writes what the socket takes now: n < len(b) when it is full.
func writeFD(fd int, b []byte) (int, error) {
	for {
		n, e := writeRaw(fd, b)
		switch e {
		case 0:
			return n, nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		default:
			return 0, os.NewSyscallError("write", e)
		}
	}
}

// armOut turns the EPOLLOUT interest on or off. c.mu held.
func (r *raw) armOut(on bool) error {
	if r.pollOut == on {
		return nil
	}
	r.pollOut = on
	return r.lp.ctl(syscall.EPOLL_CTL_MOD, r, on)
}

// shutdown asks the loop to finish the connection. c.mu held. While the
// socket is still being dialed, the dial worker finishes it instead.
func (r *raw) shutdown(*Conn) {
	if r.lp != nil {
		r.lp.kill(r)
	}
}

// writable runs on the loop when the socket can take output: it completes
// the connect (or reports why it failed) and flushes queued output.
func (r *raw) writable() error {
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == stateDialing {
		v, err := syscall.GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err == nil && v != 0 {
			err = syscall.Errno(v)
		}
		if err != nil {
			return dialError(r.addr, os.NewSyscallError("connect", err))
		}
		c.st = stateHandshake
	}
	if c.st >= stateClosing {
		return nil
	}
	n, err := writeFD(r.fd, r.out)
	if err != nil {
		return err
	}
	if n < len(r.out) {
		r.out = r.out[:copy(r.out, r.out[n:])]
		return nil
	}
	r.out = nil
	return r.armOut(false)
}

// release closes the socket, if any; the loop (or, for a dial that did not
// reach a loop, the dial worker) calls it through Conn.finish.
func (r *raw) release() {
	if r.fd >= 0 {
		_ = syscall.Close(r.fd)
	}
	r.fd = -1
	r.out = nil
}
