// Package policydiff compares what a principal is granted with what it
// used: the identity policies of a source (policy files, an account's
// authorization details, a Terraform plan, IAM itself) against the calls
// the CloudTrail dataset holds in a window. It writes the comparison as a
// pull-request comment (markdown), JSON, SARIF, a unified diff of the
// policies, and a table.
//
// For each principal it reports:
//
//   - granted and used: every action of an authorised call (a successful
//     one, or one that passed authorisation and then failed: NoSuchKey,
//     throttling) on the resources it touched, with calls and first and
//     last seen, and the statements that grant it;
//   - used but not granted: denied calls the policies do not grant (a
//     missing permission), denied calls they do grant (the denial came
//     from elsewhere), and authorised calls they do not grant (granted
//     elsewhere: a resource or session policy; or the source takes the
//     permission away);
//   - granted but unused: every catalogue action the policies allow and
//     the window never saw, conditional when only a conditional Allow
//     grants it; never an action CloudTrail cannot show (iam:PassRole,
//     data events the dataset holds none of): those are not observable;
//   - resource level: actions granted on wildcards and used on a few
//     resources;
//   - the proposed policy: `iamlens analyze`'s policy constrained never to
//     grant more than the current identity policies (every Resource entry
//     is checked with iampolicy.Evaluator.Covers, and the current Deny
//     statements are kept), and a unified diff of the normalised current
//     documents against it.
package policydiff

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/policygen"
)

// Marker is the hidden line that starts the markdown comment, so that a CI
// job finds the comment it wrote before and updates it in place.
const Marker = "<!-- iamlens-diff -->"

// Input is one principal to compare.
type Input struct {
	// Usage is what the principal did in the window (analyzer.Analyze).
	Usage *analyzer.Usage
	// Current is the principal's identity policies from the source.
	Current *iamstate.Effective
	// Notes say what the source cannot tell (tfplan.Principal.Notes).
	Notes []string
	// Address is the principal's Terraform resource, when the source is a
	// plan.
	Address string
}

// Source describes where the current policies come from.
type Source struct {
	// Kind is "policy", "gaad", "snapshot", "terraform-plan" or "live".
	Kind string `json:"kind"`
	// Name says it in words: "GAAD gaad.json", "IAM of account 1111…".
	Name string `json:"name"`
	// File is the file read ("" for live; for policy files, each
	// policy's Label is its file).
	File string `json:"file,omitempty"`
}

// Source kinds.
const (
	SourcePolicy   = "policy"
	SourceGAAD     = "gaad"
	SourceSnapshot = "snapshot"
	SourcePlan     = "terraform-plan"
	SourceLive     = "live"
)

// Options tune Compare and Run.
type Options struct {
	Source  Source
	Catalog *catalog.Catalog
	// Generate tunes the proposal (policygen.Generate); its ExcludeFailed
	// also leaves failed calls out of "used".
	Generate policygen.Options
	// DataSeen reports whether the dataset holds data events of an event
	// source ("s3.amazonaws.com"); nil: none. DataSeenIn makes it.
	DataSeen func(source string) bool
	// MaxResources bounds the resources listed per action (default 50);
	// the rest are counted.
	MaxResources int
	// Workers compare principals in parallel in Run (default 2).
	Workers int
	// Dataset names the events' source in reports ("dataset ~/.iamlens").
	Dataset string
}

// Report is the comparison of several principals.
type Report struct {
	Source  Source    `json:"source"`
	Dataset string    `json:"dataset,omitempty"`
	From    time.Time `json:"window_from"`
	To      time.Time `json:"window_to"`
	// Principals are those of both the source and the dataset, by ARN.
	Principals []*Principal `json:"principals"`
	// SourceOnly lists principals of the source with no events in the
	// window (all their grants are unused; the dataset says nothing more).
	SourceOnly []string `json:"source_only,omitempty"`
	Summary    Counts   `json:"summary"`
}

