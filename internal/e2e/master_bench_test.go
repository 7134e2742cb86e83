package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ltk-dev/ltk/internal/stats/statstest"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

var (
	masterWorkers = flag.Int("master-workers", 1000, "workers in BenchmarkMasterWorkers")
	masterWindow  = flag.Duration("master-window", 20*time.Second, "how long BenchmarkMasterWorkers measures, per iteration")
)

// Devices per worker in BenchmarkMasterWorkers: the device list's blocks,
// and the devices whose echoes each report's histograms hold.
const (
	benchBlock         = 100
	benchReportDevices = 2000
)

// BenchmarkMasterWorkers runs an ltk master (the binary, in a process of
// its own, web UI and results store included) with -master-workers workers
// over real gRPC on loopback: in-process agents that say hello, take their
// blocks, heartbeat every second and report every 2 seconds two one-second
// deltas of a busy worker (statstest.BusyDeltas: 2,000 devices' publishes
// and echoes spread over 0.2–50 ms, so that the histograms are full),
// numbered as a worker numbers them, their phases spread over the second;
// they dial 200 a second, as pods that start over a few seconds.
// Over a -master-window it polls the Locust API's /stats/requests ten times
// a second, from this process and from one of its own (testdata/poll: a
// UI client whose requests do not wait behind the 1,000 agents in this
// process's scheduler), and reports the master's CPU ("cores"), its
// resident memory at the end and at its peak, its open files, and the API's
// latency seen from both ("p99-ms" here, "ext-p99-ms" from the other).
//
//	go test ./internal/e2e -run '^$' -bench MasterWorkers -benchtime 1x
func BenchmarkMasterWorkers(b *testing.B) {
	n := *masterWorkers
	const token = "bench-token"
	m := start(b, "master", ltkBin, b.TempDir(), "master",
		"--master-bind-host", "127.0.0.1", "--master-bind-port", "0", "--web-host", "127.0.0.1", "--web-port", "0",
		"--expect-workers", strconv.Itoa(n), "--cluster-token", token, "--auth", "none", "--client-id-format", "plain", "--broker", "tcp://127.0.0.1:1883",
		"-c", strconv.Itoa(n*benchBlock), "--loglevel", "error")
	addr := m.waitFor(b, `ltk master on (127\.0\.0\.1:\d+)`, time.Minute)[1]
	web := m.waitFor(b, `Web UI on (http://127\.0\.0\.1:\d+)`, time.Minute)[1]

	var template []*ltkv1.StatsDelta
	for _, d := range statstest.BusyDeltas(1, 2, benchReportDevices, time.Now()) {
		template = append(template, ltkv1.EncodeDelta(d))
	}
	ctx, cancel := context.WithCancel(b.Context())
	var (
		welcomed sync.WaitGroup
		agents   sync.WaitGroup
		errsMu   sync.Mutex // Guards errs.
		errs     []error
	)
	welcomed.Add(n)
	for k := range n {
		agents.Go(func() {
			if err := benchAgent(ctx, addr, token, k, n, template, welcomed.Done); err != nil && ctx.Err() == nil {
				errsMu.Lock()
				errs = append(errs, fmt.Errorf("worker %d: %w", k, err))
				errsMu.Unlock()
			}
		})
	}
	defer func() {
		cancel()
		agents.Wait()
	}()
	welcomed.Wait()
	resp, err := http.PostForm(web+"/swarm", url.Values{"user_count": {strconv.Itoa(n * benchBlock)}, "spawn_rate": {"1000000"}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("POST /swarm: %s", resp.Status)
	}
	pid := m.cmd.Process.Pid
	poller := buildPoller(b)
	var (
		lat, ext, late []time.Duration
		cores          float64
	)
	for b.Loop() {
		cpu0, t0 := procCPU(b, pid), time.Now()
		outside := startPoller(b, poller, web+"/stats/requests", *masterWindow)
		lat = append(lat, pollRequests(b, web, *masterWindow)...)
		e, l := outside()
		ext, late = append(ext, e...), append(late, l...)
		cores = (procCPU(b, pid) - cpu0).Seconds() / time.Since(t0).Seconds()
		b.ReportMetric(cores, "cores")
	}
	slices.Sort(lat)
	slices.Sort(ext)
	slices.Sort(late)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1e3, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1e3, "p50-ms")
	b.ReportMetric(float64(ext[len(ext)*99/100].Microseconds())/1e3, "ext-p99-ms")
	b.ReportMetric(float64(ext[len(ext)/2].Microseconds())/1e3, "ext-p50-ms")
	b.ReportMetric(float64(late[len(late)*99/100].Microseconds())/1e3, "ext-late-p99-ms")
	b.ReportMetric(float64(procStatus(b, pid, "VmRSS"))/1024, "MB-rss")
	b.ReportMetric(float64(procStatus(b, pid, "VmHWM"))/1024, "MB-rss-peak")
	fds, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	b.ReportMetric(float64(len(fds)), "open-files")
	b.ReportMetric(float64(n), "workers")
	b.ReportMetric(0, "ns/op")
	errsMu.Lock()
	defer errsMu.Unlock()
	b.ReportMetric(float64(len(errs)), "workers-lost")
	b.Logf("master with %d workers: %.3g cores, /stats/requests p50 %v p99 %v (from a process of its own: p50 %v p99 %v, woken late by p99 %v), RSS %d kB (peak %d kB), %d open files; %d workers lost",
		n, cores, lat[len(lat)/2], lat[len(lat)*99/100], ext[len(ext)/2], ext[len(ext)*99/100], late[len(late)*99/100],
		procStatus(b, pid, "VmRSS"), procStatus(b, pid, "VmHWM"), len(fds), len(errs))
	if len(errs) > 0 {
		b.Errorf("%d workers lost their session, first: %v", len(errs), errs[0])
	}
	requireMerged(b, web)
}

