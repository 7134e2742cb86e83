package master

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/syncbuf"
	"github.com/ltk-dev/ltk/internal/wire/ltkv1"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		count int
		sizes []int
		want  []int
	}{
		{"even", 100, []int{50, 50}, []int{50, 50}},
		{"remainder to lowest", 10, []int{10, 10, 10}, []int{4, 3, 3}},
		{"small block fills, rest spreads", 20, []int{2, 100, 100}, []int{2, 9, 9}},
		{"zero", 0, []int{5, 5}, []int{0, 0}},
		{"more than capacity stops at capacity", 30, []int{5, 5}, []int{5, 5}},
		{"no workers", 10, nil, []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Split(tc.count, tc.sizes))
		})
	}
}

// start runs m (without a listener) until the test's bubble ends.
func start(t *testing.T, m *Master) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func TestBlocksByOrdinal(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var events syncbuf.Buffer
		m, err := newMaster(testConfig(25, 3, &events)) // blocks of 9: 9, 9, 7
		require.NoError(t, err)
		require.Equal(t, 9, m.BlockSize())
		start(t, m)
		w2 := connect(m, &ltkv1.Hello{WorkerId: "b", Hostname: "ltk-worker-2", Ordinal: 2})
		w0 := connect(m, &ltkv1.Hello{WorkerId: "a", Hostname: "ltk-worker-0", Ordinal: 0})
		synctest.Wait()
		auto := connect(m, &ltkv1.Hello{WorkerId: "c", Hostname: "laptop", Ordinal: -1})
		synctest.Wait()
		require.Equal(t, "LTK00019", w2.blockIDs()[0])
		require.Len(t, w2.blockIDs(), 7)
		require.Equal(t, "LTK00001", w0.blockIDs()[0])
		require.Len(t, auto.blockIDs(), 9, "assigned ordinal 1")
		require.Equal(t, "LTK00010", auto.blockIDs()[0])
		require.Equal(t, 3, m.Connected())
		require.True(t, events.Contains("Worker 1 (laptop, 0 cores) connected: block of 9 devices, LTK00010–LTK00018"), events.String())

		require.NoError(t, m.Start(20, 10))
		synctest.Wait()
		require.EqualValues(t, 7, w0.lastSpawn().GetCount())
		require.EqualValues(t, 7, auto.lastSpawn().GetCount())
		require.EqualValues(t, 6, w2.lastSpawn().GetCount())
		require.InDelta(t, 3.5, w0.lastSpawn().GetSpawnRate(), 1e-9)
		require.Equal(t, "tcp://127.0.0.1:1883", w0.lastSpawn().GetSettings().GetBroker())

		err = m.Start(26, 1)
		require.ErrorIs(t, err, ErrNotEnoughDevices)
		require.ErrorContains(t, err, "the device list holds 25: create more devices (ltk devices create 26 26)")
		for _, w := range []*fakeWorker{w0, w2, auto} {
			w.close()
		}
	})
}

func TestNotEnoughWorkers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m, err := newMaster(testConfig(30, 3, nil))
		require.NoError(t, err)
		start(t, m)
		w := connect(m, &ltkv1.Hello{WorkerId: "a", Ordinal: 0})
		synctest.Wait()
		err = m.Start(20, 1)
		require.ErrorIs(t, err, ErrNotEnoughDevices)
		require.ErrorContains(t, err, "the blocks of the 1 connected workers hold 10 (blocks of 10): start more workers")
		w.close()
	})
}

