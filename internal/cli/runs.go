package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	results "github.com/ltk-dev/ltk/internal/report"
)

func init() { register(newRunsCmd) }

func newRunsCmd(env *Env) *cobra.Command {
	var resultsFile, export string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the runs in the results store: id, name, start, stop, devices, spawn rate, target",
		Long: `Runs lists the tests recorded in the results store, oldest first: the id or
name that ltk harvest --run and ltk cost --run take ("last" is the latest),
when each started and stopped (UTC), how many devices at what spawn rate on
how many nodes, and the broker it drove. A run whose STOP says "not ended"
was cut off (its process died) or still runs.

--export FILE writes a consistent copy of the store (a store of its own, made
while tests may still write to it) to FILE, or to standard output with -. It is
how results leave the master's pod, whose image has no tar for kubectl cp:

  kubectl -n ltk exec deploy/ltk-master -- /ltk runs --export - > ltk.db
  ltk harvest run-1 --run last --results ltk.db`,
		Example: `  ltk runs
  ltk harvest run-3 --run 3
  ltk runs --export results-copy.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openResults(env, resultsFile)
			if err != nil {
				return err
			}
			defer st.Close()
			if export != "" {
				return exportResults(cmd.Context(), env, st, export)
			}
			runs, err := st.Runs(cmd.Context())
			if err != nil {
				return err
			}
			if len(runs) == 0 {
				fmt.Fprintf(env.Stdout, "No runs in %s yet: ltk run records one.\n", st.Path())
				return nil
			}
			return results.WriteRunList(env.Stdout, runs)
		},
	}
	addResultsFlag(cmd.Flags(), &resultsFile)
	cmd.Flags().StringVar(&export, "export", "", "write a consistent copy of the results store to this file (- for standard output) instead of listing")
	return cmd
}

// exportResults writes a copy of st to path, or to standard output for "-".
func exportResults(ctx context.Context, env *Env, st *results.Store, path string) error {
	if path == "-" {
		return st.Export(ctx, env.Stdout)
	}
	path = env.path(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return withHint(fmt.Errorf("export the results: %w", err), "name a file that does not exist yet")
	}
	if err := st.Export(ctx, f); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export the results: %w", err)
	}
	fmt.Fprintf(env.Stderr, "Exported %s to %s\n", st.Path(), path)
	return nil
}
