package tfplan

import (
	"fmt"
	"sort"
	"strings"
)

// The configuration part of the plan JSON keeps each argument's
// expression: a constant, or the references it reads
// ("aws_iam_policy.app.arn", "module.ci.role_name", "var.boundary_arn").
// When a planned value is unknown until apply, the references tell which
// resource it comes from. They are followed through module outputs and
// module inputs, never evaluated: a reference that leads to several
// resource instances, a local value or a function of several resources
// leaves the value unknown.

const maxRefDepth = 8

// refInstance resolves attribute attr of in to the one resource instance
// of type typ its expression references.
func (rd *reader) refInstance(in *instance, attr, typ string) (*instance, string) {
	if in.cfg == nil {
		return nil, "the configuration is not in the plan"
	}
	expr := in.cfg.Expressions[attr]
	if expr == nil || expr.ExpressionData == nil || len(expr.References) == 0 {
		return nil, "its expression references no resource"
	}
	got := rd.resolveRefs(expr.References, in.module, in.cfgMod, typ, 0)
	switch len(got) {
	case 1:
		return got[0], ""
	case 0:
		return nil, fmt.Sprintf("its references (%s) lead to no single %s of the plan", strings.Join(expr.References, ", "), typ)
	}
	var addrs []string
	for _, g := range got {
		addrs = append(addrs, g.addr)
	}
	return nil, fmt.Sprintf("its references lead to %d instances (%s)", len(got), strings.Join(addrs, ", "))
}

// refInstances resolves attribute attr of in to every resource instance of
// type typ its expression references.
func (rd *reader) refInstances(in *instance, attr, typ string) []*instance {
	if in.cfg == nil {
		return nil
	}
	expr := in.cfg.Expressions[attr]
	if expr == nil || expr.ExpressionData == nil {
		return nil
	}
	return rd.resolveRefs(expr.References, in.module, in.cfgMod, typ, 0)
}

// resolveRefs follows references made inside module instance module
// (configuration path cfgMod) to the resource instances of type typ they
// reach, without duplicates, sorted by address.
func (rd *reader) resolveRefs(refs []string, module, cfgMod, typ string, depth int) []*instance {
	if depth > maxRefDepth {
		return nil
	}
	seen := map[*instance]bool{}
	var out []*instance
	add := func(ins []*instance) {
		for _, in := range ins {
			if !seen[in] {
				seen[in] = true
				out = append(out, in)
			}
		}
	}
	// Terraform lists a reference at each depth ("aws_iam_role.r[0].name",
	// "aws_iam_role.r[0]", "aws_iam_role.r"): the longest that resolves is
	// the one that counts, and its shorter forms are passed over (the last
	// would name every instance of r).
	refs = append([]string(nil), refs...)
	sort.SliceStable(refs, func(i, j int) bool { return len(refs[i]) > len(refs[j]) })
	var resolved []string
	for _, ref := range refs {
		covered := false
		for _, r := range resolved {
			if strings.HasPrefix(r, ref+".") || strings.HasPrefix(r, ref+"[") {
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		n := len(out)
		parts := splitRef(ref)
		switch parts[0] {
		case "var":
			if len(parts) < 2 {
				continue
			}
			parent, call := parentModule(module)
			if call == "" {
				continue // a root variable: its value is known or not, no resource
			}
			pm := rd.modules[stripKeys(parent)]
			if pm == nil || pm.ModuleCalls[call] == nil {
				continue
			}
			expr := pm.ModuleCalls[call].Expressions[parts[1]]
			if expr == nil || expr.ExpressionData == nil {
				continue
			}
			add(rd.resolveRefs(expr.References, parent, stripKeys(parent), typ, depth+1))
		case "module":
			if len(parts) < 3 {
				continue
			}
			callName, key := cutIndex(parts[1])
			m := rd.modules[cfgMod]
			if m == nil || m.ModuleCalls[callName] == nil || m.ModuleCalls[callName].Module == nil {
				continue
			}
			o := m.ModuleCalls[callName].Module.Outputs[parts[2]]
			if o == nil || o.Expression == nil || o.Expression.ExpressionData == nil {
				continue
			}
			childCfg := join(cfgMod, "module."+callName)
			for _, inst := range rd.moduleInstances(join(module, "module."+callName), key) {
				add(rd.resolveRefs(o.Expression.References, inst, childCfg, typ, depth+1))
			}
		case "local", "each", "count", "path", "self", "terraform":
		default:
			rel := ref
			if parts[0] == "data" {
				if len(parts) < 3 {
					continue
				}
				rel = strings.Join(parts[:3], ".")
			} else {
				if len(parts) < 2 {
					continue
				}
				rel = strings.Join(parts[:2], ".")
			}
			rtyp := parts[0]
			if rtyp == "data" {
				rtyp = parts[1]
			}
			if rtyp != typ {
				continue
			}
			add(rd.instancesAt(module, rel))
		}
		if len(out) > n {
			resolved = append(resolved, ref)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}

// instancesAt returns the instances a resource reference names inside a
// module instance: the instance itself when the reference has an index
// ("aws_iam_role.r[0]"), else every instance of the resource.
func (rd *reader) instancesAt(module, rel string) []*instance {
	if in := rd.byAddr[join(module, rel)]; in != nil {
		return []*instance{in}
	}
	base, key := cutIndex(rel[strings.LastIndexByte(rel, '.')+1:])
	if key != "" {
		return nil // an instance the plan does not hold
	}
	prefix := join(module, rel[:strings.LastIndexByte(rel, '.')+1]+base)
	var out []*instance
	for _, in := range rd.all {
		if in.module == module && (in.addr == prefix || strings.HasPrefix(in.addr, prefix+"[")) {
			out = append(out, in)
		}
	}
	return out
}

// moduleInstances lists the module instances of a call: the instance
// named (with key), or every instance of the call.
func (rd *reader) moduleInstances(call, key string) []string {
	if key != "" {
		return []string{call + key}
	}
	set := map[string]bool{}
	for _, in := range rd.all {
		m := in.module
		for m != "" {
			if m == call || (strings.HasPrefix(m, call+"[") && stripKeys(m) == stripKeys(call)) {
				set[m] = true
				break
			}
			m, _ = parentModule(m)
		}
	}
	var out []string
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// cutIndex splits `name["key"]` into name and `["key"]`.
func cutIndex(s string) (name, key string) {
	if i := strings.IndexByte(s, '['); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}
