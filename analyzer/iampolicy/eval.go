package iampolicy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

// Policy is one named policy document of a principal.
type Policy struct {
	// Name names the policy in results: "ReadOnlyAccess", an inline
	// policy's name, a file name.
	Name string
	// Source says where it comes from: "managed", "inline", "group dev",
	// a file path. Optional.
	Source   string
	Document *Document
}

// Set is the policies that decide one principal's requests.
//
// Identity holds every identity policy (inline, attached managed and the
// groups' policies): any of them may allow. Boundary, when not nil, is the
// permissions boundary: a request is allowed only if the identity policies
// and the boundary both allow it, and a Deny in either wins.
//
// Seams for later layers: service control policies will be another gate
// like Boundary (one list per level of the OU path, each level must allow;
// an `--scp FILE` flag will fill it), session policies a gate too, and
// resource policies a second source of grants within the account. None of
// them is evaluated yet; a Result says which layers it looked at.
type Set struct {
	Identity []Policy
	Boundary []Policy
}

// Layers of a Set, as named in StatementRef.Layer.
const (
	LayerIdentity = "identity"
	LayerBoundary = "boundary"
)

// Decision is the answer for one request.
type Decision int

// Decisions, weakest grant first.
const (
	// ImplicitDeny: no statement allows the request (or the boundary does
	// not).
	ImplicitDeny Decision = iota
	// ConditionallyAllowed: allowed only if the conditions of the allowing
	// statements hold (iamlens does not know the request's context).
	ConditionallyAllowed
	// Allowed: an Allow statement without conditions applies and no Deny
	// without conditions does.
	Allowed
	// ExplicitDeny: a Deny statement without conditions applies.
	ExplicitDeny
)

var decisionNames = [...]string{"implicit-deny", "conditionally-allowed", "allowed", "explicit-deny"}

