package tcptest

import (
	"bufio"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServeRunsTheScriptAndReportsThePeer(t *testing.T) {
	t.Parallel()
	addr, peers := Serve(t, func(nc net.Conn) {
		line, err := bufio.NewReader(nc).ReadString('\n')
		if err == nil {
			_, _ = nc.Write([]byte("echo " + line))
		}
	})
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte("hello\n"))
	require.NoError(t, err)
	got, err := bufio.NewReader(nc).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "echo hello\n", got)
	require.Equal(t, "127.0.0.1", <-peers)
}

func TestCleanupEndsConnectionsStillServed(t *testing.T) {
	t.Parallel()
	var addr string
	served := make(chan struct{})
	ended := make(chan error, 1)
	t.Run("server", func(t *testing.T) {
		addr, _ = Serve(t, func(nc net.Conn) {
			close(served)
			_, err := nc.Read(make([]byte, 1)) // blocks until cleanup closes nc
			ended <- err
		})
		nc, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { nc.Close() })
		<-served
	})
	require.Error(t, <-ended, "the served connection was closed by cleanup")
	_, err := net.Dial("tcp", addr)
	require.Error(t, err, "the listener is closed")
}
