package iamstate

import (
	"strings"
	"time"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// Account is one account's IAM state as read at CollectedAt. Lists keep the
// order AWS returned (GetAccountAuthorizationDetails lists by name); use
// the lookups for anything else.
type Account struct {
	ID        string
	Partition string // "aws" unless an ARN says otherwise
	// CollectedAt is when the state was read: the snapshot's collectedAt,
	// the live read's time, else the credential report's GeneratedTime;
	// zero when no input says. Judge the state at this time, never at the
	// wall clock's.
	CollectedAt time.Time

	Users    []*User
	Groups   []*Group
	Roles    []*Role
	Policies []*Policy // customer and AWS managed policies

	// CredentialReport is the parsed report (nil when not read or
	// unreadable; see Problems). Root is its root user's row.
	CredentialReport *CredentialReport
	Root             *CredentialReportRow

	// Read says which inputs were read. What an input that was not read
	// would have said is unknown, not empty: without UserCredentials a
	// user's access keys come from the credential report alone (no IDs).
	Read Coverage
	// Problems lists what could not be taken in: reads that failed,
	// documents that do not parse, cells that do not fit their column.
	Problems []Problem

	usersByName, usersByARN   map[string]*User
	groupsByName, groupsByARN map[string]*Group
	rolesByName, rolesByARN   map[string]*Role
	policiesByARN             map[string]*Policy
	keys                      map[string]*User
}

// Coverage says which inputs an Account was built from.
type Coverage struct {
	AuthorizationDetails bool
	CredentialReport     bool
	VirtualMFADevices    bool
	UserCredentials      bool
}

// User is an IAM user.
type User struct {
	Name string
	ID   string
	ARN  string // with the path: arn:aws:iam::111122223333:user/division/alice
	Path string // "/" or "/division/"
	// CreateDate is when the user was created (the credential report's
	// user_creation_time when the authorization details were not read).
	CreateDate          time.Time
	Tags                []Tag
	Groups              []string // group names, as listed
	InlinePolicies      []InlinePolicy
	AttachedPolicies    []AttachedPolicy
	PermissionsBoundary string // the boundary policy's ARN; "" when none

	// Credentials is the user's credential report row (nil when the
	// report was not read or does not list the user). The fields below
	// come from it.
	Credentials      *CredentialReportRow
	PasswordEnabled  bool
	PasswordLastUsed time.Time // zero: no password, never used, or unknown
	MFAActive        bool
	// AccessKeys are the user's keys, oldest first. With UserCredentials
	// read they have IDs; from the credential report alone they do not.
	AccessKeys []AccessKey
	// MFADevices are the user's MFA devices: from ListMFADevices when read,
	// and the virtual devices assigned to the user.
	MFADevices []MFADevice
}

// Group is an IAM group.
type Group struct {
	Name             string
	ID               string
	ARN              string
	Path             string
	CreateDate       time.Time
	InlinePolicies   []InlinePolicy
	AttachedPolicies []AttachedPolicy
	Members          []string // user names, in the order users are listed
}

// Role is an IAM role.
type Role struct {
	Name       string
	ID         string
	ARN        string
	Path       string
	CreateDate time.Time
	// TrustPolicy is the role's trust (assume-role) policy; nil when the
	// output has none or it does not parse (see Account.Problems).
	TrustPolicy         *iampolicy.Document
	InlinePolicies      []InlinePolicy
	AttachedPolicies    []AttachedPolicy
	PermissionsBoundary string
	Tags                []Tag
	LastUsed            RoleLastUsed // zero LastUsedDate: not used in the last 400 days, or unknown
	InstanceProfiles    []InstanceProfile
	// ServiceLinked is set for service-linked roles (path
	// /aws-service-role/): AWS owns their policies.
	ServiceLinked bool
	// IdentityCenter is set for the roles IAM Identity Center creates for
	// permission sets (path /aws-reserved/sso.amazonaws.com/…).
	IdentityCenter bool
}

// InlinePolicy is an inline policy of a user, group or role.
type InlinePolicy struct {
	Name string
	// Document is nil when the text does not parse (see Account.Problems).
	Document *iampolicy.Document
}

// Policy is a managed policy.
type Policy struct {
	ARN  string
	Name string
	ID   string
	Path string
	// AWSManaged is set for AWS managed policies (arn:…:iam::aws:policy/…).
	AWSManaged       bool
	DefaultVersionID string
	// Default is the default version (nil when the output lists none);
	// Document is its document, nil when missing or unparseable.
	Default                       *Version
	Document                      *iampolicy.Document
	Versions                      []Version // as listed; GAAD lists every version
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string
	CreateDate, UpdateDate        time.Time
}

// Version is one version of a managed policy.
type Version struct {
	ID         string
	IsDefault  bool
	CreateDate time.Time
	Document   *iampolicy.Document // nil when it does not parse
}

// AccessKey is one access key of a user.
type AccessKey struct {
	// ID is the access key ID; "" when only the credential report was read
	// (it has no key IDs).
	ID      string
	Status  string // "Active" or "Inactive"
	Created time.Time
	// LastUsed is zero when the key was never used or it is unknown;
	// LastUsedService and LastUsedRegion are "" then.
	LastUsed        time.Time
	LastUsedService string
	LastUsedRegion  string
	// ReportSlot is 1 or 2 when the credential report's access_key_N
	// columns describe this key, 0 otherwise.
	ReportSlot int
}

// Active reports whether the key is active.
func (k *AccessKey) Active() bool { return k.Status == "Active" }

// Virtual reports whether the device is a virtual MFA device (its serial
// number is an ARN).
func (d MFADevice) Virtual() bool { return strings.HasPrefix(d.SerialNumber, "arn:") }

// Role path prefixes with a meaning.
const (
	ServiceLinkedPath  = "/aws-service-role/"
	IdentityCenterPath = "/aws-reserved/sso.amazonaws.com/"
)