// TestMissingAndBack: a worker that stops heartbeating is missing after 3
// missed heartbeats; it comes back with the same ordinal, gets the same
// block and resumes its share at its spawn rate.
func TestMissingAndBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var events syncbuf.Buffer
		m, err := newMaster(testConfig(20, 2, &events))
		require.NoError(t, err)
		start(t, m)
		w0 := connect(m, &ltkv1.Hello{WorkerId: "a", Hostname: "w-0", Ordinal: 0})
		w1 := connect(m, &ltkv1.Hello{WorkerId: "b", Hostname: "w-1", Ordinal: 1})
		synctest.Wait()
		require.NoError(t, m.Start(20, 4))
		time.Sleep(5 * time.Second) // fake time: reports flow
		before := m.Collect(time.Now()).Total.NumRequests
		require.Positive(t, before)

		cut := time.Now()
		w1.setSilent(true)
		err = <-w1.served
		gone := time.Since(cut)
		require.Equal(t, codes.Unavailable, status.Code(err))
		// Its last heartbeat came at most 1 s before the cut; the master
		// checks four times a heartbeat interval.
		require.Greater(t, gone, 2*time.Second)
		require.LessOrEqual(t, gone, 3250*time.Millisecond)
		require.True(t, events.Contains("Worker 1 (w-1) missing: missed 3 heartbeats (silent for 3"), events.String())
		require.Equal(t, 1, m.Connected())
		require.Equal(t, 10, m.Running(), "only w0's devices count")
		ws := m.Workers()
		require.Len(t, ws, 2)
		require.Equal(t, "missing", ws[1].State)
		require.False(t, ws[1].Connected)
		require.Equal(t, "running", ws[0].State)
		require.Equal(t, WorkerInfo{Ordinal: 1, ID: "b", Hostname: "w-1", Connected: false, State: "missing", Share: 10, Block: 10,
			LastHeartbeat: ws[1].LastHeartbeat}, ws[1])
		require.GreaterOrEqual(t, m.Collect(time.Now()).Total.NumRequests, before, "its stats are kept")
		w1.p.cancel()

		time.Sleep(10 * time.Second)
		back := connect(m, &ltkv1.Hello{WorkerId: "b2", Hostname: "w-1", Ordinal: 1})
		synctest.Wait()
		require.True(t, events.Contains("Worker 1 (w-1) is back after 1"), events.String())
		require.Equal(t, w1.blockIDs(), back.blockIDs(), "same block")
		require.EqualValues(t, 10, back.lastSpawn().GetCount(), "its share")
		require.InDelta(t, 2.0, back.lastSpawn().GetSpawnRate(), 1e-9, "at its spawn rate")
		require.Equal(t, 1, w0.spawnCount(), "the other worker is left alone")
		time.Sleep(2 * time.Second)
		require.Equal(t, 20, m.Running())
		w0.close()
		back.close()
	})
}

// TestLateJoiner: a worker joining mid-test gets a share at the spawn
// rate; the worker it takes devices from gives them up as the newcomer's
// start, not at once.
func TestLateJoiner(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m, err := newMaster(testConfig(20, 2, nil))
		require.NoError(t, err)
		start(t, m)
		w0 := connect(m, &ltkv1.Hello{WorkerId: "a", Ordinal: 0})
		synctest.Wait()
		require.NoError(t, m.Start(8, 4))
		synctest.Wait()
		require.EqualValues(t, 8, w0.lastSpawn().GetCount())
		w1 := connect(m, &ltkv1.Hello{WorkerId: "b", Ordinal: 1})
		synctest.Wait()
		require.EqualValues(t, 4, w1.lastSpawn().GetCount())
		require.InDelta(t, 2.0, w1.lastSpawn().GetSpawnRate(), 1e-9)
		require.EqualValues(t, 8, w0.lastSpawn().GetCount(), "keeps its devices until the newcomer's run")
		time.Sleep(1500 * time.Millisecond) // the newcomer heartbeats its 4 devices
		require.EqualValues(t, 4, w0.lastSpawn().GetCount())
		require.Equal(t, 2, w0.spawnCount())
		time.Sleep(time.Second) // w0 heartbeats its new count
		require.Equal(t, 8, m.Running())
		w0.close()
		w1.close()
	})
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var events syncbuf.Buffer
		cfg := testConfig(10, 1, &events)
		cfg.Token = "s3cret"
		m, err := newMaster(cfg)
		require.NoError(t, err)
		start(t, m)
		for _, tc := range []struct {
			hello *ltkv1.Hello
			code  codes.Code
			want  string
		}{
			{&ltkv1.Hello{WorkerId: "a", Hostname: "h1"}, codes.Unauthenticated, "this master requires a cluster token: set LTK_CLUSTER_TOKEN"},
			{&ltkv1.Hello{WorkerId: "a", Hostname: "h2", ClusterToken: "guess"}, codes.Unauthenticated, "wrong cluster token: set LTK_CLUSTER_TOKEN"},
			{&ltkv1.Hello{WorkerId: "a", Hostname: "h3", ClusterToken: "s3cret", Version: "v-other"}, codes.FailedPrecondition,
				"worker version v-other (protocol 3) does not match master version v-test (protocol 3): run the same ltk version"},
		} {
			w := connect(m, tc.hello)
			err := <-w.served
			require.Equal(t, tc.code, status.Code(err), err)
			require.ErrorContains(t, err, tc.want)
			require.True(t, events.Contains("Refused the worker on "+tc.hello.Hostname), events.String())
			w.p.cancel()
		}
		require.NotContains(t, events.String(), "s3cret")
		require.NotContains(t, events.String(), "guess")

		ok := connect(m, &ltkv1.Hello{WorkerId: "a", Hostname: "h4", ClusterToken: "s3cret", Ordinal: 0})
		synctest.Wait()
		clash := connect(m, &ltkv1.Hello{WorkerId: "b", Hostname: "h5", ClusterToken: "s3cret", Ordinal: 0})
		err = <-clash.served
		require.Equal(t, codes.AlreadyExists, status.Code(err))
		require.ErrorContains(t, err, "ordinal 0 is taken by the worker on h4: give each worker its own --ordinal")
		clash.p.cancel()
		// The same worker reconnecting (a half-open connection) replaces its old session.
		again := connect(m, &ltkv1.Hello{WorkerId: "a", Hostname: "h4", ClusterToken: "s3cret", Ordinal: 0})
		require.Equal(t, codes.Unavailable, status.Code(<-ok.served))
		ok.p.cancel()
		synctest.Wait()
		require.Equal(t, 1, m.Connected())
		again.close()
	})
}

