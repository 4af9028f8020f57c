package iamstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// AuthorizationDetails is the output of `aws iam
// get-account-authorization-details` (GetAccountAuthorizationDetails), its
// pages merged. Lists keep the order AWS returned.
type AuthorizationDetails struct {
	UserDetailList  []UserDetail          `json:"UserDetailList"`
	GroupDetailList []GroupDetail         `json:"GroupDetailList"`
	RoleDetailList  []RoleDetail          `json:"RoleDetailList"`
	Policies        []ManagedPolicyDetail `json:"Policies"`
}

// UserDetail is one entry of UserDetailList.
type UserDetail struct {
	Path                    string               `json:"Path,omitempty"`
	UserName                string               `json:"UserName"`
	UserId                  string               `json:"UserId,omitempty"`
	Arn                     string               `json:"Arn"`
	CreateDate              Time                 `json:"CreateDate,omitzero"`
	UserPolicyList          []PolicyDetail       `json:"UserPolicyList,omitempty"`
	GroupList               []string             `json:"GroupList,omitempty"`
	AttachedManagedPolicies AttachedPolicies     `json:"AttachedManagedPolicies,omitempty"`
	PermissionsBoundary     *PermissionsBoundary `json:"PermissionsBoundary,omitempty"`
	Tags                    []Tag                `json:"Tags,omitempty"`
}

// GroupDetail is one entry of GroupDetailList.
type GroupDetail struct {
	Path                    string           `json:"Path,omitempty"`
	GroupName               string           `json:"GroupName"`
	GroupId                 string           `json:"GroupId,omitempty"`
	Arn                     string           `json:"Arn"`
	CreateDate              Time             `json:"CreateDate,omitzero"`
	GroupPolicyList         []PolicyDetail   `json:"GroupPolicyList,omitempty"`
	AttachedManagedPolicies AttachedPolicies `json:"AttachedManagedPolicies,omitempty"`
}

// RoleDetail is one entry of RoleDetailList.
type RoleDetail struct {
	Path                     string               `json:"Path,omitempty"`
	RoleName                 string               `json:"RoleName"`
	RoleId                   string               `json:"RoleId,omitempty"`
	Arn                      string               `json:"Arn"`
	CreateDate               Time                 `json:"CreateDate,omitzero"`
	AssumeRolePolicyDocument PolicyText           `json:"AssumeRolePolicyDocument,omitempty"`
	InstanceProfileList      []InstanceProfile    `json:"InstanceProfileList,omitempty"`
	RolePolicyList           []PolicyDetail       `json:"RolePolicyList,omitempty"`
	AttachedManagedPolicies  AttachedPolicies     `json:"AttachedManagedPolicies,omitempty"`
	PermissionsBoundary      *PermissionsBoundary `json:"PermissionsBoundary,omitempty"`
	Tags                     []Tag                `json:"Tags,omitempty"`
	RoleLastUsed             *RoleLastUsed        `json:"RoleLastUsed,omitempty"`
}

// InstanceProfile is an instance profile a role belongs to (its Roles list
// is not kept: it repeats the role).
type InstanceProfile struct {
	Path                string `json:"Path,omitempty"`
	InstanceProfileName string `json:"InstanceProfileName"`
	InstanceProfileId   string `json:"InstanceProfileId,omitempty"`
	Arn                 string `json:"Arn"`
	CreateDate          Time   `json:"CreateDate,omitzero"`
}

// RoleLastUsed is when and where a role was last assumed; IAM tracks it
// for the last 400 days. A zero LastUsedDate means not used in that window.
type RoleLastUsed struct {
	LastUsedDate Time   `json:"LastUsedDate,omitzero"`
	Region       string `json:"Region,omitempty"`
}

// PolicyDetail is an inline policy.
type PolicyDetail struct {
	PolicyName     string     `json:"PolicyName"`
	PolicyDocument PolicyText `json:"PolicyDocument"`
}

// AttachedPolicy is an attached managed policy.
type AttachedPolicy struct {
	PolicyName string `json:"PolicyName"`
	PolicyArn  string `json:"PolicyArn"`
}

// AttachedPolicies is a list of attached managed policies. A lone object
// is read as a one-element list (the AWS CLI documentation's own example of
// get-account-authorization-details has that shape).
type AttachedPolicies []AttachedPolicy

// UnmarshalJSON reads a list, or one object.
func (a *AttachedPolicies) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one AttachedPolicy
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*a = AttachedPolicies{one}
		return nil
	}
	var many []AttachedPolicy
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// PermissionsBoundary is the managed policy set as a user's or role's
// permissions boundary.
type PermissionsBoundary struct {
	PermissionsBoundaryType string `json:"PermissionsBoundaryType,omitempty"`
	PermissionsBoundaryArn  string `json:"PermissionsBoundaryArn"`
}

