package e2e

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// Flags every test's devices use: a publish every 200 ms, quick stops.
var fast = []string{"--wait-min", "200ms", "--wait-max", "200ms", "--last-message-timeout", "2s", "--echo-timeout", "5s"}

// plain are the device flags for a target without auth.
var plain = append([]string{"--auth", "none", "--client-id-format", "plain"}, fast...)

// startMaster starts ltk master in dir on a loopback port (0: any) and
// returns it with its address.
func startMaster(t *testing.T, name, dir string, port int, args ...string) (*proc, string) {
	t.Helper()
	args = append([]string{"master", "--headless", "--master-bind-host", "127.0.0.1", "--master-bind-port", strconv.Itoa(port)}, args...)
	m := start(t, name, ltkBin, dir, args...)
	addr := m.waitFor(t, `ltk master on (127\.0\.0\.1:\d+)`, 20*time.Second)[1]
	return m, addr
}

// startWorker starts ltk worker with ordinal k against the master at addr.
func startWorker(t *testing.T, name, bin, addr string, args ...string) *proc {
	t.Helper()
	host, port, _ := cutPort(addr)
	args = append([]string{"worker", "--master-host", host, "--master-port", port}, args...)
	return start(t, name, bin, t.TempDir(), args...)
}

func cutPort(addr string) (host, port string, ok bool) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:], true
		}
	}
	return addr, "", false
}

// aggregated reads the Aggregated request and failure counts of PREFIX_stats.csv.
func statsRows(t *testing.T, path string) map[string][2]int {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	rows := map[string][2]int{}
	for _, r := range recs[1:] {
		req, _ := strconv.Atoi(r[2])
		fail, _ := strconv.Atoi(r[3])
		rows[r[1]] = [2]int{req, fail}
	}
	return rows
}

// TestThreeWorkers: a master and three worker processes with ordinals 0–2
// against the embedded target with JWT auth. Each worker runs exactly its
// block (with the keys the master sent), and the master's totals are the sum
// of what the workers recorded.
func TestThreeWorkers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	create := start(t, "devices", ltkBin, dir, "devices", "create", "1", "30", "--alg", "ES256", "--quiet")
	require.Equal(t, 0, create.wait(t, 60*time.Second))
	keys, err := registry.OpenLocal(filepath.Join(dir, registry.DefaultFile))
	require.NoError(t, err)
	tt := targettest.Start(t, func(c *target.Config) { c.Auth, c.Keys = target.AuthJWT, keys })

	m, addr := startMaster(t, "master", dir, 0, append([]string{"-c", "30", "-r", "30", "-t", "6s", "--only-summary",
		"--expect-workers", "3", "--broker", tt.BrokerURL(), "--cluster-token", "t0ken", "--csv", "out"}, fast...)...)
	var ws []*proc
	for k := range 3 {
		ws = append(ws, startWorker(t, fmt.Sprintf("worker-%d", k), ltkBin, addr, "--ordinal", strconv.Itoa(k), "--cluster-token", "t0ken"))
	}
	require.Equal(t, 0, m.wait(t, 60*time.Second), m.out.String())
	sum := 0
	for k, w := range ws {
		w.waitFor(t, fmt.Sprintf(`Worker %d has its block: 10 devices, LTK%05d–LTK%05d`, k, 10*k+1, 10*k+10), time.Second)
		require.Equal(t, 0, w.wait(t, 20*time.Second))
		sum += w.recorded(t)
	}
	rows := statsRows(t, filepath.Join(dir, "out_stats.csv"))
	require.Equal(t, [2]int{30, 0}, rows["MQTT connect"])
	require.Equal(t, sum, rows["Aggregated"][0], "master total = sum of the workers'")
	require.Zero(t, rows["Aggregated"][1])
	require.Equal(t, 30, tt.Metric(t, "ltk_target_connects_total"), "each device connected once: no block overlaps")
	require.Zero(t, tt.Metric(t, "ltk_target_connects_refused_total"))
	require.NotContains(t, m.out.String()+ws[0].out.String(), "PRIVATE KEY")
}

