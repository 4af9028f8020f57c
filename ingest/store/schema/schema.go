// Package schema declares the dataset's two tables once: Event, a row of
// the events table, and RollupRow, a row of the usage rollup. Their
// parquet tags name each column and give its type, nullability and
// encoding; the store writes and reads the files by them (its reading
// rows are views of these columns), package columns builds rows to them
// and derives the Arrow schema from Event, and readers outside ingest get
// plain Go values. The column names are constants in package columns.
//
// A change here is a change of the on-disk format: docs/schema.md and
// docs/rollup.md describe it for users.
package schema

// Event is one record of the events table as Go code reads and writes it:
// the one declaration of its columns (columns.Schema is derived from it).
// Its tags name each column, its type and nullability, and choose each
// column's encoding: dictionary for the columns whose values repeat
// (sources, names, regions, principals, accounts), plain for unique IDs and
// long JSON texts, so that reading a few rows of a principal decodes a few
// small pages rather than a whole row group's dictionary. Optional strings
// are null when empty (the builder stores empty values as null).
//
// Events built by columns.Builder.Events alias the builder's memory: use
// them before the builder is reset. Readers use its tags to name the columns they read;
// the store's encoder takes each column's encoding from them.
type Event struct {
	EventID             string     `parquet:"event_id"`
	EventTime           int64      `parquet:"event_time,timestamp(millisecond)"`
	EventVersion        string     `parquet:"event_version,optional,dict"`
	EventSource         string     `parquet:"event_source,optional,dict"`
	EventName           string     `parquet:"event_name,optional,dict"`
	AWSRegion           string     `parquet:"aws_region,optional,dict"`
	SourceIP            string     `parquet:"source_ip,optional"`
	UserAgent           string     `parquet:"user_agent,optional,dict"`
	IdentityType        string     `parquet:"identity_type,optional,dict"`
	PrincipalARN        string     `parquet:"principal_arn,optional,dict"`
	PrincipalKind       string     `parquet:"principal_kind,optional,dict"`
	UserIdentityARN     string     `parquet:"user_identity_arn,optional"`
	PrincipalID         string     `parquet:"principal_id,optional"`
	SessionName         string     `parquet:"session_name,optional"`
	AccessKeyID         string     `parquet:"access_key_id,optional"`
	PrincipalAccount    string     `parquet:"principal_account,optional,dict"`
	RecipientAccount    string     `parquet:"recipient_account,optional,dict"`
	InvokedBy           string     `parquet:"invoked_by,optional,dict"`
	MFAAuthenticated    *bool      `parquet:"mfa_authenticated,optional"`
	ErrorCode           string     `parquet:"error_code,optional,dict"`
	ErrorMessage        string     `parquet:"error_message,optional"`
	ReadOnly            *bool      `parquet:"read_only,optional"`
	EventType           string     `parquet:"event_type,optional,dict"`
	EventCategory       string     `parquet:"event_category,optional,dict"`
	ManagementEvent     *bool      `parquet:"management_event,optional"`
	VPCEndpointID       string     `parquet:"vpc_endpoint_id,optional,dict"`
	RequestParameters   string     `parquet:"request_parameters,optional"`
	ResponseElements    string     `parquet:"response_elements,optional"`
	AdditionalEventData string     `parquet:"additional_event_data,optional"`
	Resources           []Resource `parquet:"resources,optional,list"`
	SharedEventID       string     `parquet:"shared_event_id,optional"`
	TLSVersion          string     `parquet:"tls_version,optional,dict"`
	SourceObject        string     `parquet:"source_object,optional,dict"`
}

// Resource is one element of Event.Resources.
type Resource struct {
	ARN       string `parquet:"arn,optional"`
	Type      string `parquet:"type,optional,dict"`
	AccountID string `parquet:"account_id,optional,dict"`
}

// RollupRow is one row of the usage rollup, in on-disk column order. The
// partition columns (account, date) live in the folder names, as for the
// events. Strings are null when empty; the columns a facet does not use are
// null in its rows (columns.Facets says which are used).
//
// Every string column is dictionary-encoded, the numbers delta-encoded
// (DELTA_BINARY_PACKED), the times millisecond timestamps in UTC: types and
// encodings of the Parquet standard that DuckDB, Arrow, Spark and Trino
// read.
type RollupRow struct {
	Facet         string `parquet:"facet,dict"`
	PrincipalARN  string `parquet:"principal_arn,optional,dict"`
	PrincipalKind string `parquet:"principal_kind,optional,dict"`
	// PrincipalAccount and RecipientAccount: call and principal rows.
	PrincipalAccount string `parquet:"principal_account,optional,dict"`
	RecipientAccount string `parquet:"recipient_account,optional,dict"`
	// Outcome is cloudtrail.OutcomeOf(error code): allowed, denied or failed.
	Outcome string `parquet:"outcome,dict"`
	// ErrorCode: call and access_key rows.
	ErrorCode string `parquet:"error_code,optional,dict"`
	// AccessKeyID is, in access_key rows, the key; in origin rows, the
	// long-term key (AKIA…) the calls were made with, null for temporary
	// keys (ASIA…, one a session) and calls without one: so origins are
	// known per principal and per long-term key.
	AccessKeyID string `parquet:"access_key_id,optional,dict"`
	// SourceIP, UserAgent and VPCEndpointID: origin rows only.
	SourceIP      string `parquet:"source_ip,optional,dict"`
	UserAgent     string `parquet:"user_agent,optional,dict"`
	VPCEndpointID string `parquet:"vpc_endpoint_id,optional,dict"`
	// The call: call rows only. ErrorMessage is kept for denied calls only
	// (it names the resource refused; other errors' messages carry request
	// IDs and would make every call a row of its own).
	EventSource       string           `parquet:"event_source,optional,dict"`
	EventName         string           `parquet:"event_name,optional,dict"`
	EventType         string           `parquet:"event_type,optional,dict"`
	EventCategory     string           `parquet:"event_category,optional,dict"`
	AWSRegion         string           `parquet:"aws_region,optional,dict"`
	UserIdentityARN   string           `parquet:"user_identity_arn,optional,dict"`
	RequestParameters string           `parquet:"request_parameters,optional,dict"`
	ErrorMessage      string           `parquet:"error_message,optional,dict"`
	Resources         []RollupResource `parquet:"resources,optional,list"`
	// Calls counts the events the row sums; MFACalls those made with MFA
	// (0 in principal rows).
	Calls    int64 `parquet:"calls,delta"`
	MFACalls int64 `parquet:"mfa_calls,delta"`
	// FirstSeen and LastSeen are the earliest and latest event_time, Unix
	// milliseconds.
	FirstSeen int64 `parquet:"first_seen,timestamp(millisecond),delta"`
	LastSeen  int64 `parquet:"last_seen,timestamp(millisecond),delta"`
}

// RollupResource is one element of RollupRow.Resources: the same fields as
// the events' Resource, every one dictionary-encoded.
type RollupResource struct {
	ARN       string `parquet:"arn,optional,dict"`
	Type      string `parquet:"type,optional,dict"`
	AccountID string `parquet:"account_id,optional,dict"`
}
