package master

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ltk-dev/ltk/internal/stats"
)

// DefaultPrintInterval is how often a headless test prints its table, as Locust does.
const DefaultPrintInterval = 2 * time.Second

// Headless describes a test run without a UI: wait for the expected
// workers, ramp to Devices at SpawnRate, print live stats every
// PrintInterval, stop after RunTime (0 = until ctx ends), print the summary
// and tell the workers to quit.
type Headless struct {
	Devices       int
	SpawnRate     float64 // devices per second; 0 = all at once
	RunTime       time.Duration
	PrintInterval time.Duration
	OnlySummary   bool      // print only the final summary
	Out           io.Writer // where tables go
	// WaitWorkers is how long to wait for the expected workers before the
	// test starts; 0 = no limit.
	WaitWorkers time.Duration
	// StopTimeout is how long the graceful stop may take; default the
	// devices' last-message timeout plus 10 s.
	StopTimeout time.Duration
	Now         func() time.Time // default time.Now
}

// ErrWorkersMissing is returned by RunHeadless when the expected workers
// did not connect in time.
var ErrWorkersMissing = errors.New("workers missing")

// RunHeadless runs a headless test with m's workers and returns the final snapshot.
// It ends when RunTime has passed or ctx is cancelled (Ctrl-C), in both cases
// after a graceful stop.
func (m *Master) RunHeadless(ctx context.Context, h Headless) (stats.Snapshot, error) {
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.PrintInterval <= 0 {
		h.PrintInterval = DefaultPrintInterval
	}
	if h.StopTimeout <= 0 {
		h.StopTimeout = m.cfg.Settings.LastMessageTimeout + 10*time.Second
	}
	if err := m.awaitWorkers(ctx, h); err != nil {
		return stats.Snapshot{}, err
	}
	if err := m.Start(h.Devices, h.SpawnRate); err != nil {
		return stats.Snapshot{}, err
	}
	start := h.Now()
	fmt.Fprintf(h.Out, "Ramping to %d devices on the %s MQTT client %s%s\n",
		h.Devices, m.cfg.Settings.MQTTClient, rate(h.SpawnRate), limit(h.RunTime))

	var deadline <-chan time.Time
	if h.RunTime > 0 {
		t := time.NewTimer(h.RunTime)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTimer(h.PrintInterval)
	defer tick.Stop()
	spawned := false
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			fmt.Fprintln(h.Out, "Stopping: waiting for the last echoes, then disconnecting...")
			return m.finish(ctx, h)
		case <-deadline:
			fmt.Fprintf(h.Out, "Run time limit (%v) reached. Stopping: waiting for the last echoes, then disconnecting...\n", h.RunTime)
			return m.finish(ctx, h)
		case <-tick.C:
			tick.Reset(time.Until(start.Add(time.Duration(n+1) * h.PrintInterval)))
			snap := m.Collect(h.Now())
			if !spawned && m.Running() >= h.Devices {
				spawned = true
				fmt.Fprintf(h.Out, "All %d devices spawned (ramp took about %v)\n", h.Devices, h.Now().Sub(start).Round(time.Second))
			}
			if !h.OnlySummary {
				m.printLive(h, snap, start)
			}
		}
	}
}

// awaitWorkers waits for the expected workers, saying so.
func (m *Master) awaitWorkers(ctx context.Context, h Headless) error {
	want := m.cfg.ExpectWorkers
	if m.Connected() >= want {
		return nil
	}
	fmt.Fprintf(h.Out, "Waiting for %d workers (%d connected)\n", want, m.Connected())
	if m.WaitForWorkers(ctx, want, h.WaitWorkers) {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: %d of %d expected workers connected within %v: start the others (ltk worker --master-host HOST), or lower --expect-workers",
		ErrWorkersMissing, m.Connected(), want, h.WaitWorkers)
}

// finish stops the workers, collects what they recorded while stopping,
// prints the summary and tells the workers to quit.
func (m *Master) finish(ctx context.Context, h Headless) (stats.Snapshot, error) {
	stopCtx := context.WithoutCancel(ctx) // a Ctrl-C started the stop; let it finish
	if !m.StopAndWait(stopCtx, h.StopTimeout) {
		fmt.Fprintf(h.Out, "Some workers did not report their stop within %v; their last stats may be missing\n", h.StopTimeout)
	}
	snap := m.Collect(h.Now())
	defer m.Quit(stopCtx, "the test is over", 5*time.Second)
	err := writeAll(h.Out,
		func(w io.Writer) error { _, err := fmt.Fprint(w, "\nSummary\n"); return err },
		func(w io.Writer) error { return stats.WriteFinalTable(w, snap) },
		func(w io.Writer) error { _, err := fmt.Fprintln(w); return err },
		func(w io.Writer) error { return stats.WritePercentiles(w, snap) },
		func(w io.Writer) error {
			if len(snap.Failures) == 0 {
				return nil
			}
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
			return stats.WriteFailures(w, snap)
		},
		func(w io.Writer) error { return writeDeltas(w, m.Deltas()) })
	return snap, err
}

// writeAll runs the writers in order and returns the first error.
func writeAll(w io.Writer, writers ...func(io.Writer) error) error {
	for _, write := range writers {
		if err := write(w); err != nil {
			return fmt.Errorf("print summary: %w", err)
		}
	}
	return nil
}

func (m *Master) printLive(h Headless, snap stats.Snapshot, start time.Time) {
	elapsed := h.Now().Sub(start).Truncate(time.Second)
	left := ""
	if h.RunTime > 0 {
		left = fmt.Sprintf(", %v left", (h.RunTime - elapsed).Truncate(time.Second))
	}
	fmt.Fprintf(h.Out, "\n%d/%d devices running, %v elapsed%s\n", m.Running(), h.Devices, elapsed, left)
	_ = stats.WriteTable(h.Out, snap) // a terminal that fails mid-test is not worth stopping the test for
}

func rate(r float64) string {
	if r <= 0 {
		return "all at once"
	}
	return fmt.Sprintf("at %g devices/s", r)
}

func limit(d time.Duration) string {
	if d <= 0 {
		return ", until stopped (Ctrl-C)"
	}
	return fmt.Sprintf(" for %v", d)
}

// writeDeltas says, under the summary, if the totals miss stats the workers
// recorded: deltas lost on the way, or refused as invalid.
func writeDeltas(w io.Writer, d Deltas) error {
	if d.Lost == 0 && d.Refused == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "\nThe totals miss workers' stats: %d reports lost, %d refused as invalid (see the lines above)\n", d.Lost, d.Refused)
	return err
}
