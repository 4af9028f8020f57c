// Package columns is the events-table contract: the Arrow schema of one
// CloudTrail record as iamlens stores it, the column-name constants every
// reader uses, and Builder, which decodes records straight from JSON bytes
// into Arrow column builders (no maps, no per-record structs).
//
// The schema is documented for users in the README ("Schema"); a change here
// is a change of the on-disk format and needs a note there.
package columns

import (
	"github.com/apache/arrow/go/v15/arrow"
)

// Column names of the events table. Readers (analyzer, cis, store) use these
// constants rather than string literals.
const (
	EventID             = "event_id"
	EventTime           = "event_time"
	EventVersion        = "event_version"
	EventSource         = "event_source"
	EventName           = "event_name"
	AWSRegion           = "aws_region"
	SourceIP            = "source_ip"
	UserAgent           = "user_agent"
	IdentityType        = "identity_type"
	PrincipalARN        = "principal_arn"
	PrincipalKind       = "principal_kind"
	UserIdentityARN     = "user_identity_arn"
	PrincipalID         = "principal_id"
	SessionName         = "session_name"
	AccessKeyID         = "access_key_id"
	PrincipalAccount    = "principal_account"
	RecipientAccount    = "recipient_account"
	InvokedBy           = "invoked_by"
	MFAAuthenticated    = "mfa_authenticated"
	ErrorCode           = "error_code"
	ErrorMessage        = "error_message"
	ReadOnly            = "read_only"
	EventType           = "event_type"
	EventCategory       = "event_category"
	ManagementEvent     = "management_event"
	VPCEndpointID       = "vpc_endpoint_id"
	RequestParameters   = "request_parameters"
	ResponseElements    = "response_elements"
	AdditionalEventData = "additional_event_data"
	Resources           = "resources"
	SharedEventID       = "shared_event_id"
	TLSVersion          = "tls_version"
	SourceObject        = "source_object"
)

// Field names inside each element of the resources list.
const (
	ResourceARN     = "arn"
	ResourceType    = "type"
	ResourceAccount = "account_id"
)

// ResourceStruct is the Arrow type of one element of the resources column.
var ResourceStruct = arrow.StructOf(
	arrow.Field{Name: ResourceARN, Type: arrow.BinaryTypes.String, Nullable: true},
	arrow.Field{Name: ResourceType, Type: arrow.BinaryTypes.String, Nullable: true},
	arrow.Field{Name: ResourceAccount, Type: arrow.BinaryTypes.String, Nullable: true},
)

// TimeUnit is the resolution of event_time. CloudTrail reports whole seconds;
// milliseconds leave room for sources that report more.
var TimeType = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

func str(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
}

func boolean(name string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean, Nullable: true}
}

// Schema is the Arrow schema of the events table, in on-disk column order.
// Partition columns (account, date) live in the Hive-style directory names,
// not in the files.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: EventID, Type: arrow.BinaryTypes.String},
	{Name: EventTime, Type: TimeType},
	str(EventVersion),
	str(EventSource),
	str(EventName),
	str(AWSRegion),
	str(SourceIP),
	str(UserAgent),
	str(IdentityType),
	str(PrincipalARN),
	str(PrincipalKind),
	str(UserIdentityARN),
	str(PrincipalID),
	str(SessionName),
	str(AccessKeyID),
	str(PrincipalAccount),
	str(RecipientAccount),
	str(InvokedBy),
	boolean(MFAAuthenticated),
	str(ErrorCode),
	str(ErrorMessage),
	boolean(ReadOnly),
	str(EventType),
	str(EventCategory),
	boolean(ManagementEvent),
	str(VPCEndpointID),
	str(RequestParameters),
	str(ResponseElements),
	str(AdditionalEventData),
	{Name: Resources, Type: arrow.ListOf(ResourceStruct), Nullable: true},
	str(SharedEventID),
	str(TLSVersion),
	str(SourceObject),
}, nil)

// Index returns the position of the named column in Schema, or panics: a
// wrong column name is a programming error, caught by the first test.
func Index(name string) int {
	idx := Schema.FieldIndices(name)
	if len(idx) != 1 {
		panic("columns: no column " + name)
	}
	return idx[0]
}
