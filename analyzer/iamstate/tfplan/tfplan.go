// Package tfplan reads a Terraform plan, as `terraform show -json PLAN`
// prints it, into the IAM policies it gives each user and role once
// applied, in the shape of the account state (iamstate.Effective), so that
// `iamlens diff --terraform-plan` compares a pull request's policies with
// what the principals did.
//
// It reads the resources of the AWS provider that give identity policies,
// in the root module and in modules at any depth:
//
//   - aws_iam_role (inline_policy blocks, managed_policy_arns,
//     permissions_boundary), aws_iam_user (permissions_boundary),
//     aws_iam_group, aws_iam_policy;
//   - aws_iam_role_policy, aws_iam_user_policy, aws_iam_group_policy;
//   - aws_iam_role_policy_attachment, aws_iam_user_policy_attachment,
//     aws_iam_group_policy_attachment, aws_iam_policy_attachment;
//   - aws_iam_role_policies_exclusive, aws_iam_user_policies_exclusive,
//     aws_iam_group_policies_exclusive and the *_policy_attachments_exclusive
//     resources;
//   - aws_iam_user_group_membership, aws_iam_group_membership.
//
// Policy documents are the planned values: the JSON a data
// "aws_iam_policy_document" rendered, or a jsonencode(...) literal. A value
// Terraform knows only after apply is reported as unknown, never guessed;
// links whose value is unknown (the ARN of a policy the plan creates, the
// name of a role with name_prefix) are followed through the configuration's
// references (resource attributes, module outputs, module inputs), and only
// when they name exactly one resource instance. Managed policies the plan
// attaches by ARN without creating them come from Options.ManagedPolicy
// (an account state, the embedded AWS managed policies).
//
// A plan shows only what its configuration manages: policies attached
// outside it are not in the plan unless an exclusive resource
// (inline_policy blocks, managed_policy_arns, *_exclusive) says the set is
// whole. Principal.Notes says which.
package tfplan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// Options tune Read.
type Options struct {
	// ManagedPolicy gives the document of a managed policy that the plan
	// attaches by ARN but does not define; origin says where it came from
	// ("GAAD file", "iamlens's embedded copy of the AWS managed policies").
	// Nil, or ok false: the policy is unknown.
	ManagedPolicy func(policyARN string) (doc *iampolicy.Document, origin string, embedded, ok bool)
}

// Plan is what a plan gives the IAM principals once applied.
type Plan struct {
	FormatVersion    string
	TerraformVersion string
	// Principals are the users and roles the plan manages or gives
	// policies to, sorted by kind, then name, then address.
	Principals []*Principal
	// Problems lists what the reader could not use: resources of unknown
	// shape, documents that do not parse.
	Problems []string
}

// Principal is one user or role and the policies the plan gives it.
type Principal struct {
	Kind iamstate.Kind
	// Address is the principal's resource ("module.ci.aws_iam_role.this");
	// "" when the plan does not manage the principal itself, only gives
	// it policies by name.
	Address string
	// Name is the user or role name; "" when unknown until apply (then
	// the principal cannot be matched with the CloudTrail dataset).
	Name string
	// Path is the IAM path ("/" by default); ARN is known when the
	// principal exists already (the plan's prior state has it).
	Path string
	ARN  string
	// Action is the plan's action on the principal: create, update,
	// no-op, replace; "" when not managed here.
	Action string
	// Effective holds the policies, labelled with their resource
	// addresses (AppliedPolicy.Address), and in Unknown what is unknown
	// until apply or not in the plan.
	Effective *iamstate.Effective
	// Notes say where the plan's picture may be incomplete: policies
	// attached outside this configuration.
	Notes []string
}

