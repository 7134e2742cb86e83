package worker_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/master"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/syncbuf"
	"github.com/ltk-dev/ltk/internal/target/targettest"
	"github.com/ltk-dev/ltk/internal/worker"
)

// startMaster runs a master on addr over n keyless devices in blocks for
// expect workers, driving tt's broker; opts change its configuration.
func startMaster(t *testing.T, addr string, tt *targettest.Target, n, expect int, token string, opts ...func(*master.Config)) (*master.Master, func()) {
	t.Helper()
	devs := make([]device.Device, n)
	for i := range devs {
		devs[i].ID = device.FormatID("AG", 4, i+1)
	}
	cfg := master.Config{
		Addr: addr, Version: "v-test", Token: token, Devices: devs, ExpectWorkers: expect,
		Settings: runset.Settings{
			Broker: tt.BrokerURL(), Auth: runset.AuthNone, ClientIDFormat: runset.ClientIDPlain, Behavior: "echo", QoS: 1,
			WaitMin: 100 * time.Millisecond, WaitMax: 100 * time.Millisecond, EchoTimeout: 5 * time.Second,
			LastMessageTimeout: time.Second,
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := master.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return m, stop
}

// startAgent runs an agent until the test ends; it returns the channel Run's result arrives on.
func startAgent(t *testing.T, cfg worker.Config) (<-chan error, *syncbuf.Buffer) {
	t.Helper()
	var events syncbuf.Buffer
	cfg.Events, cfg.Version = &events, "v-test"
	a, err := worker.NewAgent(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- a.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("agent did not stop")
		}
	})
	return done, &events
}

// TestAgentsRunTheirShares: two agents run their blocks' shares against the
// embedded target, report stats that the master merges, stop gracefully and quit.
func TestAgentsRunTheirShares(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	m, _ := startMaster(t, "127.0.0.1:0", tt, 10, 2, "tok")
	done0, ev0 := startAgent(t, worker.Config{MasterAddr: m.Addr(), Ordinal: -1, Hostname: "ltk-worker-0", Token: "tok"})
	done1, ev1 := startAgent(t, worker.Config{MasterAddr: m.Addr(), Ordinal: 1, Hostname: "laptop", Token: "tok"})
	require.True(t, m.WaitForWorkers(t.Context(), 2, 10*time.Second))
	require.NoError(t, m.Start(7, 0))
	require.Eventually(t, func() bool { return tt.Metric(t, "ltk_target_connections") == 7 && m.Running() == 7 },
		10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return m.Collect(time.Now()).Total.NumRequests > 50 }, 10*time.Second, 50*time.Millisecond)
	require.True(t, m.StopAndWait(t.Context(), 10*time.Second))
	require.Equal(t, 0, m.Running())
	m.Quit(t.Context(), "done", 5*time.Second)
	require.NoError(t, <-done0)
	require.NoError(t, <-done1)

	snap := m.Collect(time.Now())
	require.Zero(t, snap.Total.NumFailures)
	sent := recorded(t, ev0.String()) + recorded(t, ev1.String())
	require.EqualValues(t, sent, snap.Total.NumRequests, "the master's total is the sum of the workers' records")
	require.Contains(t, ev0.String(), "Connected to master "+m.Addr()+" as worker 0")
	require.Contains(t, ev0.String(), "Worker 0 has its block: 5 devices, AG0001–AG0005")
	require.Contains(t, ev1.String(), "Worker 1 has its block: 5 devices, AG0006–AG0010")
	require.Contains(t, ev1.String(), "The master says quit: done")
	for _, e := range snap.Entries {
		if e.Name == "MQTT connect" {
			require.EqualValues(t, 7, e.NumRequests)
		}
	}
}

