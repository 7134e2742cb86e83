package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Cmd is one external command: gcloud, kubectl or docker.
type Cmd struct {
	Name  string
	Args  []string
	Stdin []byte // fed to the command; nil for none
	// Secret says Stdin holds secrets: it is never printed, and a dry run
	// shows it redacted (Shown) instead.
	Secret bool
	// Shown is what a dry run prints in place of Stdin (the redacted form of
	// secret manifests); empty prints Stdin, unless Secret.
	Shown []byte
	// Query marks a command that only reads state; a dry run does not run it
	// and the caller assumes the state is absent.
	Query bool
	// Stream sends the command's output to the user as it comes (long steps
	// such as docker build and cluster creation) instead of capturing it.
	Stream bool
}

// String is the command line as a person would type it.
func (c Cmd) String() string {
	parts := make([]string, 0, len(c.Args)+1)
	parts = append(parts, c.Name)
	for _, a := range c.Args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$`\\|&;<>(){}*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	s := strings.Join(parts, " ")
	if c.Stdin != nil {
		s += " <<'EOF'"
	}
	return s
}

// Runner runs external commands. Run returns the command's standard output;
// a command that exits non-zero gives a *CmdError.
type Runner interface {
	Run(ctx context.Context, c Cmd) ([]byte, error)
}

// ErrDryRun is what a dry run's Runner returns for a Query it did not run.
var ErrDryRun = errors.New("dry run: not run")

// CmdError is a command that failed: its line, exit code and the end of its
// standard error.
type CmdError struct {
	Cmd      string
	ExitCode int // -1 when it did not start
	Stderr   string
	Err      error
}

// Error says which command failed and what it printed last.
func (e *CmdError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Cmd, e.Err)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ":\n" + indent(s, "    ")
	}
	return msg
}

func (e *CmdError) Unwrap() error { return e.Err }

// ExecRunner runs commands as processes, found on Path (a PATH list; empty
// uses the process's PATH). Streamed output goes to Out.
type ExecRunner struct {
	Path string
	Out  io.Writer
}

var _ Runner = (*ExecRunner)(nil)

// maxStderr is how much of a failed command's standard error is kept.
const maxStderr = 4096

// Run runs c and waits for it; ctx's end kills it.
func (r *ExecRunner) Run(ctx context.Context, c Cmd) ([]byte, error) {
	path, err := LookPath(c.Name, r.Path)
	if err != nil {
		return nil, &CmdError{Cmd: c.String(), ExitCode: -1, Err: err}
	}
	cmd := exec.CommandContext(ctx, path, c.Args...)
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	stderrTail := &tailWriter{max: maxStderr, buf: &stderr}
	cmd.Stdout, cmd.Stderr = &stdout, stderrTail
	if c.Stream && r.Out != nil {
		cmd.Stdout = io.MultiWriter(&stdout, r.Out)
		cmd.Stderr = io.MultiWriter(stderrTail, r.Out)
	}
	if err := cmd.Run(); err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return stdout.Bytes(), &CmdError{Cmd: c.String(), ExitCode: code, Stderr: stderr.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// LookPath finds an executable named name in the directories of pathList
// (the process's PATH when empty).
func LookPath(name, pathList string) (string, error) {
	if pathList == "" {
		pathList = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH: %w", name, exec.ErrNotFound)
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	buf *bytes.Buffer
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if over := w.buf.Len() - w.max; over > 0 {
		w.buf.Next(over)
	}
	return len(p), nil
}

// DryRunner prints every command to Out instead of running it, with its
// standard input (redacted when secret), and runs nothing.
type DryRunner struct {
	Out io.Writer
}

var _ Runner = (*DryRunner)(nil)

// Run prints c. Queries return ErrDryRun, so that callers plan as if nothing
// existed; other commands succeed with no output.
func (r *DryRunner) Run(_ context.Context, c Cmd) ([]byte, error) {
	fmt.Fprintf(r.Out, "$ %s\n", c)
	if c.Stdin != nil {
		shown := c.Stdin
		if c.Secret || len(c.Shown) > 0 {
			shown = c.Shown
		}
		if len(shown) > 0 {
			r.Out.Write(shown)
			if shown[len(shown)-1] != '\n' {
				fmt.Fprintln(r.Out)
			}
		}
		fmt.Fprintln(r.Out, "EOF")
	}
	if c.Query {
		return nil, ErrDryRun
	}
	return nil, nil
}

func indent(s, pad string) string {
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}
