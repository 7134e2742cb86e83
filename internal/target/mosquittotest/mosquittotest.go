// Package mosquittotest runs Debian's Mosquitto broker on loopback for tests
// that must talk to a real third-party broker.
package mosquittotest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ltk-dev/ltk/internal/syncbuf"
)

// Binary is where Debian installs the broker.
const Binary = "/usr/sbin/mosquitto"

// Mosquitto is a running broker, stopped by the test's cleanup.
type Mosquitto struct {
	addr string
	// WSAddr and TLSAddr are the MQTT-over-WebSocket and MQTT-over-TLS
	// listeners' "127.0.0.1:port", when Options asked for them.
	WSAddr, TLSAddr string
	cmd             *exec.Cmd
	done            chan struct{} // closed when the process has exited
	log             *syncbuf.Buffer
}

// Start starts Mosquitto on 127.0.0.1 with anonymous access and returns once
// it accepts connections. The test fails if Mosquitto is not installed.
func Start(tb testing.TB) *Mosquitto {
	tb.Helper()
	return StartWith(tb, Options{})
}

// Options add listeners to the broker Start runs. Every listener speaks
// MQTT 3.1, 3.1.1 and 5.
type Options struct {
	WebSocket       bool   // a WebSocket listener (subprotocol mqtt)
	TLSCert, TLSKey string // PEM files: a TLS listener when set
}

// StartWith is Start with o's listeners.
func StartWith(tb testing.TB, o Options) *Mosquitto {
	tb.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		if bin, err = exec.LookPath("mosquitto"); err != nil {
			tb.Fatal("mosquittotest: mosquitto not found: install Debian's mosquitto (apt-get install -y mosquitto)")
		}
	}
	// The port is picked by listening on :0 and closing; another process may
	// take it before Mosquitto binds, so a failed start is retried with a new one.
	const attempts = 3
	var errs []error
	for range attempts {
		m, err := start(tb, bin, o)
		if err == nil {
			tb.Cleanup(m.stop)
			return m
		}
		errs = append(errs, err)
	}
	tb.Fatalf("mosquittotest: %v", errors.Join(errs...))
	return nil
}

func start(tb testing.TB, bin string, o Options) (*Mosquitto, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := tb.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nlog_dest stderr\nlog_type error\nlog_type warning\nmax_queued_messages 100000\n", port)
	var wsAddr, tlsAddr string
	if o.WebSocket {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		wsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		text += fmt.Sprintf("listener %d 127.0.0.1\nprotocol websockets\n", p)
	}
	if o.TLSCert != "" {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		tlsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		// Started as root, Mosquitto reads the certificate after it
		// becomes the mosquitto user, who may not read the test's files
		// (0600 in a 0700 directory): it stays who it was started as.
		text += fmt.Sprintf("user %s\nlistener %d 127.0.0.1\ncertfile %s\nkeyfile %s\n", currentUser(), p, o.TLSCert, o.TLSKey)
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	m := &Mosquitto{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), WSAddr: wsAddr, TLSAddr: tlsAddr, done: make(chan struct{}), log: &syncbuf.Buffer{}}
	m.cmd = exec.Command(bin, "-c", conf)
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		_ = m.cmd.Wait()
		close(m.done)
	}()
	if err := m.waitReady(5 * time.Second); err != nil {
		m.stop()
		return nil, fmt.Errorf("%w; mosquitto said: %s", err, strings.TrimSpace(m.log.String()))
	}
	return m, nil
}

// waitReady dials every listener of the broker until each answers, it
// exits, or timeout passes (Mosquitto opens its WebSocket listener after
// the others).
func (m *Mosquitto) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	retry := time.NewTimer(0)
	defer retry.Stop()
	pending := []string{m.addr}
	for _, a := range []string{m.WSAddr, m.TLSAddr} {
		if a != "" {
			pending = append(pending, a)
		}
	}
	for {
		select {
		case <-m.done:
			return fmt.Errorf("mosquitto on %s exited at start", m.addr)
		case <-retry.C:
		}
		c, err := net.DialTimeout("tcp", pending[0], time.Second)
		if err == nil {
			c.Close()
			if pending = pending[1:]; len(pending) == 0 {
				return nil
			}
			retry.Reset(0)
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mosquitto listener %s not accepting connections after %v: %w", pending[0], timeout, err)
		}
		retry.Reset(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// stop kills the broker and waits for it to exit.
func (m *Mosquitto) stop() {
	_ = m.cmd.Process.Kill()
	<-m.done
}

// Addr returns "127.0.0.1:port".
func (m *Mosquitto) Addr() string { return m.addr }

// URL returns "tcp://127.0.0.1:port".
func (m *Mosquitto) URL() string { return "tcp://" + m.addr }

// Log returns what Mosquitto has printed (errors and warnings).
func (m *Mosquitto) Log() string { return m.log.String() }

// currentUser names the user the test runs as ("root" when unknown).
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}
