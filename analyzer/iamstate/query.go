package iamstate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// Kind is the kind of an IAM identity.
type Kind string

// Kinds.
const (
	KindUser  Kind = "user"
	KindGroup Kind = "group"
	KindRole  Kind = "role"
)

// User returns the user named name, or nil.
func (a *Account) User(name string) *User { return a.usersByName[name] }

// Group returns the group named name, or nil.
func (a *Account) Group(name string) *Group { return a.groupsByName[name] }

// Role returns the role named name, or nil.
func (a *Account) Role(name string) *Role { return a.rolesByName[name] }

// UserByARN returns the user with this ARN (path included), or nil.
func (a *Account) UserByARN(s string) *User { return a.usersByARN[s] }

// GroupByARN returns the group with this ARN, or nil.
func (a *Account) GroupByARN(s string) *Group { return a.groupsByARN[s] }

// RoleByARN returns the role with this ARN, or nil.
func (a *Account) RoleByARN(s string) *Role { return a.rolesByARN[s] }

// Policy returns the managed policy with this ARN, or nil.
func (a *Account) Policy(policyARN string) *Policy { return a.policiesByARN[policyARN] }

// PoliciesNamed returns the managed policies with this name: customer
// managed ones first (a customer managed policy's name is unique in the
// account, but an AWS managed policy may share it).
func (a *Account) PoliciesNamed(name string) []*Policy {
	var own, aws []*Policy
	for _, p := range a.Policies {
		switch {
		case p.Name != name:
		case p.AWSManaged:
			aws = append(aws, p)
		default:
			own = append(own, p)
		}
	}
	return append(own, aws...)
}

// AccessKey returns the user owning the access key id and the key; nil
// when no user read has it (key IDs come from ListAccessKeys only).
func (a *Account) AccessKey(id string) (*User, *AccessKey) {
	u := a.keys[id]
	if u == nil {
		return nil, nil
	}
	for i := range u.AccessKeys {
		if u.AccessKeys[i].ID == id {
			return u, &u.AccessKeys[i]
		}
	}
	return nil, nil
}

// Path returns the IAM path ("/" or "/division/") of the user, group or
// role named name; ok is false when the account has none.
func (a *Account) Path(kind Kind, name string) (path string, ok bool) {
	switch kind {
	case KindUser:
		if u := a.usersByName[name]; u != nil {
			return u.Path, true
		}
	case KindGroup:
		if g := a.groupsByName[name]; g != nil {
			return g.Path, true
		}
	case KindRole:
		if r := a.rolesByName[name]; r != nil {
			return r.Path, true
		}
	}
	return "", false
}

// Errors of EffectivePolicies.
var (
	// ErrNoSuchPrincipal: the ARN names no user or role of the account.
	ErrNoSuchPrincipal = errors.New("no such user or role in the account state")
	// ErrNotPrincipal: the ARN is not a user's or role's (a group, the
	// root user, a federated user, not an ARN).
	ErrNotPrincipal = errors.New("not the ARN of an IAM user or role")
	// ErrNotRead: the authorization details were not read, so no policy
	// is known.
	ErrNotRead = errors.New("the account authorization details were not read")
)

// PolicyKind says how a policy applies to a principal.
type PolicyKind string

// Policy kinds.
const (
	PolicyInline   PolicyKind = "inline"
	PolicyManaged  PolicyKind = "managed"
	PolicyBoundary PolicyKind = "boundary"
	// PolicyFile: a document given as a file (iamlens diff --policy),
	// attached to nothing the state knows.
	PolicyFile PolicyKind = "file"
)

// AppliedPolicy is one identity policy that applies to a principal.
type AppliedPolicy struct {
	// Label names the policy and where it comes from: "user alice: inline
	// s3-read", "group admins: managed PowerUserAccess
	// (arn:aws:iam::aws:policy/PowerUserAccess)".
	Label string
	Kind  PolicyKind
	// Via is the group the policy applies through ("" when it is the
	// principal's own).
	Via  string
	Name string
	ARN  string // managed policies only
	// Document is the policy (the default version of a managed policy).
	Document *iampolicy.Document
	// Embedded: the input names this AWS managed policy by ARN only, and
	// Document is iamlens's embedded copy of it (EffectiveOptions.AWSManaged),
	// which may differ from the account's default version.
	Embedded bool
	// Address is the Terraform resource address that gives the policy,
	// when it was read from a plan (package tfplan).
	Address string
}

