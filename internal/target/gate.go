package target

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// gate wraps the broker's listeners for three reasons.
//
// A race-free Close: mochi's attachClient calls ClientsWg.Add before its
// first read of the connection, while its Close calls ClientsWg.Wait: an Add
// racing that Wait is a data race (and can miss a client). The gate stops
// accepting first, then waits for each accepted connection's first Read,
// which comes after mochi's Add.
//
// An accept loop that survives errors: mochi v2.7.9's listeners.Net.Serve
// returns on the first Accept error, so one EMFILE (open-files limit) stopped
// the target accepting for good while it kept running. The gate's Accept
// backs off (5 ms doubling to 1 s, as net/http's Server does) and retries
// every error except a closed listener, logs once per burst of errors and
// counts each in ltk_target_accept_errors_total.
//
// Pre-authentication limits: every accepted connection is a guardedConn
// (see guard.go).
type gate struct {
	limits guardLimits
	m      *metrics
	log    *slog.Logger
	stop   chan struct{} // closed by close: ends accept back-offs

	mu      sync.Mutex // Guards closing and pending's Add against Close.
	closing bool
	pending sync.WaitGroup // accepted connections not yet read by mochi
	lns     []net.Listener
}

// Accept back-off bounds.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

func newGate(limits guardLimits, m *metrics, log *slog.Logger) *gate {
	return &gate{limits: limits, m: m, log: log, stop: make(chan struct{})}
}

// wrap returns ln behind the gate.
func (g *gate) wrap(ln net.Listener) net.Listener {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lns = append(g.lns, ln)
	return &gatedListener{Listener: ln, g: g}
}

// close stops every listener from accepting and waits (at most timeout)
// until the connections accepted so far are in mochi's hands.
func (g *gate) close(timeout time.Duration) {
	g.mu.Lock()
	if !g.closing {
		g.closing = true
		close(g.stop)
	}
	for _, ln := range g.lns {
		_ = ln.Close()
	}
	g.mu.Unlock()
	done := make(chan struct{})
	go func() {
		g.pending.Wait()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C: // a connection mochi never read (it saw the listener closing): nothing races
	}
}

type gatedListener struct {
	net.Listener
	g *gate
}

// Accept returns the next connection, retrying failed accepts until the
// listener is closed.
func (l *gatedListener) Accept() (net.Conn, error) {
	var (
		failures int
		backoff  time.Duration
	)
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			failures++
			l.g.m.acceptErrors.Inc()
			if failures == 1 {
				l.g.log.Warn("cannot accept MQTT connections; retrying with back-off", "listener", l.Addr().String(), "err", err,
					"hint", "raise the open-files limit (ulimit -n) if the error is 'too many open files'")
			}
			backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
			if !l.sleep(backoff) {
				return nil, net.ErrClosed
			}
			continue
		}
		if failures > 0 {
			l.g.log.Info("accepting MQTT connections again", "listener", l.Addr().String(), "failed_accepts", failures)
			failures, backoff = 0, 0
		}
		l.g.mu.Lock()
		if l.g.closing {
			l.g.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.g.pending.Add(1)
		l.g.mu.Unlock()
		return &gatedConn{Conn: l.g.guard(c), g: l.g}, nil
	}
}

// sleep waits d unless the gate closes first; it reports whether it slept.
func (l *gatedListener) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.g.stop:
		return false
	}
}

// gatedConn reports its first Read (or Close) to the gate.
type gatedConn struct {
	net.Conn
	g    *gate
	once sync.Once
}

func (c *gatedConn) handed() { c.once.Do(c.g.pending.Done) }

func (c *gatedConn) Read(p []byte) (int, error) {
	c.handed()
	return c.Conn.Read(p)
}

func (c *gatedConn) Close() error {
	c.handed()
	return c.Conn.Close()
}
