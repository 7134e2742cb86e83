package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	results "github.com/ltk-dev/ltk/internal/report"
)

func init() { register(newRunsCmd) }

func newRunsCmd(env *Env) *cobra.Command {
	var resultsFile string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the runs in the results store: id, name, start, stop, devices, spawn rate, target",
		Long: `Runs lists the tests recorded in the results store, oldest first: the id or
name that ltk harvest --run and ltk cost --run take ("last" is the latest),
when each started and stopped (UTC), how many devices at what spawn rate on
how many nodes, and the broker it drove. A run whose STOP says "not ended"
was cut off (its process died) or still runs.`,
		Example: `  ltk runs
  ltk harvest run-3 --run 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openResults(env, resultsFile)
			if err != nil {
				return err
			}
			defer st.Close()
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
	return cmd
}
