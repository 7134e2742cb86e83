package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The ltk binaries under test, built once by TestMain: ltk, and the same
// code claiming another version.
var ltkBin, otherVersionBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ltk-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(2)
	}
	ltkBin, otherVersionBin = filepath.Join(dir, "ltk"), filepath.Join(dir, "ltk-other")
	for _, b := range []struct{ out, version string }{{ltkBin, "v-e2e"}, {otherVersionBin, "v-other"}} {
		build := exec.Command("go", "build", "-o", b.out,
			"-ldflags", "-X github.com/ltk-dev/ltk/internal/cli.Version="+b.version, "github.com/ltk-dev/ltk/cmd/ltk")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: build ltk: %v\n%s", err, out)
			os.Exit(2)
		}
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// proc is an ltk process started by a test; Cleanup kills it if it still runs.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *watchedBuffer // stdout and stderr
	done chan struct{}  // closed when the process has exited
	code int            // exit code, valid after done
}

// start runs the ltk binary bin with args in dir.
func start(t testing.TB, name, bin, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: newWatchedBuffer(), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill() // this test's own process, by its PID
			<-p.done
		}
		if t.Failed() {
			t.Logf("--- %s output:\n%s", name, p.out.String())
		}
	})
	return p
}

// kill9 kills the process at once, as a crash would.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %s: %v", p.name, err)
	}
	<-p.done
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.code
	case <-timer.C:
		t.Fatalf("%s did not exit within %v; output:\n%s", p.name, timeout, p.out.String())
		return -1
	}
}

// waitFor waits until the output holds a match of re and returns the match's submatches.
func (p *proc) waitFor(t testing.TB, re string, timeout time.Duration) []string {
	t.Helper()
	m := p.out.waitFor(regexp.MustCompile(re), timeout)
	if m == nil {
		t.Fatalf("%s: no %q within %v; output:\n%s", p.name, re, timeout, p.out.String())
	}
	return m
}

// recorded returns the requests a worker process said it recorded.
func (p *proc) recorded(t *testing.T) int {
	t.Helper()
	m := p.waitFor(t, `recorded (\d+) requests`, 10*time.Second)
	n, _ := strconv.Atoi(m[1])
	return n
}

// watchedBuffer is a buffer that tells waiters about every write.
type watchedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newWatchedBuffer() *watchedBuffer { return &watchedBuffer{changed: make(chan struct{})} }

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.changed)
	w.changed = make(chan struct{})
	return w.b.Write(p)
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// waitFor returns the first match of re once the text holds one, or nil after timeout.
func (w *watchedBuffer) waitFor(re *regexp.Regexp, timeout time.Duration) []string {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		w.mu.Lock()
		m, changed := re.FindStringSubmatch(w.b.String()), w.changed
		w.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil
		}
	}
}

// count returns how often s occurs in the text.
func (w *watchedBuffer) count(s string) int { return strings.Count(w.String(), s) }

// proxy forwards TCP connections to a backend until the test cuts it: then
// it forwards nothing (connections stay open, bytes are held, new
// connections wait), as a network partition does; restore lets them flow.
type proxy struct {
	lis     net.Listener
	backend string

	mu   sync.Mutex // Guards open.
	open chan struct{}
	wg   sync.WaitGroup
}

func startProxy(t *testing.T, backend string) *proxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{lis: lis, backend: backend, open: make(chan struct{})}
	close(p.open)
	var conns []net.Conn
	var connsMu sync.Mutex
	p.wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			conns = append(conns, c)
			connsMu.Unlock()
			p.wg.Go(func() { p.serve(c, func(b net.Conn) { connsMu.Lock(); conns = append(conns, b); connsMu.Unlock() }) })
		}
	})
	t.Cleanup(func() {
		lis.Close()
		p.restore()
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.lis.Addr().String() }

// gate returns a channel that is closed while the proxy forwards.
func (p *proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = make(chan struct{})
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
	default:
		close(p.open)
	}
}

func (p *proxy) serve(c net.Conn, track func(net.Conn)) {
	defer c.Close()
	<-p.gate()
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	track(b)
	defer b.Close()
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(b, c) })
	p.pipe(c, b)
	wg.Wait()
}

// pipe copies src to dst, holding each chunk while the proxy is cut.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			<-p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // EOF, or the other side closed
			return
		}
	}
}
