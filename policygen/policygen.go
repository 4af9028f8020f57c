// Package policygen turns a principal's Usage (package analyzer) into the
// tightest IAM policy that still allows every call the principal made
// successfully, with the evidence behind every statement.
//
// Generate checks every action against the IAM catalogue (package catalog),
// keeps only resource ARNs that fit a resource type of their action, writes
// "*" only where the action allows no resource-level restriction or the log
// does not reveal the resource (and says which), generalises resources as
// Options.Resources asks, groups actions that share a resource set into one
// statement, adds the conditions the options ask for, and splits or compacts
// the result to fit the managed-policy size limit. Its output is sorted and
// deterministic; the renderers in render.go write it as policy JSON,
// Terraform, CloudFormation, a JSON report or a table.
package policygen

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// Catalog is what Generate needs of the IAM catalogue (*catalog.Catalog).
type Catalog interface {
	Action(full string) (*catalog.Action, bool)
	MatchesResource(full, arn string) bool
}

// Resource generalisation modes.
const (
	// ResourcesExact lists every ARN seen.
	ResourcesExact = "exact"
	// ResourcesPrefix collapses S3 object keys to their deepest common
	// prefixes and ARNs that differ in one segment to one pattern, when a
	// set grows past Options.CollapseAt.
	ResourcesPrefix = "prefix"
	// ResourcesService keeps each ARN's service, region, account and
	// resource type and replaces the resource name with "*".
	ResourcesService = "service"
)

// Size strategies for a policy over Options.MaxPolicyChars.
const (
	SizeSplit   = "split"   // several managed policies
	SizeCompact = "compact" // service-level resources, then split if needed
)

// Source conditions.
const (
	SourceVPCE = "vpce"
	SourceIP   = "ip"
)

// Options tune Generate. The zero value gives prefix mode, no conditions,
// the managed-policy limit and splitting.
type Options struct {
	Resources string
	// CollapseAt: in prefix mode, a bucket's keys or a group of ARNs that
	// differ in one segment are collapsed when there are more than this
	// many (default 3).
	CollapseAt int
	// MaxResources bounds the ARNs of one statement (default 20); larger
	// sets are collapsed further (prefix mode) or split across statements.
	MaxResources int
	// ConditionRegion adds aws:RequestedRegion with the regions each
	// statement's actions were called in.
	ConditionRegion bool
	// ConditionSource adds aws:SourceVpce ("vpce") or aws:SourceIp ("ip")
	// from where the successful calls came from.
	ConditionSource string
	// ConditionMFA adds aws:MultiFactorAuthPresent when every successful
	// call was made with MFA.
	ConditionMFA bool
	// MaxPolicyChars is the size limit, in characters without white space
	// (default 6,144, the managed-policy limit).
	MaxPolicyChars int
	// Size is SizeSplit (default) or SizeCompact.
	Size string
	// MaxSourceIPs caps the addresses of an aws:SourceIp condition before
	// they are widened to /24 networks (default 10).
	MaxSourceIPs int
	// ExcludeFailed leaves out the actions of calls that passed
	// authorisation and then failed for another reason (NoSuchKey,
	// NoSuchBucketPolicy, ResourceNotFoundException, throttling). By
	// default they are granted, and marked in the evidence: a policy
	// without them changes what the program sees (AccessDenied instead of
	// NoSuchKey).
	ExcludeFailed bool
}

// Validate reports an unknown mode.
func (o Options) Validate() error {
	switch o.Resources {
	case "", ResourcesExact, ResourcesPrefix, ResourcesService:
	default:
		return fmt.Errorf("unknown resource mode %q (want exact, prefix or service)", o.Resources)
	}
	switch o.ConditionSource {
	case "", SourceVPCE, SourceIP:
	default:
		return fmt.Errorf("unknown source condition %q (want vpce or ip)", o.ConditionSource)
	}
	switch o.Size {
	case "", SizeSplit, SizeCompact:
	default:
		return fmt.Errorf("unknown size strategy %q (want split or compact)", o.Size)
	}
	return nil
}

func (o *Options) defaults() {
	if o.Resources == "" {
		o.Resources = ResourcesPrefix
	}
	if o.CollapseAt <= 0 {
		o.CollapseAt = 3
	}
	if o.MaxResources <= 0 {
		o.MaxResources = 20
	}
	if o.MaxPolicyChars <= 0 {
		o.MaxPolicyChars = ManagedPolicyLimit
	}
	if o.Size == "" {
		o.Size = SizeSplit
	}
	if o.MaxSourceIPs <= 0 {
		o.MaxSourceIPs = 10
	}
}

