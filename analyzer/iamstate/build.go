package iamstate

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// Input is what an Account is built from.
type Input struct {
	// AccountID and Partition are taken from the ARNs when empty.
	AccountID string
	Partition string
	// CollectedAt is when the outputs were read (the credential report's
	// GeneratedTime when zero).
	CollectedAt time.Time
	Outputs
	// Failed lists reads that failed (a snapshot's recorded errors, the
	// live reader's); they become Problems.
	Failed []Problem
}

// Build makes the Account from the outputs. It does not fail: what cannot
// be used (a document that does not parse, an unreadable credential
// report) is listed in Account.Problems and the rest is built.
func Build(in *Input) *Account {
	a := &Account{ID: in.AccountID, Partition: in.Partition, CollectedAt: in.CollectedAt.UTC(),
		usersByName: map[string]*User{}, usersByARN: map[string]*User{},
		groupsByName: map[string]*Group{}, groupsByARN: map[string]*Group{},
		rolesByName: map[string]*Role{}, rolesByARN: map[string]*Role{},
		policiesByARN: map[string]*Policy{}, keys: map[string]*User{}}
	a.Problems = append(a.Problems, in.Failed...)
	if d := in.AuthorizationDetails; d != nil {
		a.Read.AuthorizationDetails = true
		a.addDetails(d)
	}
	if in.CredentialReport != nil {
		rep, err := in.CredentialReport.Parse()
		if err != nil {
			a.problem(SourceCredentialReport, "", err.Error())
		} else {
			a.Read.CredentialReport = true
			a.CredentialReport = rep
			a.Problems = append(a.Problems, rep.Problems...)
			if a.CollectedAt.IsZero() {
				a.CollectedAt = rep.GeneratedTime
			}
			a.addReport(rep)
		}
	}
	if in.UserCredentials != nil {
		a.Read.UserCredentials = true
	}
	for _, u := range a.Users {
		a.mergeKeys(u, in.UserCredentials[u.Name])
		if uc := in.UserCredentials[u.Name]; uc != nil {
			u.MFADevices = append(u.MFADevices, uc.MFADevices...)
		}
	}
	names := make([]string, 0, len(in.UserCredentials))
	for name := range in.UserCredentials {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if a.usersByName[name] == nil {
			a.problem(SourceUserCredentials, name, "credentials of a user the other outputs do not list; left out")
		}
	}
	if v := in.VirtualMFADevices; v != nil {
		a.Read.VirtualMFADevices = true
		for _, d := range v.VirtualMFADevices {
			if d.User == nil {
				continue
			}
			u := a.usersByARN[d.User.Arn]
			if u == nil {
				continue // root, or a user the other outputs do not list
			}
			if !hasSerial(u.MFADevices, d.SerialNumber) {
				u.MFADevices = append(u.MFADevices, MFADevice{UserName: u.Name, SerialNumber: d.SerialNumber, EnableDate: d.EnableDate})
			}
		}
	}
	for _, u := range a.Users {
		for _, g := range u.Groups {
			if grp := a.groupsByName[g]; grp != nil {
				grp.Members = append(grp.Members, u.Name)
			}
		}
	}
	a.fillAccount()
	return a
}

func hasSerial(ds []MFADevice, serial string) bool {
	for _, d := range ds {
		if d.SerialNumber == serial {
			return true
		}
	}
	return false
}

func (a *Account) problem(source, subject, msg string) {
	a.Problems = append(a.Problems, Problem{Source: source, Subject: subject, Message: msg})
}

// parse reads one document, recording a problem when it does not parse.
func (a *Account) parse(text PolicyText, subject string) *iampolicy.Document {
	if len(text) == 0 {
		return nil
	}
	d, err := text.Document()
	if err != nil {
		a.problem(SourceGAAD, subject, err.Error())
		return nil
	}
	return d
}

func (a *Account) inline(list []PolicyDetail, owner string) []InlinePolicy {
	var out []InlinePolicy
	for _, p := range list {
		out = append(out, InlinePolicy{Name: p.PolicyName, Document: a.parse(p.PolicyDocument, owner+" inline policy "+p.PolicyName)})
	}
	return out
}

func boundaryARN(b *PermissionsBoundary) string {
	if b == nil {
		return ""
	}
	return b.PermissionsBoundaryArn
}

