package iamstate

// Outputs are the IAM outputs of one account, each the JSON of one AWS
// call as the CLI prints it. A nil member was not read. The "iam" member
// of an iamlens snapshot holds them (beside outputs only CIS reads).
type Outputs struct {
	// CredentialReport is `aws iam get-credential-report`.
	CredentialReport *CredentialReportOutput `json:"credentialReport,omitempty"`
	// VirtualMFADevices is `aws iam list-virtual-mfa-devices`.
	VirtualMFADevices *VirtualMFADevicesOutput `json:"virtualMFADevices,omitempty"`
	// AuthorizationDetails is `aws iam get-account-authorization-details`.
	AuthorizationDetails *AuthorizationDetails `json:"authorizationDetails,omitempty"`
	// UserCredentials holds, by user name, each user's access keys and MFA
	// devices (`aws iam list-access-keys`, `aws iam list-mfa-devices`).
	// They cost two calls a user, so they are read only when asked.
	UserCredentials map[string]*UserCredentials `json:"userCredentials,omitempty"`
}

// VirtualMFADevicesOutput is `aws iam list-virtual-mfa-devices`.
type VirtualMFADevicesOutput struct {
	VirtualMFADevices []VirtualMFADevice `json:"VirtualMFADevices"`
}

// VirtualMFADevice is one virtual MFA device; User is set when it is
// assigned.
type VirtualMFADevice struct {
	SerialNumber string   `json:"SerialNumber"`
	User         *MFAUser `json:"User,omitempty"`
	EnableDate   Time     `json:"EnableDate,omitzero"`
}

// MFAUser is the user a virtual MFA device is assigned to (the root user's
// ARN ends in ":root").
type MFAUser struct {
	Arn      string `json:"Arn"`
	UserName string `json:"UserName,omitempty"`
}

// UserCredentials are one user's access keys and MFA devices.
type UserCredentials struct {
	// AccessKeyMetadata is `aws iam list-access-keys --user-name U`.
	AccessKeyMetadata []AccessKeyMetadata `json:"AccessKeyMetadata"`
	// MFADevices is `aws iam list-mfa-devices --user-name U` (virtual,
	// hardware and FIDO devices).
	MFADevices []MFADevice `json:"MFADevices"`
}

// AccessKeyMetadata is one access key (its ID; never its secret).
type AccessKeyMetadata struct {
	UserName    string `json:"UserName,omitempty"`
	AccessKeyId string `json:"AccessKeyId"`
	Status      string `json:"Status"` // Active or Inactive
	CreateDate  Time   `json:"CreateDate,omitzero"`
	// AccessKeyLastUsed is `aws iam get-access-key-last-used`, read only
	// for keys the credential report does not cover.
	AccessKeyLastUsed *AccessKeyLastUsed `json:"AccessKeyLastUsed,omitempty"`
}

// AccessKeyLastUsed is when, where and with which service a key was last
// used. IAM answers N/A for the service and region of a key never used.
type AccessKeyLastUsed struct {
	LastUsedDate Time   `json:"LastUsedDate,omitzero"`
	ServiceName  string `json:"ServiceName,omitempty"`
	Region       string `json:"Region,omitempty"`
}

// MFADevice is one MFA device of a user.
type MFADevice struct {
	UserName     string `json:"UserName,omitempty"`
	SerialNumber string `json:"SerialNumber"`
	EnableDate   Time   `json:"EnableDate,omitzero"`
}

// Problem is something an input says that the model could not take in
// whole: a policy document that does not parse, a report cell that is not
// a date, a read that failed. The rest of the input is still used.
type Problem struct {
	Source  string // SourceGAAD, SourceCredentialReport, …
	Subject string // what it is about: an ARN, "credential report line 4 (alice)"
	Message string
}

func (p Problem) String() string {
	if p.Subject == "" {
		return p.Source + ": " + p.Message
	}
	return p.Source + ": " + p.Subject + ": " + p.Message
}

// Problem sources.
const (
	SourceGAAD              = "GetAccountAuthorizationDetails"
	SourceCredentialReport  = "GetCredentialReport"
	SourceVirtualMFADevices = "ListVirtualMFADevices"
	SourceUserCredentials   = "ListAccessKeys/ListMFADevices"
	SourceSnapshot          = "snapshot"
)