func TestOnDeltaSeesEveryReport(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		seen := map[int]int64{}
		cfg := testConfig(10, 2, nil)
		cfg.OnDelta = func(worker int, d *stats.Delta) {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range d.Entries {
				seen[worker] += e.Requests
			}
		}
		m, err := newMaster(cfg)
		require.NoError(t, err)
		start(t, m)
		w0 := connect(m, &ltkv1.Hello{WorkerId: "a", Ordinal: 0})
		w1 := connect(m, &ltkv1.Hello{WorkerId: "b", Ordinal: 1})
		synctest.Wait()
		require.NoError(t, m.Start(10, 0))
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		mu.Lock()
		require.EqualValues(t, map[int]int64{0: w0.sent, 1: w1.sent}, seen)
		require.EqualValues(t, 15, seen[0], "5 devices × 3 s")
		mu.Unlock()
		require.EqualValues(t, 30, m.Collect(time.Now()).Total.NumRequests)
		w0.close()
		w1.close()
	})
}

// TestRunHeadless waits for the expected workers, runs, stops them
// gracefully (their last reports count) and tells them to quit.
func TestRunHeadless(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m, err := newMaster(testConfig(8, 2, nil))
		require.NoError(t, err)
		start(t, m)
		var out bytes.Buffer
		joined := make(chan []*fakeWorker, 1)
		go func() {
			time.Sleep(3 * time.Second)
			joined <- []*fakeWorker{connect(m, &ltkv1.Hello{WorkerId: "a", Ordinal: 0}), connect(m, &ltkv1.Hello{WorkerId: "b", Ordinal: 1})}
		}()
		snap, err := m.RunHeadless(t.Context(), Headless{Devices: 8, SpawnRate: 4, RunTime: 9 * time.Second, Out: &out})
		require.NoError(t, err)
		text := out.String()
		require.Contains(t, text, "Waiting for 2 workers (0 connected)")
		require.Contains(t, text, "Ramping to 8 devices on the lean MQTT client at 4 devices/s (a 2s ramp) for 9s", "no MQTT client set: lean")
		require.Contains(t, text, "Run time limit (9s) reached")
		require.Contains(t, text, "All 8 devices spawned (ramp took about 1s)", "seen at the first heartbeat, not at the first table")
		require.Equal(t, 4, strings.Count(text, "devices running"), text)
		require.Contains(t, text, "Response time percentiles")
		var sent int64
		for _, w := range <-joined {
			require.NoError(t, <-w.served)
			<-w.exited
			require.True(t, w.quit)
			sent += w.sent
		}
		require.EqualValues(t, sent, snap.Total.NumRequests, "the master's total is the sum of the workers' reports")
		require.EqualValues(t, 8*9, snap.Total.NumRequests)
	})
}

func TestRunHeadlessGivesUpWaiting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m, err := newMaster(testConfig(8, 2, nil))
		require.NoError(t, err)
		start(t, m)
		_, err = m.RunHeadless(t.Context(), Headless{Devices: 8, Out: &bytes.Buffer{}, WaitWorkers: time.Minute})
		require.ErrorIs(t, err, ErrWorkersMissing)
		require.ErrorContains(t, err, "0 of 2 expected workers connected within 1m0s: start the others")
	})
}

// TestConfigValidate: the master refuses what it cannot run with, and
// passes the run settings on as they are (the CLI checked them, and every
// worker checks what it receives) except the CA bundle, which it must read.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	cfg := testConfig(1, 1, nil)
	cfg.ExpectWorkers = -1
	_, err := newMaster(cfg)
	require.ErrorContains(t, err, "expect workers -1")

	cfg = testConfig(1, 1, nil)
	cfg.Settings.MQTTClient = "quic"
	m, err := newMaster(cfg)
	require.NoError(t, err)
	require.Equal(t, "quic", m.settings.GetMqttClient(), "a worker that knows it may run it")

	cfg = testConfig(1, 1, nil)
	cfg.Settings.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	_, err = newMaster(cfg)
	require.ErrorContains(t, err, "read CA file")
}
