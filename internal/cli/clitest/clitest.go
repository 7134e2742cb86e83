// Package clitest runs ltk commands in-process for tests, with buffered
// output, a private working directory and a controlled environment.
package clitest

import (
	"context"
	"strings"
	"testing"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/syncbuf"
)

// Env is a test environment for ltk commands.
type Env struct {
	*cli.Env
	Vars   map[string]string // the environment the command sees
	stdout syncbuf.Buffer
	stderr syncbuf.Buffer
}

// NewEnv returns an environment whose working directory is a fresh
// t.TempDir() and whose environment holds only vars.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	e := &Env{Vars: map[string]string{}}
	e.Env = &cli.Env{
		Stdout: &e.stdout,
		Stderr: &e.stderr,
		Stdin:  strings.NewReader(""),
		Dir:    t.TempDir(),
		Getenv: func(k string) (string, bool) { v, ok := e.Vars[k]; return v, ok },
	}
	return e
}

// Run runs ltk with args and returns its exit code.
func (e *Env) Run(args ...string) cli.ExitCode {
	e.Args = args
	return cli.Main(e.Env)
}

// RunContext runs ltk with args under ctx (cmd.Context() in the commands)
// and returns its exit code.
func (e *Env) RunContext(ctx context.Context, args ...string) cli.ExitCode {
	e.Args = args
	return cli.MainContext(ctx, e.Env)
}

// Stdout returns what the commands printed to standard output so far.
func (e *Env) Stdout() string { return e.stdout.String() }

// Stderr returns what the commands printed to standard error so far.
func (e *Env) Stderr() string { return e.stderr.String() }

// Reset empties the captured output.
func (e *Env) Reset() { e.stdout.Reset(); e.stderr.Reset() }