// TestWorkerCrash: a worker killed with -9 is missing within 3–4 s; the
// test goes on, the stats it reported are kept, and a worker started again
// with its ordinal gets the same block and runs its devices again.
func TestWorkerCrash(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	// A run time far longer than the test needs (the steps below may be slow
	// on a busy machine); Ctrl-C ends the run once the worker is back.
	m, addr := startMaster(t, "master", t.TempDir(), 0, append([]string{"-c", "20", "-r", "0", "-t", "2m",
		"--expect-workers", "2", "--broker", tt.BrokerURL(), "--csv", "out"}, plain...)...)
	w0 := startWorker(t, "worker-0", ltkBin, addr, "--ordinal", "0")
	w1 := startWorker(t, "worker-1", ltkBin, addr, "--ordinal", "1")
	m.waitFor(t, `All 20 devices spawned`, 20*time.Second)
	require.Eventually(t, func() bool { return tt.Metric(t, "ltk_target_connections") == 20 }, 10*time.Second, 20*time.Millisecond)
	w1.waitFor(t, `Worker 1 has its block: 10 devices, LTK00011–LTK00020`, time.Second)
	// Workers report every 2 s from their welcome, which came before the
	// start: by the table at 4 s the master has worker 1's reports.
	m.waitFor(t, `devices running, 4s elapsed`, 10*time.Second)

	killed := time.Now()
	w1.kill9(t)
	m.waitFor(t, `Worker 1 \([^)]*\) missing`, 15*time.Second) // 3–4 s on a quiet machine; the log says how long
	t.Logf("missing after %v", time.Since(killed))
	require.Eventually(t, func() bool { return tt.Metric(t, "ltk_target_connections") == 10 }, 10*time.Second, 20*time.Millisecond)

	again := startWorker(t, "worker-1-again", ltkBin, addr, "--ordinal", "1")
	again.waitFor(t, `Worker 1 has its block: 10 devices, LTK00011–LTK00020`, 10*time.Second)
	m.waitFor(t, `Worker 1 \([^)]*\) is back after`, 10*time.Second)
	require.Eventually(t, func() bool { return tt.Metric(t, "ltk_target_connections") == 20 }, 10*time.Second, 20*time.Millisecond)

	require.NoError(t, m.cmd.Process.Signal(os.Interrupt))
	require.Equal(t, 0, m.wait(t, 60*time.Second), m.out.String())
	require.Equal(t, 0, w0.wait(t, 20*time.Second))
	require.Equal(t, 0, again.wait(t, 20*time.Second))
	rows := statsRows(t, filepath.Join(m.cmd.Dir, "out_stats.csv"))
	survivors := w0.recorded(t) + again.recorded(t)
	require.Greater(t, rows["Aggregated"][0], survivors, "the crashed worker's reports are in the totals")
	require.Equal(t, 30, rows["MQTT connect"][0], "20 devices, then the crashed worker's 10 again")
}

// TestMasterRestart: the master is killed and started again mid-test. The
// workers keep their devices running, reconnect to the new master, and no
// device connects twice.
func TestMasterRestart(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	dir := t.TempDir()
	args := append([]string{"-c", "10", "-r", "0", "--only-summary", "--expect-workers", "2", "--broker", tt.BrokerURL()}, plain...)
	first, addr := startMaster(t, "master", dir, 0, append(args, "-t", "1m")...)
	w0 := startWorker(t, "worker-0", ltkBin, addr, "--ordinal", "0")
	w1 := startWorker(t, "worker-1", ltkBin, addr, "--ordinal", "1")
	first.waitFor(t, `All 10 devices spawned`, 20*time.Second)
	require.Eventually(t, func() bool { return tt.Metric(t, "ltk_target_connections") == 10 }, 10*time.Second, 20*time.Millisecond)

	first.kill9(t)
	w0.waitFor(t, `Lost the master`, 10*time.Second)
	w1.waitFor(t, `Lost the master`, 10*time.Second)
	require.Equal(t, 10, tt.Metric(t, "ltk_target_connections"), "devices run on while the master is away")

	_, port, _ := cutPort(addr)
	p, _ := strconv.Atoi(port)
	second, _ := startMaster(t, "master-again", dir, p, append(args, "-t", "5s", "--csv", "out")...)
	second.waitFor(t, `Worker 0 \(.*\) connected`, 20*time.Second)
	second.waitFor(t, `Worker 1 \(.*\) connected`, 20*time.Second)
	require.Equal(t, 0, second.wait(t, 60*time.Second))
	require.Equal(t, 0, w0.wait(t, 20*time.Second))
	require.Equal(t, 0, w1.wait(t, 20*time.Second))
	require.Equal(t, 10, tt.Metric(t, "ltk_target_connects_total"), "no device was started twice")
	rows := statsRows(t, filepath.Join(dir, "out_stats.csv"))
	require.Positive(t, rows["echo receive"][0], "the new master gets the workers' stats")
	require.Zero(t, rows["Aggregated"][1])
}

