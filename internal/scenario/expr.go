package scenario

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/ltk-dev/ltk/internal/sim"
)

// exprEnv is what an expression ({{= ...}} in a template, a reaction's
// when:) may read. Expressions are compiled once, at load, by
// github.com/expr-lang/expr; running one builds this environment, so
// expressions cost a few allocations where plain placeholders cost none.
type exprEnv struct {
	Device   string    `expr:"device"`
	ClientID string    `expr:"client_id"`
	Index    int       `expr:"index"`
	Kind     string    `expr:"kind"`
	Worker   int       `expr:"worker"`
	Seq      int       `expr:"seq"`
	Now      time.Time `expr:"now"`
	// The received message (reactions only).
	Topic   string `expr:"topic"`
	Payload string `expr:"payload"`
	// Field returns a field of the received JSON payload (a gjson path),
	// nil when it has none.
	Field func(path string) any `expr:"field"`
	// Level returns level i of the received topic.
	Level func(i int) string `expr:"level"`
	// Column returns the device's devicelist.csv column of that name.
	Column func(name string) string `expr:"column"`
}

// messageNames are the expression names that read the received message.
var messageNames = map[string]bool{"topic": true, "payload": true, "field": true, "level": true}

// newExprEnv builds the environment of v; columns maps column names to
// their place in v.Columns.
func newExprEnv(v *sim.Vars, columns map[string]int) exprEnv {
	return exprEnv{
		Device: v.DeviceID, ClientID: v.ClientID, Index: v.Index, Kind: v.Kind, Worker: v.Worker,
		Seq: int(v.Seq), Now: v.Now, Topic: string(v.Topic), Payload: string(v.Payload),
		Field: func(path string) any { return jsonField(v.Payload, path).Value() },
		Level: func(i int) string { return string(topicLevelPart(i).appendTo(nil, v)) },
		Column: func(name string) string {
			if i, ok := columns[name]; ok && i < len(v.Columns) {
				return v.Columns[i]
			}
			return ""
		},
	}
}

// exprCheck is a patch visitor that checks, at compile time, what an
// expression reads: the received message only where there is one, and only
// declared columns.
type exprCheck struct {
	k       *kindCompiler
	message bool
	bad     []string
	at      []int
}

func (c *exprCheck) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if messageNames[n.Value] && !c.message {
			c.fail(n, fmt.Sprintf("%s reads the received message, which only reactions have", n.Value))
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || id.Value != "column" || len(n.Arguments) != 1 {
			return
		}
		if s, ok := n.Arguments[0].(*ast.StringNode); ok {
			if _, declared := c.k.columns[s.Value]; !declared {
				c.fail(n, fmt.Sprintf("column %q is not declared in columns:", s.Value))
			}
		}
	}
}

func (c *exprCheck) fail(n ast.Node, msg string) {
	c.bad = append(c.bad, msg)
	c.at = append(c.at, n.Location().From)
}

// compileExpr compiles src, which starts at byte base of the value of n,
// recording errors at their place; asBool for conditions.
func (k *kindCompiler) compileExpr(n *yaml.Node, src string, base int, where string, message, asBool bool) (*vm.Program, bool) {
	check := &exprCheck{k: k, message: message}
	opts := []expr.Option{expr.Env(exprEnv{}), expr.Patch(check)}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	for i, msg := range check.bad {
		k.errInside(n, base+byteOffset(src, check.at[i]), "%s: %s", where, msg)
	}
	if err != nil {
		off := 0
		msg := err.Error()
		if fe := (*file.Error)(nil); errors.As(err, &fe) {
			off, msg = byteOffset(src, fe.From), fe.Message
		}
		k.errInside(n, base+off, "%s: expression: %s", where, msg)
		return nil, false
	}
	return prog, len(check.bad) == 0
}

// byteOffset turns an offset in runes of s into one in bytes.
func byteOffset(s string, runes int) int {
	off := 0
	for i := 0; i < runes && off < len(s); i++ {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

// exprPart is a {{= expression}}: its result, as text.
type exprPart struct {
	prog    *vm.Program
	columns map[string]int
}

func (k *kindCompiler) exprPart(n *yaml.Node, src string, base int, where string, sc scope) (part, bool) {
	prog, ok := k.compileExpr(n, src, base, where, sc.message, false)
	return exprPart{prog: prog, columns: k.columns}, ok
}

func (p exprPart) appendTo(dst []byte, v *sim.Vars) []byte {
	out, err := vm.Run(p.prog, newExprEnv(v, p.columns))
	if err != nil {
		return dst // a run-time error (a nil field, say) renders nothing
	}
	switch x := out.(type) {
	case nil:
		return dst
	case string:
		return append(dst, x...)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case float64:
		return strconv.AppendFloat(dst, x, 'f', -1, 64)
	case bool:
		return strconv.AppendBool(dst, x)
	case time.Time:
		return x.UTC().AppendFormat(dst, time.RFC3339Nano)
	}
	return fmt.Append(dst, out)
}

// condition compiles a reaction's when: into a function of the received
// message.
func (k *kindCompiler) condition(v value, where string) func(*sim.Vars) bool {
	if !v.set() {
		return nil
	}
	if v.n.Kind != yaml.ScalarNode {
		k.e.at(v.n, "%s must be an expression, such as field(\"cmd\") == \"reboot\"", where)
		return nil
	}
	prog, ok := k.compileExpr(v.n, v.n.Value, 0, where, true, true)
	if !ok {
		return nil
	}
	columns := k.columns
	return func(vars *sim.Vars) bool {
		out, err := vm.Run(prog, newExprEnv(vars, columns))
		b, _ := out.(bool)
		return err == nil && b
	}
}
