package tfplan

import (
	"fmt"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// instance is one resource instance of the plan as it will be once
// applied: its planned values and which of them are unknown until apply.
type instance struct {
	addr    string // "module.app.aws_iam_role.this[0]"
	module  string // the module instance: "module.app", "" for the root
	cfgMod  string // the module's configuration path: module instance keys dropped
	mode    tfjson.ResourceMode
	typ     string
	name    string
	action  string // create, update, no-op, replace, read
	after   map[string]any
	unknown map[string]any // after_unknown: true where a value is unknown
	cfg     *tfjson.ConfigResource
}

// state says whether a value is known.
type state int

const (
	absent state = iota // null, or not in the plan
	known
	unknownUntilApply
)

// isUnknown reads an after_unknown entry: true, or a list or object
// holding true somewhere.
func isUnknown(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case []any:
		for _, e := range x {
			if isUnknown(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if isUnknown(e) {
				return true
			}
		}
	}
	return false
}

// str reads a string attribute.
func (in *instance) str(attr string) (string, state) {
	if u, ok := in.unknown[attr]; ok && isUnknown(u) {
		return "", unknownUntilApply
	}
	switch v := in.after[attr].(type) {
	case string:
		return v, known
	case nil:
		return "", absent
	default:
		return fmt.Sprint(v), known
	}
}

// strs reads a list or set of strings: the known elements, and how many
// elements are unknown until apply (-1: the whole list is).
func (in *instance) strs(attr string) (vals []string, unknownN int, st state) {
	u := in.unknown[attr]
	if b, ok := u.(bool); ok && b {
		return nil, -1, unknownUntilApply
	}
	ul, _ := u.([]any)
	list, ok := in.after[attr].([]any)
	if !ok {
		if in.after[attr] == nil {
			return nil, 0, absent
		}
		return nil, -1, unknownUntilApply
	}
	for i, e := range list {
		if i < len(ul) && isUnknown(ul[i]) {
			unknownN++
			continue
		}
		if s, ok := e.(string); ok {
			vals = append(vals, s)
		}
	}
	// after_unknown lists unknown elements that after holds as null, and
	// may hold more elements than after does.
	for i := len(list); i < len(ul); i++ {
		if isUnknown(ul[i]) {
			unknownN++
		}
	}
	st = known
	if unknownN > 0 {
		st = unknownUntilApply
	}
	return vals, unknownN, st
}

// block is one element of a nested block (inline_policy).
type block struct {
	values  map[string]any
	unknown map[string]any
}

func (b block) str(attr string) (string, state) {
	in := instance{after: b.values, unknown: b.unknown}
	return in.str(attr)
}

// blocks reads a nested block list; whole is true when the list itself is
// unknown until apply.
func (in *instance) blocks(attr string) (out []block, present, whole bool) {
	u := in.unknown[attr]
	if b, ok := u.(bool); ok && b {
		return nil, true, true
	}
	ul, _ := u.([]any)
	list, ok := in.after[attr].([]any)
	if !ok {
		return nil, false, false
	}
	for i, e := range list {
		m, _ := e.(map[string]any)
		var um map[string]any
		if i < len(ul) {
			um, _ = ul[i].(map[string]any)
		}
		out = append(out, block{values: m, unknown: um})
	}
	return out, true, false
}

// stripKeys drops the instance keys of a module address:
// module.a["x"].module.b[0] → module.a.module.b.
func stripKeys(addr string) string {
	var b strings.Builder
	depth := 0
	quoted := false
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		switch {
		case quoted:
			if c == '\\' {
				i++
			} else if c == '"' {
				quoted = false
			}
			continue
		case depth > 0 && c == '"':
			quoted = true
			continue
		case c == '[':
			depth++
			continue
		case c == ']':
			depth--
			continue
		case depth > 0:
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splitRef splits a reference ("aws_iam_role.this[0].name",
// `module.app["x"].role_arn`) at its dots, keeping index brackets with
// the name they follow.
func splitRef(ref string) []string {
	var parts []string
	depth := 0
	quoted := false
	start := 0
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch {
		case quoted:
			if c == '\\' {
				i++
			} else if c == '"' {
				quoted = false
			}
		case c == '"':
			quoted = true
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '.' && depth == 0:
			parts = append(parts, ref[start:i])
			start = i + 1
		}
	}
	return append(parts, ref[start:])
}

// join makes an address inside a module instance.
func join(module, rel string) string {
	if module == "" {
		return rel
	}
	return module + "." + rel
}

// parentModule drops the last module step: module.a.module.b[0] →
// module.a; it also returns that step's call name ("b").
func parentModule(module string) (parent, call string) {
	parts := splitRef(module)
	if len(parts) < 2 {
		return "", ""
	}
	call = parts[len(parts)-1]
	if i := strings.IndexByte(call, '['); i >= 0 {
		call = call[:i]
	}
	return strings.Join(parts[:len(parts)-2], "."), call
}
