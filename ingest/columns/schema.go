// Package columns is the events-table contract: the Arrow schema of one
// CloudTrail record as iamlens stores it, the column-name constants every
// reader uses, and Builder, which decodes records straight from JSON bytes
// into Arrow column builders (no maps, no per-record structs).
//
// The schema is documented for users in the README ("Schema"); a change here
// is a change of the on-disk format and needs a note there.
package columns

import (
	"reflect"
	"slices"
	"strings"

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
var ResourceStruct = structOf(reflect.TypeFor[Resource]())

// TimeType is the Arrow type of event_time. CloudTrail reports whole seconds;
// milliseconds leave room for sources that report more.
var TimeType = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

// Schema is the Arrow schema of the events table, in on-disk column order.
// Partition columns (account, date) live in the Hive-style directory names,
// not in the files. It is derived from Event's parquet tags, the one
// declaration of the table's columns, their types and nullability.
var Schema = arrow.NewSchema(fieldsOf(reflect.TypeFor[Event]()), nil)

// fieldsOf maps a row struct's tagged fields onto Arrow fields: a string is
// a string (nullable when its tag says optional), an int64 timestamp is
// TimeType, a *bool a nullable boolean, a slice of structs a list of them.
func fieldsOf(t reflect.Type) []arrow.Field {
	var out []arrow.Field
	for f := range t.Fields() {
		opts := strings.Split(f.Tag.Get("parquet"), ",")
		field := arrow.Field{Name: opts[0], Nullable: slices.Contains(opts[1:], "optional")}
		switch {
		case f.Type.Kind() == reflect.String:
			field.Type = arrow.BinaryTypes.String
		case f.Type.Kind() == reflect.Int64 && slices.Contains(opts[1:], "timestamp(millisecond)"):
			field.Type = TimeType
		case f.Type == reflect.TypeFor[*bool]():
			field.Type = arrow.FixedWidthTypes.Boolean
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			field.Type = arrow.ListOf(structOf(f.Type.Elem()))
		default:
			panic("columns: no Arrow type for " + f.Name + " " + f.Type.String())
		}
		out = append(out, field)
	}
	return out
}

func structOf(t reflect.Type) *arrow.StructType { return arrow.StructOf(fieldsOf(t)...) }

// Index returns the position of the named column in Schema, or panics: a
// wrong column name is a programming error, caught by the first test.
func Index(name string) int {
	idx := Schema.FieldIndices(name)
	if len(idx) != 1 {
		panic("columns: no column " + name)
	}
	return idx[0]
}
