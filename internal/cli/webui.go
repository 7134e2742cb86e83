package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ltk-dev/ltk/internal/master"
	results "github.com/ltk-dev/ltk/internal/report"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/web"
)

// serveUI serves the web UI for m until ctx ends (Ctrl-C), then stops the
// devices gracefully and returns the test's final snapshot. Tests are
// started, changed and stopped from the browser or the REST API.
func serveUI(ctx context.Context, env *Env, f *testFlags, m *master.Master, capacity int,
	rec *recording, log *slog.Logger, hurry <-chan struct{}) (stats.Snapshot, error) {
	cfg := f.web.webConfig()
	cfg.Registry, cfg.Version, cfg.Log = prometheus.NewRegistry(), Version, log
	cfg.Broker, cfg.Behavior, cfg.Local = m.Broker(), f.settings.Behavior, f.local
	cfg.Scenario = f.webScenario(capacity)
	if !f.local {
		cfg.ExpectWorkers = m.ExpectWorkers()
	}
	c := &masterController{m: m, capacity: capacity, rec: rec}
	srv, err := web.New(cfg, c)
	if err != nil {
		return stats.Snapshot{}, withHint(err, "pick another --web-port, or stop what holds this one")
	}
	fmt.Fprintf(env.Stdout, "Web UI on http://%s (Ctrl-C to stop)\n", srv.Addr())
	err = srv.Run(ctx)
	stopCtx := context.WithoutCancel(ctx)
	if st := m.State(); st != master.StateReady && st != master.StateStopped {
		fmt.Fprintln(env.Stdout, "Stopping: waiting for the last echoes, then disconnecting (Ctrl-C again: at once)...")
		m.StopCountdown(stopCtx, master.Headless{Out: env.Stdout, Hurry: hurry, Terminal: isTerminal(env.Stdout)})
	}
	snap := m.Collect(time.Now())
	// Workers of their own process quit with the master rather than wait
	// for it up to --master-timeout.
	m.Quit(stopCtx, "the master is stopping", 5*time.Second)
	return snap, err
}

// masterController lets the web UI drive a master.
type masterController struct {
	m        *master.Master
	capacity int
	rec      *recording
}

var (
	_ web.Controller    = (*masterController)(nil)
	_ web.HistorySource = (*masterController)(nil)
)

// WriteHistoryCSV writes the run's _stats_history.csv so far, with every
// entry, from the results store: the same source and writer as --csv's.
func (c *masterController) WriteHistoryCSV(w io.Writer) error {
	run := c.rec.cur.Load()
	if run == nil {
		return results.WriteStatsHistoryCSV(w, &results.Data{}, true) // no test yet: the header
	}
	data, err := run.Data(context.Background())
	if err != nil {
		return fmt.Errorf("read the run back from the results store: %w", err)
	}
	return results.WriteStatsHistoryCSV(w, data, true)
}

// Swarm starts a test, or changes the one spawning or running. A test
// started when none is (the web UI's fresh test) is a run of its own in the
// results store, with its own devices and spawn rate.
func (c *masterController) Swarm(count int, rate float64) error {
	st := c.m.State()
	if err := c.m.Start(count, rate); err != nil {
		return err
	}
	if st == master.StateSpawning || st == master.StateRunning {
		return nil
	}
	if err := c.rec.begin(count, rate); err != nil {
		c.m.Stop()
		return fmt.Errorf("record the test: %w", err)
	}
	return nil
}

func (c *masterController) Stop() error {
	c.m.Stop()
	c.rec.stop()
	return nil
}

func (c *masterController) ResetStats() {
	c.m.Reset()
	c.rec.resetExceptions()
}

// State is the master's, whose names are Locust's as the UI's are.
func (c *masterController) State() web.State { return web.State(c.m.State()) }

func (c *masterController) Snapshot(now time.Time) stats.Snapshot { return c.m.Collect(now) }
func (c *masterController) Running() int                          { return c.m.Running() }
func (c *masterController) Capacity() int                         { return c.capacity }

func (c *masterController) Workers() []web.WorkerInfo {
	ws := c.m.Workers()
	out := make([]web.WorkerInfo, len(ws))
	for i, w := range ws {
		state := web.State(w.State)
		if !w.Connected {
			state = web.StateMissing
		}
		out[i] = web.WorkerInfo{
			Ordinal: w.Ordinal, ID: w.ID, Host: w.Hostname, State: state, Devices: w.Running,
			CPUPercent: w.CPUPercent, MemoryBytes: w.MemoryBytes, LastHeartbeat: w.LastHeartbeat,
		}
	}
	return out
}

func (c *masterController) Exceptions() []web.Exception {
	excs := c.rec.exceptionList()
	out := make([]web.Exception, len(excs))
	copy(out, excs)
	sort.Slice(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}