// TestRefusals: a worker with the wrong cluster token, and one of another
// version, are refused with messages that say what to do, on both sides.
func TestRefusals(t *testing.T) {
	t.Parallel()
	m, addr := startMaster(t, "master", t.TempDir(), 0, append([]string{"-c", "2", "--broker", "tcp://127.0.0.1:1",
		"--cluster-token", "right-token"}, plain...)...)

	wrong := startWorker(t, "wrong-token", ltkBin, addr, "--cluster-token", "guessed")
	require.Equal(t, 2, wrong.wait(t, 20*time.Second))
	wrong.waitFor(t, `refused this worker: wrong cluster token: set LTK_CLUSTER_TOKEN \(or --cluster-token\) on the worker to the master's`, time.Second)
	m.waitFor(t, `Refused the worker on .* wrong cluster token`, 5*time.Second)

	none := startWorker(t, "no-token", ltkBin, addr)
	require.Equal(t, 2, none.wait(t, 20*time.Second))
	none.waitFor(t, `this master requires a cluster token`, time.Second)

	old := startWorker(t, "other-version", otherVersionBin, addr, "--cluster-token", "right-token")
	require.Equal(t, 2, old.wait(t, 20*time.Second))
	old.waitFor(t, `worker version v-other \(protocol 3\) does not match master version v-e2e \(protocol 3\): run the same ltk version on the master and every worker`, time.Second)
	m.waitFor(t, `Refused the worker on .* worker version v-other`, 5*time.Second)
	for _, p := range []*proc{m, wrong, none, old} {
		require.NotContains(t, p.out.String(), "right-token")
	}
}

// TestNetworkCut: a worker whose path to the master is cut (a TCP proxy
// the test controls stops forwarding) is missing after 3 missed heartbeats
// and comes back when the path is restored; its devices run throughout.
func TestNetworkCut(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	dir := t.TempDir()
	m, addr := startMaster(t, "master", dir, 0, append([]string{"-c", "10", "-r", "0", "-t", "20s", "--only-summary",
		"--expect-workers", "2", "--broker", tt.BrokerURL(), "--csv", "out"}, plain...)...)
	px := startProxy(t, addr)
	w0 := startWorker(t, "worker-0", ltkBin, addr, "--ordinal", "0")
	w1 := startWorker(t, "worker-1", ltkBin, px.addr(), "--ordinal", "1")
	m.waitFor(t, `All 10 devices spawned`, 20*time.Second)

	cut := time.Now()
	px.cut()
	m.waitFor(t, `Worker 1 \([^)]*\) missing: missed 3 heartbeats`, 20*time.Second)
	t.Logf("missing after %v", time.Since(cut))
	w1.waitFor(t, `Lost the master`, 20*time.Second)
	// "All 10 devices spawned" counts devices started, not connected: await
	// the connections this asserts.
	require.Eventually(t, func() bool { return tt.Metric(t, "ltk_target_connections") == 10 }, 20*time.Second, 20*time.Millisecond,
		"its devices keep running")

	px.restore()
	m.waitFor(t, `Worker 1 \([^)]*\) is back after`, 15*time.Second)
	require.Equal(t, 0, m.wait(t, 60*time.Second))
	require.Equal(t, 0, w0.wait(t, 20*time.Second))
	require.Equal(t, 0, w1.wait(t, 20*time.Second))
	require.Equal(t, 10, tt.Metric(t, "ltk_target_connects_total"), "no device was started twice")
	require.Equal(t, 1, m.out.count("missing"))
}
