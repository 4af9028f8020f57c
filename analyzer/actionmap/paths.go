package actionmap

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/tidwall/gjson"
)

// Paths knows the IAM paths of users, roles, groups, managed policies and
// instance profiles, by partition, account, kind and name. IAM ARNs carry
// the path (arn:aws:iam::1:user/finance/yasmin), but a call that names an
// entity by name only (GetUser, AttachRolePolicy) does not: the mapper
// looks the path up here, and where it is unknown writes both kind/NAME
// and kind/*/NAME, which together match that name under any path and
// nothing else (IAM names hold no '/').
//
// Paths is filled before mapping (by the analyzer, from the dataset's
// principals and calls, and from the account's IAM state) and read while
// mapping; it is safe for concurrent use.
type Paths struct {
	mu sync.RWMutex
	// changes counts what was learnt that changed an answer of Path:
	// the version a mapper's memo holds its answers for
	changes atomic.Uint64
	by      map[pathKey]string // the path, "/" or "/a/b/"; "" when two differ
	// fixed holds the entities the account state names: what the logs
	// show of them (an older path) changes nothing
	fixed map[pathKey]bool
}

type pathKey struct{ partition, account, kind, name string }

// NewPaths returns an empty set.
func NewPaths() *Paths { return &Paths{by: map[pathKey]string{}, fixed: map[pathKey]bool{}} }

// pathKinds are the IAM resource types whose ARN carries a path.
var pathKinds = map[string]bool{"user": true, "role": true, "group": true, "policy": true, "instance-profile": true}

// SplitIAM splits the ARN of an IAM user, role, group, managed policy or
// instance profile into its partition, account, kind, path ("/" or
// "/a/b/") and name; ok is false for anything else (an STS session ARN, an
// AWS managed policy's ARN has account "aws" and is kept).
func SplitIAM(s string) (partition, account, kind, path, name string, ok bool) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" {
		return "", "", "", "", "", false
	}
	kind, rest, found := strings.Cut(a.Resource, "/")
	if !found || !pathKinds[kind] || rest == "" || strings.ContainsAny(rest, "*?$") {
		return "", "", "", "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	name = rest[i+1:]
	if name == "" {
		return "", "", "", "", "", false
	}
	path = "/" + rest[:i+1]
	if i < 0 {
		path = "/"
	}
	return a.Partition, a.AccountID, kind, path, name, true
}

// Learn records the path of an IAM entity's ARN and reports whether s was
// one. A name seen under two paths is recorded as unknown.
func (p *Paths) Learn(s string) bool {
	if !strings.Contains(s, ":iam:") { // what SplitIAM parses, at a glance
		return false
	}
	part, acct, kind, path, name, ok := SplitIAM(s)
	if !ok {
		return false
	}
	p.Add(part, acct, kind, name, path)
	return true
}

// LearnText learns every IAM entity ARN written in a text (a request's
// JSON): each "arn:…:iam::…" up to the next quote, space, comma or
// bracket.
func (p *Paths) LearnText(text string) {
	for {
		i := strings.Index(text, ":iam::")
		if i < 0 {
			return
		}
		start := strings.LastIndex(text[:i], "arn:")
		end := i + strings.IndexAny(text[i:]+`"`, "\"', \\]}")
		if start >= 0 && !strings.ContainsAny(text[start:i], "\" ,") {
			p.Learn(text[start:end])
		}
		text = text[end:]
	}
}

// createdKinds are the request parameters naming what an IAM Create call
// creates.
var createdKinds = map[string]string{"CreateUser": "user", "CreateRole": "role", "CreateGroup": "group",
	"CreateInstanceProfile": "instance-profile", "CreatePolicy": "policy"}

// LearnCreate learns the path of the user, role, group, instance profile or
// managed policy a successful IAM Create call made: its "path" parameter,
// or the root when the request gives none.
func (p *Paths) LearnCreate(c *Call) {
	kind := createdKinds[c.EventName]
	if kind == "" || c.EventSource != "iam.amazonaws.com" || c.ErrorCode != "" || c.RequestParameters == "" {
		return
	}
	key := map[string]string{"user": "userName", "role": "roleName", "group": "groupName",
		"instance-profile": "instanceProfileName", "policy": "policyName"}[kind]
	req := gjson.Parse(c.RequestParameters)
	name := req.Get(key).Str
	acct := c.RecipientAccount
	if acct == "" {
		acct = c.PrincipalAccount
	}
	if name == "" || acct == "" {
		return
	}
	path := req.Get("path").Str
	if path == "" {
		path = "/"
	}
	p.Add(Partition(c.UserIdentityARN, c.AWSRegion), acct, kind, name, path)
}