// Counts are a principal's numbers (or the sums of a report).
type Counts struct {
	// Granted: catalogue actions the identity policies allow.
	Granted int `json:"granted"`
	// Used: granted actions the window saw authorised.
	Used int `json:"used"`
	// Unused: granted actions never seen (not counting NotObservable);
	// ConditionalUnused of them are granted only under a condition.
	Unused            int `json:"unused"`
	ConditionalUnused int `json:"conditional_unused"`
	// NotObservable: granted actions CloudTrail cannot show.
	NotObservable int `json:"not_observable"`
	// Missing: denied actions the policies do not grant.
	Missing int `json:"missing"`
	// GrantedElsewhere: authorised actions the policies do not grant.
	GrantedElsewhere int `json:"granted_elsewhere"`
	// DeniedDespiteGrant: denied actions the policies grant.
	DeniedDespiteGrant int `json:"denied_despite_grant"`
	// ResourceLevel: actions granted on wildcards, used on a few resources.
	ResourceLevel int `json:"resource_level"`
}

// Principal is one principal's comparison. The JSON field names are a
// contract: fields may be added, these are kept.
type Principal struct {
	Principal string    `json:"principal"`
	Kind      string    `json:"kind"`
	Address   string    `json:"address,omitempty"`
	From      time.Time `json:"window_from"`
	To        time.Time `json:"window_to"`
	Events    int64     `json:"events"`
	// Policies and Boundary are the current policies compared.
	Policies []PolicyRef `json:"policies"`
	Boundary *PolicyRef  `json:"boundary,omitempty"`
	// Unknown lists what applies but could not be read: the comparison is
	// not exact while it is not empty.
	Unknown []string `json:"unknown"`
	Notes   []string `json:"notes"`
	Counts  Counts   `json:"counts"`

	GrantedUsed    []GrantedUsed    `json:"granted_used"`
	UsedNotGranted []UsedNotGranted `json:"used_not_granted"`
	GrantedUnused  []GrantedUnused  `json:"granted_unused"`
	NotObservable  []NotObservable  `json:"not_observable"`
	ResourceLevel  []ResourceLevel  `json:"resource_level"`

	// Proposed is analyze's policy constrained to the current grants.
	Proposed      *iampolicy.Document `json:"proposed"`
	ProposedChars int                 `json:"proposed_chars"`
	ProposedNotes []string            `json:"proposed_notes"`
	// UnifiedDiff compares the normalised current documents with it.
	UnifiedDiff string `json:"unified_diff"`
}

// PolicyRef names one current policy.
type PolicyRef struct {
	Label    string `json:"label"`
	Kind     string `json:"kind"`
	Name     string `json:"name,omitempty"`
	ARN      string `json:"arn,omitempty"`
	Address  string `json:"address,omitempty"`
	Embedded bool   `json:"embedded,omitempty"`
	// File is where a reviewer finds it ("" for live).
	File string `json:"file,omitempty"`
}

// GrantedUsed is one action used on one resource, and what grants it.
type GrantedUsed struct {
	Action string `json:"action"`
	// Resource is the ARN the calls touched; "*" when the action takes no
	// resource or the log does not reveal it.
	Resource    string           `json:"resource"`
	Calls       int64            `json:"calls"`
	FailedCalls int64            `json:"failed_calls,omitempty"`
	ErrorCodes  []analyzer.Count `json:"error_codes,omitempty"`
	FirstSeen   time.Time        `json:"first_seen"`
	LastSeen    time.Time        `json:"last_seen"`
	// Conditional: only an Allow under a condition grants it.
	Conditional bool     `json:"conditional"`
	GrantedBy   []string `json:"granted_by"`
	// OmittedResources counts further resources of the action not listed.
	OmittedResources int `json:"omitted_resources,omitempty"`
}

// Kinds of UsedNotGranted.
const (
	// KindMissing: denied, and the policies do not grant it.
	KindMissing = "missing"
	// KindGrantedElsewhere: authorised, and the policies do not grant it.
	KindGrantedElsewhere = "granted_elsewhere"
	// KindDeniedDespiteGrant: denied, though the policies grant it.
	KindDeniedDespiteGrant = "denied_despite_grant"
)

