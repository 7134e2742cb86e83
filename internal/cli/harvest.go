package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	results "github.com/ltk-dev/ltk/internal/report"
)

func init() { register(newHarvestCmd) }

// harvestFlags are the flags of ltk harvest.
type harvestFlags struct {
	resultsFile string
	bucket      time.Duration
	run         string
	target      string
}

// addResultsFlag adds --results, the results store's path.
func addResultsFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "results", "", "the results store (default $LTK_ROOT/runs/ltk.db)")
}

// resultsPath is the results store's path: --results, or runs/ltk.db under
// the ltk root.
func resultsPath(env *Env, flag string) string {
	if flag != "" {
		return env.path(flag)
	}
	return filepath.Join(env.root(), results.DefaultPath)
}

// openResults opens the results store for reading, with a hint when it is missing.
func openResults(env *Env, flag string) (*results.Store, error) {
	st, err := results.OpenExisting(resultsPath(env, flag))
	if errors.Is(err, results.ErrNoStore) {
		return nil, withHint(err, "run a test first (ltk run records every run), or point --results at the store")
	}
	return st, err
}

func newHarvestCmd(env *Env) *cobra.Command {
	var f harvestFlags
	cmd := &cobra.Command{
		Use:   "harvest RUN_DIR START END",
		Short: "Write the distributions, a summary and an HTML report of a time window into runs/RUN_DIR",
		Long: `Harvest reads the results store for the window START to END (RFC 3339 in UTC,
e.g. 2026-11-25T20:00:00Z; every second that starts at or after START and before
END) and writes into $LTK_ROOT/runs/RUN_DIR:

  driver_times.csv    frequency distribution of the device-measured response times
                      per entry, in 100 ms buckets (--bucket), with cumulative %
  function_times.csv  the same for the echo app's execution times
  summary.txt         totals, percentiles (50 to 99.9, max), failures by type,
                      throughput and devices
  report.html         one self-contained page: tables, the distributions as
                      histograms, requests/s, percentiles and devices over time

  ltk harvest 100t1 2026-11-25T20:00:00Z 2026-11-25T21:00:00Z
  ltk harvest last-run --run last          # a recorded run's own window

Execution times are recorded when the target is ltk's embedded one; for a
remote 'ltk target', --target http://HOST:9883 fetches them from its metrics
address.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 && len(args) != 3 {
				return fmt.Errorf("want RUN_DIR START END (or RUN_DIR --run ID), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return harvest(cmd, env, &f, args)
		},
	}
	fs := cmd.Flags()
	addResultsFlag(fs, &f.resultsFile)
	fs.DurationVar(&f.bucket, "bucket", results.DefaultBucket, "width of the distributions' buckets")
	fs.StringVar(&f.run, "run", "", "take only this run (id, name or \"last\"); without START END, its whole window")
	fs.StringVar(&f.target, "target", "", "fetch execution times from this ltk target's metrics address (http://HOST:9883) when the store has none")
	return cmd
}

func harvest(cmd *cobra.Command, env *Env, f *harvestFlags, args []string) error {
	dir := args[0]
	if dir == "" || dir == "." || dir == ".." || strings.ContainsAny(dir, `/\`) {
		return usageError(fmt.Errorf("RUN_DIR %q: want a plain directory name such as 100t1 (it goes under $LTK_ROOT/runs)", dir))
	}
	if f.bucket < results.MinBucket {
		return usageError(fmt.Errorf("--bucket %v: want at least %v, the histograms' resolution, such as 100ms", f.bucket, results.MinBucket))
	}
	cfg := results.HarvestConfig{
		Dir:       filepath.Join(env.root(), "runs", dir),
		Run:       f.run,
		Bucket:    f.bucket,
		TargetURL: f.target,
	}
	if len(args) == 1 && f.run == "" {
		return usageError(errors.New("want START and END after RUN_DIR, or --run to take a recorded run's window"))
	}
	if len(args) == 3 {
		for i, name := range []string{"START", "END"} {
			t, perr := results.ParseTime(args[1+i])
			if perr != nil {
				return usageError(fmt.Errorf("%s %w", name, perr))
			}
			if i == 0 {
				cfg.Start = t
			} else {
				cfg.End = t
			}
		}
		if !cfg.End.After(cfg.Start) {
			return usageError(fmt.Errorf("END %s is not after START %s: the window must end after it starts", args[2], args[1]))
		}
	}
	st, err := openResults(env, f.resultsFile)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := results.Harvest(cmd.Context(), st, cfg)
	var nd *results.NoDataError
	switch {
	case errors.As(err, &nd):
		return withHint(err, "pick a window from the list above, or use --run ID")
	case errors.Is(err, results.ErrNoRun):
		return withHint(usageError(err), "list the runs with a window that holds none, or use --run last")
	case err != nil:
		return err
	}
	d := res.Data
	total := d.Total()
	fmt.Fprintf(env.Stdout, "Harvested %s to %s: %d requests, %d failures, %d execution times",
		d.Start.Format(time.RFC3339), d.End.Format(time.RFC3339), total.Count, total.Failures, d.ExecTotal().Count)
	if res.RemoteExecs {
		fmt.Fprintf(env.Stdout, " (from %s)", f.target)
	}
	fmt.Fprintf(env.Stdout, ", %d run(s)\n", len(d.Runs))
	for _, p := range res.Files {
		fmt.Fprintf(env.Stdout, "  %s\n", p)
	}
	return nil
}
