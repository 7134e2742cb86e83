package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/ltk-dev/ltk/internal/device"
	results "github.com/ltk-dev/ltk/internal/report"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/stats"
)

// outputFlags say where a test's results go besides the terminal.
type outputFlags struct {
	results string // the results store; "" = $LTK_ROOT/runs/ltk.db
	name    string // the run's name in the store
	html    string // a self-contained HTML report at the end
}

func addOutputFlags(fs *pflag.FlagSet, f *outputFlags) {
	addResultsFlag(fs, &f.results)
	fs.StringVar(&f.name, "run-name", "", "name of this run in the results store, for ltk harvest --run and ltk cost --run (default run-ID)")
	fs.StringVar(&f.html, "html", "", "write a self-contained HTML report of the run to FILE at the end")
}

// recording is a session's runs in the results store: one for each test
// started (a headless run's one, or each one started from the web UI), none
// when no test started (a busy port, Ctrl-C while waiting for workers), so
// that nothing that did not test becomes --run last.
type recording struct {
	st   *results.Store
	log  *slog.Logger
	env  *Env
	f    *testFlags
	meta results.RunMeta // the runs' meta, less their devices and spawn rate

	// cur is the run of the test in progress, or of the last one; nil
	// before the first. The hooks (deltas, exceptions, the target's
	// execution times) go to it without a lock.
	cur atomic.Pointer[results.Run]

	mu      sync.Mutex // Guards the fields below, and begin and end.
	stopped time.Time  // when cur's test was stopped; zero while it runs
	// The --csv rewrites of cur run until it ends; end stops them and
	// waits for them before the final write.
	stopCSV context.CancelFunc // nil without --csv or a run
	csvDone chan struct{}      // closed when the rewrites have stopped
}

// csvEvery is how often --csv's files are rewritten during a test, as
// Locust rewrites them every CSV_STATS_INTERVAL_SEC (1 s).
const csvEvery = time.Second

// startRecording opens the results store; the runs begin as tests start
// (recording.begin).
func startRecording(env *Env, f *testFlags, target string, nodes int, log *slog.Logger) (*recording, error) {
	st, err := results.Open(resultsPath(env, f.output.results))
	if err != nil {
		return nil, withHint(err, "point --results at a writable file")
	}
	settings := storedSettings{Settings: f.settings}
	settings.Password, settings.BackendPassword = "", "" // never into the store
	if f.scenario != nil {
		settings.ScenarioName = f.scenario.Name // the scenario's text is in Settings.Scenario
	}
	meta := results.RunMeta{Name: f.output.name, Nodes: nodes, Target: target, Settings: settings}
	return &recording{st: st, log: log, env: env, f: f, meta: meta}, nil
}

// begin begins the run of a test of devices started at rate a second,
// ending the previous test's run (at the time it was stopped).
func (r *recording) begin(devices int, rate float64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endLocked()
	meta := r.meta
	meta.Start, meta.Devices, meta.SpawnRate = time.Now(), devices, rate
	run, err := r.st.Begin(meta)
	if err != nil {
		return err
	}
	r.cur.Store(run)
	r.stopped = time.Time{}
	if r.f.csvPrefix != "" {
		ctx, cancel := context.WithCancel(context.Background())
		r.stopCSV, r.csvDone = cancel, make(chan struct{})
		live, done := run.LiveCSV(r.f.csvFull), r.csvDone
		go func() {
			defer close(done)
			r.rewriteCSV(ctx, r.env.path(r.f.csvPrefix), live)
		}()
	}
	return nil
}

// stop notes that the current test was stopped now (the web UI's Stop);
// its run takes in the last stats until the next test begins or the
// session ends, and ends at this time.
func (r *recording) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped.IsZero() {
		r.stopped = time.Now()
	}
}

// endLocked stops cur's --csv rewrites and ends it, if it has not ended.
// r.mu is held.
func (r *recording) endLocked() {
	if r.stopCSV != nil {
		r.stopCSV()
		<-r.csvDone // the last rewrite must not replace the final files
		r.stopCSV, r.csvDone = nil, nil
	}
	run := r.cur.Load()
	if run == nil {
		return
	}
	at := r.stopped
	if at.IsZero() {
		at = time.Now()
	}
	if err := run.End(at); err != nil && !errors.Is(err, results.ErrEnded) {
		r.log.Warn("results store: the run's last samples may be missing", "run", run.ID(), "err", err)
	}
	if n := run.Dropped(); n > 0 {
		fmt.Fprintf(r.env.Stderr, "ltk: warning: the results store fell behind and dropped %d reports of run %d\n", n, run.ID())
	}
}