// nameKeys are the request parameters that name an IAM entity by name,
// with its kind.
var nameKeys = []struct{ key, kind string }{
	{"userName", "user"}, {"roleName", "role"}, {"groupName", "group"}, {"instanceProfileName", "instance-profile"},
}

// Missing reports whether an IAM call names a user, role, group or
// instance profile by name whose path p does not know (and the request
// does not give): mapping it would write the name under any path.
func (p *Paths) Missing(c *Call) bool {
	if c.EventSource != "iam.amazonaws.com" || c.RequestParameters == "" || createdKinds[c.EventName] != "" {
		return false
	}
	req := gjson.Parse(c.RequestParameters)
	acct := c.RecipientAccount
	if acct == "" {
		acct = c.PrincipalAccount
	}
	part := Partition(c.UserIdentityARN, c.AWSRegion)
	for _, k := range nameKeys {
		if n := req.Get(k.key).Str; n != "" {
			if _, ok := p.Path(part, acct, k.kind, n); !ok {
				return true
			}
		}
	}
	return false
}

// Add records that the entity of that kind and name has path ("/" or
// "/a/b/"; a path without its slashes is given them), as the logs show
// it.
func (p *Paths) Add(partition, account, kind, name, path string) {
	p.add(partition, account, kind, name, path, false)
}

// Fix records the path of an entity as the account's IAM state gives it:
// it stands, whatever the logs show (a path they show is an older one).
func (p *Paths) Fix(partition, account, kind, name, path string) {
	p.add(partition, account, kind, name, path, true)
}

// LearnState is Learn for an ARN of the account's IAM state (Fix).
func (p *Paths) LearnState(s string) bool {
	part, acct, kind, path, name, ok := SplitIAM(s)
	if ok {
		p.Fix(part, acct, kind, name, path)
	}
	return ok
}

func (p *Paths) add(partition, account, kind, name, path string, fix bool) {
	if name == "" || !pathKinds[kind] {
		return
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	k := pathKey{partition, account, kind, name}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, seen := p.by[k]
	switch {
	case p.fixed[k] && !fix:
		return
	case fix && !p.fixed[k]:
		p.fixed[k] = true
		p.by[k] = path
	case seen && old != path:
		p.by[k] = ""
	default:
		p.by[k] = path
	}
	if now := p.by[k]; !seen || now != old {
		p.changes.Add(1)
	}
}

// version changes whenever what p knows does (nil: no paths, 0).
func (p *Paths) version() uint64 {
	if p == nil {
		return 0
	}
	return p.changes.Load()
}

// Path returns the path of the entity; ok is false when it is unknown (or
// was seen under two paths).
func (p *Paths) Path(partition, account, kind, name string) (path string, ok bool) {
	if p == nil {
		return "", false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	path = p.by[pathKey{partition, account, kind, name}]
	return path, path != ""
}

// Len is how many entities the set holds.
func (p *Paths) Len() int {
	if p == nil {
		return 0
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.by)
}

// ARNs returns the known ARNs, sorted (for reports and tests).
func (p *Paths) ARNs() []string {
	if p == nil {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []string
	for k, path := range p.by {
		if path != "" {
			out = append(out, "arn:"+k.partition+":iam::"+k.account+":"+k.kind+path+k.name)
		}
	}
	sort.Strings(out)
	return out
}

// WithPaths returns a mapper that looks IAM paths up in p. The mapper reads
// p while it maps: fill p first.
func (m *Mapper) WithPaths(p *Paths) *Mapper {
	return &Mapper{cat: m.cat, paths: p, memo: new(sync.Map)}
}

// iamARN writes the resource of an IAM entity a request names by name:
// with its path when given or known, else at the root and under any path,
// with the reason.
func (m *Mapper) iamARN(ac arnCtx, kind, name, givenPath string) (arns []string, why string) {
	base := "arn:" + ac.partition + ":iam::" + ac.account + ":" + kind
	esc := escape(name)
	if givenPath != "" {
		return []string{base + escape(strings.TrimSuffix("/"+strings.Trim(givenPath, "/"), "/")+"/") + esc}, ""
	}
	if path, ok := m.paths.Path(ac.partition, ac.account, kind, name); ok {
		return []string{base + escape(path) + esc}, ""
	}
	return []string{base + "/" + esc, base + "/*/" + esc}, WhyPathUnknown
}

// WhyPathUnknown explains an IAM name written at the root and under any
// path.
const WhyPathUnknown = "its path is unknown: the name is written at the root and under any path (--gaad or --snapshot names it exactly)"
