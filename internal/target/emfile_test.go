package target_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target"
)

// emfileChildEnv makes TestAcceptSurvivesEMFILE run the target side in a
// child process, whose open-files limit it may lower.
const emfileChildEnv = "LTK_TARGET_TEST_EMFILE_CHILD"

// TestAcceptSurvivesEMFILE runs a target in a child process whose open-files
// limit leaves room for a few connections, then opens more sockets than that:
// the child's accept fails with EMFILE. After the sockets close, a device
// must connect again. mochi v2.7.9's accept loop returned on the first
// error, so the target stayed up but never accepted again.
func TestAcceptSurvivesEMFILE(t *testing.T) {
	if os.Getenv(emfileChildEnv) != "" {
		emfileChild(t)
		return
	}
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^TestAcceptSurvivesEMFILE$", "-test.count=1")
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	out := lines(stdout)
	logs := lines(stderr)

	addr := strings.TrimPrefix(awaitLine(t, out, "addr "), "addr ")
	var socks []net.Conn
	for range 40 { // more than the child's spare descriptors: the rest wait in the backlog
		c, err := net.DialTimeout("tcp", addr, waitFor)
		require.NoError(t, err)
		socks = append(socks, c)
	}
	awaitLine(t, logs, "cannot accept MQTT connections")
	for _, c := range socks {
		require.NoError(t, c.Close())
	}

	// A device connects once the sockets are gone (the child has spare descriptors again).
	mustDial(t, "tcp://"+addr, "dev-a", "", nil)
	require.NoError(t, stdin.Close()) // the child stops its target and reports
	var errs float64
	_, err = fmt.Sscanf(awaitLine(t, out, "accept_errors "), "accept_errors %g", &errs)
	require.NoError(t, err)
	require.Positive(t, errs, "accept errors counted")
	require.NoError(t, cmd.Wait())
}

// awaitLine returns the first line from ch that contains substr; it fails
// the test if ch closes or no such line comes within waitFor.
func awaitLine(t *testing.T, ch <-chan string, substr string) string {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("child process output ended without a line containing %q", substr)
			}
			if strings.Contains(l, substr) {
				return l
			}
		case <-deadline:
			t.Fatalf("no line containing %q from the child process within %v", substr, waitFor)
		}
	}
}

// lines sends r's lines to a channel, closed at EOF.
func lines(r io.Reader) <-chan string {
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		s := bufio.NewScanner(r)
		for s.Scan() {
			ch <- s.Text()
		}
	}()
	return ch
}

// emfileChild serves a target with few spare descriptors until stdin closes,
// then prints its accept-error count.
func emfileChild(t *testing.T) {
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tg, err := target.New(target.Config{Addr: "127.0.0.1:0", Auth: target.AuthNone, DisableEcho: true}, reg, log)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- tg.Run(ctx) }()

	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	limit := uint64(len(fds) + 8)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: limit, Max: limit}))
	fmt.Printf("addr %s\n", tg.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	cancel()
	require.NoError(t, <-done)
	fmt.Printf("accept_errors %g\n", metric(t, reg, "ltk_target_accept_errors_total"))
}