// rewriteCSV rewrites --csv's four files every csvEvery until ctx ends,
// as Locust does, from live: the run as the store holds it, read a few
// new seconds at a time (report.LiveCSV), so a rewrite costs the same an
// hour into the test as at its start, and the files trail the test by
// report.LiveLag. Each file is replaced atomically: a reader sees the
// previous version or the new one, never a half-written file. Should a
// rewrite be slow (a busy disk), the next waits nine times as long, so
// that rewriting takes at most a tenth of the time.
func (r *recording) rewriteCSV(ctx context.Context, prefix string, live *results.LiveCSV) {
	next := time.Now().Add(csvEvery)
	t := time.NewTimer(csvEvery)
	defer t.Stop()
	failed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		began := time.Now()
		err := live.Update(ctx, began)
		if err == nil {
			err = writeLocustCSV(prefix, live.Files())
		}
		if err != nil && ctx.Err() == nil && !failed {
			r.log.Warn("--csv: cannot write the files during the test; they are written again at the end", "err", err)
			failed = true
		}
		next = next.Add(csvEvery) // on the absolute schedule, unless the rewrite was slow
		if spent := time.Since(began); next.Before(began.Add(10 * spent)) {
			next = began.Add(10 * spent)
		}
		t.Reset(time.Until(next))
	}
}

// writeLocustCSV writes files at prefix, each replaced atomically.
func writeLocustCSV(prefix string, files []results.File) error {
	for _, file := range files {
		if err := writeFile(prefix+file.Suffix, file.Write); err != nil {
			return err
		}
	}
	return nil
}

// storedSettings are the settings a run keeps in the results store: the run
// settings, less their secrets, and the name of the scenario they carry.
type storedSettings struct {
	runset.Settings
	ScenarioName string `json:",omitempty"`
}

// onDelta is the master's OnDelta hook: every worker delta goes to the
// current run, with the number of devices running at that moment.
func (r *recording) onDelta(running func() int) func(int, *stats.Delta) {
	return func(_ int, d *stats.Delta) {
		if run := r.cur.Load(); run != nil {
			run.AddDelta(d)
			run.SetDevices(d.End, running())
		}
	}
}

// onException is the master's OnException hook.
func (r *recording) onException(_ int, host, message string) {
	if run := r.cur.Load(); run != nil {
		run.AddException(host, message)
	}
}

// observeExecution records an echo execution time of the embedded target
// (echo.Config.Observer) into the current run.
func (r *recording) observeExecution(d time.Duration) {
	if run := r.cur.Load(); run != nil {
		run.ObserveExecution(d)
	}
}

// finish ends the last run and writes the end-of-test files, --html and
// --csv's four Locust files, all from the run as the store holds it: one
// source, so the files agree with each other and with ltk harvest of the
// run. With no test run, nothing was recorded and no file is written.
func (r *recording) finish(ctx context.Context, env *Env, f *testFlags) error {
	defer r.st.Close()
	r.mu.Lock()
	r.endLocked()
	r.mu.Unlock()
	run := r.cur.Load()
	if run == nil {
		if f.output.html != "" || f.csvPrefix != "" {
			fmt.Fprintln(env.Stderr, "ltk: no test ran: nothing recorded, no --csv or --html files written")
		}
		return nil
	}
	id := run.ID()
	fmt.Fprintf(env.Stdout, "Recorded as run %d in %s; its distributions and report: ltk harvest run-%d --run %d\n", id, r.st.Path(), id, id)
	if f.output.html == "" && f.csvPrefix == "" {
		return nil
	}
	data, err := run.Data(ctx)
	if err != nil {
		return fmt.Errorf("read the run back from the results store: %w", err)
	}
	if f.output.html != "" {
		if err := writeFile(env.path(f.output.html), func(w io.Writer) error { return results.WriteHTML(w, data) }); err != nil {
			return err
		}
	}
	if f.csvPrefix != "" {
		return writeLocustCSV(env.path(f.csvPrefix), results.LocustCSV(data, f.csvFull))
	}
	return nil
}

// writeFile writes what write produces to path atomically.
func writeFile(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := device.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// exceptionList returns the exceptions the current test's workers reported
// so far, most frequent first.
func (r *recording) exceptionList() []stats.Exception {
	if run := r.cur.Load(); run != nil {
		return run.Exceptions()
	}
	return nil
}

// resetExceptions forgets the exceptions of the test running (the UI's
// "reset stats"); those of a stopped test stay with its run, as the UI
// resets the stats before it starts the next test.
func (r *recording) resetExceptions() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if run := r.cur.Load(); run != nil && r.stopped.IsZero() {
		run.ResetExceptions()
	}
}
