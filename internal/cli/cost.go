package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/internal/cost"
	results "github.com/ltk-dev/ltk/internal/report"
)

func init() { register(newCostCmd) }

// costFlags are the flags of ltk cost.
type costFlags struct {
	resultsFile  string
	run          string
	devices      int
	pricing      string
	printPricing bool
}

func newCostCmd(env *Env) *cobra.Command {
	var f costFlags
	cmd := &cobra.Command{
		Use:   "cost --devices N [--run ID | START END] [--pricing FILE]",
		Short: "Estimate what N devices would cost running 24x7 for a month, from a recorded test",
		Long: `Cost takes a recorded run (--run ID or name; the last one by default) or a time
window (START END, RFC 3339 UTC), measures its messages, bytes and
connection-minutes per device-hour, and extrapolates them to --devices N
running 24x7 for 30 days, priced with a pricing file. It adds the driver's
own cost (node-hours × a node price) and prints the tutorial's simple
extrapolation (the test's cost per hour × N / devices in the test × 720)
beside it, with the assumptions behind both.

The default prices are AWS IoT Core's (messaging per million messages with its
5 KB metering unit, connectivity per million connection-minutes). Write them
to a file, edit them for your provider and pass it back:

  ltk cost --print-pricing > pricing.yaml
  ltk cost --devices 10000 --pricing pricing.yaml
  ltk cost --devices 10000 2026-11-25T20:00:00Z 2026-11-25T21:00:00Z`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 0 && len(args) != 2 {
				return fmt.Errorf("want START END or no arguments, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return estimateCost(cmd, env, &f, args)
		},
	}
	fs := cmd.Flags()
	addResultsFlag(fs, &f.resultsFile)
	fs.StringVar(&f.run, "run", "", "the recorded run (id, name or \"last\"; default the last one unless START END are given)")
	fs.IntVar(&f.devices, "devices", 0, "devices to estimate for, running 24x7 for 30 days")
	fs.StringVar(&f.pricing, "pricing", "", "pricing file, YAML or JSON (default: AWS IoT Core's prices; see --print-pricing)")
	fs.BoolVar(&f.printPricing, "print-pricing", false, "write the default pricing file, with its documentation, and exit")
	return cmd
}

func estimateCost(cmd *cobra.Command, env *Env, f *costFlags, args []string) error {
	if f.printPricing {
		_, err := env.Stdout.Write(cost.DefaultPricingFile())
		return err
	}
	if f.devices < 1 {
		return withHint(usageError(fmt.Errorf("--devices %d: say how many devices to estimate for", f.devices)),
			"ltk cost --devices 10000")
	}
	if len(args) == 2 && f.run != "" {
		return usageError(errors.New("give a run (--run) or a window (START END), not both"))
	}
	pricing := cost.DefaultPricing()
	if f.pricing != "" {
		p, err := cost.LoadPricing(env.path(f.pricing))
		if err != nil {
			return usageError(err)
		}
		pricing = p
	}
	var start, end time.Time
	if len(args) == 2 {
		for i, name := range []string{"START", "END"} {
			t, err := results.ParseTime(args[i])
			if err != nil {
				return usageError(fmt.Errorf("%s %w", name, err))
			}
			if i == 0 {
				start = t
			} else {
				end = t
			}
		}
		if !end.After(start) {
			return usageError(fmt.Errorf("END %s is not after START %s: the window must end after it starts", args[1], args[0]))
		}
	}

	st, err := openResults(env, f.resultsFile)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := cmd.Context()
	var d *results.Data
	source := ""
	if len(args) == 2 {
		d, err = st.Load(ctx, start, end, 0)
		source = fmt.Sprintf("window %s to %s", args[0], args[1])
	} else {
		ref := f.run
		if ref == "" {
			ref = "last"
		}
		var r results.RunInfo
		if r, err = st.FindRun(ctx, ref); err == nil {
			d, err = st.LoadRun(ctx, ref)
			source = fmt.Sprintf("run %d %q", r.ID, r.Name)
		}
	}
	if errors.Is(err, results.ErrNoRun) {
		return withHint(usageError(err), "ltk harvest lists the recorded runs for a window with none; or record one with ltk run")
	}
	if err != nil {
		return err
	}
	if d.Empty() {
		runs, err := st.Runs(ctx)
		if err != nil {
			return err
		}
		return &results.NoDataError{Start: d.Start, End: d.End, Runs: runs}
	}
	m, err := cost.Measure(d)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	fmt.Fprintf(env.Stdout, "Cost estimate from %s\n", source)
	return cost.Extrapolate(m, pricing, f.devices).Write(env.Stdout)
}
