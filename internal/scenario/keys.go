package scenario

import (
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	valueType = reflect.TypeFor[value]()
	kindsType = reflect.TypeFor[kindsMap]()
)

// checkKeys walks node n against the Go type t of the schema (schema.go):
// it reports every unknown key with the closest valid one, repeated keys,
// and a mapping or a list where the other is wanted. It returns false when
// the shape is wrong, so that decoding would fail.
func (e *errs) checkKeys(n *yaml.Node, t reflect.Type, where string) bool {
	if n.Kind == yaml.AliasNode {
		// An alias repeats its anchor's node, checked where it is defined:
		// following it would walk a "billion laughs" file for ever.
		return true
	}
	switch {
	case t == valueType:
		return true
	case t == kindsType:
		if n.Kind != yaml.MappingNode {
			e.at(n, "%s must map kind names to kinds, such as \"sensor: {weight: 90, ...}\"", where)
			return false
		}
		ok := e.noRepeats(n, where)
		for i := 0; i+1 < len(n.Content); i += 2 {
			ok = e.checkKeys(n.Content[i+1], reflect.TypeFor[kindSpec](), "kind "+n.Content[i].Value) && ok
		}
		return ok
	case t.Kind() == reflect.Pointer:
		return e.checkKeys(n, t.Elem(), where)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			e.at(n, "%s must be a list (items start with \"- \")", where)
			return false
		}
		ok := true
		for _, item := range n.Content {
			ok = e.checkKeys(item, t.Elem(), where) && ok
		}
		return ok
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			e.at(n, "%s must be a mapping of keys (valid: %s)", where, strings.Join(keysOf(t), ", "))
			return false
		}
		fields := fieldsOf(t)
		ok := e.noRepeats(n, where)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, known := fields[k.Value]
			if !known {
				e.at(k, "%s: unknown key %q%s", where, k.Value, suggest(k.Value, keysOf(t)))
				continue
			}
			ok = e.checkKeys(n.Content[i+1], ft, where+"."+k.Value) && ok
		}
		return ok
	}
	return true
}

// noRepeats reports keys given twice in mapping n.
func (e *errs) noRepeats(n *yaml.Node, where string) bool {
	seen := map[string]bool{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if seen[k] {
			e.at(n.Content[i], "%s: key %q is given twice: keep one", where, k)
			ok = false
		}
		seen[k] = true
	}
	return ok
}

// fieldsOf maps the yaml keys of struct t (inline fields flattened) to
// their field types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			for k, ft := range fieldsOf(f.Type) {
				m[k] = ft
			}
			continue
		}
		if name != "" {
			m[name] = f.Type
		}
	}
	return m
}

// keysOf lists the yaml keys of struct t in declaration order.
func keysOf(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			keys = append(keys, keysOf(f.Type)...)
		} else if name != "" {
			keys = append(keys, name)
		}
	}
	return keys
}
