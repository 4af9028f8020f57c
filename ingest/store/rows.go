package store

// The rows readers scan. Each is a view of some columns of the events table,
// whose one declaration is columns.Event: the same column names, types and
// optionality (less the writer-only "dict"), held so by TestRowsAreViews. So
// Scan reads just these columns, and parquet-go converts nothing (a
// mismatch would make it convert every row, several times slower and lossy
// for null booleans). Readers get plain Go values; the parquet tags stay in
// this package.

// UsageRow is one event as analyze and the rollup need it: the principal,
// the time, every field the action mapper reads and the call's origin.
// The response elements, additional event data and the rest stay on disk.
type UsageRow struct {
	PrincipalARN      string        `parquet:"principal_arn,optional"`
	PrincipalKind     string        `parquet:"principal_kind,optional"`
	EventTime         int64         `parquet:"event_time,timestamp(millisecond)"` // Unix milliseconds, UTC
	EventSource       string        `parquet:"event_source,optional"`
	EventName         string        `parquet:"event_name,optional"`
	EventType         string        `parquet:"event_type,optional"`
	EventCategory     string        `parquet:"event_category,optional"`
	AWSRegion         string        `parquet:"aws_region,optional"`
	SourceIP          string        `parquet:"source_ip,optional"`
	UserAgent         string        `parquet:"user_agent,optional"`
	AccessKeyID       string        `parquet:"access_key_id,optional"`
	PrincipalAccount  string        `parquet:"principal_account,optional"`
	RecipientAccount  string        `parquet:"recipient_account,optional"`
	UserIdentityARN   string        `parquet:"user_identity_arn,optional"`
	MFAAuthenticated  *bool         `parquet:"mfa_authenticated,optional"`
	ErrorCode         string        `parquet:"error_code,optional"`
	ErrorMessage      string        `parquet:"error_message,optional"`
	VPCEndpointID     string        `parquet:"vpc_endpoint_id,optional"`
	RequestParameters string        `parquet:"request_parameters,optional"`
	Resources         []RowResource `parquet:"resources,optional,list"`
}

// RowResource is one element of the resources column.
type RowResource struct {
	ARN       string `parquet:"arn,optional"`
	Type      string `parquet:"type,optional"`
	AccountID string `parquet:"account_id,optional"`
}

// ExplainRow is a UsageRow with the event's ID and the service that acted
// for the principal: what explain shows of a stored event.
type ExplainRow struct {
	UsageRow
	EventID   string `parquet:"event_id"`
	InvokedBy string `parquet:"invoked_by,optional"`
}

// PrincipalRow is one event as the principal listing needs it.
type PrincipalRow struct {
	PrincipalARN     string `parquet:"principal_arn,optional"`
	PrincipalKind    string `parquet:"principal_kind,optional"`
	EventTime        int64  `parquet:"event_time,timestamp(millisecond)"` // Unix milliseconds, UTC
	PrincipalAccount string `parquet:"principal_account,optional"`
	RecipientAccount string `parquet:"recipient_account,optional"`
	ErrorCode        string `parquet:"error_code,optional"`
}

// EvidenceRow is one event as the CIS monitoring evidence reads it.
type EvidenceRow struct {
	EventTime           int64  `parquet:"event_time,timestamp(millisecond)"`
	EventName           string `parquet:"event_name,optional"`
	EventSource         string `parquet:"event_source,optional"`
	EventType           string `parquet:"event_type,optional"`
	ErrorCode           string `parquet:"error_code,optional"`
	ErrorMessage        string `parquet:"error_message,optional"`
	SourceIP            string `parquet:"source_ip,optional"`
	IdentityType        string `parquet:"identity_type,optional"`
	InvokedBy           string `parquet:"invoked_by,optional"`
	PrincipalARN        string `parquet:"principal_arn,optional"`
	UserIdentityARN     string `parquet:"user_identity_arn,optional"`
	RecipientAccount    string `parquet:"recipient_account,optional"`
	AdditionalEventData string `parquet:"additional_event_data,optional"`
	ResponseElements    string `parquet:"response_elements,optional"`
}

// CallerRow is one event with who made it and from where: the call's own
// source IP, user agent, session name and MFA, which the usage rollup does
// not keep per call (the review's creators and human-looking callers).
type CallerRow struct {
	PrincipalARN      string `parquet:"principal_arn,optional"`
	PrincipalKind     string `parquet:"principal_kind,optional"`
	EventTime         int64  `parquet:"event_time,timestamp(millisecond)"` // Unix milliseconds, UTC
	EventSource       string `parquet:"event_source,optional"`
	EventName         string `parquet:"event_name,optional"`
	SourceIP          string `parquet:"source_ip,optional"`
	UserAgent         string `parquet:"user_agent,optional"`
	SessionName       string `parquet:"session_name,optional"`
	MFAAuthenticated  *bool  `parquet:"mfa_authenticated,optional"`
	ErrorCode         string `parquet:"error_code,optional"`
	RequestParameters string `parquet:"request_parameters,optional"`
}
