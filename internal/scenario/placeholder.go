package scenario

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// token is one word of a placeholder: a name, a number or a quoted string.
type token struct {
	s      string // the word, or the unquoted string
	off    int    // byte offset in the template
	quoted bool
}

// call is a placeholder being compiled: its function's arguments and where
// to report what is wrong with them.
type call struct {
	k     *kindCompiler
	n     *yaml.Node
	name  string
	args  []token
	where string
	sc    scope
	ok    bool
}

// fail records an error at argument i (-1: the name) and marks the call bad.
func (c *call) fail(i int, format string, args ...any) {
	off := c.args[0].off
	if i >= 0 && i+1 < len(c.args) {
		off = c.args[i+1].off
	}
	c.k.errInside(c.n, off, "%s: {{%s}}: "+format, append([]any{c.where, c.name}, args...)...)
	c.ok = false
}

// arg returns argument i, if given.
func (c *call) arg(i int) (token, bool) {
	if i+1 < len(c.args) {
		return c.args[i+1], true
	}
	return token{}, false
}

// num returns argument i as a number, def when it is not given.
func (c *call) num(i int, def float64) float64 {
	t, ok := c.arg(i)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(t.s, 64)
	if t.quoted || err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		c.fail(i, "%q is not a number", t.s)
		return def
	}
	return f
}

// integer returns argument i as an integer, def when it is not given.
func (c *call) integer(i int, def int64) int64 {
	t, ok := c.arg(i)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(t.s, 10, 64)
	if t.quoted || err != nil {
		c.fail(i, "%q is not a whole number", t.s)
		return def
	}
	return n
}

// size returns argument i as a size in bytes, from 1 to limit.
func (c *call) size(i int, limit int64) int {
	n := c.integer(i, 1)
	if n < 1 || n > limit {
		c.fail(i, "size %d is out of range: use 1 to %d", n, limit)
		return 1
	}
	return int(n)
}

// decimals returns argument i as a number of decimals (default 2).
func (c *call) decimals(i int) int {
	d := c.integer(i, 2)
	if d < 0 || d > 15 {
		c.fail(i, "%d decimals: use 0 to 15", d)
		return 2
	}
	return int(d)
}

// text returns argument i, which must be a quoted string.
func (c *call) text(i int) string {
	t, _ := c.arg(i)
	if !t.quoted {
		c.fail(i, "%s must be a quoted string, such as \"%s\"", t.s, t.s)
	}
	return t.s
}

// tokenize splits a placeholder's body, which starts at byte base of the
// template, into tokens; the error is the offset and text of a bad quote.
func tokenize(body string, base int) ([]token, int, string) {
	var toks []token
	for i := 0; i < len(body); {
		switch c := body[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"', '\'':
			j := i + 1
			for j < len(body) && body[j] != c {
				if c == '"' && body[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(body) {
				return nil, base + i, "the quoted string is not closed"
			}
			s := body[i+1 : j]
			if c == '"' {
				u, err := strconv.Unquote(body[i : j+1])
				if err != nil {
					return nil, base + i, "bad escape in the quoted string (Go escapes: \\n, \\\", \\\\, \\x00)"
				}
				s = u
			}
			toks = append(toks, token{s: s, off: base + i, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(body) && !strings.ContainsRune(" \t\n\r\"'", rune(body[j])) {
				j++
			}
			toks = append(toks, token{s: body[i:j], off: base + i})
			i = j
		}
	}
	return toks, 0, ""
}

// placeholder compiles the body of one {{ placeholder }}, which starts at
// byte base of the template.
func (k *kindCompiler) placeholder(n *yaml.Node, body string, base int, where string, sc scope) (part, bool) {
	trimmed := strings.TrimLeft(body, " \t\r\n")
	at := base + len(body) - len(trimmed)
	if expr, ok := strings.CutPrefix(trimmed, "="); ok {
		return k.exprPart(n, expr, at+1, where, sc)
	}
	toks, off, msg := tokenize(body, base)
	if msg != "" {
		k.errInside(n, off, "%s: %s", where, msg)
		return nil, false
	}
	if len(toks) == 0 {
		k.errInside(n, base, "%s: empty {{}}: name a value, such as {{device}}", where)
		return nil, false
	}
	if toks[0].quoted {
		if len(toks) > 1 {
			k.errInside(n, toks[1].off, "%s: a quoted string stands alone in its {{}}", where)
			return nil, false
		}
		return lit(toks[0].s), true
	}
	f, known := functions[toks[0].s]
	if !known {
		k.errInside(n, toks[0].off, "%s: unknown value {{%s}}%s", where, toks[0].s, suggest(toks[0].s, functionNames()))
		return nil, false
	}
	c := &call{k: k, n: n, name: toks[0].s, args: toks, where: where, sc: sc, ok: true}
	if args := len(toks) - 1; args < f.min || (f.max >= 0 && args > f.max) {
		c.fail(-1, "takes %s", f.usage())
		return nil, false
	}
	if f.message && !sc.message {
		c.fail(-1, "reads the received message, which only a reaction's reply has")
		return nil, false
	}
	if f.mqtt5 && !k.v5 {
		c.fail(-1, "is an MQTT 5 property: set connect.mqtt_version: 5 in kind %s", k.info.name)
		return nil, false
	}
	if f.noTopic && sc.noPad {
		c.fail(-1, "cannot be used in a %s", sc.what)
		return nil, false
	}
	p := f.build(c)
	return p, c.ok
}

// functionNames lists the placeholder names, sorted.
func functionNames() []string {
	names := make([]string, 0, len(functions))
	for name := range functions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