// Effective is the identity-based policy set of a user or role.
type Effective struct {
	Kind Kind
	Name string
	ARN  string
	Path string
	// Policies are the principal's inline policies, its attached managed
	// policies and, for a user, each group's inline then attached
	// policies, groups in the user's order.
	Policies []AppliedPolicy
	// Boundary is the permissions boundary, nil when none.
	Boundary *AppliedPolicy
	// Unknown lists what applies but whose document is not known: a
	// managed policy the outputs do not hold, a group they do not list, a
	// document that does not parse. An evaluation without them is not
	// exact: a missing policy may allow or deny more, a missing boundary
	// may limit more.
	Unknown []string
}

// EffectivePolicies returns the identity policies that apply to the user
// or role principalARN names: an IAM user or role ARN (matched with its
// path, or by name when the path differs), or an STS assumed-role ARN
// (arn:aws:sts::1:assumed-role/NAME/SESSION, which has no path) for its
// role. Resource policies, SCPs and session policies are not part of the
// account state.
func (a *Account) EffectivePolicies(principalARN string) (*Effective, error) {
	return a.EffectivePoliciesWith(principalARN, EffectiveOptions{})
}

// EffectiveOptions tune EffectivePoliciesWith.
type EffectiveOptions struct {
	// AWSManaged, when set, gives the document of an AWS managed policy
	// (arn:PARTITION:iam::aws:policy/…) that applies but that the outputs
	// do not hold: get-account-authorization-details run with a filter,
	// or an excerpt, names such a policy by ARN only. The policy is then
	// used, marked Embedded, instead of being listed in Unknown.
	// managed.Lookup (package iampolicy/managed) is the usual source.
	AWSManaged func(policyARN string) (*iampolicy.Document, bool)
}

// EffectivePoliciesWith is EffectivePolicies with options.
func (a *Account) EffectivePoliciesWith(principalARN string, o EffectiveOptions) (*Effective, error) {
	if !a.Read.AuthorizationDetails {
		return nil, ErrNotRead
	}
	p, err := arn.Parse(principalARN)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", principalARN, ErrNotPrincipal)
	}
	if a.ID != "" && p.AccountID != a.ID {
		return nil, fmt.Errorf("%s: account %s, not %s: %w", principalARN, p.AccountID, a.ID, ErrNoSuchPrincipal)
	}
	kind, rest, _ := strings.Cut(p.Resource, "/")
	switch {
	case p.Service == "iam" && kind == "user":
		u := a.usersByARN[principalARN]
		if u == nil {
			u = a.usersByName[lastSegment(rest)]
		}
		if u == nil {
			return nil, fmt.Errorf("%s: %w", principalARN, ErrNoSuchPrincipal)
		}
		return a.userPolicies(u, o), nil
	case p.Service == "iam" && kind == "role", p.Service == "sts" && kind == "assumed-role":
		name := lastSegment(rest)
		if kind == "assumed-role" {
			name, _, _ = strings.Cut(rest, "/")
		}
		r := a.rolesByARN[principalARN]
		if r == nil {
			r = a.rolesByName[name]
		}
		if r == nil {
			return nil, fmt.Errorf("%s: %w", principalARN, ErrNoSuchPrincipal)
		}
		return a.rolePolicies(r, o), nil
	}
	return nil, fmt.Errorf("%s: %w", principalARN, ErrNotPrincipal)
}

func lastSegment(s string) string { return s[strings.LastIndex(s, "/")+1:] }

func (a *Account) userPolicies(u *User, o EffectiveOptions) *Effective {
	e := &Effective{Kind: KindUser, Name: u.Name, ARN: u.ARN, Path: u.Path}
	owner := "user " + u.Name
	a.addInline(e, owner, "", u.InlinePolicies)
	a.addManaged(e, owner, "", u.AttachedPolicies, o)
	for _, g := range u.Groups {
		grp := a.groupsByName[g]
		if grp == nil {
			e.Unknown = append(e.Unknown, "group "+g+": not in the authorization details")
			continue
		}
		a.addInline(e, "group "+g, g, grp.InlinePolicies)
		a.addManaged(e, "group "+g, g, grp.AttachedPolicies, o)
	}
	e.Boundary = a.boundary(e, owner, u.PermissionsBoundary, o)
	return e
}

