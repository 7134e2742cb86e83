package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
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

// recording is one test's run in the results store.
type recording struct {
	st  *results.Store
	run *results.Run
	log *slog.Logger

	// The --csv rewrites run from startRecording until finish, which stops
	// them and waits for them before the final write.
	stopCSV context.CancelFunc // nil without --csv
	csvDone chan struct{}      // closed when the rewrites have stopped
}

// csvEvery is how often --csv's files are rewritten during a test, as
// Locust rewrites them every CSV_STATS_INTERVAL_SEC (1 s).
const csvEvery = time.Second

// startRecording opens the results store and begins a run in it.
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
	run, err := st.Begin(results.RunMeta{
		Name: f.output.name, Start: time.Now(), Devices: f.devices, SpawnRate: f.spawnRate,
		Nodes: nodes, Target: target, Settings: settings,
	})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	r := &recording{st: st, run: run, log: log}
	if f.csvPrefix != "" {
		ctx, cancel := context.WithCancel(context.Background())
		r.stopCSV, r.csvDone = cancel, make(chan struct{})
		live := run.LiveCSV(f.csvFull)
		go func() {
			defer close(r.csvDone)
			r.rewriteCSV(ctx, env.path(f.csvPrefix), live)
		}()
	}
	return r, nil
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

// onDelta is the master's OnDelta hook: every worker delta goes to the store,
// with the number of devices running at that moment.
func (r *recording) onDelta(running func() int) func(int, *stats.Delta) {
	return func(_ int, d *stats.Delta) {
		r.run.AddDelta(d)
		r.run.SetDevices(d.End, running())
	}
}

// onException is the master's OnException hook.
func (r *recording) onException(_ int, host, message string) { r.run.AddException(host, message) }

// finish stops the --csv rewrites, ends the run and writes the
// end-of-test files, --html and --csv's four Locust files, all from the
// run as the store holds it: one source, so the files agree with each
// other and with ltk harvest of the run.
func (r *recording) finish(ctx context.Context, env *Env, f *testFlags) error {
	defer r.st.Close()
	if r.stopCSV != nil {
		r.stopCSV()
		<-r.csvDone // the last rewrite must not replace the final files
	}
	if err := r.run.End(time.Now()); err != nil {
		r.log.Warn("results store: the run's last samples may be missing", "err", err)
	}
	if n := r.run.Dropped(); n > 0 {
		fmt.Fprintf(env.Stderr, "ltk: warning: the results store fell behind and dropped %d reports\n", n)
	}
	id := r.run.ID()
	fmt.Fprintf(env.Stdout, "Recorded as run %d in %s; its distributions and report: ltk harvest run-%d --run %d\n", id, r.st.Path(), id, id)
	if f.output.html == "" && f.csvPrefix == "" {
		return nil
	}
	data, err := r.run.Data(ctx)
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

// exceptionList returns the exceptions reported so far, most frequent first.
func (r *recording) exceptionList() []stats.Exception { return r.run.Exceptions() }

// resetExceptions forgets the exceptions (the UI's "reset stats").
func (r *recording) resetExceptions() { r.run.ResetExceptions() }
