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
	// LocalWorkers says the workers are this process's own (ltk run): the
	// wait for them is not news worth a line.
	LocalWorkers bool
	// WaitWorkers is how long to wait for the expected workers before the
	// test starts; 0 = no limit.
	WaitWorkers time.Duration
	// StopTimeout is how long the graceful stop may take; default the
	// devices' last-message timeout plus 10 s.
	StopTimeout time.Duration
	// Hurry, when closed (a second Ctrl-C), cuts the graceful stop short:
	// the summary is printed at once with what was recorded. Nil: never.
	Hurry <-chan struct{}
	// Adjust, if set, receives changes to the device count while the test
	// runs (Locust's w/W/s/S keys: +1, +10, -1, -10); the count stays
	// between 0 and the device list's size.
	Adjust <-chan int
	// OnStart, if set, is called once the test has started (after the wait
	// for workers); an error from it stops the test and ends RunHeadless.
	OnStart func() error
	// Terminal says Out is a terminal: the stop's countdown then rewrites
	// one line instead of printing a line a second.
	Terminal bool
	Now      func() time.Time // default time.Now
}

// ErrWorkersMissing is returned by RunHeadless when the expected workers
// did not connect in time.
var ErrWorkersMissing = errors.New("workers missing")

// RunHeadless runs a headless test with m's workers and returns the final snapshot.
// It ends when RunTime has passed or ctx is cancelled (Ctrl-C), in both cases
// after a graceful stop.
func (m *Master) RunHeadless(ctx context.Context, h Headless) (stats.Snapshot, error) {
	h = m.withDefaults(h)
	if err := m.awaitWorkers(ctx, h); err != nil {
		return stats.Snapshot{}, err
	}
	if err := m.Start(h.Devices, h.SpawnRate); err != nil {
		return stats.Snapshot{}, err
	}
	if h.OnStart != nil {
		if err := h.OnStart(); err != nil {
			m.Stop()
			return stats.Snapshot{}, err
		}
	}
	start := h.Now()
	fmt.Fprintf(h.Out, "Ramping to %d devices on the %s MQTT client %s%s\n",
		h.Devices, m.cfg.Settings.MQTTClient, rate(h.Devices, h.SpawnRate), limit(h.RunTime))

	spawnedCtx, stopWatch := context.WithCancel(ctx)
	spawned := make(chan time.Time, 1)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if m.waitFor(spawnedCtx, 0, func() bool { return m.running() >= h.Devices }) {
			spawned <- h.Now()
		}
	}()
	defer func() { stopWatch(); <-watched }()

	var deadline <-chan time.Time
	if h.RunTime > 0 {
		t := time.NewTimer(h.RunTime)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTimer(h.PrintInterval)
	defer tick.Stop()
	n := 1 // print intervals since start
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(h.Out, "Stopping: waiting up to %v for the last echoes, then disconnecting (Ctrl-C again: summary at once)...\n", h.StopTimeout)
			return m.finish(ctx, h)
		case <-deadline:
			fmt.Fprintf(h.Out, "Run time limit (%v) reached. Stopping: waiting up to %v for the last echoes, then disconnecting...\n", h.RunTime, h.StopTimeout)
			return m.finish(ctx, h)
		case d := <-h.Adjust:
			n := min(max(h.Devices+d, 0), len(m.cfg.Devices))
			if err := m.Start(n, h.SpawnRate); err != nil {
				fmt.Fprintf(h.Out, "Cannot change to %s: %v\n", plural(n, "device"), err)
				continue
			}
			h.Devices = n
			fmt.Fprintf(h.Out, "Changing to %s\n", plural(n, "device"))
		case at := <-spawned:
			fmt.Fprintf(h.Out, "All %d devices spawned (ramp took about %v)\n", h.Devices, at.Sub(start).Round(time.Second))
		case <-tick.C:
			n++
			tick.Reset(time.Until(start.Add(time.Duration(n) * h.PrintInterval)))
			snap := m.Collect(h.Now())
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
	if !h.LocalWorkers {
		fmt.Fprintf(h.Out, "Waiting for %s (%d connected)\n", plural(want, "worker"), m.Connected())
	}
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
	quitWithin := 5 * time.Second
	switch m.StopCountdown(stopCtx, h) {
	case StopHurried:
		fmt.Fprintln(h.Out, "Second interrupt: not waiting for the last echoes; the summary holds what the workers reported so far")
		quitWithin = time.Second
	case StopTimedOut:
		fmt.Fprintf(h.Out, "Some workers did not report their stop within %v; their last stats may be missing\n", h.StopTimeout)
	}
	snap := m.Collect(h.Now())
	defer m.Quit(stopCtx, "the test is over", quitWithin)
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

// withDefaults fills h's zero fields with their defaults.
func (m *Master) withDefaults(h Headless) Headless {
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.PrintInterval <= 0 {
		h.PrintInterval = DefaultPrintInterval
	}
	if h.StopTimeout <= 0 {
		h.StopTimeout = m.cfg.Settings.LastMessageTimeout + 10*time.Second
	}
	return h
}

// StopOutcome is how a graceful stop ended.
type StopOutcome int

// The ways a graceful stop ends.
const (
	StopDone     StopOutcome = iota // every worker stopped and reported
	StopTimedOut                    // StopTimeout passed first
	StopHurried                     // Hurry was closed first
)

// StopCountdown stops the workers and waits for their last stats, like
// StopAndWait for h.StopTimeout, counting down the seconds left on h.Out so
// that nobody presses Ctrl-C again for want of news; closing h.Hurry ends
// the wait. Only h's Out, StopTimeout, Hurry, Terminal and Now are used.
func (m *Master) StopCountdown(ctx context.Context, h Headless) StopOutcome {
	h = m.withDefaults(h)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan bool, 1)
	go func() { done <- m.StopAndWait(ctx, h.StopTimeout) }()
	end := h.Now().Add(h.StopTimeout)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	outcome := StopTimedOut
	for {
		select {
		case ok := <-done:
			if h.Terminal {
				fmt.Fprint(h.Out, "\r\033[K") // clear the countdown line
			}
			if ok {
				return StopDone
			}
			return outcome
		case <-h.Hurry:
			outcome = StopHurried
			h.Hurry = nil // closed: receive once
			cancel()      // StopAndWait returns, and done reports it
		case <-tick.C:
			left := max(end.Sub(h.Now()).Round(time.Second), 0)
			line := fmt.Sprintf("Waiting for the last echoes: %v left, %d devices still running", left, m.Running())
			if h.Terminal {
				fmt.Fprint(h.Out, "\r\033[K"+line)
			} else {
				fmt.Fprintln(h.Out, line)
			}
		}
	}
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

// rate says how devices are started: all at once, or at r a second over a
// ramp of devices/r.
func rate(devices int, r float64) string {
	if r <= 0 {
		return "all at once"
	}
	ramp := time.Duration(float64(devices) / r * float64(time.Second))
	return fmt.Sprintf("at %g devices/s (a %v ramp)", r, ramp.Round(100*time.Millisecond))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
