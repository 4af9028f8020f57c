package columns

// The usage rollup is the second table of the dataset, beside the events:
// ingest writes it from the same rows, in the same batch, one file for each
// events file (docs/rollup.md documents it for users). Every row sums the
// events of one partition file that share a key; which key depends on the
// row's facet:
//
//	call        principal, and every field that says which call it was
//	            (the fields the action mapper reads)
//	principal   principal, its account and the account called, outcome
//	origin      principal, long-term access key, source IP address, user
//	            agent, VPC endpoint, outcome
//	access_key  principal, access key ID, error code
//
// so that sums over the rows of one facet count every event once, and the
// rows of different facets must never be added together.

// Facets of the rollup, the values of its facet column.
const (
	FacetCall      = "call"
	FacetPrincipal = "principal"
	FacetOrigin    = "origin"
	FacetAccessKey = "access_key"
)

// Facets lists the facets in the order a rollup file holds them.
var Facets = []string{FacetCall, FacetPrincipal, FacetOrigin, FacetAccessKey}

// Column names of the rollup table that the events table does not have
// (the others share the events' names and meanings).
const (
	Facet     = "facet"
	Outcome   = "outcome"
	Calls     = "calls"
	MFACalls  = "mfa_calls"
	FirstSeen = "first_seen"
	LastSeen  = "last_seen"
)

// RollupVersion is the rollup's format: a store whose rollup was written
// under another version has it rebuilt from its events before it is read.
// Version 2 merged version 1's source_ip, user_agent and vpc_endpoint
// facets into origin, and made the footer's principal index one line per
// principal.
const RollupVersion = 2

// RollupRow is one row of the usage rollup, in on-disk column order. The
// partition columns (account, date) live in the folder names, as for the
// events. Strings are null when empty; the columns a facet does not use are
// null in its rows (Facets says which are used).
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
