package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/master"
	"github.com/ltk-dev/ltk/internal/stats"
)

// session is one test driven by a master in this process: the body that
// ltk run and ltk master share. It opens a recording in the results store,
// starts what the master needs (before), a master whose stats deltas and
// exceptions go to the recording, what uses the master (after), and then
// the foreground (the headless run, or the web UI) until the test ends or
// Ctrl-C. Every way out, an error included, stops what was started and
// ends the recording.
type session struct {
	flags  *testFlags
	fleet  []device.Device
	log    *slog.Logger
	master master.Config // less OnDelta and OnException, which the session sets
	target string        // the target's name in the results store
	nodes  int           // load generators, for the results store
	wait   time.Duration // how long a headless run waits for the workers

	// before, if set, starts what the master needs (the embedded target)
	// once the recording is open; it may change the master's settings.
	before func(p *parts, rec *recording, cfg *master.Config) error
	// after, if set, runs once the master serves: it starts the local
	// workers, or says where the master listens.
	after func(p *parts, m *master.Master) error
}

// run runs the session and returns the command's outcome (see
// testFlags.result).
func (s *session) run(ctx context.Context, env *Env) error {
	ctx, again, stopSignals := env.signals(ctx)
	defer stopSignals()
	rec, err := startRecording(env, s.flags, s.target, s.nodes, s.log)
	if err != nil {
		return err
	}
	hurry := make(chan struct{})
	go onLaterInterrupts(env, again, hurry)
	// The foreground ends on Ctrl-C or when a part fails; the parts run on
	// contexts of their own, so that a Ctrl-C first stops the devices
	// gracefully through the master.
	g, fg := errgroup.WithContext(ctx)
	p := &parts{g: g, base: context.WithoutCancel(ctx)}
	snap, err := s.foreground(fg, env, rec, p, hurry)
	// The recording ends before the parts are stopped: the foreground has
	// collected the workers' last stats, and after a second Ctrl-C the
	// summary, the files and the stop time must not wait for devices.
	if rerr := rec.finish(context.WithoutCancel(ctx), env, s.flags); rerr != nil && err == nil {
		err = rerr
	}
	if perr := p.stop(hurry); perr != nil && err == nil {
		err = perr
	}
	return s.flags.result(env, s.fleet, snap, err)
}

// foreground starts the parts and runs the test; run stops the parts.
func (s *session) foreground(ctx context.Context, env *Env, rec *recording, p *parts, hurry <-chan struct{}) (stats.Snapshot, error) {
	cfg := s.master
	if s.before != nil {
		if err := s.before(p, rec, &cfg); err != nil {
			return stats.Snapshot{}, err
		}
	}
	var m *master.Master
	cfg.OnDelta = rec.onDelta(func() int { return m.Running() }) // called once workers report, after New
	cfg.OnException = rec.onException
	m, err := master.New(cfg)
	if err != nil {
		return stats.Snapshot{}, err
	}
	p.start(m.Run)
	if s.after != nil {
		if err := s.after(p, m); err != nil {
			return stats.Snapshot{}, err
		}
	}
	if s.flags.headless {
		h := s.flags.headlessRun(env, s.wait)
		h.Hurry = hurry
		h.OnStart = func() error { return rec.begin(h.Devices, h.SpawnRate) }
		var stopKeys func()
		h.Adjust, stopKeys = readKeys(ctx, env)
		defer stopKeys()
		if h.Adjust != nil {
			fmt.Fprintln(env.Stdout, keysHelp)
		}
		return m.RunHeadless(ctx, h)
	}
	return serveUI(ctx, env, s.flags, m, len(s.fleet), rec, s.log, hurry)
}

// onLaterInterrupts handles the interrupts after the first (which began the
// graceful stop): the second closes hurry, so that the stop stops waiting
// for the last echoes yet the summary, the --csv/--html files and the run's
// stop time are still written (timeout(1) may deliver its signal twice); a
// third exits at once. It returns when again is closed.
func onLaterInterrupts(env *Env, again <-chan struct{}, hurry chan<- struct{}) {
	if again == nil {
		return
	}
	if _, ok := <-again; !ok {
		return
	}
	close(hurry)
	if _, ok := <-again; ok && env.Exit != nil {
		fmt.Fprintln(env.Stderr, "ltk: third interrupt, exiting without the summary or the requested files")
		env.Exit(int(ExitError))
	}
}

// parts are the components that run beside a session's foreground: the
// embedded target, the master, local workers. Each runs on a context of its
// own in one errgroup, so that a part that fails ends the foreground.
type parts struct {
	g       *errgroup.Group
	base    context.Context // the parts' contexts derive from it; it is never cancelled
	cancels []context.CancelFunc
}

// start runs run in a goroutine until stop.
func (p *parts) start(run func(context.Context) error) {
	ctx, cancel := context.WithCancel(p.base)
	p.cancels = append(p.cancels, cancel)
	p.g.Go(func() error { return run(ctx) })
}

// stop stops the parts, the latest started first (workers, master,
// target), and returns once all have returned, with the first error. Once
// hurry is closed (a second Ctrl-C) it waits at most hurriedWait: local
// workers stop their devices gracefully, awaiting each one's last echo,
// and the user asked not to wait; the process's exit closes what is left.
func (p *parts) stop(hurry <-chan struct{}) error {
	for i := len(p.cancels) - 1; i >= 0; i-- {
		p.cancels[i]()
	}
	done := make(chan error, 1)
	go func() { done <- p.g.Wait() }()
	select {
	case err := <-done:
		return err
	case <-hurry:
	}
	t := time.NewTimer(hurriedWait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return nil
	}
}

// hurriedWait is how long the parts may take to stop after a second Ctrl-C.
const hurriedWait = time.Second
