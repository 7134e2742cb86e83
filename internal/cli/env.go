package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
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

	// Exit ends the process at once (a second Ctrl-C); nil in tests.
	Exit func(code int)

	dotenvVals   map[string]string // .env contents, read once
	dotenvLines  []dotenvVar       // the same in file order, with lines
	dotenvWarned bool              // unknown LTK_* keys of .env were reported
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
		Exit:    os.Exit,
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
	var wg sync.WaitGroup
	wg.Go(func() {
		for first := true; ; first = false {
			select {
			case <-ch:
			case <-done:
				return
			}
			if first {
				cancel()
				continue
			}
			select {
			case again <- struct{}{}:
			default:
			}
		}
	})
	return ctx, again, func() {
		signal.Stop(ch)
		close(done)
		wg.Wait()
		close(again)
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

// signals returns a context cancelled on the first interrupt, a channel told
// of every later one, and a function to release them. Without Env.Signals
// (tests) ctx is only cancelled by its parent.
func (env *Env) signals(parent context.Context) (context.Context, <-chan struct{}, func()) {
	if env.Signals == nil {
		ctx, cancel := context.WithCancel(parent)
		return ctx, nil, cancel
	}
	return env.Signals(parent)
}

// hardStop exits the process at once on a second interrupt, when the user
// does not want to wait for the graceful stop.
func hardStop(env *Env, again <-chan struct{}) {
	if again == nil || env.Exit == nil {
		return
	}
	if _, ok := <-again; ok {
		fmt.Fprintln(env.Stderr, "ltk: second interrupt, exiting without waiting for devices to stop")
		env.Exit(int(ExitError))
	}
}
