package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ltk-dev/ltk/internal/sim"
)

// Version is the version of the scenario format this ltk reads.
const Version = 1

// A Scenario is a loaded scenario file, compiled: its Plan is what the
// device engine runs. It is read-only and safe for concurrent use.
type Scenario struct {
	// Name is the scenario's name: its name: key, or the file's base name.
	Name string
	// Description is its description: key.
	Description string
	// File is the name the scenario was loaded under, for messages.
	File string
	// Source is the file's text, as loaded: what a master sends its workers
	// and the results store keeps with a run.
	Source []byte

	plan  *sim.Plan
	kinds []*kindInfo
}

// Plan returns the compiled plan: one sim.Program per kind, KindOf, the
// event names and the devicelist.csv columns the scenario reads. Every call
// returns the same Plan; do not modify it.
func (s *Scenario) Plan() *sim.Plan { return s.plan }

// LoadFile reads and loads the scenario file at path.
func LoadFile(path string) (*Scenario, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Load(path, src)
}

// Load parses and compiles the scenario src, named file in messages. Every
// problem it finds is reported, not just the first: the error joins
// *Error values sorted by position (errors.As finds the first; an error's
// Unwrap() []error lists them all). Templates and expressions are compiled
// here, so a scenario that loads has no errors left for run time.
func Load(file string, src []byte) (*Scenario, error) {
	e := &errs{file: file, lines: strings.Split(string(src), "\n")}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		line, msg := yamlErrorLine(err), yamlErrorText(err)
		if line > 0 && line <= len(e.lines) && strings.HasPrefix(strings.TrimLeft(e.lines[line-1], " "), "\t") {
			msg += ": YAML indents with spaces, not tabs"
		}
		e.atPos(line, 0, "%s", msg)
		return nil, e.err()
	}
	if len(doc.Content) == 0 {
		e.at(nil, "the file is empty: start from an example (ltk scenario example)")
		return nil, e.err()
	}
	root := doc.Content[0]
	if !e.checkKeys(root, reflect.TypeFor[fileSpec](), "scenario") {
		return nil, e.err()
	}
	var f fileSpec
	if err := root.Decode(&f); err != nil {
		e.at(root, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, e.err()
	}
	s := &Scenario{File: file, Source: src}
	newCompiler(e).compile(s, &f, root)
	if err := e.err(); err != nil {
		return nil, err
	}
	return s, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlErrorLine finds the line number in a YAML syntax error, 0 if none.
func yamlErrorLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// yamlErrorText is a YAML syntax error without the line it is reported at.
func yamlErrorText(err error) string {
	msg := err.Error()
	if loc := yamlLine.FindStringIndex(msg); loc != nil {
		msg = msg[:loc[0]] + strings.TrimPrefix(msg[loc[1]:], ": ")
	}
	return strings.TrimSpace(strings.ReplaceAll(msg, "yaml: ", ""))
}

// compile fills s from f: the file's top level, then each kind.
func (c *compiler) compile(s *Scenario, f *fileSpec, root *yaml.Node) {
	e := c.e
	switch {
	case !f.Version.set():
		e.at(root, "version: missing: say which scenario format the file is written in: version: %d", Version)
	default:
		if v := e.integer(f.Version, "version", 0, 1<<30, Version); v != Version {
			e.at(f.Version.n, "version %d is not supported: this ltk reads version %d (upgrade ltk, or write the file for version %d)", v, Version, Version)
		}
	}
	s.Name = e.text(f.Name, "name", strings.TrimSuffix(filepath.Base(s.File), filepath.Ext(s.File)))
	s.Description = e.text(f.Description, "description", "")
	for _, col := range f.Columns {
		name, ok := e.scalar(col, "columns")
		switch {
		case !ok:
		case name == "":
			e.at(col.n, "columns: an empty column name")
		case c.declared(name):
			e.at(col.n, "columns: %q is listed twice", name)
		default:
			c.columns[name] = len(c.columnNames)
			c.columnNames = append(c.columnNames, name)
		}
	}
	kinds := f.Kinds.n
	if kinds == nil || len(kinds.Content) == 0 {
		e.at(root, "kinds: missing: describe at least one kind of device (see ltk scenario example)")
		return
	}
	for i := 0; i+1 < len(kinds.Content); i += 2 {
		name, spec := kinds.Content[i], kinds.Content[i+1]
		var ks kindSpec
		if err := spec.Decode(&ks); err != nil {
			e.at(spec, "kind %s: %s", name.Value, strings.TrimPrefix(err.Error(), "yaml: "))
			continue
		}
		if name.Kind != yaml.ScalarNode || name.Value == "" {
			e.at(name, "kinds: a kind's name must be a word, such as sensor")
			continue
		}
		if k := c.kind(name.Value, name, &ks); k != nil {
			s.kinds = append(s.kinds, k)
		}
	}
	s.plan = &sim.Plan{Name: s.Name, Events: c.events, Columns: c.columnNames}
	for _, k := range s.kinds {
		s.plan.Kinds = append(s.plan.Kinds, k.prog)
	}
	s.plan.KindOf = c.fleetMix(s.kinds, root)
}

func (c *compiler) declared(column string) bool {
	_, ok := c.columns[column]
	return ok
}
