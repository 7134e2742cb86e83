package cli

import (
	"bufio"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/internal/kube"
)

func init() { register(newTeardownCmd) }

func newTeardownCmd(env *Env) *cobra.Command {
	var (
		cfg kube.TeardownConfig
		yes bool
	)
	cmd := &cobra.Command{
		Use:   "teardown",
		Short: "Delete what ltk setup made: the namespace, and the cluster and image repository if setup created them",
		Long: `Teardown deletes what 'ltk setup' made, as recorded in $LTK_ROOT/.ltk-setup.json:
the ltk namespace (master, workers, target, the web UI's load balancer, the Secrets),
then the GKE cluster and the Artifact Registry repository, each only if setup created
it. A cluster that existed before setup, or one reached with --use-context, is kept.
Without the record it deletes only the namespace in kubectl's current context.

It shows what it will delete and asks first; --yes skips the question.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Out = env.Stdout
			cfg.Path, _ = env.lookup("PATH")
			cfg.StatePath = filepath.Join(env.root(), kube.StateFile)
			if !yes {
				cfg.Confirm = func(string) bool { return confirm(env, "Delete these? [y/N] ") }
			}
			var r kube.Runner = &kube.ExecRunner{Path: cfg.Path, Out: env.Stderr}
			if cfg.DryRun {
				r = &kube.DryRunner{Out: env.Stdout}
			}
			err := kube.Teardown(cmd.Context(), cfg, r)
			if errors.Is(err, kube.ErrNotConfirmed) {
				return withHint(err, "answer y, or run ltk teardown --yes")
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.BoolVarP(&yes, "yes", "y", false, "delete without asking")
	fs.BoolVar(&cfg.DryRun, "dry-run", false, "print the commands; delete nothing")
	fs.StringVar(&cfg.Namespace, "namespace", kube.DefaultNamespace, "namespace to delete when there is no record of ltk setup")
	return cmd
}

// confirm asks question on standard output and reads a yes from standard input.
func confirm(env *Env, question string) bool {
	fmt.Fprint(env.Stdout, question)
	line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	fmt.Fprintln(env.Stdout)
	return false
}