func (d Decision) String() string {
	if int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// MarshalJSON writes the decision's name.
func (d Decision) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Granted reports whether the decision allows the request, conditionally
// or not.
func (d Decision) Granted() bool { return d == Allowed || d == ConditionallyAllowed }

// StatementRef names one statement of one policy.
type StatementRef struct {
	Layer  string `json:"layer"`
	Policy string `json:"policy"`
	Source string `json:"source,omitempty"`
	Index  int    `json:"index"` // 0-based position in the document's Statement list
	Sid    string `json:"sid,omitempty"`
	Effect string `json:"effect"`
	// Conditional: the statement has conditions (or policy variables in its
	// resources) that iamlens could not decide.
	Conditional bool `json:"conditional,omitempty"`
}

func (r StatementRef) String() string {
	s := fmt.Sprintf("%s statement %d", r.Policy, r.Index)
	if r.Sid != "" {
		s += fmt.Sprintf(" (Sid %s)", r.Sid)
	}
	return s
}

// Request is one question: may the principal perform Action on Resource?
type Request struct {
	// Action is "service:Action"; its case does not matter.
	Action string
	// Resource is the ARN the request is authorised against. Empty asks
	// "on some resource": is there a resource of one of the action's
	// types that the policies allow? An action without resource types
	// is always asked about "*", whatever is given. A '*' or '?' in
	// Resource is a literal character, so "*" asks whether a statement
	// grants every resource.
	Resource string
	// Context holds request condition keys (case-insensitive) and their
	// values. With no context every condition is undecided: an Allow
	// under a condition gives ConditionallyAllowed, a Deny under a
	// condition is reported, never assumed.
	Context map[string][]string
	// ContextComplete says a key missing from Context is missing from the
	// request (so StringNotEquals holds, StringEquals fails); otherwise a
	// missing key leaves its condition undecided.
	ContextComplete bool
}

// Result is the decision for one request and why.
type Result struct {
	Action   string   `json:"action"`
	Resource string   `json:"resource"`
	Decision Decision `json:"decision"`
	// Reason says in words what decided.
	Reason string `json:"reason"`
	// Statements are the deciding statements: the Deny statements of an
	// explicit deny; the Allow statements (of every layer) of an allow;
	// for an implicit deny, the Allow statements of the layers that did
	// allow (none when nothing allows).
	Statements []StatementRef `json:"statements"`
	// ConditionalDenies are Deny statements that apply if their conditions
	// hold: never assumed, always worth reading.
	ConditionalDenies []StatementRef `json:"conditional_denies,omitempty"`
	// Layers are the layers evaluated ("identity", "boundary").
	Layers []string `json:"layers"`
	// Note warns about the question: a resource that fits none of the
	// action's resource types (evaluated as given all the same), a
	// resource ignored because the action takes none.
	Note string `json:"note,omitempty"`
}

// Options tune an Evaluator. The zero value uses the embedded catalogue and
// the "aws" partition.
type Options struct {
	Catalog   *catalog.Catalog
	Partition string
}

// Evaluator decides requests against one Set. It is safe for concurrent
// use.
type Evaluator struct {
	cat       *catalog.Catalog
	ix        *index
	partition string
	layers    [][]*stmt // identity, then boundary when present
	names     []string

	coverOnce sync.Once
	cacheMu   sync.Mutex
	cache     map[string]bool
}

// stmt is one compiled statement.
type stmt struct {
	ref       StatementRef
	deny      bool
	conds     Conditions
	vars      bool     // policy language with variables (2012-10-17)
	actRaw    []string // lower case
	actOrig   []string // as written
	actions   []pattern
	notAction bool
	resRaw    []string
	resources []pattern
	resVar    []bool // resources[i] holds a policy variable
	notRes    bool
	noRes     bool // neither Resource nor NotResource: read as "*"
	covered   bitset
}

// New compiles a Set.
func New(set Set, opts Options) (*Evaluator, error) {
	cat := opts.Catalog
	if cat == nil {
		var err error
		if cat, err = catalog.Load(); err != nil {
			return nil, err
		}
	}
	e := &Evaluator{cat: cat, ix: indexOf(cat), partition: opts.Partition, cache: map[string]bool{}}
	if e.partition == "" {
		e.partition = "aws"
	}
	add := func(layer string, ps []Policy) error {
		var out []*stmt
		for _, p := range ps {
			if p.Document == nil {
				return fmt.Errorf("policy %q has no document", p.Name)
			}
			vars := p.Document.Version == Version
			for i, s := range p.Document.Statement {
				out = append(out, compileStatement(s, vars, StatementRef{
					Layer: layer, Policy: p.Name, Source: p.Source, Index: i, Sid: s.Sid, Effect: s.Effect,
				}))
			}
		}
		e.layers = append(e.layers, out)
		e.names = append(e.names, layer)
		return nil
	}
	if err := add(LayerIdentity, set.Identity); err != nil {
		return nil, err
	}
	if set.Boundary != nil {
		if err := add(LayerBoundary, set.Boundary); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func compileStatement(s Statement, vars bool, ref StatementRef) *stmt {
	st := &stmt{ref: ref, deny: s.Effect == Deny, conds: s.Condition, vars: vars}
	acts := s.Action
	if s.Action == nil && s.NotAction != nil {
		acts, st.notAction = s.NotAction, true
	}
	for _, a := range acts {
		la := strings.ToLower(a)
		p, _ := compileGlob(la, false, false)
		st.actRaw = append(st.actRaw, la)
		st.actOrig = append(st.actOrig, a)
		st.actions = append(st.actions, p)
	}
	res := s.Resource
	switch {
	case s.Resource == nil && s.NotResource != nil:
		res, st.notRes = s.NotResource, true
	case s.Resource == nil:
		st.noRes = true
	}
	for _, r := range res {
		p, hasVar := compileGlob(r, vars, true)
		st.resRaw = append(st.resRaw, r)
		st.resources = append(st.resources, p)
		st.resVar = append(st.resVar, hasVar)
	}
	ref.Conditional = len(s.Condition) > 0 || st.anyVar()
	st.ref = ref
	return st
}

func (s *stmt) anyVar() bool {
	for _, v := range s.resVar {
		if v {
			return true
		}
	}
	return false
}

// tri is a three-valued truth: no, maybe (undecided), yes.
type tri int8

const (
	no tri = iota
	maybe
	yes
)

func and3(a, b tri) tri { return min(a, b) }

// matchAction reports whether the statement covers the action (lower case).
func (s *stmt) matchAction(action string) bool {
	hit := false
	for _, p := range s.actions {
		if p.match(action) {
			hit = true
			break
		}
	}
	return hit != s.notAction
}

// matchResource says whether the statement covers resource (already "*"
// for an action without resource types).
func (s *stmt) matchResource(resource string, req *Request) tri {
	if s.noRes {
		return yes
	}
	hit := no
	for i, p := range s.resources {
		if s.resVar[i] {
			if sub, ok := substitute(s.resRaw[i], req); ok {
				q, _ := compileGlob(sub, true, true)
				if matchRes(q, resource) {
					hit = yes
				}
				continue
			}
			if matchRes(p, resource) && hit == no {
				hit = maybe
			}
			continue
		}
		if matchRes(p, resource) {
			hit = yes
		}
	}
	if s.notRes {
		return yes - hit
	}
	return hit
}

// matchRes matches a resource pattern; the resource "*" (an action without
// resource types) is matched only by a pattern that matches everything.
func matchRes(p pattern, resource string) bool {
	if resource == "*" {
		return p.everything()
	}
	return p.match(resource)
}

// substitute replaces the policy variables of a resource pattern with the
// request's values (escaped, so a value's '*' stays literal).
func substitute(raw string, req *Request) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(raw); {
		j := strings.Index(raw[i:], "${")
		if j < 0 {
			b.WriteString(raw[i:])
			break
		}
		b.WriteString(raw[i : i+j])
		i += j
		end := strings.IndexByte(raw[i:], '}')
		if end < 0 {
			b.WriteString(raw[i:])
			break
		}
		name := raw[i+2 : i+end]
		i += end + 1
		switch name {
		case "*", "?", "$":
			b.WriteString("${" + name + "}")
			continue
		}
		key, def, hasDef := strings.Cut(name, ",")
		vals, ok := lookup(req.Context, strings.TrimSpace(key))
		switch {
		case ok && len(vals) == 1:
			b.WriteString(EscapeLiteral(vals[0]))
		case hasDef && (req.ContextComplete || ok):
			b.WriteString(EscapeLiteral(strings.Trim(strings.TrimSpace(def), "'")))
		default:
			return "", false
		}
	}
	return b.String(), true
}

// EscapeLiteral writes s so that a policy of language 2012-10-17 reads it
// literally: '*', '?' and '$' become ${*}, ${?} and ${$}.
func EscapeLiteral(s string) string {
	if !strings.ContainsAny(s, "*?$") {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '*', '?', '$':
			b.WriteString("${")
			b.WriteRune(c)
			b.WriteString("}")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// verdict gathers what the statements of one layer say of a request.
type verdict struct {
	allow, condAllow, deny, condDeny []StatementRef
}

func (v verdict) level() Decision {
	switch {
	case len(v.allow) > 0:
		return Allowed
	case len(v.condAllow) > 0:
		return ConditionallyAllowed
	}
	return ImplicitDeny
}

func (v *verdict) add(s *stmt, t tri) {
	ref := s.ref
	switch {
	case t == no:
	case s.deny && t == yes:
		v.deny = append(v.deny, ref)
	case s.deny:
		ref.Conditional = true
		v.condDeny = append(v.condDeny, ref)
	case t == yes:
		ref.Conditional = false
		v.allow = append(v.allow, ref)
	default:
		ref.Conditional = true
		v.condAllow = append(v.condAllow, ref)
	}
}

// Evaluate decides one request.
func (e *Evaluator) Evaluate(req Request) Result {
	action := strings.ToLower(req.Action)
	r := Result{Action: req.Action, Resource: req.Resource, Layers: e.names}
	i, known := e.ix.pos[action]
	if known {
		r.Action = e.ix.names[i]
		types := e.ix.typesOf(i, e.partition)
		switch {
		case len(types) == 0:
			if req.Resource != "" && req.Resource != "*" {
				r.Note = fmt.Sprintf("%s takes no resource (IAM authorises it on \"*\"): %s was not used", r.Action, req.Resource)
			}
			r.Resource = "*"
		case r.Resource != "" && r.Resource != "*" && !fitsAny(types, r.Resource):
			var names []string
			for _, t := range types {
				names = append(names, t.id[strings.IndexByte(t.id, '/')+1:])
			}
			r.Note = fmt.Sprintf("%s fits none of the resource types of %s (%s); evaluated as given", r.Resource, r.Action, strings.Join(names, ", "))
		}
	}
	if r.Resource == "" {
		return e.onSome(r, i, known, true)
	}
	verdicts := make([]verdict, len(e.layers))
	for li, layer := range e.layers {
		for _, s := range layer {
			if !s.matchAction(action) {
				continue
			}
			t := and3(s.matchResource(r.Resource, &req), evalConditions(s.conds, &req, s.vars))
			verdicts[li].add(s, t)
		}
	}
	e.decide(&r, verdicts)
	return r
}

func fitsAny(types []typePattern, arn string) bool {
	for _, t := range types {
		for _, p := range t.union {
			if p.match(arn) {
				return true
			}
		}
	}
	return false
}

// decide combines the layers' verdicts into r.
func (e *Evaluator) decide(r *Result, verdicts []verdict) {
	r.Statements = []StatementRef{}
	for _, v := range verdicts {
		r.Statements = append(r.Statements, v.deny...)
		r.ConditionalDenies = append(r.ConditionalDenies, v.condDeny...)
	}
	if len(r.Statements) > 0 {
		r.Decision = ExplicitDeny
		r.Reason = "explicitly denied by " + refList(r.Statements)
		return
	}
	r.Decision = Allowed
	weakest := -1
	for li, v := range verdicts {
		if lv := v.level(); lv < r.Decision {
			r.Decision, weakest = lv, li
		}
	}
	for li, v := range verdicts {
		// An implicit deny names the identity policies' allows when a
		// later layer (the boundary) is what lacks one.
		if r.Decision == ImplicitDeny && (weakest == 0 || li > 0) {
			break
		}
		r.Statements = append(r.Statements, v.allow...)
		r.Statements = append(r.Statements, v.condAllow...)
	}
	switch r.Decision {
	case Allowed:
		r.Reason = "allowed by " + refList(r.Statements)
	case ConditionallyAllowed:
		var conds []StatementRef
		for _, s := range r.Statements {
			if s.Conditional {
				conds = append(conds, s)
			}
		}
		r.Reason = "allowed only if the conditions of " + refList(conds) + " hold"
	default:
		switch {
		case e.names[weakest] == LayerBoundary:
			r.Reason = "the identity policies allow it (" + refList(r.Statements) + ") but the permissions boundary does not"
		default:
			r.Reason = "no identity policy statement allows it"
		}
	}
	if len(r.ConditionalDenies) > 0 {
		r.Reason += "; a Deny applies if its conditions hold: " + refList(r.ConditionalDenies)
	}
}

func refList(refs []StatementRef) string {
	var parts []string
	for _, r := range refs {
		s := r.String()
		if r.Layer == LayerBoundary {
			s = "boundary " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// AllowedAll decides a call that is authorised against several resources
// (CopyObject: the source object and the destination; a call the log shows
// on several ARNs): it is Allowed only when every resource is. The result
// is the weakest of the resources' results (an explicit deny on any
// resource first, then an implicit deny, then a conditional allow), with
// the resource it came from; no resources asks about "some resource".
func (e *Evaluator) AllowedAll(action string, resources []string) Result {
	if len(resources) == 0 {
		return e.Evaluate(Request{Action: action})
	}
	var worst Result
	for i, res := range resources {
		r := e.Evaluate(Request{Action: action, Resource: res})
		if i == 0 || rank(r.Decision) < rank(worst.Decision) {
			worst = r
		}
	}
	return worst
}

// rank orders decisions for AllowedAll: the lower the worse.
func rank(d Decision) int {
	switch d {
	case ExplicitDeny:
		return 0
	case ImplicitDeny:
		return 1
	case ConditionallyAllowed:
		return 2
	}
	return 3
}

// Grant is one catalogue action a Set allows on some resource.
type Grant struct {
	Action      string `json:"action"`
	Conditional bool   `json:"conditional"`
	// ConditionalDeny: a Deny under a condition may take it away.
	ConditionalDeny bool `json:"conditional_deny,omitempty"`
	// Statements are the Allow statements that grant it.
	Statements []StatementRef `json:"-"`
}

// Actions returns every catalogue action the Set allows on some resource,
// sorted by name: the expansion of "s3:Get*", "*" and NotAction, kept only
// where a resource of one of the action's types can match the statement's
// Resource (see Evaluate).
func (e *Evaluator) Actions() []Grant {
	e.prepareCover()
	cand := newBitset(len(e.ix.actions))
	for _, s := range e.layers[0] {
		if !s.deny {
			cand.or(s.covered)
		}
	}
	var out []Grant
	cand.each(func(i int) {
		r := e.onSome(Result{}, i, true, false)
		if !r.Decision.Granted() {
			return
		}
		out = append(out, Grant{Action: e.ix.names[i], Conditional: r.Decision == ConditionallyAllowed,
			ConditionalDeny: len(r.ConditionalDenies) > 0, Statements: r.Statements})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Action < out[j].Action })
	return out
}

// prepareCover computes, once, the catalogue actions each statement covers.
func (e *Evaluator) prepareCover() {
	e.coverOnce.Do(func() {
		for _, layer := range e.layers {
			for _, s := range layer {
				s.covered = e.ix.cover(s.actions, s.actRaw)
				if s.notAction {
					s.covered.invert(len(e.ix.actions))
				}
			}
		}
	})
}

// anyString is the resource space of an action the catalogue does not know.
var anyString = []typePattern{{id: "?", union: []pattern{{{kind: clsAny, star: true}}}}}

// onSome decides "action i on some resource": is there a resource of one of
// the action's types that an Allow of every layer covers and no
// unconditional Deny does? Unknown actions (known false) are matched by
// name against every statement and may have any resource.
func (e *Evaluator) onSome(r Result, i int, known, explain bool) Result {
	r.Layers = e.names
	var types []typePattern
	action := strings.ToLower(r.Action)
	if known {
		r.Action = e.ix.names[i]
		action = e.ix.lower[i]
		types = e.ix.typesOf(i, e.partition)
		if len(types) == 0 {
			r.Resource = "*"
		}
	} else {
		types = anyString
	}
	if known {
		e.prepareCover()
	}
	covers := func(s *stmt) bool {
		if known {
			return s.covered.has(i)
		}
		return s.matchAction(action)
	}
	// Per layer: the allow statements, split by whether they are
	// conditional; the unconditional denies (constraints every resource
	// must escape) and the conditional ones (reported).
	type layerStmts struct{ allows []*stmt }
	var layers []layerStmts
	var denies []*stmt
	var condDenies []StatementRef
	for _, layer := range e.layers {
		var ls layerStmts
		for _, s := range layer {
			if !covers(s) {
				continue
			}
			switch {
			case s.deny && (s.ref.Conditional || len(s.conds) > 0):
				ref := s.ref
				ref.Conditional = true
				condDenies = append(condDenies, ref)
			case s.deny:
				denies = append(denies, s)
			default:
				ls.allows = append(ls.allows, s)
			}
		}
		layers = append(layers, ls)
	}
	r.ConditionalDenies = condDenies
	r.Statements = []StatementRef{}
	// Try each combination of one allow per layer, unconditional ones
	// first; a combination grants when some resource fits the action's
	// types and every allow, and escapes every deny.
	grants := func(combo []*stmt, withDenies bool) bool {
		if len(types) == 0 {
			return e.someResource(true, typePattern{}, combo, denies, withDenies)
		}
		for _, t := range types {
			if e.someResource(r.Resource == "*", t, combo, denies, withDenies) {
				return true
			}
		}
		return false
	}
	var best []*stmt
	bestCond := true
	blockedBy := false
	var walk func(li int, combo []*stmt) bool
	walk = func(li int, combo []*stmt) bool {
		if li == len(layers) {
			cond := false
			for _, s := range combo {
				cond = cond || s.ref.Conditional
			}
			if best != nil && (cond || !bestCond) {
				return false
			}
			if !grants(combo, false) {
				return false
			}
			if len(denies) > 0 && !grants(combo, true) {
				blockedBy = true
				return false
			}
			best, bestCond = append([]*stmt(nil), combo...), cond
			return !cond // stop at the first unconditional grant
		}
		for _, s := range layers[li].allows {
			if walk(li+1, append(combo, s)) {
				return true
			}
		}
		return false
	}
	walk(0, nil)
	switch {
	case best != nil:
		r.Decision = Allowed
		if bestCond {
			r.Decision = ConditionallyAllowed
		}
		for _, s := range best {
			r.Statements = append(r.Statements, s.ref)
		}
		if !explain {
			return r
		}
		what := "some resource"
		if r.Resource == "*" {
			what = `"*"`
		}
		if bestCond {
			r.Reason = "allowed on " + what + " only if the conditions of " + refList(r.Statements) + " hold"
		} else {
			r.Reason = "allowed on " + what + " by " + refList(r.Statements)
		}
	case !explain:
		r.Decision = ImplicitDeny
		return r
	case blockedBy:
		r.Decision = ExplicitDeny
		for _, s := range denies {
			r.Statements = append(r.Statements, s.ref)
		}
		r.Reason = "every resource it is allowed on is explicitly denied by " + refList(r.Statements)
	default:
		r.Decision = ImplicitDeny
		r.Reason = "no statement allows it on any resource of its types"
		if len(layers) > 1 && len(layers[0].allows) > 0 {
			r.Reason = "the identity policies allow it but the permissions boundary does not (on any resource they allow)"
			for _, s := range layers[0].allows {
				r.Statements = append(r.Statements, s.ref)
			}
		}
	}
	if len(r.ConditionalDenies) > 0 {
		r.Reason += "; a Deny applies if its conditions hold: " + refList(r.ConditionalDenies)
	}
	return r
}

// someResource reports whether a resource of type t (or "*" for an action
// without resource types, star) is covered by every statement of combo and,
// withDenies, by none of denies.
func (e *Evaluator) someResource(star bool, t typePattern, combo, denies []*stmt, withDenies bool) bool {
	if star {
		for _, s := range combo {
			if s.matchResource("*", &Request{}) == no {
				return false
			}
		}
		if withDenies {
			for _, d := range denies {
				if d.matchResource("*", &Request{}) == yes {
					return false
				}
			}
		}
		return true
	}
	// Statements whose resources are everything (or nothing) decide at
	// once; the others become constraints of the search.
	var restrict [8]*stmt
	var denyOf [8]bool
	n := 0
	var more []*stmt
	var moreDeny []bool
	classify := func(s *stmt, deny bool) (impossible bool) {
		all := s.noRes
		for _, p := range s.resources {
			if p.everything() {
				all = true
				break
			}
		}
		if all {
			// An allow of everything is no constraint, a NotResource
			// allow of everything grants nothing; a deny of everything
			// leaves nothing, a NotResource deny of everything denies
			// nothing.
			return s.notRes != deny
		}
		if n < len(restrict) {
			restrict[n], denyOf[n] = s, deny
			n++
		} else {
			more, moreDeny = append(more, s), append(moreDeny, deny)
		}
		return false
	}
	for _, s := range combo {
		if classify(s, false) {
			return false
		}
	}
	if withDenies {
		for _, d := range denies {
			if classify(d, true) {
				return false
			}
		}
	}
	if n == 0 {
		return true
	}
	list := append(restrict[:n:n], more...)
	denyFlags := append(denyOf[:n:n], moreDeny...)
	cs := make([]constraint, 0, len(list)+1)
	cs = append(cs, constraint{union: t.union})
	var key strings.Builder
	key.WriteString(t.id)
	for i, s := range list {
		cs = append(cs, constraint{union: s.resources, not: s.notRes != denyFlags[i]})
		fmt.Fprintf(&key, "|%p%v", s, denyFlags[i])
	}
	k := key.String()
	e.cacheMu.Lock()
	v, ok := e.cache[k]
	e.cacheMu.Unlock()
	if ok {
		return v
	}
	v = satisfiable(cs)
	e.cacheMu.Lock()
	e.cache[k] = v
	e.cacheMu.Unlock()
	return v
}

func lookup(ctx map[string][]string, key string) ([]string, bool) {
	if ctx == nil {
		return nil, false
	}
	if v, ok := ctx[key]; ok {
		return v, true
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// Unmatched is an Action entry that names no catalogue action.
type Unmatched struct {
	Statement StatementRef
	Action    string
}

// Unmatched lists the Action entries (not NotAction) of every layer that
// match no action of the catalogue: a typo ("s3:GetObjekt"), a service
// the catalogue does not know, or an action newer than it.
func (e *Evaluator) Unmatched() []Unmatched {
	var out []Unmatched
	for _, layer := range e.layers {
		for _, s := range layer {
			if s.notAction {
				continue
			}
			for k, p := range s.actions {
				if b := e.ix.cover([]pattern{p}, s.actRaw[k:k+1]); !b.any() {
					out = append(out, Unmatched{Statement: s.ref, Action: s.actOrig[k]})
				}
			}
		}
	}
	return out
}
