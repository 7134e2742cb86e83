package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ltk-dev/ltk/internal/runset"
)

// The IoT-Core path pieces of the benchmark's devices and target.
const (
	benchProject  = "ltk-bench"
	benchRegion   = "local"
	benchRegistry = "ltk-bench-registry"
)

// Time limits of the target process.
const (
	targetStartTimeout = 20 * time.Second
	targetStopTimeout  = 10 * time.Second
)

// targetProc is the embedded target running in a child process.
type targetProc struct {
	cmd     *exec.Cmd
	addr    string        // the MQTT listener's broker URL: tcp://host:port or ws://host:port/mqtt
	tlsAddr string        // the MQTT-over-TLS listener with profile aws, host:port
	mURL    string        // its metrics, http://host:port/metrics
	stderr  *tailBuffer   // the end of what it wrote to stderr
	output  chan struct{} // closed when its stdout reached EOF
}

// startTarget starts `ltk target` with the benchmark's settings on a free
// loopback port and returns once it listens. registryFile is the local
// registry for device auth; empty means auth none. root is the target's
// ltk root, where it finds the aws profile's CA.
func startTarget(cfg *Config, registryFile, root string) (*targetProc, error) {
	args := append(slices.Clone(cfg.TargetCommand[1:]),
		"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--loglevel", "error",
		"--project", benchProject, "--region", benchRegion, "--registry-id", benchRegistry)
	if cfg.Transport == TransportWebSocket {
		args = append(args, "--ws-addr", "127.0.0.1:0")
	}
	switch {
	case registryFile == "":
		args = append(args, "--auth", "none")
	case cfg.Profile == runset.ProfileAWS:
		args = append(args, "--profile", cfg.Profile, "--tls-addr", "127.0.0.1:0", "--registry-file", registryFile)
	case cfg.Profile == runset.ProfileAzure:
		args = append(args, "--profile", cfg.Profile, "--registry-file", registryFile)
	default:
		args = append(args, "--auth", "jwt", "--registry-file", registryFile)
	}
	cmd := exec.Command(cfg.TargetCommand[0], args...)
	cmd.Env = append(append(childEnv(), "LTK_ROOT="+root), cfg.TargetEnv...)
	t := &targetProc{cmd: cmd, stderr: &tailBuffer{max: 4096}, output: make(chan struct{})}
	cmd.Stderr = t.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start the target: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the target %q: %w", cfg.TargetCommand[0], err)
	}
	first := make(chan string, 1)
	go func() {
		defer close(t.output)
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		first <- line
		_, _ = io.Copy(io.Discard, r)
	}()
	timer := time.NewTimer(targetStartTimeout)
	defer timer.Stop()
	var line string
	select {
	case line = <-first:
	case <-timer.C:
	}
	addr, metrics, ok := listenAddrs(line)
	if cfg.Transport == TransportWebSocket {
		_, rest, found := strings.Cut(line, "MQTT over WebSocket on ")
		addr, _, _ = strings.Cut(rest, " ")
		addr, ok = "ws://"+addr+"/mqtt", ok && found
	} else {
		addr = "tcp://" + addr
	}
	if !ok {
		t.stop()
		return nil, fmt.Errorf("the target did not report its MQTT address within %v (it printed %q; stderr: %s)",
			targetStartTimeout, strings.TrimSpace(line), t.stderr.String())
	}
	t.addr, t.mURL = addr, "http://"+metrics+"/metrics"
	if _, rest, ok := strings.Cut(line, "MQTT over TLS on "); ok {
		t.tlsAddr, _, _ = strings.Cut(rest, " ")
	}
	return t, nil
}

// listenAddrs finds the MQTT and metrics addresses in the target's first
// line, "ltk target: MQTT on 127.0.0.1:PORT (auth …), metrics on
// 127.0.0.1:PORT/metrics".
func listenAddrs(line string) (mqtt, metrics string, ok bool) {
	_, rest, ok := strings.Cut(line, "MQTT on ")
	if !ok {
		return "", "", false
	}
	mqtt, _, _ = strings.Cut(strings.TrimSpace(rest), " ")
	mqtt = strings.TrimSuffix(mqtt, ",")
	_, rest, ok = strings.Cut(rest, "metrics on ")
	if !ok {
		return "", "", false
	}
	metrics, _, _ = strings.Cut(strings.TrimSpace(rest), "/")
	return mqtt, metrics, mqtt != "" && metrics != ""
}

// pid returns the target's process id.
func (t *targetProc) pid() int { return t.cmd.Process.Pid }

// stop interrupts the target, as Ctrl-C would, kills it if it does not exit
// in time, and waits for it.
func (t *targetProc) stop() {
	_ = t.cmd.Process.Signal(os.Interrupt)
	timer := time.NewTimer(targetStopTimeout)
	defer timer.Stop()
	select {
	case <-t.output:
	case <-timer.C:
		_ = t.cmd.Process.Kill()
		<-t.output
	}
	_ = t.cmd.Wait()
}

// childEnv is this process's environment without LTK_* variables, which
// could change the target's settings under the benchmark's flags.
func childEnv() []string {
	env := os.Environ()
	return slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "LTK_") })
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int

	mu  sync.Mutex // Guards buf.
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(string(b.buf))
	if s == "" {
		return "(nothing)"
	}
	return s
}

var errNoEchoes = errors.New("no echo came back during the measurement window: is the target echoing?")
