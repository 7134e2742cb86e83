// Package tcptest runs a scripted TCP server on loopback for tests that play
// the broker's side of a connection byte by byte.
package tcptest

import (
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// peerBacklog is how many accepted connections' source addresses Serve keeps
// for the test to read; later ones are not reported.
const peerBacklog = 64

// Serve accepts connections on 127.0.0.1:0 and runs serve on each in its own
// goroutine. It returns the listener's host:port and the source IP of each
// accepted connection (the first peerBacklog of them). The test's cleanup
// closes the listener and every accepted connection, and waits for serve to
// return on each.
func Serve(t testing.TB, serve func(net.Conn)) (addr string, peers <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ch := make(chan string, peerBacklog)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			select {
			case ch <- nc.RemoteAddr().(*net.TCPAddr).IP.String():
			default:
			}
			wg.Go(func() { serve(nc) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, nc := range conns {
			_ = nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), ch
}
