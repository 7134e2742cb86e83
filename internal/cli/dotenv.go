package cli

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// dotenvVar is one assignment of a .env file.
type dotenvVar struct {
	Key, Value string
	Line       int // 1-based line of the key
}

// dotenvError is a .env syntax error. It names the file and the line and,
// because .env holds tokens and passwords, never quotes the file's text.
type dotenvError struct {
	File string
	Line int
	What string
}

func (e *dotenvError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.What)
}

// The syntax errors of parseDotenv: fixed texts, so that none can quote
// the file.
const (
	errNoEquals   = "want KEY=VALUE (a line without '=')"
	errBadKey     = "the key before '=' is not a variable name (letters, digits, _ and ., not starting with a digit)"
	errAfterQuote = "text after the closing quote (quote the whole value, or put a # before a comment)"
	errOpenDouble = `the value's " quote is never closed`
	errOpenSingle = "the value's ' quote is never closed"
)

// parseDotenv reads the .env syntax ltk accepts: KEY=VALUE lines, blank
// lines and # comments, an optional "export " before the key, values bare
// (an inline comment needs a space before its #), in 'single quotes'
// (taken as is) or in "double quotes" (\n, \t, \", \\ and \$ are escapes).
// Quoted values may span lines. A UTF-8 byte order mark at the start is
// skipped. $VAR is not expanded. Every error names name and the line, never
// a value.
func parseDotenv(name string, data []byte) ([]dotenvVar, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	src := strings.ReplaceAll(string(data), "\r\n", "\n")
	var vars []dotenvVar
	line := 1
	for len(src) > 0 {
		nl := strings.IndexByte(src, '\n')
		text := src
		if nl >= 0 {
			text = src[:nl]
		}
		trimmed := strings.TrimSpace(text)
		if trimmed == "" || trimmed[0] == '#' {
			src, line = advance(src, nl), line+1
			continue
		}
		trimmed = strings.TrimPrefix(trimmed, "export ")
		key, rest, ok := strings.Cut(trimmed, "=")
		key = strings.TrimSpace(key)
		if !ok {
			return nil, &dotenvError{name, line, errNoEquals}
		}
		if !validEnvKey(key) {
			return nil, &dotenvError{name, line, errBadKey}
		}
		rest = strings.TrimLeft(rest, " \t")
		v := dotenvVar{Key: key, Line: line}
		if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
			// The value may continue past this line: parse from its
			// opening quote, the line's first (keys hold none).
			start := strings.IndexAny(text, `"'`)
			val, used, lines, err := quoted(src[start:])
			if err != nil {
				return nil, &dotenvError{name, line, err.Error()}
			}
			after := src[start+used:]
			end := strings.IndexByte(after, '\n')
			tail := after
			if end >= 0 {
				tail = after[:end]
			}
			if t := strings.TrimSpace(tail); t != "" && t[0] != '#' {
				return nil, &dotenvError{name, line + lines, errAfterQuote}
			}
			v.Value = val
			if end < 0 {
				src = ""
			} else {
				src = after[end+1:]
			}
			line += lines + 1
		} else {
			if i := strings.Index(rest, " #"); i >= 0 {
				rest = rest[:i]
			}
			v.Value = strings.TrimSpace(rest)
			src, line = advance(src, nl), line+1
		}
		vars = append(vars, v)
	}
	return vars, nil
}

// advance returns src past the newline at nl (or "" at the last line).
func advance(src string, nl int) string {
	if nl < 0 {
		return ""
	}
	return src[nl+1:]
}

// quoted reads a quoted value at the start of s: the value, the bytes used
// (closing quote included) and the newlines crossed.
func quoted(s string) (val string, used, lines int, err error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1, lines, nil
		case c == '\\' && q == '"' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '"', '\\', '$':
				b.WriteByte(s[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
			if s[i] == '\n' {
				lines++
			}
		default:
			if c == '\n' {
				lines++
			}
			b.WriteByte(c)
		}
	}
	if q == '"' {
		return "", 0, 0, errors.New(errOpenDouble)
	}
	return "", 0, 0, errors.New(errOpenSingle)
}

// validEnvKey reports whether k is a variable name .env may set.
func validEnvKey(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// extraEnvKeys are the LTK_* variables ltk reads that mirror no flag.
var extraEnvKeys = []string{
	"LTK_ROOT", "LTK_REGISTRY", "LTK_REGISTRY_BACKEND", "LTK_REGISTRY_ENDPOINT",
	"LTK_MQTT_BRIDGE", "LTK_PASSWORD", "LTK_ARTIFACTS",
}

// warnUnknownKeys warns, once, of every LTK_* key of .env that no flag of
// root's tree (nor any other variable ltk reads) has, naming the closest
// valid one: a typo would otherwise be ignored without a word.
func warnUnknownKeys(env *Env, root *cobra.Command) {
	if env.dotenvWarned || len(env.dotenvLines) == 0 {
		return
	}
	env.dotenvWarned = true
	known := knownEnvKeys(root)
	for _, v := range env.dotenvLines {
		if !strings.HasPrefix(v.Key, "LTK_") {
			continue
		}
		if _, ok := known[v.Key]; ok {
			continue
		}
		fmt.Fprintf(env.Stderr, "ltk: warning: %s:%d: %s is no flag's variable and is ignored; did you mean %s?\n",
			filepath.Join(env.Dir, ".env"), v.Line, v.Key, closestKey(v.Key, known))
	}
}

// knownEnvKeys returns the LTK_* variables of every flag of root's tree,
// of the tutorial's fallback names and of extraEnvKeys.
func knownEnvKeys(root *cobra.Command) map[string]struct{} {
	known := map[string]struct{}{}
	for _, k := range extraEnvKeys {
		known[k] = struct{}{}
	}
	for _, m := range []map[string]string{targetEnvFallbacks, setupEnvFallbacks} {
		for _, k := range m {
			known[k] = struct{}{}
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) { known[EnvName(f.Name)] = struct{}{} }
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return known
}

// closestKey returns the key of known nearest to k by edit distance (ties:
// the alphabetically first).
func closestKey(k string, known map[string]struct{}) string {
	best, bestD := "", -1
	for c := range known {
		d := levenshtein.ComputeDistance(k, c)
		if bestD < 0 || d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	return best
}