// UsedNotGranted is one action the principal called that the policies
// do not explain.
type UsedNotGranted struct {
	Action     string           `json:"action"`
	Resource   string           `json:"resource"`
	Reason     string           `json:"reason"`
	Kind       string           `json:"kind"`
	Calls      int64            `json:"calls"`
	ErrorCodes []analyzer.Count `json:"error_codes,omitempty"`
	FirstSeen  time.Time        `json:"first_seen"`
	LastSeen   time.Time        `json:"last_seen"`
	// Decision is the evaluator's answer on the current policies.
	Decision string `json:"decision"`
}

// GrantedUnused is one action the policies allow and the window never saw.
type GrantedUnused struct {
	Action      string   `json:"action"`
	Service     string   `json:"service"`
	AccessLevel string   `json:"access_level,omitempty"`
	Conditional bool     `json:"conditional"`
	GrantedBy   []string `json:"granted_by"`
	// policy is the position of the first granting policy, for SARIF.
	policy int
}

// NotObservable is an action CloudTrail cannot show: granted, or needed
// by calls the window saw.
type NotObservable struct {
	Action   string `json:"action"`
	Resource string `json:"resource,omitempty"`
	Reason   string `json:"reason"`
	// Granted: the policies allow it (Conditional: only conditionally).
	Granted     bool `json:"granted"`
	Conditional bool `json:"conditional,omitempty"`
	// Needed: calls of the window needed it alongside (iam:PassRole).
	Needed bool `json:"needed,omitempty"`
}

// Standing says in words whether the policies grant n and calls needed it
// ("granted under a condition, needed by calls seen").
func (n NotObservable) Standing() string {
	what := "granted"
	switch {
	case !n.Granted:
		what = "not granted"
	case n.Conditional:
		what = "granted under a condition"
	}
	if n.Needed {
		what += ", needed by calls seen"
	}
	return what
}

// ResourceLevel is a set of actions granted on wildcards and used on a
// few resources.
type ResourceLevel struct {
	Actions   []string `json:"actions"`
	Granted   []string `json:"granted"`
	Used      []string `json:"used"`
	UsedCount int      `json:"used_count"`
}

// evaluated is one policy set's compiled evaluator and its granted
// actions, shared by the principals that have the same set.
type evaluated struct {
	build  sync.Once
	e      *iampolicy.Evaluator
	err    error
	once   sync.Once
	grants []iampolicy.Grant
	// text is the set's normalised identity documents, for the diff.
	textOnce sync.Once
	text     string
	// infos describe grants[i], once per set.
	infoOnce sync.Once
	infos    []grantInfo
}

// grantInfo is what a comparison needs of a granted action beyond the
// evaluator's answer; it depends on the action alone.
type grantInfo struct {
	lower, service, access string
	never                  string // why no event names it ("" when one does)
	dataSource             string // the event source of its data events
	policy                 int    // the first granting identity policy, -1
}

func (v *evaluated) grantInfos(cat *catalog.Catalog) []grantInfo {
	v.infoOnce.Do(func() {
		gs := v.actions()
		v.infos = make([]grantInfo, len(gs))
		for i, g := range gs {
			gi := &v.infos[i]
			gi.lower = strings.ToLower(g.Action)
			gi.service, _, _ = strings.Cut(g.Action, ":")
			if a, ok := cat.Action(g.Action); ok {
				gi.access = a.AccessLevel
			}
			gi.never, _ = analyzer.NeverLogged(g.Action)
			gi.dataSource = analyzer.DataEventSource(g.Action, cat)
			gi.policy = -1
			for _, r := range g.Statements {
				if n, err := strconv.Atoi(r.Policy); err == nil && r.Layer == iampolicy.LayerIdentity {
					gi.policy = n
					break
				}
			}
		}
	})
	return v.infos
}

func (v *evaluated) actions() []iampolicy.Grant {
	v.once.Do(func() { v.grants = v.e.Actions() })
	return v.grants
}

// Cache shares evaluators between principals whose policy documents are
// the same (the AWS managed policies many roles attach): expanding a set
// to the catalogue is the costly part of a comparison.
type Cache struct {
	mu   sync.Mutex
	m    map[string]*evaluated
	docs map[*iampolicy.Document][32]byte // each document's hash
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{m: map[string]*evaluated{}, docs: map[*iampolicy.Document][32]byte{}}
}