// benchAgent is one worker: hello with ordinal k, its block, then a
// heartbeat every second and a report every two, until ctx ends.
func benchAgent(ctx context.Context, addr, token string, k, n int, template []*ltkv1.StatsDelta, welcomed func()) error {
	// Pods start over seconds, not at one instant: dial at 200 workers a second.
	dial := time.NewTimer(time.Duration(k) * 5 * time.Millisecond)
	defer dial.Stop()
	select {
	case <-dial.C:
	case <-ctx.Done():
		return nil
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := ltkv1.NewCoordinatorClient(conn).Connect(ctx)
	if err != nil {
		return err
	}
	hello := &ltkv1.Hello{WorkerId: "bench-" + strconv.Itoa(k), Hostname: "bench", Ordinal: int32(k),
		Version: "v-e2e", Protocol: ltkv1.ProtocolVersion, Cores: 2, ClusterToken: token}
	if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Hello{Hello: hello}}); err != nil {
		return err
	}
	for got := 0; got < benchBlock; {
		msg, err := st.Recv()
		if err != nil {
			return err
		}
		got += len(msg.GetBlock().GetDevices())
	}
	welcomed()
	recvErr := make(chan error, 1)
	// The last Spawn's seq: the worker "runs" its block at once.
	var applied atomic.Uint64
	// Spawns and heartbeat acks, until the stream ends.
	go func() {
		for {
			msg, err := st.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			if sp := msg.GetSpawn(); sp != nil {
				applied.Store(sp.GetSeq())
			}
		}
	}()
	// Workers start at different times: spread the phases over the second.
	phase := time.NewTimer(time.Duration(k) * time.Second / time.Duration(n))
	select {
	case <-phase.C:
	case <-ctx.Done():
		return nil
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var seq uint64
	for beat := 1; ; beat++ {
		select {
		case <-ctx.Done():
			return nil
		case err := <-recvErr:
			return err
		case now := <-tick.C:
			hb := &ltkv1.Heartbeat{State: ltkv1.State_STATE_RUNNING, Running: benchBlock, AppliedSeq: applied.Load(),
				CpuPercent: 50, MemoryBytes: 100 << 20}
			if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Heartbeat{Heartbeat: hb}}); err != nil {
				return err
			}
			if beat%2 != 0 {
				continue
			}
			deltas := make([]*ltkv1.StatsDelta, len(template))
			for i, t := range template { // the template's entries (read only), this worker's times and numbers
				seq++
				start := now.Add(time.Duration(i-len(template)) * time.Second).UnixNano()
				deltas[i] = &ltkv1.StatsDelta{Seq: seq, StartUnixNano: start, EndUnixNano: start + int64(time.Second),
					Entries: t.GetEntries(), Failures: t.GetFailures()}
			}
			if err := st.Send(&ltkv1.WorkerMessage{Msg: &ltkv1.WorkerMessage_Report{Report: &ltkv1.Report{Deltas: deltas}}}); err != nil {
				return err
			}
		}
	}
}

// pollRequests gets /stats/requests ten times a second for d and returns
// how long each took.
func pollRequests(b *testing.B, web string, d time.Duration) []time.Duration {
	var lat []time.Duration
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		t0 := time.Now()
		resp, err := http.Get(web + "/stats/requests")
		if err != nil {
			b.Fatal(err)
		}
		var body struct{}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("/stats/requests: %s, %v", resp.Status, err)
		}
		lat = append(lat, time.Since(t0))
	}
	return lat
}

// buildPoller builds testdata/poll and returns its path.
func buildPoller(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "poll")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/poll").CombinedOutput(); err != nil {
		b.Fatalf("build the poller: %v\n%s", err, out)
	}
	return bin
}

// startPoller runs the poller on url for d and returns a function that
// waits for it and returns how long each of its requests took and how late
// the poller woke for each.
func startPoller(b *testing.B, bin, url string, d time.Duration) func() (lat, late []time.Duration) {
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, "-url", url, "-for", d.String())
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		b.Fatalf("start the poller: %v", err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill() }) // this benchmark's own process, by its PID, if a failure left it running
	return func() (lat, late []time.Duration) {
		if err := cmd.Wait(); err != nil {
			b.Fatalf("the poller: %v: %s", err, errOut.String())
		}
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var took, woke int64
			if _, err := fmt.Sscan(l, &took, &woke); err != nil {
				b.Fatalf("the poller printed %q: %v", l, err)
			}
			lat = append(lat, time.Duration(took)*time.Microsecond)
			late = append(late, time.Duration(woke)*time.Microsecond)
		}
		return lat, late
	}
}

// requireMerged fails b unless the master's stats hold the workers' echoes.
func requireMerged(b *testing.B, web string) {
	resp, err := http.Get(web + "/stats/requests")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Stats []struct {
			Name        string `json:"name"`
			NumRequests int64  `json:"num_requests"`
		} `json:"stats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		b.Fatal(err)
	}
	for _, s := range r.Stats {
		if s.Name == "echo receive" && s.NumRequests >= int64(*masterWorkers)*benchReportDevices {
			return
		}
	}
	b.Fatalf("the master's /stats/requests lacks the workers' echoes: %+v", r.Stats)
}

// procCPU returns the CPU time (user and system) process pid has used.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) in parentheses:
	// utime and stime are the 14th and 15th of the line, in clock ticks.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clockTicks
}

// procStatus returns a kB field of /proc/pid/status, such as VmRSS.
func procStatus(b *testing.B, pid int, field string) int64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