// recorded reads the count from an agent's "recorded N requests" line.
func recorded(t *testing.T, events string) int64 {
	t.Helper()
	i := strings.Index(events, " recorded ")
	require.GreaterOrEqual(t, i, 0, events)
	var n int64
	for _, c := range events[i+len(" recorded "):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// TestAgentSurvivesMasterRestart: the devices keep running while the master
// is away; the worker reconnects to the new master, which finds the same
// block running, so no device connects twice.
func TestAgentSurvivesMasterRestart(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	m, stop := startMaster(t, "127.0.0.1:0", tt, 6, 1, "")
	addr := m.Addr()
	_, events := startAgent(t, worker.Config{MasterAddr: addr, Ordinal: 0, Backoff: worker.DefaultBackoff})
	require.True(t, m.WaitForWorkers(t.Context(), 1, 10*time.Second))
	require.NoError(t, m.Start(6, 0))
	require.Eventually(t, func() bool { return tt.Metric(t, "ltk_target_connections") == 6 }, 10*time.Second, 20*time.Millisecond)
	stop()
	require.Eventually(t, func() bool { return strings.Contains(events.String(), "Lost the master") }, 10*time.Second, 20*time.Millisecond)

	m2, _ := startMaster(t, addr, tt, 6, 1, "")
	require.True(t, m2.WaitForWorkers(t.Context(), 1, 20*time.Second), events.String())
	require.NoError(t, m2.Start(6, 0))
	require.Eventually(t, func() bool { return m2.Running() == 6 }, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return m2.Collect(time.Now()).Total.NumRequests > 20 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 6, tt.Metric(t, "ltk_target_connects_total"), "no device connected twice")
	require.Equal(t, 6, tt.Metric(t, "ltk_target_connections"))
}

func TestAgentRefusedByToken(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	m, _ := startMaster(t, "127.0.0.1:0", tt, 2, 1, "right")
	done, events := startAgent(t, worker.Config{MasterAddr: m.Addr(), Token: "wrong"})
	err := <-done
	require.ErrorIs(t, err, worker.ErrRefused)
	require.ErrorContains(t, err, "wrong cluster token: set LTK_CLUSTER_TOKEN (or --cluster-token) on the worker to the master's")
	require.Contains(t, events.String(), "refused this worker")
	require.NotContains(t, events.String(), "right")
}

func TestAgentGivesUpWithoutMaster(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close()) // nothing listens there now
	start := time.Now()
	done, _ := startAgent(t, worker.Config{MasterAddr: addr, MasterTimeout: time.Second})
	err = <-done
	require.ErrorIs(t, err, worker.ErrMasterGone)
	require.ErrorContains(t, err, "raise --master-timeout")
	require.Less(t, time.Since(start), 8*time.Second)
}

// TestAgentReportsExceptions: settings the worker cannot run with (a CA
// bundle that holds no certificate) come back to the master as an exception.
func TestAgentReportsExceptions(t *testing.T) {
	t.Parallel()
	var events syncbuf.Buffer
	reported := make(chan string, 10)
	m, err := master.New(master.Config{
		Addr: "127.0.0.1:0", Version: "v-test", Devices: []device.Device{{ID: "AG0001"}}, Events: &events,
		OnException: func(w int, host, msg string) { reported <- fmt.Sprintf("%d %s %s", w, host, msg) },
		Settings: runset.Settings{
			Broker: "ssl://127.0.0.1:1", CAPEM: []byte("not a certificate"), Auth: runset.AuthNone,
			ClientIDFormat: runset.ClientIDPlain, Behavior: "echo", QoS: 1, WaitMin: time.Second, WaitMax: time.Second,
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	startAgent(t, worker.Config{MasterAddr: m.Addr(), Ordinal: 0, Hostname: "h0"})
	require.True(t, m.WaitForWorkers(t.Context(), 1, 10*time.Second))
	require.NoError(t, m.Start(1, 0))
	require.Eventually(t, func() bool {
		return strings.Contains(events.String(), "Worker 0 (h0): spawn: CA bundle (sent by the master) holds no PEM certificate: give --ca a PEM file")
	}, 10*time.Second, 10*time.Millisecond, events.String())
	require.Contains(t, <-reported, "0 h0 spawn: CA bundle")
}

// TestAgentRunsTheMastersMQTTClient: the worker runs its devices on the MQTT
// client the master chose, and says so.
func TestAgentRunsTheMastersMQTTClient(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	m, err := master.New(master.Config{
		Addr: "127.0.0.1:0", Version: "v-test", Devices: []device.Device{{ID: "AG0001"}, {ID: "AG0002"}},
		Settings: runset.Settings{
			Broker: tt.BrokerURL(), Auth: runset.AuthNone, ClientIDFormat: runset.ClientIDPlain, Behavior: "echo", QoS: 1,
			WaitMin: 100 * time.Millisecond, WaitMax: 100 * time.Millisecond, EchoTimeout: 5 * time.Second,
			LastMessageTimeout: time.Second, MQTTClient: sim.ClientPaho,
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	_, events := startAgent(t, worker.Config{MasterAddr: m.Addr(), Ordinal: 0})
	require.True(t, m.WaitForWorkers(t.Context(), 1, 10*time.Second))
	require.NoError(t, m.Start(2, 0))
	require.Eventually(t, func() bool { return m.Running() == 2 }, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return strings.Contains(events.String(), "Starting 2 devices on the paho MQTT client") },
		10*time.Second, 20*time.Millisecond, events.String())
	require.Eventually(t, func() bool { return m.Collect(time.Now()).Total.NumRequests > 4 }, 10*time.Second, 20*time.Millisecond)
	require.Zero(t, m.Collect(time.Now()).Total.NumFailures)
}

// TestAgentHealth: /healthz answers while the agent runs; /readyz only while
// the master has welcomed the worker, so a worker pod is not ready until it
// reached its master, and is not ready again once the master is gone.
func TestAgentHealth(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	m, stop := startMaster(t, "127.0.0.1:0", tt, 2, 1, "")
	a, err := worker.NewAgent(worker.Config{MasterAddr: m.Addr(), Ordinal: 0, Version: "v-test"})
	require.NoError(t, err)
	srv := httptest.NewServer(a.HealthHandler())
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	// status is get for require.Eventually, whose condition runs on another goroutine.
	status := func(path string) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	code, body := get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "not connected to the master at "+m.Addr())
	code, _ = get("/healthz")
	require.Equal(t, http.StatusOK, code)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	require.Eventually(t, func() bool { return status("/readyz") == http.StatusOK }, 10*time.Second, 20*time.Millisecond)
	_, body = get("/readyz")
	require.Equal(t, "connected to the master at "+m.Addr()+"\n", body)
	stop()
	require.Eventually(t, func() bool { return status("/readyz") == http.StatusServiceUnavailable }, 10*time.Second, 20*time.Millisecond)
	code, _ = get("/healthz")
	require.Equal(t, http.StatusOK, code)
}

// TestAgentHealthAddrTaken: Run serves the probes on Config.HealthAddr, and
// says so when it cannot listen there.
func TestAgentHealthAddrTaken(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = lis.Close() })
	a, err := worker.NewAgent(worker.Config{MasterAddr: "127.0.0.1:1", HealthAddr: lis.Addr().String(), Version: "v-test"})
	require.NoError(t, err)
	err = a.Run(t.Context())
	require.ErrorContains(t, err, "health address "+lis.Addr().String())
}