// ReadFile reads the plan JSON in the file.
func ReadFile(path string, opts Options) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := Read(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ErrNotPlan means the JSON is not `terraform show -json` output of a plan.
var ErrNotPlan = errors.New("not the JSON of a Terraform plan (terraform show -json PLAN)")

// Read reads `terraform show -json PLAN` output.
func Read(r io.Reader, opts Options) (*Plan, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var probe struct {
		FormatVersion   string          `json:"format_version"`
		ResourceChanges json.RawMessage `json:"resource_changes"`
		PlannedValues   json.RawMessage `json:"planned_values"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPlan, err)
	}
	if probe.FormatVersion == "" || (probe.ResourceChanges == nil && probe.PlannedValues == nil) {
		return nil, fmt.Errorf("%w: no format_version and resource_changes (a state file, or terraform plan's text output?)", ErrNotPlan)
	}
	var tp tfjson.Plan
	if err := json.Unmarshal(b, &tp); err != nil {
		return nil, fmt.Errorf("terraform plan JSON: %w", err)
	}
	rd := newReader(&tp, opts)
	rd.collect()
	return rd.build(), nil
}

// reader holds one plan while it is read.
type reader struct {
	tp       *tfjson.Plan
	opts     Options
	byAddr   map[string]*instance
	all      []*instance
	modules  map[string]*tfjson.ConfigModule // configuration path → module
	problems []string

	// gone: what the apply removes, "kind|principal|policy ARN or inline
	// name", so that a role's read-back lists do not keep it.
	gone map[string]bool

	roles, users, groups map[string]*entity // by address
	byName               map[iamstate.Kind]map[string]*entity
}

// entity is a role, user or group being assembled.
type entity struct {
	kind    iamstate.Kind
	in      *instance // nil when the plan names it only
	name    string
	path    string
	arn     string
	inline  []inlinePolicy
	attach  []attachment
	bound   *attachment
	groups  []groupRef // users: the groups they belong to
	notes   []string
	unknown []string
	// exclusive sets: the plan says the whole set
	inlineWhole, attachWhole bool
	inlineNames              map[string]bool // aws_iam_*_policies_exclusive
	inlineNamesBy            string
}

type inlinePolicy struct {
	// readBack: the provider read it back from the account (an existing
	// role's inline_policy when the configuration does not set it).
	readBack bool
	name     string
	doc      *iampolicy.Document
	why      string // why doc is nil
	address  string
}

// attachment is one managed policy attached: a policy of the plan (pol),
// or an ARN.
type attachment struct {
	readBack bool // as inlinePolicy.readBack, from managed_policy_arns
	pol      *instance
	arn      string
	why      string // why neither is known
	address  string // the attaching resource
}

type groupRef struct {
	name    string
	g       *entity
	address string
}

func newReader(tp *tfjson.Plan, opts Options) *reader {
	rd := &reader{tp: tp, opts: opts, byAddr: map[string]*instance{}, modules: map[string]*tfjson.ConfigModule{}, gone: map[string]bool{},
		roles: map[string]*entity{}, users: map[string]*entity{}, groups: map[string]*entity{},
		byName: map[iamstate.Kind]map[string]*entity{iamstate.KindRole: {}, iamstate.KindUser: {}, iamstate.KindGroup: {}}}
	if tp.Config != nil && tp.Config.RootModule != nil {
		var walk func(path string, m *tfjson.ConfigModule)
		walk = func(path string, m *tfjson.ConfigModule) {
			rd.modules[path] = m
			for name, call := range m.ModuleCalls {
				if call != nil && call.Module != nil {
					walk(join(path, "module."+name), call.Module)
				}
			}
		}
		walk("", tp.Config.RootModule)
	}
	for _, rc := range tp.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.DeposedKey != "" {
			continue
		}
		acts := rc.Change.Actions
		if acts.Delete() || acts.Forget() {
			rd.removed(rc) // gone once applied
			continue
		}
		in := &instance{addr: rc.Address, module: rc.ModuleAddress, cfgMod: stripKeys(rc.ModuleAddress),
			mode: rc.Mode, typ: rc.Type, name: rc.Name, action: actionName(acts)}
		in.after, _ = rc.Change.After.(map[string]any)
		in.unknown, _ = rc.Change.AfterUnknown.(map[string]any)
		if in.after == nil {
			in.after = map[string]any{}
		}
		if in.unknown == nil {
			in.unknown = map[string]any{}
		}
		if m := rd.modules[in.cfgMod]; m != nil {
			rel := in.typ + "." + in.name
			if in.mode == tfjson.DataResourceMode {
				rel = "data." + rel
			}
			for _, cr := range m.Resources {
				if cr != nil && cr.Address == rel {
					in.cfg = cr
				}
			}
		}
		rd.byAddr[in.addr] = in
		rd.all = append(rd.all, in)
	}
	return rd
}

// removed notes an inline policy or an attachment the apply deletes.
func (rd *reader) removed(rc *tfjson.ResourceChange) {
	before, _ := rc.Change.Before.(map[string]any)
	str := func(k string) string { v, _ := before[k].(string); return v }
	switch rc.Type {
	case "aws_iam_role_policy":
		rd.gone["role|"+str("role")+"|"+str("name")] = true
	case "aws_iam_user_policy":
		rd.gone["user|"+str("user")+"|"+str("name")] = true
	case "aws_iam_group_policy":
		rd.gone["group|"+str("group")+"|"+str("name")] = true
	case "aws_iam_role_policy_attachment":
		rd.gone["role|"+str("role")+"|"+str("policy_arn")] = true
	case "aws_iam_user_policy_attachment":
		rd.gone["user|"+str("user")+"|"+str("policy_arn")] = true
	case "aws_iam_group_policy_attachment":
		rd.gone["group|"+str("group")+"|"+str("policy_arn")] = true
	}
}

// sets reports whether the configuration sets the argument: an argument it
// leaves out of an Optional+Computed attribute (inline_policy,
// managed_policy_arns) only mirrors the account.
func (in *instance) sets(attr string) bool {
	return in.cfg != nil && in.cfg.Expressions[attr] != nil
}

func actionName(a tfjson.Actions) string {
	switch {
	case a.Create():
		return "create"
	case a.Replace():
		return "replace"
	case a.Update():
		return "update"
	case a.Read():
		return "read"
	case a.NoOp():
		return "no-op"
	}
	return strings.Join(actionsStrings(a), ",")
}

func actionsStrings(a tfjson.Actions) []string {
	out := make([]string, len(a))
	for i, x := range a {
		out[i] = string(x)
	}
	return out
}

func (rd *reader) problem(format string, args ...any) {
	rd.problems = append(rd.problems, fmt.Sprintf(format, args...))
}

// entityOf returns the entity of a principal resource, made on first use.
func (rd *reader) entityOf(kind iamstate.Kind, in *instance) *entity {
	m := map[iamstate.Kind]map[string]*entity{iamstate.KindRole: rd.roles, iamstate.KindUser: rd.users, iamstate.KindGroup: rd.groups}[kind]
	if e := m[in.addr]; e != nil {
		return e
	}
	e := &entity{kind: kind, in: in}
	name, st := in.str("name")
	if st == known {
		e.name = name
		rd.byName[kind][name] = e
	}
	e.path = "/"
	if p, st := in.str("path"); st == known && p != "" {
		e.path = p
	} else if st == unknownUntilApply {
		e.path = ""
	}
	if a, st := in.str("arn"); st == known {
		e.arn = a
	}
	m[in.addr] = e
	return e
}

// named returns the entity of a principal the plan names by name, made
// without a resource when the plan does not manage it.
func (rd *reader) named(kind iamstate.Kind, name string) *entity {
	if e := rd.byName[kind][name]; e != nil {
		return e
	}
	e := &entity{kind: kind, name: name}
	rd.byName[kind][name] = e
	return e
}

var principalTypes = map[string]iamstate.Kind{"aws_iam_role": iamstate.KindRole, "aws_iam_user": iamstate.KindUser, "aws_iam_group": iamstate.KindGroup}

// collect reads every resource into the entities.
func (rd *reader) collect() {
	// Principals first, so that references by name find them.
	for _, in := range rd.all {
		if k, ok := principalTypes[in.typ]; ok && in.mode == tfjson.ManagedResourceMode {
			rd.entityOf(k, in)
		}
	}
	for _, in := range rd.all {
		if in.mode != tfjson.ManagedResourceMode {
			continue
		}
		switch in.typ {
		case "aws_iam_role":
			rd.role(in)
		case "aws_iam_user":
			rd.boundary(rd.users[in.addr], in)
			rd.created(rd.users[in.addr], in)
		case "aws_iam_group":
			rd.created(rd.groups[in.addr], in)
		case "aws_iam_role_policy":
			rd.inline(in, iamstate.KindRole, "role")
		case "aws_iam_user_policy":
			rd.inline(in, iamstate.KindUser, "user")
		case "aws_iam_group_policy":
			rd.inline(in, iamstate.KindGroup, "group")
		case "aws_iam_role_policy_attachment":
			rd.attachOne(in, iamstate.KindRole, "role")
		case "aws_iam_user_policy_attachment":
			rd.attachOne(in, iamstate.KindUser, "user")
		case "aws_iam_group_policy_attachment":
			rd.attachOne(in, iamstate.KindGroup, "group")
		case "aws_iam_policy_attachment":
			rd.policyAttachment(in)
		case "aws_iam_role_policies_exclusive":
			rd.inlineExclusive(in, iamstate.KindRole, "role_name")
		case "aws_iam_user_policies_exclusive":
			rd.inlineExclusive(in, iamstate.KindUser, "user_name")
		case "aws_iam_group_policies_exclusive":
			rd.inlineExclusive(in, iamstate.KindGroup, "group_name")
		case "aws_iam_role_policy_attachments_exclusive":
			rd.attachExclusive(in, iamstate.KindRole, "role_name")
		case "aws_iam_user_policy_attachments_exclusive":
			rd.attachExclusive(in, iamstate.KindUser, "user_name")
		case "aws_iam_group_policy_attachments_exclusive":
			rd.attachExclusive(in, iamstate.KindGroup, "group_name")
		case "aws_iam_user_group_membership":
			rd.userGroups(in)
		case "aws_iam_group_membership":
			rd.groupMembers(in)
		}
	}
}

// created marks a new user's or group's sets whole: it has only what the
// plan gives it.
func (rd *reader) created(e *entity, in *instance) {
	if in.action == "create" {
		e.inlineWhole, e.attachWhole = true, true
	}
}

// target finds the principal of kind that attribute attr of in names:
// by its value when known, else through the configuration's references.
func (rd *reader) target(in *instance, kind iamstate.Kind, attr string) (*entity, string) {
	v, st := in.str(attr)
	switch st {
	case known:
		return rd.named(kind, lastName(v)), ""
	case absent:
		return nil, fmt.Sprintf("%s has no %s", in.addr, attr)
	}
	tgt, why := rd.refInstance(in, attr, "aws_iam_"+string(kind))
	if tgt == nil {
		return nil, fmt.Sprintf("%s: %s is unknown until apply (%s)", in.addr, attr, why)
	}
	return rd.entityOf(kind, tgt), ""
}

// lastName takes a name out of a value that may be an ARN (role = arn is
// accepted by some resources).
func lastName(v string) string {
	if strings.HasPrefix(v, "arn:") {
		if i := strings.LastIndexByte(v, '/'); i >= 0 {
			return v[i+1:]
		}
	}
	return v
}

func (rd *reader) role(in *instance) {
	e := rd.roles[in.addr]
	created := in.action == "create"
	bs, present, whole := in.blocks("inline_policy")
	switch {
	case in.sets("inline_policy") && whole:
		e.unknown = append(e.unknown, fmt.Sprintf("%s: the inline_policy blocks are unknown until apply", in.addr))
	case in.sets("inline_policy"):
		// The blocks are the role's whole set of inline policies.
		e.inlineWhole = true
		rd.inlineBlocks(e, in, bs, false)
	case present && !whole:
		// Not configured: the provider read back the inline policies the
		// role has now.
		e.inlineWhole = true
		rd.inlineBlocks(e, in, bs, true)
	case created:
		e.inlineWhole = true // a new role has only what the plan gives it
	}
	arns, unknownN, st := in.strs("managed_policy_arns")
	switch {
	case in.sets("managed_policy_arns"):
		e.attachWhole = true
		for _, a := range arns {
			e.attach = append(e.attach, attachment{arn: a, address: in.addr})
		}
		if unknownN != 0 {
			e.attach = append(e.attach, rd.unknownARNs(in, "managed_policy_arns", unknownN)...)
		}
	case st == known:
		e.attachWhole = true
		for _, a := range arns {
			e.attach = append(e.attach, attachment{arn: a, address: in.addr, readBack: true})
		}
	case created:
		e.attachWhole = true
	}
	rd.boundary(e, in)
}

func (rd *reader) inlineBlocks(e *entity, in *instance, bs []block, readBack bool) {
	for _, b := range bs {
		name, nst := b.str("name")
		if nst == absent {
			continue // inline_policy {}: no inline policies
		}
		ip := inlinePolicy{name: name, address: in.addr, readBack: readBack}
		if nst == unknownUntilApply {
			ip.name = "(name unknown until apply)"
		}
		rd.document(&ip, b.str, in.addr+" inline_policy")
		e.inline = append(e.inline, ip)
	}
}

// unknownARNs resolves the unknown elements of a list of policy ARNs
// through the references of its expression: when they name exactly as
// many policies of the plan whose ARN is unknown as there are unknown
// elements, each element is one of them (which one does not matter: all
// are attached). Otherwise the elements stay unknown.
func (rd *reader) unknownARNs(in *instance, attr string, n int) []attachment {
	pols := rd.refInstances(in, attr, "aws_iam_policy")
	var unknownARN []*instance
	for _, p := range pols {
		if _, st := p.str("arn"); st != known {
			unknownARN = append(unknownARN, p)
		}
	}
	if n > 0 && len(unknownARN) == n {
		out := make([]attachment, n)
		for i, p := range unknownARN {
			out[i] = attachment{pol: p, address: in.addr}
		}
		return out
	}
	what := fmt.Sprintf("%d", n)
	if n < 0 {
		what = "the"
	}
	return []attachment{{why: fmt.Sprintf("%s: %s element(s) of %s unknown until apply", in.addr, what, attr), address: in.addr}}
}

func (rd *reader) boundary(e *entity, in *instance) {
	if e == nil {
		return
	}
	v, st := in.str("permissions_boundary")
	switch st {
	case known:
		if v != "" {
			e.bound = &attachment{arn: v, address: in.addr}
		}
	case unknownUntilApply:
		if p, why := rd.refInstance(in, "permissions_boundary", "aws_iam_policy"); p != nil {
			e.bound = &attachment{pol: p, address: in.addr}
		} else {
			e.bound = &attachment{why: fmt.Sprintf("%s: permissions_boundary is unknown until apply (%s)", in.addr, why), address: in.addr}
		}
	}
}

// document parses the policy attribute into ip.
func (rd *reader) document(ip *inlinePolicy, get func(string) (string, state), what string) {
	text, st := get("policy")
	switch st {
	case unknownUntilApply:
		ip.why = "the document is unknown until apply"
	case absent:
		ip.why = "no policy document"
	default:
		d, err := iampolicy.Parse([]byte(text))
		if err != nil {
			ip.why = "the document does not parse: " + err.Error()
			rd.problem("%s: policy: %v", what, err)
			return
		}
		ip.doc = d
	}
}

func (rd *reader) inline(in *instance, kind iamstate.Kind, attr string) {
	e, why := rd.target(in, kind, attr)
	name, st := in.str("name")
	switch st {
	case unknownUntilApply:
		name = "(name unknown until apply)"
	case absent:
		name = in.name
	}
	ip := inlinePolicy{name: name, address: in.addr}
	rd.document(&ip, in.str, in.addr)
	if e == nil {
		rd.problem("%s: the %s it belongs to is unknown: %s", in.addr, kind, why)
		return
	}
	e.inline = append(e.inline, ip)
}

// attachment of the policy_arn attribute of in.
func (rd *reader) policyARN(in *instance) attachment {
	v, st := in.str("policy_arn")
	switch st {
	case known:
		return attachment{arn: v, address: in.addr}
	case absent:
		return attachment{why: in.addr + ": no policy_arn", address: in.addr}
	}
	if p, why := rd.refInstance(in, "policy_arn", "aws_iam_policy"); p != nil {
		return attachment{pol: p, address: in.addr}
	} else {
		return attachment{why: fmt.Sprintf("%s: policy_arn is unknown until apply (%s)", in.addr, why), address: in.addr}
	}
}

func (rd *reader) attachOne(in *instance, kind iamstate.Kind, attr string) {
	e, why := rd.target(in, kind, attr)
	if e == nil {
		rd.problem("%s: the %s it attaches to is unknown: %s", in.addr, kind, why)
		return
	}
	e.attach = append(e.attach, rd.policyARN(in))
}

// policyAttachment reads aws_iam_policy_attachment: one policy, attached
// to lists of users, roles and groups (and detached from every other
// principal of the account).
func (rd *reader) policyAttachment(in *instance) {
	at := rd.policyARN(in)
	for _, m := range []struct {
		attr string
		kind iamstate.Kind
	}{{"users", iamstate.KindUser}, {"roles", iamstate.KindRole}, {"groups", iamstate.KindGroup}} {
		names, unknownN, _ := in.strs(m.attr)
		for _, n := range names {
			rd.named(m.kind, lastName(n)).attach = append(rd.named(m.kind, lastName(n)).attach, at)
		}
		if unknownN != 0 {
			targets := rd.refInstances(in, m.attr, "aws_iam_"+string(m.kind))
			var unnamed []*instance
			for _, t := range targets {
				if _, st := t.str("name"); st != known {
					unnamed = append(unnamed, t)
				}
			}
			if unknownN > 0 && len(unnamed) == unknownN {
				for _, t := range unnamed {
					e := rd.entityOf(m.kind, t)
					e.attach = append(e.attach, at)
				}
			} else {
				rd.problem("%s: some %s are unknown until apply; the policy's attachments to them are not shown", in.addr, m.attr)
			}
		}
	}
}

func (rd *reader) inlineExclusive(in *instance, kind iamstate.Kind, attr string) {
	e, why := rd.target(in, kind, attr)
	if e == nil {
		rd.problem("%s: the %s is unknown: %s", in.addr, kind, why)
		return
	}
	names, unknownN, _ := in.strs("policy_names")
	e.inlineWhole = true
	e.inlineNamesBy = in.addr
	e.inlineNames = map[string]bool{}
	for _, n := range names {
		e.inlineNames[n] = true
	}
	if unknownN != 0 {
		e.unknown = append(e.unknown, fmt.Sprintf("%s: policy_names are unknown until apply", in.addr))
	}
}

func (rd *reader) attachExclusive(in *instance, kind iamstate.Kind, attr string) {
	e, why := rd.target(in, kind, attr)
	if e == nil {
		rd.problem("%s: the %s is unknown: %s", in.addr, kind, why)
		return
	}
	e.attachWhole = true
	arns, unknownN, _ := in.strs("policy_arns")
	for _, a := range arns {
		e.attach = append(e.attach, attachment{arn: a, address: in.addr})
	}
	if unknownN != 0 {
		e.attach = append(e.attach, rd.unknownARNs(in, "policy_arns", unknownN)...)
	}
}

func (rd *reader) userGroups(in *instance) {
	u, why := rd.target(in, iamstate.KindUser, "user")
	if u == nil {
		rd.problem("%s: the user is unknown: %s", in.addr, why)
		return
	}
	names, unknownN, _ := in.strs("groups")
	for _, n := range names {
		u.groups = append(u.groups, groupRef{name: n, address: in.addr})
	}
	if unknownN != 0 {
		u.unknown = append(u.unknown, fmt.Sprintf("%s: some groups are unknown until apply", in.addr))
	}
}

func (rd *reader) groupMembers(in *instance) {
	g, why := rd.target(in, iamstate.KindGroup, "group")
	if g == nil {
		rd.problem("%s: the group is unknown: %s", in.addr, why)
		return
	}
	names, unknownN, _ := in.strs("users")
	for _, n := range names {
		u := rd.named(iamstate.KindUser, n)
		u.groups = append(u.groups, groupRef{name: g.name, g: g, address: in.addr})
	}
	if unknownN != 0 {
		rd.problem("%s: some users are unknown until apply; their membership of %s is not shown", in.addr, g.name)
	}
}

// build turns the entities into principals.
func (rd *reader) build() *Plan {
	p := &Plan{FormatVersion: rd.tp.FormatVersion, TerraformVersion: rd.tp.TerraformVersion}
	seen := map[*entity]bool{}
	for _, kind := range []iamstate.Kind{iamstate.KindRole, iamstate.KindUser} {
		var es []*entity
		for _, e := range rd.byAddrKind(kind) {
			es = append(es, e)
		}
		for _, e := range rd.byName[kind] {
			es = append(es, e)
		}
		for _, e := range es {
			if seen[e] {
				continue
			}
			seen[e] = true
			p.Principals = append(p.Principals, rd.principal(e))
		}
	}
	sort.Slice(p.Principals, func(i, j int) bool {
		a, b := p.Principals[i], p.Principals[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Address < b.Address
	})
	p.Problems = rd.problems
	sort.Strings(p.Problems)
	return p
}

func (rd *reader) byAddrKind(kind iamstate.Kind) map[string]*entity {
	if kind == iamstate.KindRole {
		return rd.roles
	}
	return rd.users
}

func (rd *reader) principal(e *entity) *Principal {
	pr := &Principal{Kind: e.kind, Name: e.name, Path: e.path, ARN: e.arn}
	if e.in != nil {
		pr.Address, pr.Action = e.in.addr, e.in.action
	}
	who := string(e.kind) + " " + e.name
	if e.name == "" {
		who = string(e.kind) + " " + pr.Address
	}
	eff := &iamstate.Effective{Kind: e.kind, Name: e.name, ARN: e.arn, Path: e.path}
	eff.Unknown = append(eff.Unknown, e.unknown...)
	if e.name == "" {
		eff.Unknown = append(eff.Unknown, who+": the name is unknown until apply")
	}
	rd.addPolicies(eff, e, who, "")
	for _, g := range e.groups {
		ge := g.g
		if ge == nil {
			ge = rd.byName[iamstate.KindGroup][g.name]
		}
		if ge == nil {
			eff.Unknown = append(eff.Unknown, fmt.Sprintf("group %s (%s): not managed by this plan, its policies are not in it", g.name, g.address))
			continue
		}
		rd.addPolicies(eff, ge, "group "+g.name, g.name)
		if !ge.inlineWhole || !ge.attachWhole {
			pr.Notes = append(pr.Notes, fmt.Sprintf("group %s may have policies attached outside this configuration", g.name))
		}
	}
	if e.bound != nil {
		ap, why := rd.resolve(*e.bound, who, "boundary")
		if ap != nil {
			ap.Kind = iamstate.PolicyBoundary
			eff.Boundary = ap
		} else {
			eff.Unknown = append(eff.Unknown, why)
		}
	}
	if e.in == nil {
		pr.Notes = append(pr.Notes, fmt.Sprintf("the %s is not managed by this plan: only the policies the plan gives it are shown", e.kind))
	} else if !e.inlineWhole || !e.attachWhole {
		var what []string
		if !e.inlineWhole {
			what = append(what, "inline policies")
		}
		if !e.attachWhole {
			what = append(what, "attached policies")
		}
		pr.Notes = append(pr.Notes, fmt.Sprintf("%s made outside this configuration are not in the plan (no exclusive resource manages them)", strings.Join(what, " and ")))
	}
	pr.Effective = eff
	return pr
}

// addPolicies adds e's inline and attached policies to eff.
func (rd *reader) addPolicies(eff *iamstate.Effective, e *entity, who, via string) {
	inlineSeen := map[string]bool{}
	planned := map[string]bool{}
	for _, ip := range e.inline {
		if !ip.readBack {
			planned[ip.name] = true
		}
	}
	for _, ip := range e.inline {
		if ip.readBack && (planned[ip.name] || rd.gone[string(e.kind)+"|"+e.name+"|"+ip.name]) {
			continue // replaced or removed by the plan
		}
		label := fmt.Sprintf("%s: inline %s (%s)", who, ip.name, ip.address)
		if ip.readBack {
			label = fmt.Sprintf("%s: inline %s (exists now; read back by %s)", who, ip.name, ip.address)
		}
		inlineSeen[ip.name] = true
		if e.inlineNames != nil && !e.inlineNames[ip.name] {
			eff.Unknown = append(eff.Unknown, fmt.Sprintf("%s: not in %s's policy_names, so the apply removes it", label, e.inlineNamesBy))
			continue
		}
		if ip.doc == nil {
			eff.Unknown = append(eff.Unknown, label+": "+ip.why)
			continue
		}
		eff.Policies = append(eff.Policies, iamstate.AppliedPolicy{Label: label, Kind: iamstate.PolicyInline, Via: via, Name: ip.name, Document: ip.doc, Address: ip.address})
	}
	var keep []string
	for n := range e.inlineNames {
		if !inlineSeen[n] {
			keep = append(keep, n)
		}
	}
	sort.Strings(keep)
	for _, n := range keep {
		eff.Unknown = append(eff.Unknown, fmt.Sprintf("%s: inline %s is kept by %s, but its document is not in this plan", who, n, e.inlineNamesBy))
	}
	seen := map[string]bool{}
	attach := append([]attachment(nil), e.attach...)
	sort.SliceStable(attach, func(i, j int) bool { return !attach[i].readBack && attach[j].readBack })
	for _, at := range attach {
		if at.readBack && rd.gone[string(e.kind)+"|"+e.name+"|"+at.arn] {
			continue // detached by the plan
		}
		ap, why := rd.resolve(at, who, "managed")
		if ap == nil {
			eff.Unknown = append(eff.Unknown, why)
			continue
		}
		key := ap.ARN
		if key == "" {
			key = ap.Address
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		ap.Kind, ap.Via = iamstate.PolicyManaged, via
		eff.Policies = append(eff.Policies, *ap)
	}
}

// resolve finds the document of an attached policy.
func (rd *reader) resolve(at attachment, who, what string) (*iamstate.AppliedPolicy, string) {
	if at.why != "" {
		return nil, who + ": " + at.why
	}
	pol := at.pol
	if pol == nil {
		pol = rd.policyByARN(at.arn)
	}
	if pol != nil {
		name, _ := pol.str("name")
		if name == "" {
			name = pol.name
		}
		polARN, _ := pol.str("arn")
		label := fmt.Sprintf("%s: %s %s (%s", who, what, name, pol.addr)
		if at.address != pol.addr {
			label += ", attached by " + at.address
		}
		label += ")"
		ip := inlinePolicy{}
		rd.document(&ip, pol.str, pol.addr)
		if ip.doc == nil {
			return nil, label + ": " + ip.why
		}
		return &iamstate.AppliedPolicy{Label: label, Name: name, ARN: polARN, Document: ip.doc, Address: pol.addr}, ""
	}
	name := at.arn[strings.LastIndexByte(at.arn, '/')+1:]
	label := fmt.Sprintf("%s: %s %s (%s, attached by %s)", who, what, name, at.arn, at.address)
	if at.readBack {
		label = fmt.Sprintf("%s: %s %s (%s, attached now; read back by %s)", who, what, name, at.arn, at.address)
	}
	if rd.opts.ManagedPolicy != nil {
		if doc, origin, embedded, ok := rd.opts.ManagedPolicy(at.arn); ok {
			if origin != "" {
				label += ": document from " + origin
			}
			return &iamstate.AppliedPolicy{Label: label, Name: name, ARN: at.arn, Document: doc, Embedded: embedded, Address: at.address}, ""
		}
	}
	return nil, label + ": not defined in this plan, and no account state or embedded copy holds it"
}

// policyByARN finds the plan's aws_iam_policy with this ARN: by its ARN
// when known, else by the name and path the ARN holds.
func (rd *reader) policyByARN(a string) *instance {
	p, err := arn.Parse(a)
	if err != nil || p.Service != "iam" || p.AccountID == "aws" || !strings.HasPrefix(p.Resource, "policy/") {
		return nil
	}
	rest := strings.TrimPrefix(p.Resource, "policy")
	i := strings.LastIndexByte(rest, '/')
	path, name := rest[:i+1], rest[i+1:]
	var byName []*instance
	for _, in := range rd.all {
		if in.typ != "aws_iam_policy" || in.mode != tfjson.ManagedResourceMode {
			continue
		}
		if v, st := in.str("arn"); st == known && v == a {
			return in
		}
		n, nst := in.str("name")
		pp, pst := in.str("path")
		if pst == absent {
			pp, pst = "/", known
		}
		if nst == known && n == name && pst == known && pp == path {
			byName = append(byName, in)
		}
	}
	if len(byName) == 1 {
		return byName[0]
	}
	return nil
}

// Find returns the principal a user or role ARN names (an STS
// assumed-role ARN names its role): the principal with that ARN, else the
// one of that kind and name whose path is the ARN's or unknown. It
// returns iamstate's ErrNotPrincipal and ErrNoSuchPrincipal as
// Account.EffectivePolicies does.
func (p *Plan) Find(principalARN string) (*Principal, error) {
	a, err := arn.Parse(principalARN)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", principalARN, iamstate.ErrNotPrincipal)
	}
	kind, rest, _ := strings.Cut(a.Resource, "/")
	var want iamstate.Kind
	name, path := rest[strings.LastIndexByte(rest, '/')+1:], ""
	switch {
	case a.Service == "iam" && kind == "user":
		want, path = iamstate.KindUser, "/"+rest[:strings.LastIndexByte(rest, '/')+1]
	case a.Service == "iam" && kind == "role":
		want, path = iamstate.KindRole, "/"+rest[:strings.LastIndexByte(rest, '/')+1]
	case a.Service == "sts" && kind == "assumed-role":
		want = iamstate.KindRole
		name, _, _ = strings.Cut(rest, "/")
	default:
		return nil, fmt.Errorf("%s: %w", principalARN, iamstate.ErrNotPrincipal)
	}
	var byName *Principal
	for _, pr := range p.Principals {
		if pr.Kind != want {
			continue
		}
		if pr.ARN != "" && pr.ARN == principalARN {
			return pr, nil
		}
		if pr.Name == name && (path == "" || pr.Path == "" || pr.Path == path) && byName == nil {
			byName = pr
		}
	}
	if byName == nil {
		return nil, fmt.Errorf("%s: %w", principalARN, iamstate.ErrNoSuchPrincipal)
	}
	return byName, nil
}

// EffectivePolicies returns the policies the plan gives the principal,
// as Account.EffectivePolicies does for an account.
func (p *Plan) EffectivePolicies(principalARN string) (*iamstate.Effective, error) {
	pr, err := p.Find(principalARN)
	if err != nil {
		return nil, err
	}
	return pr.Effective, nil
}