func (a *Account) addDetails(d *AuthorizationDetails) {
	for _, p := range d.Policies {
		pol := &Policy{ARN: p.Arn, Name: p.PolicyName, ID: p.PolicyId, Path: p.Path, DefaultVersionID: p.DefaultVersionId,
			AttachmentCount: p.AttachmentCount, PermissionsBoundaryUsageCount: p.PermissionsBoundaryUsageCount,
			IsAttachable: p.IsAttachable, Description: p.Description, CreateDate: p.CreateDate.Time, UpdateDate: p.UpdateDate.Time}
		if parsed, err := arn.Parse(p.Arn); err == nil {
			pol.AWSManaged = parsed.AccountID == "aws"
		} else {
			a.problem(SourceGAAD, p.Arn, "policy ARN: "+err.Error())
		}
		for _, v := range p.PolicyVersionList {
			pol.Versions = append(pol.Versions, Version{ID: v.VersionId, IsDefault: v.IsDefaultVersion, CreateDate: v.CreateDate.Time,
				Document: a.parse(v.Document, p.Arn+" version "+v.VersionId)})
		}
		// The default version: the first one named by DefaultVersionId or
		// flagged IsDefaultVersion.
		for i, v := range p.PolicyVersionList {
			if v.VersionId == p.DefaultVersionId || v.IsDefaultVersion {
				pol.Default = &pol.Versions[i]
				pol.Document = pol.Versions[i].Document
				break
			}
		}
		a.Policies = append(a.Policies, pol)
		if a.policiesByARN[pol.ARN] == nil {
			a.policiesByARN[pol.ARN] = pol
		}
	}
	for _, g := range d.GroupDetailList {
		grp := &Group{Name: g.GroupName, ID: g.GroupId, ARN: g.Arn, Path: orPath(g.Path, g.Arn), CreateDate: g.CreateDate.Time,
			InlinePolicies: a.inline(g.GroupPolicyList, "group "+g.GroupName), AttachedPolicies: g.AttachedManagedPolicies}
		a.Groups = append(a.Groups, grp)
		a.groupsByName[grp.Name] = grp
		a.groupsByARN[grp.ARN] = grp
	}
	for _, u := range d.UserDetailList {
		usr := &User{Name: u.UserName, ID: u.UserId, ARN: u.Arn, Path: orPath(u.Path, u.Arn), CreateDate: u.CreateDate.Time,
			Tags: u.Tags, Groups: u.GroupList, InlinePolicies: a.inline(u.UserPolicyList, "user "+u.UserName),
			AttachedPolicies: u.AttachedManagedPolicies, PermissionsBoundary: boundaryARN(u.PermissionsBoundary)}
		a.addUser(usr)
	}
	for _, r := range d.RoleDetailList {
		role := &Role{Name: r.RoleName, ID: r.RoleId, ARN: r.Arn, Path: orPath(r.Path, r.Arn), CreateDate: r.CreateDate.Time,
			InlinePolicies: a.inline(r.RolePolicyList, "role "+r.RoleName), AttachedPolicies: r.AttachedManagedPolicies,
			PermissionsBoundary: boundaryARN(r.PermissionsBoundary), Tags: r.Tags, InstanceProfiles: r.InstanceProfileList}
		role.TrustPolicy = a.parse(r.AssumeRolePolicyDocument, "role "+r.RoleName+" trust policy")
		if r.RoleLastUsed != nil {
			role.LastUsed = *r.RoleLastUsed
		}
		role.ServiceLinked = strings.HasPrefix(role.Path, ServiceLinkedPath)
		role.IdentityCenter = strings.HasPrefix(role.Path, IdentityCenterPath)
		a.Roles = append(a.Roles, role)
		a.rolesByName[role.Name] = role
		a.rolesByARN[role.ARN] = role
	}
}

func (a *Account) addUser(u *User) {
	a.Users = append(a.Users, u)
	a.usersByName[u.Name] = u
	if u.ARN != "" {
		a.usersByARN[u.ARN] = u
	}
}

// orPath is path, or the path the ARN holds when the output has none.
func orPath(path, arnText string) string {
	if path != "" {
		return path
	}
	p, _ := PathFromARN(arnText)
	return p
}

// PathFromARN returns the IAM path of a user, group, role or policy ARN
// ("/" for arn:aws:iam::1:user/alice, "/division/" for
// arn:aws:iam::1:user/division/alice). ok is false when the text is not an
// IAM ARN of such a resource.
func PathFromARN(text string) (path string, ok bool) {
	a, err := arn.Parse(text)
	if err != nil || a.Service != "iam" {
		return "", false
	}
	kind, rest, found := strings.Cut(a.Resource, "/")
	if !found {
		return "", false
	}
	switch kind {
	case "user", "group", "role", "policy", "instance-profile":
	default:
		return "", false
	}
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return "/", true
	}
	return "/" + rest[:i+1], true
}

