package scenario

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ltk-dev/ltk/internal/sim"
)

// A Template is a topic, payload or connection template, compiled once:
// literal text and {{ placeholders }} turned into a list of parts. Append
// renders it for one device into a caller's buffer and allocates nothing
// once the buffer has grown, except for {{= expressions }}, which run the
// expression library. A Template is read-only and safe for concurrent use.
type Template struct {
	src   string
	parts []part
	// esc[i]: part i sits inside a JSON string, so its output is escaped.
	esc []bool
	// pad is the index of the {{pad N}} part, or -1; the rendering is
	// filled with padFill at that place up to padTo bytes.
	pad     int
	padTo   int
	padFill byte
}

var _ sim.Template = (*Template)(nil)

// part renders one piece of a template.
type part interface {
	appendTo(dst []byte, v *sim.Vars) []byte
}

// Append appends the rendering of t for v to dst.
func (t *Template) Append(dst []byte, v *sim.Vars) []byte {
	start, padAt := len(dst), -1
	for i, p := range t.parts {
		if i == t.pad {
			padAt = len(dst)
			continue
		}
		s := len(dst)
		dst = p.appendTo(dst, v)
		if t.esc[i] {
			dst = escapeJSON(dst, s)
		}
	}
	if padAt >= 0 {
		dst = padAt0(dst, padAt, t.padTo-(len(dst)-start), t.padFill)
	}
	return dst
}

// String returns the template's source.
func (t *Template) String() string { return t.src }

// padAt0 inserts n copies of fill at position at of b (nothing if n ≤ 0).
func padAt0(b []byte, at, n int, fill byte) []byte {
	if n <= 0 {
		return b
	}
	end := len(b)
	b = grow(b, n)
	copy(b[at+n:], b[at:end])
	b[at] = fill
	for done := 1; done < n; done *= 2 {
		copy(b[at+done:at+n], b[at:at+done])
	}
	return b
}

// grow extends b by n bytes (their content unspecified).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// escapeJSON escapes b[start:] in place as the inside of a JSON string.
func escapeJSON(b []byte, start int) []byte {
	extra := 0
	for _, c := range b[start:] {
		extra += escLen(c) - 1
	}
	if extra == 0 {
		return b
	}
	end := len(b)
	b = grow(b, extra)
	w := len(b)
	for r := end - 1; r >= start; r-- {
		c := b[r]
		switch n := escLen(c); n {
		case 1:
			w--
			b[w] = c
		case 2:
			w -= 2
			b[w], b[w+1] = '\\', escChar(c)
		default:
			w -= 6
			const hex = "0123456789abcdef"
			b[w], b[w+1], b[w+2], b[w+3], b[w+4], b[w+5] = '\\', 'u', '0', '0', hex[c>>4], hex[c&15]
		}
	}
	return b
}

// needsEscape reports whether s holds a byte a JSON string must escape.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if escLen(s[i]) > 1 {
			return true
		}
	}
	return false
}

// escLen is how many bytes c takes inside a JSON string.
func escLen(c byte) int {
	switch {
	case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
		return 2
	case c < 0x20:
		return 6
	}
	return 1
}

// escChar is the letter of a two-byte JSON escape.
func escChar(c byte) byte {
	switch c {
	case '\n':
		return 'n'
	case '\r':
		return 'r'
	case '\t':
		return 't'
	case '\b':
		return 'b'
	case '\f':
		return 'f'
	}
	return c // '"' and '\\'
}

// jsonSafe reports whether p never renders a byte that a JSON string must
// escape, so that its output needs no escaping pass.
func jsonSafe(p part) bool {
	switch p := p.(type) {
	case intPart, floatPart, walkPart, uuidPart, padPart:
		return true
	case randBytesPart:
		return p.enc != 'r'
	case timePart:
		return p.unit != 0 || !needsEscape(p.layout)
	case varPart:
		return p == vIndex || p == vWorker || p == vSeq
	}
	return false
}

// scope says what a template may read.
type scope struct {
	what    string // "topic", "payload", ... for messages
	message bool   // the received message (reaction replies)
	json    bool   // a JSON payload: placeholders inside strings are escaped
	noPad   bool   // topics and ids take no padding
}

// isJSON reports whether a payload template is JSON: it starts with '[' or
// with '{' that does not open a placeholder.
func isJSON(src string) bool {
	s := strings.TrimLeft(src, " \t\r\n")
	return strings.HasPrefix(s, "[") || (strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "{{"))
}

// template compiles the template at n (a scalar) for scope sc; nil when n
// is absent or wrong, with the error recorded.
func (k *kindCompiler) template(v value, where string, sc scope) *Template {
	if !v.set() {
		return nil
	}
	n := v.n
	if n.Kind != yaml.ScalarNode {
		k.e.at(n, "%s must be text, such as \"/devices/{{device}}/events\"", where)
		return nil
	}
	t, _ := k.parseTemplate(n, n.Value, where, sc)
	return t
}

// parseTemplate compiles src, the value of n, recording errors with their
// place in n; ok is false when there were errors.
func (k *kindCompiler) parseTemplate(n *yaml.Node, src, where string, sc scope) (*Template, bool) {
	t := &Template{src: src, pad: -1}
	before := len(k.e.list)
	inString := false
	addLit := func(s string) {
		if s == "" {
			return
		}
		if sc.json {
			for i := 0; i < len(s); i++ {
				switch {
				case inString && s[i] == '\\':
					i++
				case s[i] == '"':
					inString = !inString
				}
			}
		}
		if last := len(t.parts) - 1; last >= 0 {
			if l, ok := t.parts[last].(lit); ok && !t.esc[last] {
				t.parts[last] = l + lit(s)
				return
			}
		}
		t.parts = append(t.parts, lit(s))
		t.esc = append(t.esc, false)
	}
	for i := 0; i < len(src); {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			addLit(src[i:])
			break
		}
		addLit(src[i : i+j])
		open := i + j
		end := strings.Index(src[open+2:], "}}")
		if end < 0 {
			k.errInside(n, open, "%s: {{ is not closed: end the placeholder with }}", where)
			break
		}
		body := src[open+2 : open+2+end]
		i = open + 2 + end + 2
		p, ok := k.placeholder(n, body, open+2, where, sc)
		if !ok {
			continue
		}
		if l, isLit := p.(lit); isLit { // a constant: "{{" "}}", unhex, unbase64
			addLit(string(l))
			continue
		}
		if pp, isPad := p.(padPart); isPad {
			if t.pad >= 0 {
				k.errInside(n, open, "%s: only one {{pad}} per template", where)
				continue
			}
			t.pad, t.padTo, t.padFill = len(t.parts), pp.size, pp.fill
		}
		t.parts = append(t.parts, p)
		t.esc = append(t.esc, sc.json && inString && !jsonSafe(p))
	}
	return t, len(k.e.list) == before
}

// errInside records an error at byte off of the value of n.
func (k *kindCompiler) errInside(n *yaml.Node, off int, format string, args ...any) {
	line, col := k.e.inside(n, off)
	k.e.atPos(line, col, format, args...)
}
