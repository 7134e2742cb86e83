package swarm_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/swarm"
	"github.com/ltk-dev/ltk/internal/target"
)

// BenchmarkEchoFleet measures what simulating a fleet costs the load
// generator: N echo devices (1 s interval, QoS 1) against a target in a child
// process (a process may hold at most 20,000 open files here, and N devices
// plus the broker's N sockets would not fit in one). It reports, over a fixed
// window after every device connected: this process's CPU per echo, memory
// per device, echoes per second and the RTT p99. Run it with
//
//	go test ./internal/swarm -run '^$' -bench EchoFleet -benchtime 1x -fleet 1000,10000
var (
	fleetSizes  = flag.String("fleet", "100", "BenchmarkEchoFleet: comma-separated device counts")
	fleetWindow = flag.Duration("fleet-window", 10*time.Second, "BenchmarkEchoFleet: measurement window")
	fleetRate   = flag.Float64("fleet-rate", 2000, "BenchmarkEchoFleet: spawn rate, devices per second")
	fleetClient = flag.String("fleet-client", "lean,paho", "BenchmarkEchoFleet: comma-separated MQTT client engines")
)

// benchRoleEnv makes the test binary run as the benchmark's target.
const benchRoleEnv = "LTK_BENCH_ROLE"

// benchTargetMain runs an embedded target (auth none, echo on) on
// 127.0.0.1:0 when the test binary was started as the benchmark's child:
// it prints the address on stdout and serves until stdin closes. It returns
// false, doing nothing, in a normal test run.
func benchTargetMain() bool {
	if os.Getenv(benchRoleEnv) != "target" {
		return false
	}
	t, err := target.New(target.Config{Addr: "127.0.0.1:0", Auth: target.AuthNone}, nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench target:", err)
		return true
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = t.Run(ctx) })
	fmt.Println(t.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark closes our stdin
	cancel()
	wg.Wait()
	return true
}

// startBenchTarget starts the test binary as a target child process and
// returns its broker URL; cleanup stops it.
func startBenchTarget(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchRoleEnv+"=target")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("bench target did not report its address: %v", err)
	}
	return "tcp://" + strings.TrimSpace(line)
}

// benchFleet counts what the benchmark needs, from every device at once.
type benchFleet struct {
	connected atomic.Int64 // devices connected at least once
	echoes    atomic.Int64
	failures  atomic.Int64
	measuring atomic.Bool
	mu        sync.Mutex      // Guards rtt.
	rtt       [hist.Len]int64 // echo round trips
}

// benchDevice is one device's Recorder.
type benchDevice struct {
	f         *benchFleet
	connected atomic.Bool
}

func (d *benchDevice) Success(ev sim.Event, dur time.Duration, _ int) {
	switch ev {
	case sim.EventConnect:
		if !d.connected.Swap(true) {
			d.f.connected.Add(1)
		}
	case sim.EventEchoReceive:
		if d.f.measuring.Load() {
			d.f.echoes.Add(1)
			d.f.mu.Lock()
			d.f.rtt[hist.Index(dur)]++
			d.f.mu.Unlock()
		}
	}
}

func (d *benchDevice) Failure(sim.Event, time.Duration, string, sim.Fault) { d.f.failures.Add(1) }

func BenchmarkEchoFleet(b *testing.B) {
	var sizes []int
	for _, s := range strings.Split(*fleetSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			b.Fatalf("-fleet %q: want comma-separated positive device counts such as 1000,10000", *fleetSizes)
		}
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		for _, client := range strings.Split(*fleetClient, ",") {
			b.Run(fmt.Sprintf("N=%d/client=%s", n, client), func(b *testing.B) { benchFleetOf(b, n, client) })
		}
	}
}

func benchFleetOf(b *testing.B, n int, client string) {
	broker := startBenchTarget(b)
	f := &benchFleet{}
	cfgs := make([]sim.Config, n)
	for i := range cfgs {
		cfgs[i] = sim.Config{
			Client:   client,
			Broker:   broker,
			DeviceID: fmt.Sprintf("LTK%05d", i),
			QoS:      1,
			WaitMin:  time.Second,
			WaitMax:  time.Second,
			Recorder: &benchDevice{f: f},
		}
	}
	s, err := swarm.New(swarm.Config{Devices: cfgs})
	if err != nil {
		b.Fatal(err)
	}

	rss0, heap0 := memory()
	ctx, cancel := context.WithCancel(b.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	if err := s.Scale(n, *fleetRate); err != nil {
		b.Fatal(err)
	}
	// Wait (polling: connects are counted, not signalled) until all connected.
	deadline := time.Now().Add(time.Duration(float64(n)/(*fleetRate)*float64(time.Second)) + time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for f.connected.Load() < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d devices connected", f.connected.Load(), n)
		}
		<-tick.C
	}
	rss1, heap1 := memory()

	b.ResetTimer()
	cpu0, t0 := cpuTime(), time.Now()
	f.measuring.Store(true)
	window := time.NewTimer(*fleetWindow)
	<-window.C
	f.measuring.Store(false)
	cpu, elapsed := cpuTime()-cpu0, time.Since(t0)
	b.StopTimer()

	echoes := f.echoes.Load()
	if echoes == 0 {
		b.Fatal("no echo in the window")
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(cpu.Microseconds())/float64(echoes), "us-cpu/echo")
	b.ReportMetric(float64(echoes)/elapsed.Seconds(), "echoes/s")
	f.mu.Lock()
	b.ReportMetric(float64(hist.Quantile(f.rtt[:], hist.Sum(f.rtt[:]), 0.99))/1e6, "p99-ms")
	f.mu.Unlock()
	b.ReportMetric(float64(rss1-rss0)/1024/float64(n), "KB-rss/device")
	b.ReportMetric(float64(heap1-heap0)/1024/float64(n), "KB-heap/device")
	b.ReportMetric(float64(f.failures.Load()), "failures")
}

// memory returns this process's resident set size (from /proc/self/statm)
// and the heap in use, after a GC.
func memory() (rss, heap int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if data, err := os.ReadFile("/proc/self/statm"); err == nil {
		if fields := strings.Fields(string(data)); len(fields) > 1 {
			pages, _ := strconv.ParseInt(fields[1], 10, 64)
			rss = pages * int64(os.Getpagesize())
		}
	}
	return rss, int64(ms.HeapInuse)
}

// cpuTime returns the user+system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
