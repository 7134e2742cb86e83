package cli

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// ExitCode is the status the ltk process ends with. Only this package
// decides it (k6's errext.ExitCode): commands return errors, wrapped with
// withExitCode where the default (ExitError) is not right, and exit turns the
// final error into the process's code.
type ExitCode int

// Exit codes of the ltk process. Scripts and CI depend on these values.
const (
	ExitOK       ExitCode = 0
	ExitFailures ExitCode = 1  // the test ran, and failures were recorded (Locust's --exit-code-on-error)
	ExitError    ExitCode = 2  // ltk could not do what was asked
	ExitUsage    ExitCode = 3  // bad flags, arguments or configuration
	ExitPanic    ExitCode = 70 // a bug in ltk: a command panicked
	// ExitInterrupted ends a command that Ctrl-C stopped before it finished
	// (128 + SIGINT, as a shell reports a process the signal killed).
	ExitInterrupted ExitCode = 130
)

// exitError is an error that carries the process exit code and an optional
// hint telling the user what to do.
type exitError struct {
	err  error
	code ExitCode
	hint string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExitCode attaches an exit code to err, replacing any it carried; nil
// stays nil.
func withExitCode(err error, code ExitCode) error {
	if err == nil {
		return nil
	}
	return &exitError{err: err, code: code, hint: hintOf(err)}
}

// withHint attaches a hint for the user to err, keeping its exit code
// (ExitError if it had none); nil stays nil.
func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &exitError{err: err, code: exitCodeOf(err), hint: hint}
}

// usageError marks err as the user's mistake in flags, arguments or
// configuration (ExitUsage).
func usageError(err error) error { return withExitCode(err, ExitUsage) }

// errFailuresRecorded ends a test that completed with failures: exit code 1,
// or the one --exit-code-on-error names, and nothing printed.
var errFailuresRecorded = withExitCode(errors.New("failures were recorded"), ExitFailures)

// exitCodeOf returns the exit code err carries: the outermost one in its
// chain, or ExitError when it carries none.
func exitCodeOf(err error) ExitCode {
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.code
	}
	return ExitError
}

// hintOf returns the hint err carries (the outermost), or "".
func hintOf(err error) string {
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.hint
	}
	return ""
}

// exit runs a command and maps its outcome to the process's exit code: the
// one place that does. It prints the error and its hint on env.Stderr, and a
// panic in run gets its own code, ExitPanic, with the stack to report.
func exit(env *Env, run func() error) (code ExitCode) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(env.Stderr, "ltk: internal error: %v\n%s\nPlease report this with the command you ran.\n", r, debug.Stack())
			code = ExitPanic
		}
	}()
	return report(env, run())
}

// report prints err (if any) and returns the exit code it maps to.
func report(env *Env, err error) ExitCode {
	if err == nil {
		return ExitOK
	}
	code := exitCodeOf(err)
	if errors.Is(err, errFailuresRecorded) {
		return code // the summary said it already
	}
	fmt.Fprintf(env.Stderr, "ltk: %v\n", err)
	hint := hintOf(err)
	switch {
	case hint != "":
		fmt.Fprintf(env.Stderr, "hint: %s\n", hint)
	case code == ExitUsage:
		fmt.Fprintln(env.Stderr, "Run 'ltk --help' or 'ltk COMMAND --help' for usage.")
	}
	return code
}
