package target

import (
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// errConnectTooLarge closes a connection whose first packet announces more
// than MaxConnectSize bytes.
var errConnectTooLarge = errors.New("CONNECT packet larger than the target's max connect size")

// guardLimits are the limits a connection meets before authentication.
type guardLimits struct {
	connectTimeout time.Duration // accept to the CONNECT's last byte
	maxConnectSize int           // bytes of the CONNECT, fixed header included
}

// guard arms c with the pre-authentication limits: a deadline for the whole
// CONNECT (mochi v2.7.9 reads it with no deadline, so a silent socket was
// held for ever) and a size cap checked before mochi sees the fixed header
// (mochi's ReadPacket allocates the announced remaining length, up to
// 256 MiB, before reading a byte of it: "10 ff ff ff 7f" cost 256 MiB).
// mochi replaces the deadline once the CONNECT is authenticated
// (Client.refreshDeadline with the client's keep-alive).
func (g *gate) guard(c net.Conn) net.Conn {
	_ = c.SetDeadline(time.Now().Add(g.limits.connectTimeout))
	return &guardedConn{Conn: c, g: g, left: -1}
}

// guardedConn checks the first packet's fixed header, then passes reads
// through; once the whole CONNECT has been read it costs one comparison per
// Read. Only mochi's reading goroutine calls Read.
type guardedConn struct {
	net.Conn
	g    *gate
	left int     // CONNECT bytes not yet passed to mochi; -1 before the header is read, 0 after the CONNECT
	head [5]byte // the fixed header, passed to mochi first
	hn   int     // bytes in head
	hoff int     // bytes of head already passed
}

func (c *guardedConn) Read(p []byte) (int, error) {
	if c.left == 0 {
		return c.Conn.Read(p)
	}
	if c.left < 0 {
		if err := c.readHeader(); err != nil {
			return 0, err
		}
	}
	var n int
	var err error
	if c.hoff < c.hn {
		n = copy(p, c.head[c.hoff:c.hn])
		c.hoff += n
	} else {
		n, err = c.Conn.Read(p)
		c.countTimeout(err)
	}
	c.left = max(c.left-n, 0)
	return n, err
}

// readHeader reads the first packet's fixed header (at most 5 bytes, one
// at a time: this happens once per connection) and refuses a CONNECT larger
// than maxConnectSize. Other first packets pass: mochi refuses them without
// reading their body.
func (c *guardedConn) readHeader() error {
	var remaining, shift int
	for c.hn = 0; c.hn < len(c.head); {
		if _, err := io.ReadFull(c.Conn, c.head[c.hn:c.hn+1]); err != nil {
			c.countTimeout(err)
			return err
		}
		b := c.head[c.hn]
		c.hn++
		if c.hn == 1 {
			continue
		}
		remaining |= int(b&0x7f) << shift
		shift += 7
		if b&0x80 == 0 {
			break
		}
	}
	total := c.hn + remaining
	if c.head[0]>>4 != 1 { // not CONNECT
		c.left = c.hn
		return nil
	}
	if total > c.g.limits.maxConnectSize || c.head[c.hn-1]&0x80 != 0 {
		c.g.m.refused[ReasonConnectTooLarge].Inc()
		c.g.log.Debug("connection refused", "remote", c.RemoteAddr().String(), "error", errConnectTooLarge,
			"announced_bytes", total, "max_connect_size", c.g.limits.maxConnectSize)
		_ = c.Conn.Close()
		return errConnectTooLarge
	}
	c.left = total
	return nil
}

// countTimeout counts a connection that did not send its CONNECT in time.
func (c *guardedConn) countTimeout(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.g.m.refused[ReasonConnectTimeout].Inc()
		c.g.log.Debug("connection refused", "remote", c.RemoteAddr().String(), "error", "no whole CONNECT within the connect timeout",
			"connect_timeout", c.g.limits.connectTimeout)
	}
}
