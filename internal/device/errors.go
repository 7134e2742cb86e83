package device

import (
	"errors"
	"fmt"
	"strconv"
)

// Kinds of fleet-file problems, for errors.Is on a *FleetError.
var (
	// ErrCSV means the file is not well-formed CSV (bare or unterminated quote).
	ErrCSV = errors.New("malformed CSV")
	// ErrFields means a row has the wrong number of fields.
	ErrFields = errors.New("wrong number of fields")
	// ErrBadID means a device ID is empty or has characters a device ID cannot have.
	ErrBadID = errors.New("invalid device ID")
	// ErrDuplicateID means a device ID appears on two rows.
	ErrDuplicateID = errors.New("duplicate device ID")
	// ErrNotPEM means a key field holds no PEM block of a key type ltk reads.
	ErrNotPEM = errors.New("key is not PEM")
	// ErrBadKey means a key's PEM or DER does not parse.
	ErrBadKey = errors.New("key does not parse")
	// ErrUnsupportedKey means a key parses but is of a type or size ltk does
	// not support (e.g. EC P-384, Ed25519, RSA-1024).
	ErrUnsupportedKey = errors.New("unsupported key")
)

// FleetError reports a problem in a fleet file (devicelist.csv or a registry
// file) at a line. Its message names the file, the line and the problem, and
// never holds key material:
//
//	devicelist.csv line 7: private key for LTK00007 is not PEM (want PKCS#1, SEC1 or PKCS#8)
type FleetError struct {
	File     string // the file's name as the user knows it
	Line     int    // 1-based line where the row starts; 0 if not about one row
	DeviceID string // the row's device ID, if known
	Err      error  // the problem; matches one of the ErrX kinds with errors.Is
}

// Error returns "FILE line N: problem".
func (e *FleetError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Err.Error()
	}
	return e.File + " line " + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

// Unwrap returns the problem.
func (e *FleetError) Unwrap() error { return e.Err }

// kindError is a problem worded for a person that matches a kind sentinel.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

// Problem returns an error whose message is the formatted text and which
// matches kind (one of the ErrX kinds) under errors.Is; registry files use it
// to report their rows' problems as FleetErrors of the same kinds.
func Problem(kind error, format string, args ...any) error {
	return problem(kind, format, args...)
}

// problem returns an error with the formatted message that matches kind.
func problem(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// prefixed returns err (a problem) with its message prefixed, keeping its kind.
func prefixed(prefix string, err error) error {
	var ke *kindError
	if errors.As(err, &ke) {
		return &kindError{kind: ke.kind, msg: prefix + ke.msg}
	}
	return fmt.Errorf("%s%w", prefix, err)
}
