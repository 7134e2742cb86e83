package cli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Env is everything a command may take from the process: standard streams,
// arguments, environment and working directory. Only cmd/ltk builds one from
// the real process; tests build their own (see clitest).
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	Args   []string // without the program name
	// Getenv looks up an environment variable; ok reports whether it is set.
	Getenv func(key string) (value string, ok bool)
	// Dir is the working directory that relative paths (and .env) resolve against.
	Dir string
	// Signals returns a context cancelled on the first SIGINT/SIGTERM and a channel
	// that receives on every later one. Nil means "no signals" (tests).
	Signals func(parent context.Context) (ctx context.Context, again <-chan struct{}, stop func())

	dotenvVals map[string]string // .env contents, read once
}

// NewProcessEnv returns the Env of the running process.
func NewProcessEnv() *Env {
	dir, _ := os.Getwd()
	return &Env{
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Stdin:   os.Stdin,
		Args:    os.Args[1:],
		Getenv:  os.LookupEnv,
		Dir:     dir,
		Signals: processSignals,
	}
}

// processSignals cancels ctx on the first SIGINT or SIGTERM and reports each
// later one on again, so a second Ctrl-C can exit at once.
func processSignals(parent context.Context) (context.Context, <-chan struct{}, func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	again := make(chan struct{}, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		first := true
		for {
			select {
			case <-ch:
				if first {
					first = false
					cancel()
					continue
				}
				select {
				case again <- struct{}{}:
				default:
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, again, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}

// root is the ltk root directory: $LTK_ROOT (or .env's), else the working directory.
// Fleet files and results live under it.
func (env *Env) root() string {
	if r, ok := env.lookup("LTK_ROOT"); ok && r != "" {
		return env.path(r)
	}
	return env.Dir
}