func (a *Account) addReport(rep *CredentialReport) {
	for i := range rep.Rows {
		row := &rep.Rows[i]
		if row.IsRoot() {
			if a.Root == nil {
				a.Root = row
			}
			continue
		}
		u := a.usersByName[row.User]
		if u == nil {
			if a.Read.AuthorizationDetails {
				a.problem(SourceCredentialReport, row.ARN, "a user the authorization details do not list (created or deleted between the two reads); left out")
				continue
			}
			u = &User{Name: row.User, ARN: row.ARN, Path: orPath("", row.ARN), CreateDate: row.UserCreationTime.Time}
			a.addUser(u)
		}
		u.Credentials = row
		u.PasswordEnabled = row.PasswordEnabled.On()
		u.PasswordLastUsed = row.PasswordLastUsed.Time
		u.MFAActive = row.MFAActive.On()
	}
}

// mergeKeys builds a user's keys from ListAccessKeys (when read) and the
// credential report's two key slots. A slot is matched to a listed key by
// creation time (access_key_N_last_rotated is the key's creation: keys are
// not rotated in place); the slot gives the key's last use unless
// GetAccessKeyLastUsed was read for it.
func (a *Account) mergeKeys(u *User, uc *UserCredentials) {
	var keys []AccessKey
	if uc != nil {
		for _, m := range uc.AccessKeyMetadata {
			k := AccessKey{ID: m.AccessKeyId, Status: m.Status, Created: m.CreateDate.Time}
			if lu := m.AccessKeyLastUsed; lu != nil {
				k.LastUsed = lu.LastUsedDate.Time
				if !k.LastUsed.IsZero() {
					k.LastUsedService, k.LastUsedRegion = notNA(lu.ServiceName), notNA(lu.Region)
				}
			}
			keys = append(keys, k)
		}
	}
	if row := u.Credentials; row != nil {
		for i, col := range row.AccessKeys {
			if !col.Exists() {
				continue
			}
			slot := i + 1
			idx := -1
			for j := range keys {
				if keys[j].ReportSlot == 0 && col.LastRotated.Known() && keys[j].Created.Truncate(time.Second).Equal(col.LastRotated.Time.Truncate(time.Second)) {
					idx = j
					break
				}
			}
			if idx < 0 {
				if uc != nil {
					a.problem(SourceCredentialReport, u.ARN, fmt.Sprintf("access key %d (created %s) is not among the keys ListAccessKeys returned; kept without an ID", slot, col.LastRotated.Raw))
				}
				status := "Inactive"
				if col.Active.On() {
					status = "Active"
				}
				keys = append(keys, AccessKey{Status: status, Created: col.LastRotated.Time})
				idx = len(keys) - 1
			}
			k := &keys[idx]
			k.ReportSlot = slot
			if k.LastUsed.IsZero() && col.LastUsedDate.Known() {
				k.LastUsed, k.LastUsedService, k.LastUsedRegion = col.LastUsedDate.Time, col.LastUsedService, col.LastUsedRegion
			}
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if !keys[i].Created.Equal(keys[j].Created) {
			return keys[i].Created.Before(keys[j].Created)
		}
		return keys[i].ID < keys[j].ID
	})
	u.AccessKeys = keys
	for i := range u.AccessKeys {
		if id := u.AccessKeys[i].ID; id != "" {
			a.keys[id] = u
		}
	}
}

func notNA(s string) string {
	if s == NA {
		return ""
	}
	return s
}

// fillAccount sets the account ID and partition from the ARNs when the
// input did not give them.
func (a *Account) fillAccount() {
	var arns []string
	for _, u := range a.Users {
		arns = append(arns, u.ARN)
	}
	for _, r := range a.Roles {
		arns = append(arns, r.ARN)
	}
	for _, g := range a.Groups {
		arns = append(arns, g.ARN)
	}
	for _, p := range a.Policies {
		arns = append(arns, p.ARN)
	}
	if a.Root != nil {
		arns = append(arns, a.Root.ARN)
	}
	for _, s := range arns {
		p, err := arn.Parse(s)
		if err != nil || p.AccountID == "" || p.AccountID == "aws" {
			continue
		}
		if a.ID == "" {
			a.ID = p.AccountID
		}
		if a.Partition == "" {
			a.Partition = p.Partition
		}
		break
	}
	if a.Partition == "" {
		a.Partition = "aws"
	}
}
