package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/examples/scenarios"
	"github.com/ltk-dev/ltk/internal/scenario"
)

func init() { register(newScenarioCmd) }

// defaultCheckDevices is the fleet size ltk scenario check estimates for
// when -c is not given.
const defaultCheckDevices = 1000

func newScenarioCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenario",
		Short: "Describe your own devices in a scenario file: examples, and a check with the traffic it makes",
		Long: `A scenario file (YAML) describes the fleet's devices: their kinds and mix,
connections, subscriptions, what they publish and when, the replies they
await and how they react to messages. Start from an example:

  ltk scenario example                      # the examples shipped with ltk
  ltk scenario example fleet > fleet.yaml   # a commented starting point
  ltk scenario check fleet.yaml -c 5000     # errors with line:column, or the traffic at 5,000 devices

The README's "Describe your devices" documents the format.`,
	}
	cmd.AddCommand(newScenarioExampleCmd(env), newScenarioCheckCmd(env))
	return cmd
}

func newScenarioExampleCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "example [NAME]",
		Short: "List the example scenarios, or print one",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return listExamples(env)
			}
			src, ok := scenarios.Get(args[0])
			if !ok {
				return usageError(fmt.Errorf("no example scenario %q: the examples are %s", args[0], strings.Join(scenarios.Names(), ", ")))
			}
			_, err := env.Stdout.Write(src)
			return err
		},
	}
}

// listExamples prints each example's name and description.
func listExamples(env *Env) error {
	names := scenarios.Names()
	width := len("EXAMPLE")
	for _, name := range names {
		width = max(width, len(name))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s  %s\n", width, "EXAMPLE", "DESCRIPTION")
	for _, name := range names {
		src, _ := scenarios.Get(name)
		s, err := scenario.Load(name+".yaml", src)
		if err != nil {
			return fmt.Errorf("example %s: %w", name, err) // a test loads every example: not reached
		}
		fmt.Fprintf(&b, "%-*s  %s\n", width, name, s.Description)
	}
	b.WriteString("\nPrint one with: ltk scenario example NAME > NAME.yaml\n")
	_, err := io.WriteString(env.Stdout, b.String())
	return err
}

func newScenarioCheckCmd(env *Env) *cobra.Command {
	var devices int
	cmd := &cobra.Command{
		Use:   "check FILE [-c DEVICES]",
		Short: "Check a scenario file and estimate the traffic it makes at -c devices",
		Long: `Check loads a scenario file and reports every error in it with its line and
column (exit code 3). A scenario without errors is compiled, and check prints
its plan at -c devices: each kind's devices and share, its messages and payload
bytes per second (by the mean intervals and sample payloads), its reactions'
replies and the replies its expectations await, and the totals.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if devices < 1 {
				return withHint(usageError(fmt.Errorf("-c %d: say how many devices to estimate for", devices)),
					"ltk scenario check FILE -c 1000")
			}
			s, err := scenario.LoadFile(env.path(args[0]))
			var bad *scenario.Error
			if errors.As(err, &bad) {
				return withHint(usageError(fmt.Errorf("%s has %s:\n%w", args[0], problems(err), err)),
					"the examples (ltk scenario example NAME) show each part of a scenario")
			}
			if err != nil {
				return usageError(err)
			}
			est, err := scenario.Check(s, devices)
			if err != nil {
				return usageError(err)
			}
			return est.Write(env.Stdout)
		},
	}
	cmd.Flags().IntVarP(&devices, "devices", "c", defaultCheckDevices, "estimate the traffic at this many devices")
	return cmd
}

// problems says how many errors err joins: "1 error", "3 errors".
func problems(err error) string {
	n := 1
	if list, ok := err.(interface{ Unwrap() []error }); ok {
		n = len(list.Unwrap())
	}
	if n == 1 {
		return "1 error"
	}
	return fmt.Sprintf("%d errors", n)
}