// NothingToGrant is the SizeNote of a principal without policies: none of
// its calls both succeeded and maps to an IAM action.
const NothingToGrant = "nothing to grant: no authorised call in the window maps to an IAM action"

// ManagedPolicyLimit is the size limit of a customer managed policy, in
// characters without white space.
const ManagedPolicyLimit = 6144

// PolicyVersion is the policy language version iamlens writes.
const PolicyVersion = iampolicy.Version

// Document and Statement are the one policy model of iamlens
// (analyzer/iampolicy); policygen writes only Allow statements with Sid,
// Action, Resource and Condition.
type (
	Document  = iampolicy.Document
	Statement = iampolicy.Statement
)

// conditionBlock turns {"operator": {"key": [values]}} into a statement's
// Conditions, sorted by operator and key.
func conditionBlock(m map[string]map[string][]string) iampolicy.Conditions {
	var cs iampolicy.Conditions
	for _, op := range sortedOps(m) {
		for _, key := range sortedOps(m[op]) {
			cs = append(cs, iampolicy.Condition{Operator: op, Key: key, Values: m[op][key]})
		}
	}
	return cs
}

// Result is a generated policy with its evidence.
type Result struct {
	Principal      string `json:"principal"`
	Kind           string `json:"kind"`
	Mode           string `json:"resource_mode"`
	CatalogVersion string `json:"catalog_version,omitempty"`
	// Policies are the documents: one, several when split, none when
	// there is nothing to grant.
	Policies []*Document `json:"policies"`
	// Chars is each policy's size in characters without white space.
	Chars []int `json:"policy_chars"`
	// SizeNote says whether the policy had to be split or compacted.
	SizeNote string `json:"size_note"`
	// Evidence explains each statement, in policy order.
	Evidence []StatementEvidence `json:"statements"`
	// Conditions written, and conditions asked for but not written.
	Conditions        []ConditionNote `json:"conditions"`
	ConditionsSkipped []ConditionNote `json:"conditions_skipped"`
	// Rejected lists actions and resources left out of the policy.
	Rejected []Rejection `json:"rejected"`
	// FailedExcluded: the actions of calls that failed after authorisation
	// were left out (Options.ExcludeFailed); Usage.Failed lists them.
	FailedExcluded bool `json:"failed_excluded,omitempty"`
	// Usage is the evidence: denied and failed calls (needed but not
	// granted), unmapped calls, not-observable actions and the profile.
	Usage *analyzer.Usage `json:"usage"`
}

// StatementEvidence explains one statement.
type StatementEvidence struct {
	Sid       string             `json:"sid"`
	Policy    int                `json:"policy"` // index into Result.Policies
	Actions   []ActionEvidence   `json:"actions"`
	Resources []ResourceEvidence `json:"resources"`
}

