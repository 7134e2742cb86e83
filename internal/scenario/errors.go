package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
	"go.yaml.in/yaml/v3"
)

// An Error is one thing wrong with a scenario file, at a line and column
// (both from 1; Line 0 when the file as a whole is at fault, Column 0 when
// only the line is known, as for YAML syntax errors).
type Error struct {
	File         string
	Line, Column int
	Msg          string
}

// Error returns "file:line:column: message".
func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return e.File + ": " + e.Msg
	case e.Column == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// errs collects a file's errors, so that one load reports them all.
type errs struct {
	file  string
	lines []string // the source, for positions inside block scalars
	list  []*Error
}

// at records an error at n (the file when n is nil).
func (e *errs) at(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	e.atPos(line, col, format, args...)
}

// atPos records an error at line and column.
func (e *errs) atPos(line, col int, format string, args ...any) {
	e.list = append(e.list, &Error{File: e.file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)})
}

// inside returns the line and column of the byte at offset off of the
// string value of scalar n. It is exact for plain, single-line quoted
// strings without escapes and for literal blocks, and close otherwise.
func (e *errs) inside(n *yaml.Node, off int) (line, col int) {
	s := n.Value
	off = min(max(off, 0), len(s))
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		line = n.Line + 1 + strings.Count(s[:off], "\n")
		indent := 0
		if n.Line < len(e.lines) { // e.lines[n.Line] is the block's first line
			l := e.lines[n.Line]
			indent = len(l) - len(strings.TrimLeft(l, " "))
		}
		return line, indent + 1 + off - (strings.LastIndexByte(s[:off], '\n') + 1)
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		if !strings.Contains(s[:off], "\n") {
			return n.Line, n.Column + 1 + off
		}
	}
	if i := strings.LastIndexByte(s[:off], '\n'); i >= 0 {
		return n.Line + strings.Count(s[:off], "\n"), off - i
	}
	return n.Line, n.Column + off
}

// err returns the collected errors sorted by position, joined, or nil.
func (e *errs) err() error {
	if len(e.list) == 0 {
		return nil
	}
	slices.SortStableFunc(e.list, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	list := make([]error, len(e.list))
	for i, x := range e.list {
		list[i] = x
	}
	return errors.Join(list...)
}

// suggest returns " (did you mean X?)" for the valid name closest to got,
// or the list of valid names when none is close.
func suggest(got string, valid []string) string {
	best, bestD := "", 1<<30
	for _, v := range valid {
		if d := levenshtein.ComputeDistance(strings.ToLower(got), v); d < bestD {
			best, bestD = v, d
		}
	}
	if best != "" && bestD <= max(2, len(best)/3) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (valid: " + strings.Join(valid, ", ") + ")"
}