func (a *Account) rolePolicies(r *Role, o EffectiveOptions) *Effective {
	e := &Effective{Kind: KindRole, Name: r.Name, ARN: r.ARN, Path: r.Path}
	owner := "role " + r.Name
	a.addInline(e, owner, "", r.InlinePolicies)
	a.addManaged(e, owner, "", r.AttachedPolicies, o)
	e.Boundary = a.boundary(e, owner, r.PermissionsBoundary, o)
	return e
}

func (a *Account) addInline(e *Effective, owner, via string, ps []InlinePolicy) {
	for _, p := range ps {
		label := owner + ": inline " + p.Name
		if p.Document == nil {
			e.Unknown = append(e.Unknown, label+": the document does not parse")
			continue
		}
		e.Policies = append(e.Policies, AppliedPolicy{Label: label, Kind: PolicyInline, Via: via, Name: p.Name, Document: p.Document})
	}
}

func (a *Account) addManaged(e *Effective, owner, via string, ps []AttachedPolicy, o EffectiveOptions) {
	for _, ap := range ps {
		label := fmt.Sprintf("%s: managed %s (%s)", owner, ap.PolicyName, ap.PolicyArn)
		pol := a.policiesByARN[ap.PolicyArn]
		if pol == nil {
			if doc, ok := o.embedded(ap.PolicyArn); ok {
				e.Policies = append(e.Policies, AppliedPolicy{Label: label + ": " + EmbeddedNote, Kind: PolicyManaged, Via: via,
					Name: ap.PolicyName, ARN: ap.PolicyArn, Document: doc, Embedded: true})
				continue
			}
		}
		switch {
		case pol == nil:
			e.Unknown = append(e.Unknown, label+": not in the authorization details")
		case pol.Document == nil:
			e.Unknown = append(e.Unknown, label+": no readable default version")
		default:
			e.Policies = append(e.Policies, AppliedPolicy{Label: label, Kind: PolicyManaged, Via: via, Name: ap.PolicyName, ARN: ap.PolicyArn, Document: pol.Document})
		}
	}
}

func (a *Account) boundary(e *Effective, owner, boundaryARN string, o EffectiveOptions) *AppliedPolicy {
	if boundaryARN == "" {
		return nil
	}
	pol := a.policiesByARN[boundaryARN]
	label := fmt.Sprintf("%s: boundary %s", owner, boundaryARN)
	if pol == nil {
		if doc, ok := o.embedded(boundaryARN); ok {
			name := boundaryARN[strings.LastIndexByte(boundaryARN, '/')+1:]
			return &AppliedPolicy{Label: fmt.Sprintf("%s: boundary %s (%s): %s", owner, name, boundaryARN, EmbeddedNote),
				Kind: PolicyBoundary, Name: name, ARN: boundaryARN, Document: doc, Embedded: true}
		}
	}
	if pol == nil || pol.Document == nil {
		e.Unknown = append(e.Unknown, label+": no readable document")
		return nil
	}
	return &AppliedPolicy{Label: fmt.Sprintf("%s: boundary %s (%s)", owner, pol.Name, boundaryARN), Kind: PolicyBoundary, Name: pol.Name, ARN: boundaryARN, Document: pol.Document}
}

// EmbeddedNote ends the label of a policy whose document is iamlens's
// embedded copy.
const EmbeddedNote = "document from iamlens's embedded copy of the AWS managed policies (the input names it by ARN only)"

// embedded returns the embedded document of an AWS managed policy ARN.
func (o EffectiveOptions) embedded(policyARN string) (*iampolicy.Document, bool) {
	if o.AWSManaged == nil || !IsAWSManaged(policyARN) {
		return nil, false
	}
	return o.AWSManaged(policyARN)
}

// IsAWSManaged reports whether the ARN is an AWS managed policy's
// (arn:PARTITION:iam::aws:policy/…).
func IsAWSManaged(policyARN string) bool {
	p, err := arn.Parse(policyARN)
	return err == nil && p.Service == "iam" && p.AccountID == "aws" && strings.HasPrefix(p.Resource, "policy/")
}