// Tag is one IAM tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// ManagedPolicyDetail is one entry of Policies: a customer or AWS managed
// policy with its versions.
type ManagedPolicyDetail struct {
	PolicyName                    string          `json:"PolicyName"`
	PolicyId                      string          `json:"PolicyId,omitempty"`
	Arn                           string          `json:"Arn"`
	Path                          string          `json:"Path,omitempty"`
	DefaultVersionId              string          `json:"DefaultVersionId"`
	AttachmentCount               int             `json:"AttachmentCount"`
	PermissionsBoundaryUsageCount int             `json:"PermissionsBoundaryUsageCount,omitempty"`
	IsAttachable                  bool            `json:"IsAttachable"`
	Description                   string          `json:"Description,omitempty"`
	CreateDate                    Time            `json:"CreateDate,omitzero"`
	UpdateDate                    Time            `json:"UpdateDate,omitzero"`
	PolicyVersionList             []PolicyVersion `json:"PolicyVersionList"`
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	Document         PolicyText `json:"Document"`
	VersionId        string     `json:"VersionId"`
	IsDefaultVersion bool       `json:"IsDefaultVersion"`
	CreateDate       Time       `json:"CreateDate,omitzero"`
}

// PolicyText is a policy document as AWS returned it: the text of the JSON
// object. It reads the object itself (as the CLI prints it), a JSON string
// holding it, or a URL-encoded string (as the API, and so the SDK, returns
// it), and writes the object's text unchanged, so a snapshot keeps AWS's
// bytes. Document parses it into the one policy model.
type PolicyText json.RawMessage

// ErrNotPolicyText means a policy document member holds neither a JSON
// object nor a string holding one.
var ErrNotPolicyText = errors.New("policy document is not a JSON object")

// UnmarshalJSON reads an object, a string holding one (URL-encoded or not),
// or null (no document).
func (p *PolicyText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*p = nil
		return nil
	}
	b, err := iampolicy.Unwrap(b)
	if err != nil {
		return err
	}
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return fmt.Errorf("%w: %.60s", ErrNotPolicyText, b)
	}
	*p = append(PolicyText(nil), b...)
	return nil
}

// MarshalJSON writes the object's text, or null.
func (p PolicyText) MarshalJSON() ([]byte, error) {
	if len(p) == 0 {
		return []byte("null"), nil
	}
	return p, nil
}

// Document parses the text into the one policy model.
func (p PolicyText) Document() (*iampolicy.Document, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("no policy document")
	}
	return iampolicy.Parse(p)
}

// ReadGAAD reads the output of get-account-authorization-details: one
// object (the CLI merges the pages), several page objects one after the
// other, or a JSON array of pages. Pages are merged in order.
func ReadGAAD(r io.Reader) (*AuthorizationDetails, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read authorization details: %w", err)
	}
	b = bytes.TrimSpace(b)
	var pages []json.RawMessage
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("authorization details: empty input")
	case b[0] == '[':
		if err := json.Unmarshal(b, &pages); err != nil {
			return nil, fmt.Errorf("authorization details: %w", err)
		}
	default:
		dec := json.NewDecoder(bytes.NewReader(b))
		for {
			var page json.RawMessage
			if err := dec.Decode(&page); err == io.EOF {
				break
			} else if err != nil {
				return nil, fmt.Errorf("authorization details, page %d: %w", len(pages)+1, err)
			}
			pages = append(pages, page)
		}
	}
	all := &AuthorizationDetails{}
	for i, raw := range pages {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			return nil, fmt.Errorf("authorization details, page %d: %w", i+1, err)
		}
		found := false
		for _, k := range []string{"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"} {
			_, ok := keys[k]
			found = found || ok
		}
		if !found {
			return nil, fmt.Errorf("authorization details, page %d: no UserDetailList, GroupDetailList, RoleDetailList or Policies: not a get-account-authorization-details output", i+1)
		}
		var page AuthorizationDetails
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, fmt.Errorf("authorization details, page %d: %w", i+1, err)
		}
		all.Merge(&page)
	}
	return all, nil
}

// Merge appends another page's lists.
func (d *AuthorizationDetails) Merge(page *AuthorizationDetails) {
	d.UserDetailList = append(d.UserDetailList, page.UserDetailList...)
	d.GroupDetailList = append(d.GroupDetailList, page.GroupDetailList...)
	d.RoleDetailList = append(d.RoleDetailList, page.RoleDetailList...)
	d.Policies = append(d.Policies, page.Policies...)
}