// docHash hashes a document's canonical JSON, once per document: the
// principals that attach one managed policy share its *Document.
func (c *Cache) docHash(d *iampolicy.Document) [32]byte {
	c.mu.Lock()
	h, ok := c.docs[d]
	c.mu.Unlock()
	if ok {
		return h
	}
	b, _ := d.MarshalJSON()
	h = sha256.Sum256(b)
	c.mu.Lock()
	c.docs[d] = h
	c.mu.Unlock()
	return h
}

// get returns the evaluator of the set; policies are named by their
// position ("0", "1", …; "b" for the boundary) so that statements map
// back to each principal's own labels.
func (c *Cache) get(cur *iamstate.Effective, cat *catalog.Catalog) *evaluated {
	h := sha256.New()
	var set iampolicy.Set
	for i, ap := range cur.Policies {
		dh := c.docHash(ap.Document)
		h.Write(dh[:])
		set.Identity = append(set.Identity, iampolicy.Policy{Name: strconv.Itoa(i), Document: ap.Document})
	}
	if cur.Boundary != nil {
		dh := c.docHash(cur.Boundary.Document)
		h.Write([]byte("boundary"))
		h.Write(dh[:])
		set.Boundary = []iampolicy.Policy{{Name: "b", Document: cur.Boundary.Document}}
	}
	key := hex.EncodeToString(h.Sum(nil))
	c.mu.Lock()
	v := c.m[key]
	if v == nil {
		v = &evaluated{}
		c.m[key] = v
	}
	c.mu.Unlock()
	// The first caller compiles; the others wait for it.
	v.build.Do(func() { v.e, v.err = iampolicy.New(set, iampolicy.Options{Catalog: cat}) })
	return v
}

// label names the statement a ref points to in the principal's terms:
// "managed ReadOnlyAccess, statement 0", "group admins: inline ops,
// statement 2 (Sid)", a file's path, a Terraform address.
func label(cur *iamstate.Effective, ref iampolicy.StatementRef) string {
	var l string
	if ref.Policy == "b" {
		if cur.Boundary != nil {
			l = shortName(*cur.Boundary)
		}
	} else if i, err := strconv.Atoi(ref.Policy); err == nil && i < len(cur.Policies) {
		l = shortName(cur.Policies[i])
	}
	s := fmt.Sprintf("%s, statement %d", l, ref.Index)
	if ref.Sid != "" {
		s += " (" + ref.Sid + ")"
	}
	return s
}

// shortName names a policy without its owner (the principal, known).
func shortName(ap iamstate.AppliedPolicy) string {
	if ap.Kind == iamstate.PolicyFile {
		return ap.Label
	}
	s := string(ap.Kind) + " " + ap.Name
	if ap.Via != "" {
		s = "group " + ap.Via + ": " + s
	}
	if ap.Address != "" {
		s += " (" + ap.Address + ")"
	}
	return s
}

