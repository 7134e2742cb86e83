// Package cli is ltk's command tree: one file per subcommand, the binding of
// flags to LTK_* environment variables and .env files, signals and exit codes.
// It holds no business logic; commands compose the domain packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Version is the ltk version, set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// Main runs the ltk command line in env and returns the process exit code.
func Main(env *Env) ExitCode { return MainContext(context.Background(), env) }

// MainContext is Main with a context that commands get as cmd.Context();
// cancelling it interrupts them as Ctrl-C would.
func MainContext(ctx context.Context, env *Env) ExitCode {
	return exit(env, func() error {
		root := NewRootCmd(env)
		root.SetArgs(env.Args)
		return root.ExecuteContext(ctx)
	})
}

// NewRootCmd builds the whole ltk command tree bound to env.
func NewRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "ltk",
		Short: "Load-test kit for IoT back ends: simulated MQTT devices, an embedded IoT target, live stats",
		Long: `ltk simulates a population of MQTT devices, drives them against an IoT back end,
measures every round trip and reports how the back end behaved.

Every flag can also be set with an LTK_* environment variable (--spawn-rate is
LTK_SPAWN_RATE) or in a .env file in the working directory. Flags beat the
environment, and the environment beats .env.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindEnv(env, cmd)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetIn(env.Stdin)
	for _, add := range commands {
		root.AddCommand(add(env))
	}
	usageArgs(root)
	addSecretFileFlags(root)
	return root
}

// commands lists the subcommand constructors; each subcommand file registers
// itself in an init function so that files can be added independently.
var commands []func(*Env) *cobra.Command

func register(newCmd func(*Env) *cobra.Command) { commands = append(commands, newCmd) }

// lookup returns the value of an environment variable, falling back to the
// .env file in env.Dir. The process environment wins over .env.
func (env *Env) lookup(key string) (string, bool) {
	if v, ok := env.Getenv(key); ok {
		return v, true
	}
	vals, _ := env.dotenv() // a malformed .env was reported when flags were bound
	v, ok := vals[key]
	return v, ok
}

// dotenv returns the variables of .env in the working directory, read once;
// a missing file is empty, a malformed one an error naming its file and
// line (never its text: .env holds tokens and passwords).
func (env *Env) dotenv() (map[string]string, error) {
	if env.dotenvVals == nil {
		path := filepath.Join(env.Dir, ".env")
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			env.dotenvVals = map[string]string{}
			return env.dotenvVals, nil
		}
		if err != nil {
			return nil, usageError(fmt.Errorf("read %s: %w", path, err))
		}
		vars, err := parseDotenv(path, data)
		if err != nil {
			return nil, withHint(usageError(err), "fix that line of the file or remove the file")
		}
		env.dotenvVals = make(map[string]string, len(vars))
		for _, v := range vars {
			env.dotenvVals[v.Key] = v.Value
		}
		env.dotenvLines = vars
	}
	return env.dotenvVals, nil
}

// EnvName is the environment variable that mirrors a flag: --spawn-rate is LTK_SPAWN_RATE.
func EnvName(flag string) string {
	return "LTK_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv sets every flag of cmd that was not given on the command line from
// its LTK_* variable (or .env). A value that does not parse names the variable.
func bindEnv(env *Env, cmd *cobra.Command) error {
	if _, err := env.dotenv(); err != nil {
		return err
	}
	warnUnknownKeys(env, cmd.Root())
	if err := readSecretFiles(env, cmd); err != nil {
		return err
	}
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" || f.Name == "version" {
			return
		}
		v, ok := env.lookup(EnvName(f.Name))
		if !ok {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q (for --%s): %w", EnvName(f.Name), v, f.Name, err))
		}
	})
	return usageError(errors.Join(errs...))
}

// path resolves p against the working directory.
func (env *Env) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(env.Dir, p)
}

// usageArgs makes argument errors of cmd and its subcommands usage errors
// (exit code ExitUsage), as flag errors are.
func usageArgs(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error { return usageError(args(c, a)) }
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}
