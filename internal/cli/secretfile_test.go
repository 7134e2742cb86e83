package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// secretCommands returns every command of the tree with a secret flag,
// with the name of the flag.
func secretCommands(root *cobra.Command) map[*cobra.Command][]string {
	out := map[*cobra.Command][]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, name := range secretFlags {
			if c.Flags().Lookup(name) != nil || c.InheritedFlags().Lookup(name) != nil {
				out[c] = append(out[c], name)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// TestSecretFileFlags: every secret flag of every command has a --NAME-file
// twin and an LTK_NAME_FILE variable that set it from a file's first line;
// the file beats LTK_NAME; --NAME with --NAME-file, and an empty or missing
// file, are errors that never print the secret.
func TestSecretFileFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("user:s3cr3t-from-file\r\nsecond line\n"), 0o600))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))

	newEnv := func(vars map[string]string) *Env {
		return &Env{Stdout: io.Discard, Stderr: io.Discard, Dir: dir,
			Getenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	}
	// bind parses args for the command at path and binds the environment.
	bind := func(vars map[string]string, path []string, args ...string) (*cobra.Command, error) {
		root := NewRootCmd(newEnv(vars))
		cmd, _, err := root.Find(path)
		require.NoError(t, err)
		require.NoError(t, cmd.ParseFlags(args))
		return cmd, bindEnv(newEnv(vars), cmd)
	}

	cmds := secretCommands(NewRootCmd(newEnv(nil)))
	var names []string
	for cmd, flags := range cmds {
		path := strings.Fields(cmd.CommandPath())[1:]
		for _, name := range flags {
			names = append(names, cmd.CommandPath()+" --"+name)
			t.Run(strings.Join(path, "_")+"_"+name, func(t *testing.T) {
				c, err := bind(nil, path, "--"+name+"-file", secret)
				require.NoError(t, err)
				require.Equal(t, "user:s3cr3t-from-file", c.Flags().Lookup(name).Value.String())

				c, err = bind(map[string]string{EnvName(name + "-file"): "secret", EnvName(name): "from-env"}, path)
				require.NoError(t, err)
				require.Equal(t, "user:s3cr3t-from-file", c.Flags().Lookup(name).Value.String(), "the file beats LTK_NAME")

				_, err = bind(nil, path, "--"+name, "x", "--"+name+"-file", secret)
				require.ErrorContains(t, err, "both --"+name+" and --"+name+"-file are given")

				_, err = bind(map[string]string{EnvName(name + "-file"): empty}, path)
				require.ErrorContains(t, err, EnvName(name+"-file")+": the secret file "+empty+" is empty")

				_, err = bind(nil, path, "--"+name+"-file", filepath.Join(dir, "missing"))
				require.ErrorContains(t, err, "missing: no such file")
			})
		}
	}
	// The secret flags ltk has today; a new one is covered by the loop above.
	for _, want := range []string{"ltk master --cluster-token", "ltk worker --cluster-token", "ltk run --password",
		"ltk run --web-auth", "ltk target --backend-token", "ltk setup --web-auth", "ltk setup --cluster-token", "ltk echo --password"} {
		require.Contains(t, names, want)
	}
}