// labels names the identity Allow statements of refs, each once; the
// names (and the lists of one statement) are made once per comparison:
// a wide grant names the same statement for thousands of actions.
func (c *comparison) labels(refs []iampolicy.StatementRef) []string {
	if len(refs) == 1 {
		r := refs[0]
		if r.Layer == iampolicy.LayerBoundary || r.Effect != iampolicy.Allow {
			return []string{}
		}
		k := refKey{r.Policy, r.Index}
		if l, ok := c.single[k]; ok {
			return l
		}
		l := []string{label(c.cur, r)}
		c.single[k] = l
		return l
	}
	out := []string{}
	seen := map[string]bool{}
	for _, r := range refs {
		if r.Layer == iampolicy.LayerBoundary || r.Effect != iampolicy.Allow {
			continue
		}
		k := refKey{r.Policy, r.Index}
		l, ok := c.names[k]
		if !ok {
			l = label(c.cur, r)
			c.names[k] = l
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

type refKey struct {
	policy string
	index  int
}

// DataSeenIn returns the DataSeen of a run: an event source counts as
// logged when any principal's calls include one of its data events.
func DataSeenIn(usages []*analyzer.Usage, cat analyzer.ActionCatalog) func(string) bool {
	seen := map[string]bool{}
	for _, u := range usages {
		for _, list := range [][]*analyzer.ActionUsage{u.Allowed, u.Denied, u.Failed} {
			for _, au := range list {
				if src := analyzer.DataEventSource(au.Action, cat); src != "" {
					seen[src] = true
				}
			}
		}
	}
	return func(src string) bool { return seen[src] }
}

// Compare compares one principal.
func Compare(in Input, opts Options, cache *Cache) (*Principal, error) {
	if opts.Catalog == nil {
		var err error
		if opts.Catalog, err = catalog.Load(); err != nil {
			return nil, err
		}
	}
	if opts.MaxResources <= 0 {
		opts.MaxResources = 50
	}
	if cache == nil {
		cache = NewCache()
	}
	u, cur := in.Usage, in.Current
	p := &Principal{Principal: u.Principal, Kind: u.Kind, Address: in.Address, From: u.From, To: u.To, Events: u.Events,
		Unknown: append([]string{}, cur.Unknown...), Notes: append([]string{}, in.Notes...),
		GrantedUsed: []GrantedUsed{}, UsedNotGranted: []UsedNotGranted{}, GrantedUnused: []GrantedUnused{},
		NotObservable: []NotObservable{}, ResourceLevel: []ResourceLevel{}, ProposedNotes: []string{}}
	for _, ap := range cur.Policies {
		p.Policies = append(p.Policies, policyRef(ap, opts.Source))
		if ap.Embedded {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: the document is iamlens's embedded copy of the AWS managed policy, which may differ from the account's default version", ap.Name))
		}
	}
	if p.Policies == nil {
		p.Policies = []PolicyRef{}
	}
	if cur.Boundary != nil {
		r := policyRef(*cur.Boundary, opts.Source)
		p.Boundary = &r
	}
	ev := cache.get(cur, opts.Catalog)
	if ev.err != nil {
		return nil, fmt.Errorf("%s: %w", u.Principal, ev.err)
	}
	e := ev.e
	c := &comparison{p: p, in: in, opts: opts, e: e, cur: cur, ev: ev,
		names: map[refKey]string{}, single: map[refKey][]string{}}
	c.used()
	c.denied()
	c.unused(ev.actions())
	c.resourceLevel()
	if err := c.propose(); err != nil {
		return nil, err
	}
	c.count(ev.actions())
	return p, nil
}

func policyRef(ap iamstate.AppliedPolicy, src Source) PolicyRef {
	r := PolicyRef{Label: ap.Label, Kind: string(ap.Kind), Name: ap.Name, ARN: ap.ARN, Address: ap.Address, Embedded: ap.Embedded, File: src.File}
	if ap.Kind == iamstate.PolicyFile {
		r.File = ap.Label
	}
	return r
}

// comparison holds one principal's comparison while it is made.
type comparison struct {
	p    *Principal
	in   Input
	opts Options
	e    *iampolicy.Evaluator
	ev   *evaluated
	cur  *iamstate.Effective
	// names and single memoise statement names (labels).
	names  map[refKey]string
	single map[refKey][]string
	// usedActions: lower-case names of the actions authorised in the
	// window; grantedUsed of those, the ones the policies grant.
	usedActions map[string]bool
	// byAction: each used and granted action's resources and granting
	// statements, for the resource-level findings and the proposal.
	byAction map[string]*usedAction
}

type usedAction struct {
	au       *analyzer.ActionUsage
	granted  []string // ARNs granted ("*": unknown resource)
	refs     []iampolicy.StatementRef
	notFound bool // some calls are not granted by the policies
}

// elsewhereReason explains an authorised call the policies do not grant.
func (c *comparison) elsewhereReason(d iampolicy.Decision) string {
	what := "the identity policies do not allow it"
	if d == iampolicy.ExplicitDeny {
		what = "the identity policies deny it explicitly"
	}
	switch c.opts.Source.Kind {
	case SourcePlan:
		return what + ": it was granted elsewhere (a resource policy, a session policy), or this plan takes away a permission in use"
	case SourcePolicy:
		return what + ": it was granted elsewhere (a resource policy, a session policy, another policy of the principal), or these policies take away a permission in use"
	}
	return what + ": it was granted elsewhere (a resource policy, a session policy), or the policies changed since the call"
}

// resourcesOf lists an action's resources for evaluation: its ARNs, and
// "" (some resource) when the log does not reveal the resource of some
// calls.
func resourcesOf(au *analyzer.ActionUsage) []analyzer.ResourceUsage {
	var out []analyzer.ResourceUsage
	for _, r := range au.Resources {
		out = append(out, r)
	}
	if au.UnknownResourceCalls > 0 || len(out) == 0 {
		n := au.UnknownResourceCalls
		if len(out) == 0 {
			n = au.Calls
		}
		out = append(out, analyzer.ResourceUsage{ARN: "", Calls: n, FirstSeen: au.FirstSeen, LastSeen: au.LastSeen})
	}
	return out
}

func shown(arn string) string {
	if arn == "" {
		return "*"
	}
	return arn
}

func (c *comparison) used() {
	c.usedActions = map[string]bool{}
	c.byAction = map[string]*usedAction{}
	for _, au := range policygen.Granted(c.in.Usage, c.opts.Generate.ExcludeFailed) {
		c.usedActions[strings.ToLower(au.Action)] = true
		ua := &usedAction{au: au}
		failed := policygen.FailedCalls(au)
		n := 0
		for _, r := range resourcesOf(au) {
			res := c.e.Evaluate(iampolicy.Request{Action: au.Action, Resource: r.ARN})
			if !res.Decision.Granted() {
				ua.notFound = true
				c.p.UsedNotGranted = append(c.p.UsedNotGranted, UsedNotGranted{Action: au.Action, Resource: shown(r.ARN),
					Reason: c.elsewhereReason(res.Decision), Kind: KindGrantedElsewhere, Calls: r.Calls, ErrorCodes: au.ErrorCodes,
					FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, Decision: res.Decision.String()})
				continue
			}
			ua.granted = append(ua.granted, shown(r.ARN))
			ua.refs = append(ua.refs, res.Statements...)
			if n++; n > c.opts.MaxResources {
				c.p.GrantedUsed[len(c.p.GrantedUsed)-1].OmittedResources++
				continue
			}
			g := GrantedUsed{Action: au.Action, Resource: shown(r.ARN), Calls: r.Calls, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen,
				Conditional: res.Decision == iampolicy.ConditionallyAllowed, GrantedBy: c.labels(res.Statements)}
			if failed > 0 {
				// The failed calls' codes are the action's; a resource's own
				// share is not kept apart.
				g.FailedCalls, g.ErrorCodes = failed, au.ErrorCodes
			}
			c.p.GrantedUsed = append(c.p.GrantedUsed, g)
		}
		if len(ua.granted) > 0 {
			c.byAction[au.Action] = ua
		}
	}
}

func (c *comparison) denied() {
	for _, au := range c.in.Usage.Denied {
		for _, r := range resourcesOf(au) {
			res := c.e.Evaluate(iampolicy.Request{Action: au.Action, Resource: r.ARN})
			u := UsedNotGranted{Action: au.Action, Resource: shown(r.ARN), Calls: r.Calls, ErrorCodes: au.ErrorCodes,
				FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, Decision: res.Decision.String()}
			if res.Decision.Granted() {
				u.Kind = KindDeniedDespiteGrant
				u.Reason = "denied in the window, yet the identity policies allow it (" + strings.Join(c.labels(res.Statements), "; ") +
					"): the denial came from elsewhere (a service control policy, a resource policy, a session policy"
				if c.cur.Boundary == nil {
					u.Reason += ", a permissions boundary"
				}
				u.Reason += ") or the policies changed since"
			} else {
				u.Kind = KindMissing
				u.Reason = "denied: a missing permission, or something to investigate"
				if c.opts.Source.Kind == SourcePlan {
					u.Reason = "denied, and the planned policies do not grant it either: a missing permission, or something to investigate"
				}
			}
			c.p.UsedNotGranted = append(c.p.UsedNotGranted, u)
		}
	}
	sort.SliceStable(c.p.UsedNotGranted, func(i, j int) bool {
		a, b := c.p.UsedNotGranted[i], c.p.UsedNotGranted[j]
		if a.Action != b.Action {
			return a.Action < b.Action
		}
		return a.Resource < b.Resource
	})
}

func (c *comparison) unused(grants []iampolicy.Grant) {
	own := DataSeenIn([]*analyzer.Usage{c.in.Usage}, c.opts.Catalog)
	seen := func(src string) bool { return own(src) || (c.opts.DataSeen != nil && c.opts.DataSeen(src)) }
	infos := c.ev.grantInfos(c.opts.Catalog)
	hidden := map[string]int{} // lower-case action → index in NotObservable
	for i, g := range grants {
		gi := &infos[i]
		if c.usedActions[gi.lower] {
			continue
		}
		why := gi.never
		if why == "" && gi.dataSource != "" && !seen(gi.dataSource) {
			why = analyzer.DataEventReason(gi.dataSource)
		}
		if why != "" {
			hidden[gi.lower] = len(c.p.NotObservable)
			c.p.NotObservable = append(c.p.NotObservable, NotObservable{Action: g.Action, Reason: why, Granted: true, Conditional: g.Conditional})
			continue
		}
		c.p.GrantedUnused = append(c.p.GrantedUnused, GrantedUnused{Action: g.Action, Service: gi.service, AccessLevel: gi.access,
			Conditional: g.Conditional, GrantedBy: c.labels(g.Statements), policy: gi.policy})
	}
	// What the calls needed alongside, unseen (iam:PassRole on a role).
	for _, n := range c.in.Usage.NotObservable {
		action, resource, _ := strings.Cut(n.Action, " on ")
		if i, ok := hidden[strings.ToLower(action)]; ok && resource == "" {
			c.p.NotObservable[i].Needed = true
			c.p.NotObservable[i].Reason += "; " + n.Reason
			continue
		}
		res := c.e.Evaluate(iampolicy.Request{Action: action, Resource: resource})
		c.p.NotObservable = append(c.p.NotObservable, NotObservable{Action: action, Resource: resource, Reason: n.Reason,
			Granted: res.Decision.Granted(), Conditional: res.Decision == iampolicy.ConditionallyAllowed, Needed: true})
		if i, ok := hidden[strings.ToLower(action)]; ok {
			c.p.NotObservable[i].Needed = true
		}
	}
	sort.SliceStable(c.p.NotObservable, func(i, j int) bool {
		a, b := c.p.NotObservable[i], c.p.NotObservable[j]
		if a.Action != b.Action {
			return a.Action < b.Action
		}
		return a.Resource < b.Resource
	})
}

// resourceLevel finds actions that statements grant on wildcard
// resources while the window saw them on known resources only.
func (c *comparison) resourceLevel() {
	type group struct {
		granted []string
		actions []string
		used    map[string]bool
	}
	groups := map[string]*group{}
	var keys []string
	for _, ua := range c.byAction {
		if ua.notFound || c.opts.Catalog == nil || !c.opts.Catalog.AllowsResourceLevel(ua.au.Action) {
			continue
		}
		if len(ua.granted) == 0 || containsStr(ua.granted, "*") {
			continue // the log does not reveal every resource
		}
		pats := c.grantingResources(ua.refs)
		if len(pats) == 0 {
			continue
		}
		wide := false
		for _, p := range pats {
			if strings.ContainsAny(p, "*?") || strings.HasPrefix(p, "NotResource ") {
				wide = true
			}
		}
		if !wide {
			continue
		}
		k := strings.Join(pats, "\x00")
		g := groups[k]
		if g == nil {
			g = &group{granted: pats, used: map[string]bool{}}
			groups[k] = g
			keys = append(keys, k)
		}
		g.actions = append(g.actions, ua.au.Action)
		for _, r := range ua.granted {
			g.used[r] = true
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := groups[k]
		sort.Strings(g.actions)
		used := make([]string, 0, len(g.used))
		for r := range g.used {
			used = append(used, r)
		}
		sort.Strings(used)
		rl := ResourceLevel{Actions: g.actions, Granted: g.granted, UsedCount: len(used), Used: used}
		if len(used) > 10 {
			rl.Used = used[:10]
		}
		c.p.ResourceLevel = append(c.p.ResourceLevel, rl)
	}
}

// grantingResources returns the Resource entries of the identity Allow
// statements refs name ("NotResource X" for a NotResource entry), sorted.
func (c *comparison) grantingResources(refs []iampolicy.StatementRef) []string {
	set := map[string]bool{}
	for _, r := range refs {
		st := c.statement(r)
		if st == nil || r.Layer != iampolicy.LayerIdentity {
			continue
		}
		for _, v := range st.Resource {
			set[v] = true
		}
		for _, v := range st.NotResource {
			set["NotResource "+v] = true
		}
		if st.Resource == nil && st.NotResource == nil {
			set["*"] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// statement returns the statement a ref names.
func (c *comparison) statement(r iampolicy.StatementRef) *iampolicy.Statement {
	var doc *iampolicy.Document
	if r.Policy == "b" {
		if c.cur.Boundary != nil {
			doc = c.cur.Boundary.Document
		}
	} else if i, err := strconv.Atoi(r.Policy); err == nil && i < len(c.cur.Policies) {
		doc = c.cur.Policies[i].Document
	}
	if doc == nil || r.Index >= len(doc.Statement) {
		return nil
	}
	return &doc.Statement[r.Index]
}

func containsStr(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (c *comparison) count(grants []iampolicy.Grant) {
	n := &c.p.Counts
	n.Granted = len(grants)
	for _, gi := range c.ev.grantInfos(c.opts.Catalog) {
		if c.usedActions[gi.lower] {
			n.Used++
		}
	}
	n.Unused = len(c.p.GrantedUnused)
	for _, g := range c.p.GrantedUnused {
		if g.Conditional {
			n.ConditionalUnused++
		}
	}
	hidden := map[string]bool{}
	for _, o := range c.p.NotObservable {
		if o.Granted && o.Resource == "" {
			hidden[o.Action] = true
		}
	}
	n.NotObservable = len(hidden)
	kinds := map[string]map[string]bool{}
	for _, u := range c.p.UsedNotGranted {
		if kinds[u.Kind] == nil {
			kinds[u.Kind] = map[string]bool{}
		}
		kinds[u.Kind][u.Action] = true
	}
	n.Missing = len(kinds[KindMissing])
	n.GrantedElsewhere = len(kinds[KindGrantedElsewhere])
	n.DeniedDespiteGrant = len(kinds[KindDeniedDespiteGrant])
	for _, rl := range c.p.ResourceLevel {
		n.ResourceLevel += len(rl.Actions)
	}
}

// add sums counts into a report's summary.
func (n *Counts) add(o Counts) {
	n.Granted += o.Granted
	n.Used += o.Used
	n.Unused += o.Unused
	n.ConditionalUnused += o.ConditionalUnused
	n.NotObservable += o.NotObservable
	n.Missing += o.Missing
	n.GrantedElsewhere += o.GrantedElsewhere
	n.DeniedDespiteGrant += o.DeniedDespiteGrant
	n.ResourceLevel += o.ResourceLevel
}

// Run compares every input, Options.Workers at a time, sharing one
// evaluator cache, and returns the report with principals in ARN order.
// sourceOnly names the principals of the source without events.
func Run(inputs []Input, sourceOnly []string, opts Options) (*Report, error) {
	if opts.Catalog == nil {
		var err error
		if opts.Catalog, err = catalog.Load(); err != nil {
			return nil, err
		}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 2
	}
	cache := NewCache()
	out := make([]*Principal, len(inputs))
	errs := make([]error, len(inputs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = Compare(inputs[i], opts, cache)
			}
		}()
	}
	for i := range inputs {
		next <- i
	}
	close(next)
	wg.Wait()
	rep := &Report{Source: opts.Source, Dataset: opts.Dataset, Principals: []*Principal{}, SourceOnly: sourceOnly}
	for i, p := range out {
		if errs[i] != nil {
			return nil, errs[i]
		}
		rep.Principals = append(rep.Principals, p)
		rep.Summary.add(p.Counts)
		if rep.From.IsZero() || p.From.Before(rep.From) {
			rep.From = p.From
		}
		if p.To.After(rep.To) {
			rep.To = p.To
		}
	}
	sort.Slice(rep.Principals, func(i, j int) bool { return rep.Principals[i].Principal < rep.Principals[j].Principal })
	sort.Strings(rep.SourceOnly)
	return rep, nil
}
