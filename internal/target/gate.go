package target

import (
	"net"
	"sync"
	"time"
)

// gate wraps the broker's listeners so that Close can wait until every
// accepted connection has been handed to mochi. mochi's attachClient calls
// ClientsWg.Add before its first read of the connection, while its Close
// calls ClientsWg.Wait: an Add racing that Wait is a data race (and can miss
// a client). The gate stops accepting first, then waits for each accepted
// connection's first Read, which comes after mochi's Add.
type gate struct {
	mu      sync.Mutex // Guards closing and pending's Add against Close.
	closing bool
	pending sync.WaitGroup // accepted connections not yet read by mochi
	lns     []net.Listener
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
	g.closing = true
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

func (l *gatedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.g.mu.Lock()
		if l.g.closing {
			l.g.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.g.pending.Add(1)
		l.g.mu.Unlock()
		return &gatedConn{Conn: c, g: l.g}, nil
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