// ActionEvidence is why an action is in a statement.
type ActionEvidence struct {
	Action    string    `json:"action"`
	Calls     int64     `json:"calls"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Events    []string  `json:"events"`
	Examples  []string  `json:"example_resources,omitempty"`
	// Wildcard says why the action is granted on "*", when it is.
	Wildcard string `json:"wildcard_reason,omitempty"`
	// FailedCalls of Calls passed authorisation and then failed for
	// another reason, with these error codes.
	FailedCalls int64            `json:"failed_calls,omitempty"`
	ErrorCodes  []analyzer.Count `json:"error_codes,omitempty"`
}

// ResourceEvidence says what a Resource entry stands for.
type ResourceEvidence struct {
	Resource string `json:"resource"`
	// Why is "seen" for an ARN seen as is; otherwise it explains a pattern
	// or a "*".
	Why string `json:"why"`
	// StandsFor are the ARNs seen that a pattern covers (up to 5) and how
	// many there were.
	StandsFor []string `json:"stands_for,omitempty"`
	Count     int      `json:"count,omitempty"`
}

// ConditionNote explains a condition.
type ConditionNote struct {
	Key    string   `json:"key"`
	Values []string `json:"values,omitempty"`
	Why    string   `json:"why"`
}

// Rejection is an action or resource left out of the policy.
type Rejection struct {
	Action   string `json:"action"`
	Resource string `json:"resource,omitempty"`
	Reason   string `json:"reason"`
}

// Why texts for "*" resources.
const (
	WhyNoResourceLevel = "the action allows no resource-level restriction"
	WhyUnknownResource = "the log does not reveal the resource of some calls"
	WhyNoFit           = "a resource seen fits none of the action's resource types"
)

// planned is one action with its final resource entries.
type planned struct {
	au  *analyzer.ActionUsage
	res []ResourceEvidence
}

// Generate builds the policy of u.
func Generate(u *analyzer.Usage, cat Catalog, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.defaults()
	r := &Result{Principal: u.Principal, Kind: u.Kind, Mode: opts.Resources, Usage: u,
		Conditions: []ConditionNote{}, ConditionsSkipped: []ConditionNote{}, Rejected: []Rejection{},
		FailedExcluded: opts.ExcludeFailed && len(u.Failed) > 0}
	if v, ok := cat.(interface{ Version() string }); ok {
		r.CatalogVersion = v.Version()
	}
	granted := Granted(u, opts.ExcludeFailed)
	var plan []planned
	for _, au := range granted {
		p, rej := planAction(au, cat, opts)
		r.Rejected = append(r.Rejected, rej...)
		if p != nil {
			plan = append(plan, *p)
		}
	}
	stmts, ev := group(plan, opts)
	cond := r.conditions(u, granted, opts)
	for i := range stmts {
		stmts[i].Condition = conditionBlock(cond(ev[i]))
	}
	r.size(stmts, ev, u, granted, cat, opts)
	return r, nil
}

// Granted returns the actions a policy for u grants, sorted by name: the
// successful calls' and, unless excludeFailed, those of calls that passed
// authorisation and then failed for another reason (analyzer.Usage.Failed:
// NoSuchKey, throttling), merged per action. A merged action's ErrorCodes
// are its failed calls' codes. u is not changed.
func Granted(u *analyzer.Usage, excludeFailed bool) []*analyzer.ActionUsage {
	if excludeFailed || len(u.Failed) == 0 {
		return u.Allowed
	}
	by := map[string]*analyzer.ActionUsage{}
	var out []*analyzer.ActionUsage
	for _, list := range [][]*analyzer.ActionUsage{u.Allowed, u.Failed} {
		for _, au := range list {
			m := by[au.Action]
			if m == nil {
				cp := *au
				cp.Resources = append([]analyzer.ResourceUsage(nil), au.Resources...)
				cp.ErrorCodes = append([]analyzer.Count(nil), au.ErrorCodes...)
				by[au.Action] = &cp
				out = append(out, &cp)
				continue
			}
			mergeAction(m, au)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Action < out[j].Action })
	return out
}

// mergeAction adds b's calls to a.
func mergeAction(a, b *analyzer.ActionUsage) {
	a.Calls += b.Calls
	if b.FirstSeen.Before(a.FirstSeen) {
		a.FirstSeen = b.FirstSeen
	}
	if b.LastSeen.After(a.LastSeen) {
		a.LastSeen = b.LastSeen
	}
	a.UnknownResourceCalls += b.UnknownResourceCalls
	res := map[string]int{}
	for i, r := range a.Resources {
		res[r.ARN] = i
	}
	for _, r := range b.Resources {
		i, ok := res[r.ARN]
		if !ok {
			res[r.ARN] = len(a.Resources)
			a.Resources = append(a.Resources, r)
			continue
		}
		x := &a.Resources[i]
		x.Calls += r.Calls
		if r.FirstSeen.Before(x.FirstSeen) {
			x.FirstSeen = r.FirstSeen
		}
		if r.LastSeen.After(x.LastSeen) {
			x.LastSeen = r.LastSeen
		}
	}
	sort.Slice(a.Resources, func(i, j int) bool { return a.Resources[i].ARN < a.Resources[j].ARN })
	a.Notes = union(a.Notes, b.Notes)
	a.Events = union(a.Events, b.Events)
	a.Regions = union(a.Regions, b.Regions)
	codes := map[string]int64{}
	for _, c := range append(append([]analyzer.Count(nil), a.ErrorCodes...), b.ErrorCodes...) {
		codes[c.Value] += c.Count
	}
	a.ErrorCodes = nil
	for v, n := range codes {
		a.ErrorCodes = append(a.ErrorCodes, analyzer.Count{Value: v, Count: n})
	}
	sort.Slice(a.ErrorCodes, func(i, j int) bool {
		if a.ErrorCodes[i].Count != a.ErrorCodes[j].Count {
			return a.ErrorCodes[i].Count > a.ErrorCodes[j].Count
		}
		return a.ErrorCodes[i].Value < a.ErrorCodes[j].Value
	})
}

// union merges two sorted sets of strings; nil stays nil.
func union(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	set := map[string]bool{}
	for _, x := range append(append([]string(nil), a...), b...) {
		set[x] = true
	}
	return sortedKeys(set)
}

// FailedCalls is how many of the action's calls failed after
// authorisation (the counts of its error codes).
func FailedCalls(au *analyzer.ActionUsage) int64 {
	var n int64
	for _, c := range au.ErrorCodes {
		n += c.Count
	}
	return n
}

// planAction decides the resources of one allowed action.
func planAction(au *analyzer.ActionUsage, cat Catalog, opts Options) (*planned, []Rejection) {
	a, ok := cat.Action(au.Action)
	if !ok {
		return nil, []Rejection{{Action: au.Action, Reason: "not in the IAM catalogue"}}
	}
	name := a.FullName()
	p := &planned{au: au}
	if len(a.Resources) == 0 {
		p.res = []ResourceEvidence{{Resource: "*", Why: WhyNoResourceLevel}}
		return p, nil
	}
	var rej []Rejection
	var arns []string
	why := map[string]string{}
	star := ""
	for _, ru := range au.Resources {
		switch {
		case ru.ARN == "*":
			star = WhyUnknownResource
		case cat.MatchesResource(name, ru.ARN):
			arns = append(arns, ru.ARN)
			if ru.Why != "" {
				why[ru.ARN] = ru.Why
			}
		default:
			rej = append(rej, Rejection{Action: name, Resource: ru.ARN, Reason: "fits none of the action's resource types; granted on \"*\" instead"})
			star = WhyNoFit
		}
	}
	if au.UnknownResourceCalls > 0 {
		star = WhyUnknownResource
		if len(au.Notes) > 0 {
			star += ": " + strings.Join(au.Notes, "; ")
		}
	}
	if star != "" {
		p.res = []ResourceEvidence{{Resource: "*", Why: star, StandsFor: first(arns, 5), Count: len(arns)}}
		return p, rej
	}
	p.res = generalise(name, arns, why, cat, opts)
	return p, rej
}

func first(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

// WhyEscaped explains an ARN written with IAM's escapes.
const WhyEscaped = `seen; its *, ? and $ are written ${*}, ${?} and ${$} so that IAM reads them literally, not as wildcards or policy variables`

// generalise applies the resource mode to one action's ARNs, keeping a
// pattern only when it still fits one of the action's resource types.
//
// A resource with a wildcard and a reason in why is a pattern the mapping
// wrote (instance/* for an instance the call creates, user/*/NAME for a
// name whose path is unknown): it is written as it is, and only service
// mode widens it. Any other resource holding '*', '?' or '$' (an S3 key
// may) is never generalised: it is written on its own with those
// characters escaped (iampolicy.EscapeLiteral; escapes the mapping already
// wrote are kept), so that a value from the logs cannot widen the policy
// or become a policy variable.
func generalise(action string, arns []string, why map[string]string, cat Catalog, opts Options) []ResourceEvidence {
	var out []ResourceEvidence
	plain := arns[:0:0]
	var patterns []string
	for _, a := range arns {
		switch {
		case why[a] != "" && hasWildcard(a):
			patterns = append(patterns, a)
		case strings.ContainsAny(a, "*?$"):
			out = append(out, ResourceEvidence{Resource: escapeBare(a), Why: WhyEscaped})
		default:
			plain = append(plain, a)
		}
	}
	arns = plain
	if opts.Resources == ResourcesService {
		arns = append(arns, patterns...)
	} else {
		for _, p := range uniqueSorted(patterns) {
			out = append(out, ResourceEvidence{Resource: p, Why: why[p]})
		}
	}
	var groups []patternGroup
	switch opts.Resources {
	case ResourcesExact:
		groups = exactGroups(arns)
	case ResourcesService:
		groups = serviceGroups(arns)
	default:
		groups = prefixGroups(arns, opts.CollapseAt)
		if len(groups) > opts.MaxResources {
			groups = prefixGroups(arns, 1)
		}
	}
	for _, g := range groups {
		if len(g.members) == 1 && g.members[0] == g.pattern {
			w := "seen"
			if why[g.pattern] != "" {
				w = why[g.pattern]
			}
			out = append(out, ResourceEvidence{Resource: g.pattern, Why: w})
			continue
		}
		if !cat.MatchesResource(action, g.pattern) {
			for _, m := range g.members {
				out = append(out, ResourceEvidence{Resource: m, Why: "seen"})
			}
			continue
		}
		out = append(out, ResourceEvidence{Resource: g.pattern, Why: g.why, StandsFor: first(g.members, 5), Count: len(g.members)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Resource < out[j].Resource })
	return dedupEvidence(out)
}

// hasWildcard reports whether a resource holds a '*' or '?' that is not
// one of IAM's escapes (${*}, ${?}).
func hasWildcard(s string) bool {
	s = strings.NewReplacer("${*}", "", "${?}", "", "${$}", "").Replace(s)
	return strings.ContainsAny(s, "*?")
}

// escapeBare escapes the '*', '?' and '$' of s that are not already one of
// IAM's escapes.
func escapeBare(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+3 < len(s) && s[i+1] == '{' && s[i+3] == '}' && strings.IndexByte("*?$", s[i+2]) >= 0 {
			b.WriteString(s[i : i+4])
			i += 3
			continue
		}
		b.WriteString(iampolicy.EscapeLiteral(s[i : i+1]))
	}
	return b.String()
}

func dedupEvidence(in []ResourceEvidence) []ResourceEvidence {
	var out []ResourceEvidence
	for _, e := range in {
		if n := len(out); n > 0 && out[n-1].Resource == e.Resource {
			out[n-1].Count += e.Count
			continue
		}
		out = append(out, e)
	}
	return out
}

// group merges actions with equal resource sets into statements, sorted by
// their first action; statements with more than MaxResources entries are
// split.
func group(plan []planned, opts Options) ([]Statement, []*StatementEvidence) {
	type bucket struct {
		res     []ResourceEvidence
		actions []*analyzer.ActionUsage
		why     map[string]string // action → why it is granted on "*"
	}
	by := map[string]*bucket{}
	var keys []string
	for _, p := range plan {
		names := make([]string, len(p.res))
		for i, e := range p.res {
			names[i] = e.Resource
		}
		k := strings.Join(names, "\x00")
		b := by[k]
		if b == nil {
			b = &bucket{res: append([]ResourceEvidence(nil), p.res...), why: map[string]string{}}
			by[k] = b
			keys = append(keys, k)
		} else {
			for i := range b.res {
				b.res[i].Count = max(b.res[i].Count, p.res[i].Count)
				if len(p.res[i].StandsFor) > len(b.res[i].StandsFor) {
					b.res[i].StandsFor = p.res[i].StandsFor
				}
				if b.res[i].Resource == "*" && !strings.Contains(b.res[i].Why, p.res[i].Why) {
					// "*" for several reasons: each action says its own
					b.res[i].Why += "; " + p.res[i].Why
				}
			}
		}
		if len(p.res) == 1 && p.res[0].Resource == "*" {
			b.why[p.au.Action] = p.res[0].Why
		}
		b.actions = append(b.actions, p.au)
	}
	var stmts []Statement
	var evs []*StatementEvidence
	for _, k := range keys {
		b := by[k]
		sort.Slice(b.actions, func(i, j int) bool { return b.actions[i].Action < b.actions[j].Action })
		for start := 0; start < len(b.res); start += opts.MaxResources {
			chunk := b.res[start:min(start+opts.MaxResources, len(b.res))]
			st := Statement{Effect: iampolicy.Allow}
			ev := &StatementEvidence{Resources: chunk}
			for _, au := range b.actions {
				st.Action = append(st.Action, au.Action)
				ae := actionEvidence(au, chunk)
				ae.Wildcard = b.why[au.Action]
				ev.Actions = append(ev.Actions, ae)
			}
			for _, e := range chunk {
				st.Resource = append(st.Resource, e.Resource)
			}
			stmts = append(stmts, st)
			evs = append(evs, ev)
		}
	}
	idx := make([]int, len(stmts))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := stmts[idx[a]], stmts[idx[b]]
		if x.Action[0] != y.Action[0] {
			return x.Action[0] < y.Action[0]
		}
		return x.Resource[0] < y.Resource[0]
	})
	outS := make([]Statement, len(stmts))
	outE := make([]*StatementEvidence, len(stmts))
	used := map[string]int{}
	for i, j := range idx {
		outS[i], outE[i] = stmts[j], evs[j]
		base := sidBase(outS[i].Action)
		used[base]++
		sid := base
		if n := used[base]; n > 1 {
			sid = fmt.Sprintf("%sStmt%d", base, n)
		}
		outS[i].Sid, outE[i].Sid = sid, sid
	}
	return outS, outE
}

func actionEvidence(au *analyzer.ActionUsage, res []ResourceEvidence) ActionEvidence {
	ae := ActionEvidence{Action: au.Action, Calls: au.Calls, FirstSeen: au.FirstSeen, LastSeen: au.LastSeen, Events: au.Events,
		FailedCalls: FailedCalls(au), ErrorCodes: au.ErrorCodes}
	for _, r := range au.Resources {
		if r.ARN != "*" && len(ae.Examples) < 3 {
			ae.Examples = append(ae.Examples, r.ARN)
		}
	}
	return ae
}

// sidBase names a statement after its services: "S3", "Ec2Iam".
func sidBase(actions []string) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, a := range actions {
		svc, _, _ := strings.Cut(a, ":")
		if seen[svc] {
			continue
		}
		seen[svc] = true
		up := true
		for _, c := range svc {
			if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
				up = true
				continue
			}
			if up {
				c = unicode.ToUpper(c)
				up = false
			}
			b.WriteRune(c)
		}
		if b.Len() > 48 {
			break
		}
	}
	if b.Len() == 0 {
		return "Stmt"
	}
	return b.String()
}

// conditions works out the conditions the options ask for and returns the
// function that gives each statement its condition block.
func (r *Result) conditions(u *analyzer.Usage, granted []*analyzer.ActionUsage, opts Options) func(*StatementEvidence) map[string]map[string][]string {
	o := u.Origins
	global := map[string]map[string][]string{}
	set := func(op, key string, vals []string) {
		if global[op] == nil {
			global[op] = map[string][]string{}
		}
		global[op][key] = vals
	}
	switch opts.ConditionSource {
	case SourceVPCE:
		switch {
		case o.Calls == 0:
		case o.NoVPCE > 0:
			r.ConditionsSkipped = append(r.ConditionsSkipped, ConditionNote{Key: "aws:SourceVpce",
				Why: fmt.Sprintf("%d of %d successful calls did not come through a VPC endpoint", o.NoVPCE, o.Calls)})
		default:
			vals := countValues(o.VPCEndpoints)
			set("StringEquals", "aws:SourceVpce", vals)
			r.Conditions = append(r.Conditions, ConditionNote{Key: "aws:SourceVpce", Values: vals,
				Why: fmt.Sprintf("all %d successful calls came through these VPC endpoints", o.Calls)})
		}
	case SourceIP:
		switch {
		case o.Calls == 0:
		case o.ViaService > 0:
			r.ConditionsSkipped = append(r.ConditionsSkipped, ConditionNote{Key: "aws:SourceIp",
				Why: fmt.Sprintf("%d of %d successful calls came through an AWS service, which aws:SourceIp would deny", o.ViaService, o.Calls)})
		default:
			vals, why, ok := sourceCIDRs(o.SourceIPs, opts.MaxSourceIPs)
			if !ok {
				r.ConditionsSkipped = append(r.ConditionsSkipped, ConditionNote{Key: "aws:SourceIp", Why: why})
				break
			}
			set("IpAddress", "aws:SourceIp", vals)
			r.Conditions = append(r.Conditions, ConditionNote{Key: "aws:SourceIp", Values: vals, Why: why})
		}
	}
	if opts.ConditionMFA && o.Calls > 0 {
		if o.MFA == o.Calls {
			set("Bool", "aws:MultiFactorAuthPresent", []string{"true"})
			r.Conditions = append(r.Conditions, ConditionNote{Key: "aws:MultiFactorAuthPresent", Values: []string{"true"},
				Why: fmt.Sprintf("all %d successful calls were made with MFA", o.Calls)})
		} else {
			r.ConditionsSkipped = append(r.ConditionsSkipped, ConditionNote{Key: "aws:MultiFactorAuthPresent",
				Why: fmt.Sprintf("only %d of %d successful calls were made with MFA", o.MFA, o.Calls)})
		}
	}
	regions := map[string][]string{}
	if opts.ConditionRegion {
		byAction := map[string][]string{}
		all := map[string]bool{}
		for _, au := range granted {
			byAction[au.Action] = au.Regions
			for _, rg := range au.Regions {
				all[rg] = true
			}
		}
		var vals []string
		for rg := range all {
			vals = append(vals, rg)
		}
		sort.Strings(vals)
		if len(vals) > 0 {
			r.Conditions = append(r.Conditions, ConditionNote{Key: "aws:RequestedRegion", Values: vals,
				Why: "each statement is limited to the regions its actions were called in (global services such as IAM report us-east-1)"})
		}
		for a, rs := range byAction {
			regions[a] = rs
		}
	}
	return func(ev *StatementEvidence) map[string]map[string][]string {
		out := map[string]map[string][]string{}
		for op, kv := range global {
			out[op] = map[string][]string{}
			for k, v := range kv {
				out[op][k] = v
			}
		}
		if opts.ConditionRegion {
			set := map[string]bool{}
			for _, a := range ev.Actions {
				for _, rg := range regions[a.Action] {
					set[rg] = true
				}
			}
			if len(set) > 0 {
				var vals []string
				for rg := range set {
					vals = append(vals, rg)
				}
				sort.Strings(vals)
				if out["StringEquals"] == nil {
					out["StringEquals"] = map[string][]string{}
				}
				out["StringEquals"]["aws:RequestedRegion"] = vals
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
}

func countValues(cs []analyzer.Count) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Value)
	}
	sort.Strings(out)
	return out
}

// sourceCIDRs turns source addresses into aws:SourceIp values: one /32 (or
// /128) per address, or /24 networks when there are more than max, or
// nothing when even those are too many.
func sourceCIDRs(ips []analyzer.Count, maxN int) ([]string, string, bool) {
	var addrs []netip.Addr
	for _, c := range ips {
		a, err := netip.ParseAddr(c.Value)
		if err != nil {
			return nil, fmt.Sprintf("source %q is not an IP address", c.Value), false
		}
		addrs = append(addrs, a)
	}
	exact := map[string]bool{}
	nets := map[string]bool{}
	for _, a := range addrs {
		exact[netip.PrefixFrom(a, a.BitLen()).String()] = true
		bits := 24
		if a.Is6() {
			bits = 64
		}
		p, _ := a.Prefix(bits)
		nets[p.String()] = true
	}
	if len(exact) <= maxN {
		return sortedKeys(exact), fmt.Sprintf("every successful call came from these %d addresses", len(exact)), true
	}
	if len(nets) <= maxN {
		return sortedKeys(nets), fmt.Sprintf("every successful call came from %d addresses in these %d networks (/24, /64 for IPv6): widened from single addresses", len(exact), len(nets)), true
	}
	return nil, fmt.Sprintf("successful calls came from %d addresses in %d networks, more than %d", len(exact), len(nets), maxN), false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Chars is the size of a policy as IAM counts it: characters of its JSON
// without white space.
func Chars(d *Document) int {
	buf := charsBufs.Get().(*[]byte)
	defer charsBufs.Put(buf)
	*buf = d.AppendJSON((*buf)[:0])
	n := 0
	for _, c := range string(*buf) {
		if !unicode.IsSpace(c) {
			n++
		}
	}
	return n
}

// charsBufs are Chars' buffers: a policy is measured every time a
// statement is added to it.
var charsBufs = sync.Pool{New: func() any { return new([]byte) }}

// charsOf is what statement s adds to the characters of a document
// (Chars), not counting the comma before it; for s nil, the characters of
// a document without statements. A document's statements are encoded one
// by one, as array elements: Chars of a document of n statements is
// charsOf(nil) + the charsOf of each + n-1 (TestCharsAddUp).
func charsOf(s *Statement) int {
	empty := Chars(&Document{Version: PolicyVersion, Statement: []Statement{}})
	if s == nil {
		return empty
	}
	return Chars(&Document{Version: PolicyVersion, Statement: []Statement{*s}}) - empty
}

func marshal(v any, indent bool) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// size fits the statements into one or more documents under the limit.
func (r *Result) size(stmts []Statement, ev []*StatementEvidence, u *analyzer.Usage, granted []*analyzer.ActionUsage, cat Catalog, opts Options) {
	doc := &Document{Version: PolicyVersion, Statement: stmts}
	if len(stmts) == 0 {
		// No policy at all: IAM rejects a document without statements.
		r.finish(nil, nil)
		r.SizeNote = NothingToGrant
		return
	}
	before := Chars(doc)
	if before <= opts.MaxPolicyChars {
		r.finish([]*Document{doc}, [][]*StatementEvidence{ev})
		r.SizeNote = "fits in one managed policy"
		return
	}
	if opts.Size == SizeCompact && opts.Resources != ResourcesService {
		o := opts
		o.Resources = ResourcesService
		o.Size = SizeSplit
		var plan []planned
		for _, au := range granted {
			if p, _ := planAction(au, cat, o); p != nil {
				plan = append(plan, *p)
			}
		}
		cs, cev := group(plan, o)
		cond := (&Result{}).conditions(u, granted, o)
		for i := range cs {
			cs[i].Condition = conditionBlock(cond(cev[i]))
		}
		cdoc := &Document{Version: PolicyVersion, Statement: cs}
		if n := Chars(cdoc); n <= opts.MaxPolicyChars {
			r.Mode = ResourcesService
			r.finish([]*Document{cdoc}, [][]*StatementEvidence{cev})
			r.SizeNote = fmt.Sprintf("compacted: %s characters were over the %s-character limit, so resource names were replaced by \"*\" within each resource type (service mode), giving %s",
				thousands(before), thousands(opts.MaxPolicyChars), thousands(n))
			return
		}
	}
	// Greedy packing in statement order; a statement too large on its own
	// is cut into smaller statements first.
	var pieces []Statement
	var pev []*StatementEvidence
	for i := range stmts {
		ss, ee := cut(stmts[i], ev[i], opts.MaxPolicyChars)
		pieces = append(pieces, ss...)
		pev = append(pev, ee...)
	}
	var docs []*Document
	var evs [][]*StatementEvidence
	cur := &Document{Version: PolicyVersion}
	var curEv []*StatementEvidence
	// A document's characters add up (charsOf): each piece is measured
	// once, not the document again with each piece added.
	base := charsOf(nil)
	n := base
	for i, s := range pieces {
		c := charsOf(&s)
		cur.Statement = append(cur.Statement, s)
		if len(cur.Statement) > 1 {
			n++ // the comma
		}
		n += c
		if n > opts.MaxPolicyChars && len(cur.Statement) > 1 {
			cur.Statement = cur.Statement[:len(cur.Statement)-1]
			docs, evs = append(docs, cur), append(evs, curEv)
			cur = &Document{Version: PolicyVersion, Statement: []Statement{s}}
			curEv = nil
			n = base + c
		}
		curEv = append(curEv, pev[i])
	}
	docs, evs = append(docs, cur), append(evs, curEv)
	r.finish(docs, evs)
	r.SizeNote = fmt.Sprintf("split: %s characters are over the %s-character limit of a managed policy, so the statements were spread over %d policies",
		thousands(before), thousands(opts.MaxPolicyChars), len(docs))
}

// cut splits a statement whose own size is over the limit into statements
// of fewer resources (then fewer actions).
func cut(s Statement, ev *StatementEvidence, limit int) ([]Statement, []*StatementEvidence) {
	if Chars(&Document{Version: PolicyVersion, Statement: []Statement{s}}) <= limit {
		return []Statement{s}, []*StatementEvidence{ev}
	}
	if len(s.Resource) > 1 {
		h := len(s.Resource) / 2
		a, b := s, s
		a.Resource, b.Resource = s.Resource[:h], s.Resource[h:]
		ea, eb := *ev, *ev
		ea.Resources, eb.Resources = ev.Resources[:h], ev.Resources[h:]
		a.Sid, b.Sid = s.Sid+"A", s.Sid+"B"
		ea.Sid, eb.Sid = a.Sid, b.Sid
		s1, e1 := cut(a, &ea, limit)
		s2, e2 := cut(b, &eb, limit)
		return append(s1, s2...), append(e1, e2...)
	}
	if len(s.Action) > 1 {
		h := len(s.Action) / 2
		a, b := s, s
		a.Action, b.Action = s.Action[:h], s.Action[h:]
		ea, eb := *ev, *ev
		ea.Actions, eb.Actions = ev.Actions[:h], ev.Actions[h:]
		a.Sid, b.Sid = s.Sid+"A", s.Sid+"B"
		ea.Sid, eb.Sid = a.Sid, b.Sid
		s1, e1 := cut(a, &ea, limit)
		s2, e2 := cut(b, &eb, limit)
		return append(s1, s2...), append(e1, e2...)
	}
	return []Statement{s}, []*StatementEvidence{ev}
}

func (r *Result) finish(docs []*Document, evs [][]*StatementEvidence) {
	if docs == nil {
		docs = []*Document{}
	}
	r.Policies = docs
	r.Chars = nil
	r.Evidence = nil
	for i, d := range docs {
		if d.Statement == nil {
			d.Statement = []Statement{}
		}
		r.Chars = append(r.Chars, Chars(d))
		for _, e := range evs[i] {
			e.Policy = i
			r.Evidence = append(r.Evidence, *e)
		}
	}
	if r.Evidence == nil {
		r.Evidence = []StatementEvidence{}
	}
}
