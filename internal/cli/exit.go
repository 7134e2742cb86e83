package cli

import (
	"errors"
	"fmt"
)

// Exit codes of the ltk process.
const (
	ExitOK       = 0
	ExitFailures = 1 // the test ran, and failures were recorded (Locust's --exit-code-on-error)
	ExitError    = 2 // ltk could not do what was asked
	ExitUsage    = 3 // bad flags, arguments or configuration
	ExitPanic    = 70
)

// ExitError is an error that carries the process exit code and an optional
// hint telling the user what to do.
type exitError struct {
	err  error
	code int
	hint string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExitCode attaches an exit code to err; nil stays nil.
func withExitCode(err error, code int) error {
	if err == nil {
		return nil
	}
	return &exitError{err: err, code: code}
}

// withHint attaches a hint for the user to err; nil stays nil.
func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return &exitError{err: ee.err, code: ee.code, hint: hint}
	}
	return &exitError{err: err, code: ExitError, hint: hint}
}

func usageError(err error) error { return withExitCode(err, ExitUsage) }

// errFailuresRecorded ends a test that completed with failures (exit code 1).
var errFailuresRecorded = withExitCode(errors.New("failures were recorded"), ExitFailures)

// report prints err (if any) and returns the exit code it maps to.
func report(env *Env, err error) int {
	if err == nil {
		return ExitOK
	}
	code := ExitError
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if errors.Is(err, errFailuresRecorded) {
		return ExitFailures
	}
	fmt.Fprintf(env.Stderr, "ltk: %v\n", err)
	if ee != nil && ee.hint != "" {
		fmt.Fprintf(env.Stderr, "hint: %s\n", ee.hint)
	}
	if code == ExitUsage && ee != nil && ee.hint == "" {
		fmt.Fprintln(env.Stderr, "Run 'ltk --help' or 'ltk COMMAND --help' for usage.")
	}
	return code
}
