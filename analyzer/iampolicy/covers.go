package iampolicy

import (
	"sort"
	"strings"
)

// Covers reports whether the identity policies' Allow statements allow
// action on every resource that the resource pattern names: every resource
// of one of the action's types that the pattern matches. It answers the
// question a proposal must pass before it replaces a principal's policies
// ("does this statement grant anything the current policies do not?"):
// a proposal whose every (action, Resource entry) is covered never allows
// more than the policies it is compared with, once it keeps their Deny
// statements.
//
//   - resource is read as a Resource entry of a 2012-10-17 document: '*'
//     and '?' are wildcards with IAM's ARN rules, ${*}, ${?} and ${$} are
//     the literal characters. A pattern holding a policy variable is never
//     covered.
//   - Deny statements are not considered (the caller keeps them, see
//     package policygen/policydiff), nor is the permissions boundary: the
//     question is about the identity policies a proposal replaces.
//   - An Allow under a Condition counts only when its conditions equal
//     conds (the same operators, keys and values, in any order); with conds
//     empty only unconditional Allows count. An Allow entry holding a
//     policy variable never counts.
//   - An action without resource types is covered when an Allow covers
//     "*". An action the catalogue does not know is never covered.
//
// The answer is exact over the patterns (the search of pattern.go), never
// a sample of ARNs; a pattern that matches no resource of the action's
// types is covered (it grants nothing).
func (e *Evaluator) Covers(action, resource string, conds Conditions) bool {
	i, known := e.ix.pos[strings.ToLower(action)]
	if !known {
		return false
	}
	want, hasVar := compileGlob(resource, true, true)
	if hasVar {
		return false
	}
	e.prepareCover()
	wantKey := conditionKey(conds)
	var allows []*stmt
	for _, s := range e.layers[0] {
		if s.deny || !s.covered.has(i) {
			continue
		}
		if len(s.conds) > 0 && conditionKey(s.conds) != wantKey {
			continue
		}
		allows = append(allows, s)
	}
	types := e.ix.typesOf(i, e.partition)
	if len(types) == 0 {
		for _, s := range allows {
			if s.matchResource("*", &Request{}) == yes {
				return true
			}
		}
		return false
	}
	// A resource escapes an Allow with Resource when no variable-free entry
	// matches it, and an Allow with NotResource when one of its entries
	// (variables read as "*": more resources escape, never fewer) does.
	cons := []constraint{{union: []pattern{want}}}
	var outside []pattern
	for _, s := range allows {
		if s.noRes {
			return true
		}
		if s.notRes {
			cons = append(cons, constraint{union: s.resources})
			continue
		}
		for k, p := range s.resources {
			if s.resVar[k] {
				continue
			}
			if p.everything() {
				return true
			}
			outside = append(outside, p)
		}
	}
	if len(outside) > 0 {
		cons = append(cons, constraint{union: outside, not: true})
	}
	for _, t := range types {
		cs := append([]constraint{{union: t.union}}, cons...)
		if satisfiable(cs) {
			return false
		}
	}
	return true
}

// conditionKey is a condition block in a canonical form: operators and keys
// case-folded as IAM reads them, values sorted.
func conditionKey(cs Conditions) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		vals := append([]string(nil), c.Values...)
		sort.Strings(vals)
		parts = append(parts, strings.ToLower(c.Operator)+"\x00"+strings.ToLower(c.Key)+"\x00"+strings.Join(vals, "\x01"))
	}
	sort.Strings(parts)
	return strings.Join(parts, "\x02")
}

// MatchesAction reports whether the statement's Action (or NotAction)
// element covers action, case-insensitively, with IAM's * and ? wildcards.
func (s Statement) MatchesAction(action string) bool {
	acts, not := s.Action, false
	if s.Action == nil && s.NotAction != nil {
		acts, not = s.NotAction, true
	}
	la := strings.ToLower(action)
	hit := false
	for _, a := range acts {
		p, _ := compileGlob(strings.ToLower(a), false, false)
		if p.match(la) {
			hit = true
			break
		}
	}
	return hit != not
}

// MatchResource reports whether a Resource entry of a 2012-10-17 document
// matches the ARN, with IAM's wildcard rules (${*}, ${?}, ${$} literal; a
// policy variable matches as "*").
func MatchResource(pattern, arn string) bool {
	p, _ := compileGlob(pattern, true, true)
	return matchRes(p, arn)
}
