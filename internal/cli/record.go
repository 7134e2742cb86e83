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
	settings := f.settings
	settings.Password = "" // never into the store
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
		go func() {
			defer close(r.csvDone)
			r.rewriteCSV(ctx, env.path(f.csvPrefix), f.csvFull)
		}()
	}
	return r, nil
}

// rewriteCSV rewrites --csv's four files every csvEvery until ctx ends,
// from the run as the store holds it so far: the same source and the same
// writers as the final files, so a file read mid-test is what the end
// would write had the test stopped then (less the store's last second or
// two, which the workers have not reported yet). Each file is replaced
// atomically: a reader sees the previous version or the new one, never a
// half-written file. Reading the run back costs more as it grows, so the
// rewrites take at most a tenth of the time: after a rewrite that took d,
// the next waits at least 9d.
func (r *recording) rewriteCSV(ctx context.Context, prefix string, full bool) {
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
		if err := r.writeCSV(ctx, prefix, full); err != nil && ctx.Err() == nil && !failed {
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

// writeCSV writes --csv's four files from the run as the store holds it now.
func (r *recording) writeCSV(ctx context.Context, prefix string, full bool) error {
	data, err := r.run.Data(ctx)
	if err != nil {
		return fmt.Errorf("read the run back from the results store: %w", err)
	}
	data.Exceptions = r.run.Exceptions() // the store has them once the run ends
	return writeLocustCSV(prefix, data, full)
}

// writeLocustCSV writes the four files of LocustCSV(data, full) at prefix.
func writeLocustCSV(prefix string, data *results.Data, full bool) error {
	for _, file := range results.LocustCSV(data, full) {
		if err := writeFile(prefix+file.Suffix, file.Write); err != nil {
			return err
		}
	}
	return nil
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
		return writeLocustCSV(env.path(f.csvPrefix), data, f.csvFull)
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
