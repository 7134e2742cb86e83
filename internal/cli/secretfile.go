package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// secretFlags are the flags that carry a secret. Each gets a twin
// --NAME-file (LTK_NAME_FILE) that reads it from a file, since a flag's
// value shows in ps to every user of the machine.
var secretFlags = []string{"password", "backend-password", "backend-token", "cluster-token", "web-auth", "azure-connection-string"}

// fileSuffix names a secret flag's file twin: --password-file.
const fileSuffix = "-file"

// addSecretFileFlags gives every secret flag of cmd and its subcommands its
// --NAME-file twin, in the same flag set (persistent or local).
func addSecretFileFlags(cmd *cobra.Command) {
	for _, fs := range []*pflag.FlagSet{cmd.PersistentFlags(), cmd.LocalNonPersistentFlags()} {
		for _, name := range secretFlags {
			f := fs.Lookup(name)
			if f == nil || cmd.Flags().Lookup(name+fileSuffix) != nil {
				continue
			}
			target := cmd.PersistentFlags()
			if fs != cmd.PersistentFlags() {
				target = cmd.Flags()
			}
			target.String(name+fileSuffix, "", fmt.Sprintf("read --%s from this file (its first line), which ps does not show (%s)",
				name, EnvName(name+fileSuffix)))
		}
	}
	for _, sub := range cmd.Commands() {
		addSecretFileFlags(sub)
	}
}

// readSecretFiles sets each secret flag of cmd whose --NAME-file (or
// LTK_NAME_FILE) is given from that file. The file beats LTK_NAME and .env;
// giving both --NAME and --NAME-file is an error. Errors name the file,
// never its contents.
func readSecretFiles(env *Env, cmd *cobra.Command) error {
	fs := cmd.Flags()
	for _, name := range secretFlags {
		secret, file := fs.Lookup(name), fs.Lookup(name+fileSuffix)
		if secret == nil || file == nil {
			continue
		}
		path, src := file.Value.String(), "--"+file.Name
		if !file.Changed {
			path, _ = env.lookup(EnvName(file.Name))
			src = EnvName(file.Name)
		}
		if path == "" {
			continue
		}
		if secret.Changed {
			return usageError(fmt.Errorf("both --%s and %s are given: give the secret once (the file keeps it out of ps)", name, src))
		}
		v, err := readSecret(env.path(path))
		if err != nil {
			return usageError(fmt.Errorf("%s: %w", src, err))
		}
		if err := fs.Set(name, v); err != nil {
			return usageError(fmt.Errorf("%s %s: %w", src, path, err))
		}
	}
	return nil
}

// readSecret returns the first line of the file at path, without its line
// end: the secret; an empty one is an error.
func readSecret(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the secret: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", errors.New("the secret file " + path + " is empty (want the secret on its first line)")
	}
	return line, nil
}

// lookupSecret returns the secret variable key (LTK_PASSWORD), or the first
// line of the file key_FILE names, which wins as --NAME-file does.
func lookupSecret(env *Env, key string) (string, error) {
	if path, ok := env.lookup(key + "_FILE"); ok && path != "" {
		v, err := readSecret(env.path(path))
		if err != nil {
			return "", usageError(fmt.Errorf("%s_FILE: %w", key, err))
		}
		return v, nil
	}
	v, _ := env.lookup(key)
	return v, nil
}
