// Package actionmap maps one CloudTrail event to the IAM actions it
// exercised and the resource ARNs it touched, checked against the embedded
// IAM catalogue (package catalog). It never guesses: an event it cannot map
// is reported as Unmapped with the reason.
package actionmap

// Resource is one element of a record's "resources" field.
type Resource struct {
	ARN       string
	Type      string
	AccountID string
}

// Call is what the mapper needs of one CloudTrail record. Every field is a
// plain value taken from the record (or from the dataset's columns of the
// same name), so callers build it from either.
type Call struct {
	EventSource       string // "s3.amazonaws.com"
	EventName         string // "GetObject", "ListFunctions20150331"
	EventType         string // "AwsApiCall", "AwsServiceEvent", "AwsConsoleSignIn", ...
	EventCategory     string // "Management", "Data", ...
	AWSRegion         string
	RecipientAccount  string
	PrincipalAccount  string
	UserIdentityARN   string // used for the partition (aws, aws-cn, aws-us-gov)
	RequestParameters string // raw JSON object, "" when absent
	Resources         []Resource
	ErrorCode         string
	ErrorMessage      string
}

// Status says what kind of answer Map gave.
type Status string

const (
	// Mapped: Actions holds one or more catalogue actions.
	Mapped Status = "mapped"
	// NoPermission: the call needs no IAM permission (sts:GetCallerIdentity and its kind).
	NoPermission Status = "no-permission"
	// NotAPICall: the record is not a principal's API call (AwsServiceEvent,
	// console sign-in, Insight events).
	NotAPICall Status = "not-api-call"
	// Unmapped: iamlens does not know which action this is; Reason says why.
	Unmapped Status = "unmapped"
)

// Action is one IAM action a call needed, with the resources it touched.
type Action struct {
	// Name is "prefix:Action" exactly as the catalogue spells it.
	Name string
	// Resources are the ARNs the call is authorised on that fit one of the
	// action's resource types, written as IAM Resource patterns: values
	// from the log are escaped (a '*' in an S3 key is ${*}), and a wildcard
	// appears only where the mapping means it (Why says why); ["*"] when
	// the action allows no resource-level restriction; empty when the
	// resource could not be derived (the caller then decides between "*"
	// and reporting it).
	Resources []string
	// ResourceNote explains an empty or "*" Resources for reports.
	ResourceNote string
	// Why explains the resources that are patterns rather than names seen
	// (a resource the call creates, an IAM name whose path is unknown, a
	// secret's random suffix), by resource.
	Why map[string]string
}

// Result is the mapping of one call.
type Result struct {
	Status  Status
	Actions []Action
	// Reason explains NoPermission, NotAPICall and Unmapped.
	Reason string
	// NotObservable lists actions the call probably also needed but that
	// CloudTrail never shows (iam:PassRole for a call that passes a role,
	// dependent actions from the catalogue).
	NotObservable []string
}
