package columns

import (
	"errors"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
)

// Reasons a record is rejected. They are counted per reason, never fatal.
var (
	// ErrNoEventTime means the record has no parseable eventTime (redacted or missing).
	ErrNoEventTime = errors.New("record without a valid eventTime")
	// ErrNoEventID means the record has no eventID, so it cannot be deduplicated.
	ErrNoEventID = errors.New("record without eventID")
	// ErrNotObject means an element of Records is not a JSON object.
	ErrNotObject = errors.New("record is not a JSON object")
)

// Builder appends CloudTrail records to Arrow column builders. It belongs to
// one goroutine. Call NewRecord to take what has been appended so far.
type Builder struct {
	rb    *array.RecordBuilder
	str   []*array.StringBuilder // indexed by column position; nil for non-string columns
	ts    *array.TimestampBuilder
	bools map[int]*array.BooleanBuilder
	res   *array.ListBuilder
	resSt *array.StructBuilder

	// per-record scratch: the raw values of the top-level fields
	f [numFields]gjson.Result
}

// NewBuilder returns a Builder allocating from mem.
func NewBuilder(mem memory.Allocator) *Builder {
	rb := array.NewRecordBuilder(mem, Schema)
	b := &Builder{rb: rb, str: make([]*array.StringBuilder, len(Schema.Fields())), bools: map[int]*array.BooleanBuilder{}}
	for i, f := range Schema.Fields() {
		switch fb := rb.Field(i).(type) {
		case *array.StringBuilder:
			b.str[i] = fb
		case *array.TimestampBuilder:
			b.ts = fb
		case *array.BooleanBuilder:
			b.bools[i] = fb
		case *array.ListBuilder:
			b.res = fb
			b.resSt = fb.ValueBuilder().(*array.StructBuilder)
		default:
			panic("columns: unhandled builder for " + f.Name)
		}
	}
	return b
}

// Release frees the builders.
func (b *Builder) Release() { b.rb.Release() }

// Len is the number of rows appended since the last NewRecord.
func (b *Builder) Len() int { return b.ts.Len() }

// NewRecord returns the rows appended so far as a record and resets the
// builder. The caller releases the record.
func (b *Builder) NewRecord() arrow.Record { return b.rb.NewRecord() }

// top-level fields a record is read for, in one pass over its keys.
const (
	fEventID = iota
	fEventTime
	fEventVersion
	fEventSource
	fEventName
	fRegion
	fSourceIP
	fUserAgent
	fUserIdentity
	fRecipient
	fErrorCode
	fErrorMessage
	fReadOnly
	fEventType
	fEventCategory
	fManagement
	fVPCE
	fRequest
	fResponse
	fAdditional
	fResources
	fShared
	fTLS
	numFields
)

// fieldOf returns the scratch slot of a top-level key, or -1. A switch
// compiles to a faster lookup than a map on this hot path.
func fieldOf(k string) int {
	switch k {
	case "eventID":
		return fEventID
	case "eventTime":
		return fEventTime
	case "eventVersion":
		return fEventVersion
	case "eventSource":
		return fEventSource
	case "eventName":
		return fEventName
	case "awsRegion":
		return fRegion
	case "sourceIPAddress":
		return fSourceIP
	case "userAgent":
		return fUserAgent
	case "userIdentity":
		return fUserIdentity
	case "recipientAccountId":
		return fRecipient
	case "errorCode":
		return fErrorCode
	case "errorMessage":
		return fErrorMessage
	case "readOnly":
		return fReadOnly
	case "eventType":
		return fEventType
	case "eventCategory":
		return fEventCategory
	case "managementEvent":
		return fManagement
	case "vpcEndpointId":
		return fVPCE
	case "requestParameters":
		return fRequest
	case "responseElements":
		return fResponse
	case "additionalEventData":
		return fAdditional
	case "resources":
		return fResources
	case "sharedEventID":
		return fShared
	case "tlsDetails":
		return fTLS
	}
	return -1
}

// Row is what Append reports about an appended record: enough for the caller
// to route it to a partition and deduplicate it without reading columns back.
type Row struct {
	EventID   string // aliases the input; copy before keeping
	EventTime time.Time
	Account   string // recipient account, or the principal's when absent
}

// Append decodes one record into the builders. A record that cannot be stored
// (not an object, no eventTime, no eventID) is not appended and the reason is
// returned; the builder is unchanged in that case.
func (b *Builder) Append(rec gjson.Result, sourceObject string) (Row, error) {
	if !rec.IsObject() {
		return Row{}, ErrNotObject
	}
	for i := range b.f {
		b.f[i] = gjson.Result{}
	}
	rec.ForEach(func(k, v gjson.Result) bool {
		if i := fieldOf(k.Str); i >= 0 {
			b.f[i] = v
		}
		return true
	})
	f := &b.f
	id := f[fEventID].Str
	if id == "" {
		return Row{}, ErrNoEventID
	}
	t, ok := ParseTime(f[fEventTime].Str)
	if !ok {
		return Row{}, ErrNoEventTime
	}
	ui := cloudtrail.ParseIdentity(f[fUserIdentity])
	p := cloudtrail.ResolveIdentity(ui, cloudtrail.Context{RecipientAccount: f[fRecipient].Str, EventType: f[fEventType].Str, EventSource: f[fEventSource].Str, Region: f[fRegion].Str})

	b.str[colEventID].Append(id)
	b.ts.Append(arrow.Timestamp(t.UnixMilli()))
	b.appendStr(colEventVersion, f[fEventVersion])
	b.appendStr(colEventSource, f[fEventSource])
	b.appendStr(colEventName, f[fEventName])
	b.appendStr(colAWSRegion, f[fRegion])
	b.appendStr(colSourceIP, f[fSourceIP])
	b.appendStr(colUserAgent, f[fUserAgent])
	b.appendStr(colIdentityType, ui.Type)
	b.appendString(colPrincipalARN, p.ARN)
	b.appendString(colPrincipalKind, p.Kind)
	b.appendStr(colUserIdentityARN, ui.ARN)
	b.appendStr(colPrincipalID, ui.PrincipalID)
	b.appendString(colSessionName, p.SessionName)
	b.appendStr(colAccessKeyID, ui.AccessKeyID)
	b.appendString(colPrincipalAccount, p.Account)
	b.appendStr(colRecipientAccount, f[fRecipient])
	b.appendStr(colInvokedBy, ui.InvokedBy)
	b.appendBool(colMFA, ui.SessionContext.Get("attributes.mfaAuthenticated"))
	b.appendStr(colErrorCode, f[fErrorCode])
	b.appendStr(colErrorMessage, f[fErrorMessage])
	b.appendBool(colReadOnly, f[fReadOnly])
	b.appendStr(colEventType, f[fEventType])
	b.appendStr(colEventCategory, f[fEventCategory])
	b.appendBool(colManagement, f[fManagement])
	b.appendStr(colVPCE, f[fVPCE])
	b.appendRaw(colRequest, f[fRequest])
	b.appendRaw(colResponse, f[fResponse])
	b.appendRaw(colAdditional, f[fAdditional])
	b.appendResources(f[fResources])
	b.appendStr(colShared, f[fShared])
	b.appendStr(colTLS, f[fTLS].Get("tlsVersion"))
	b.str[colSourceObject].Append(sourceObject)

	acct := f[fRecipient].Str
	if acct == "" {
		acct = p.Account
	}
	return Row{EventID: id, EventTime: t, Account: acct}, nil
}

func (b *Builder) appendString(col int, s string) {
	if s == "" {
		b.str[col].AppendNull()
		return
	}
	b.str[col].Append(s)
}

// appendStr stores a JSON string value; other JSON types are stored as their
// raw text so nothing is silently lost (CloudTrail sometimes logs numbers or
// objects where a string is usual).
func (b *Builder) appendStr(col int, v gjson.Result) {
	switch v.Type {
	case gjson.String:
		b.appendString(col, v.Str)
	case gjson.Null:
		b.str[col].AppendNull()
	default:
		if !v.Exists() {
			b.str[col].AppendNull()
			return
		}
		b.str[col].Append(v.Raw)
	}
}

// appendRaw stores a JSON value's raw text (objects for request parameters
// and the like); absent and null values are null.
func (b *Builder) appendRaw(col int, v gjson.Result) {
	if !v.Exists() || v.Type == gjson.Null {
		b.str[col].AppendNull()
		return
	}
	b.str[col].Append(v.Raw)
}

// appendBool accepts JSON booleans and the strings "true"/"false" (which is
// how CloudTrail writes mfaAuthenticated).
func (b *Builder) appendBool(col int, v gjson.Result) {
	bb := b.bools[col]
	switch {
	case v.Type == gjson.True || (v.Type == gjson.String && v.Str == "true"):
		bb.Append(true)
	case v.Type == gjson.False || (v.Type == gjson.String && v.Str == "false"):
		bb.Append(false)
	default:
		bb.AppendNull()
	}
}

func (b *Builder) appendResources(v gjson.Result) {
	if !v.IsArray() {
		b.res.AppendNull()
		return
	}
	b.res.Append(true)
	arnB := b.resSt.FieldBuilder(0).(*array.StringBuilder)
	typB := b.resSt.FieldBuilder(1).(*array.StringBuilder)
	accB := b.resSt.FieldBuilder(2).(*array.StringBuilder)
	v.ForEach(func(_, r gjson.Result) bool {
		b.resSt.Append(true)
		appendOpt(arnB, r.Get("ARN").Str)
		appendOpt(typB, r.Get("type").Str)
		appendOpt(accB, r.Get("accountId").Str)
		return true
	})
}

func appendOpt(sb *array.StringBuilder, s string) {
	if s == "" {
		sb.AppendNull()
		return
	}
	sb.Append(s)
}

// ParseTime parses CloudTrail's eventTime ("2023-07-10T11:42:36Z") without
// allocating, falling back to RFC 3339 with fractions and offsets.
func ParseTime(s string) (time.Time, bool) {
	if len(s) == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		y, ok1 := atoi(s[0:4])
		mo, ok2 := atoi(s[5:7])
		d, ok3 := atoi(s[8:10])
		h, ok4 := atoi(s[11:13])
		mi, ok5 := atoi(s[14:16])
		se, ok6 := atoi(s[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && se < 61 {
			return time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC), true
		}
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// column positions, resolved once.
var (
	colEventID          = Index(EventID)
	colEventVersion     = Index(EventVersion)
	colEventSource      = Index(EventSource)
	colEventName        = Index(EventName)
	colAWSRegion        = Index(AWSRegion)
	colSourceIP         = Index(SourceIP)
	colUserAgent        = Index(UserAgent)
	colIdentityType     = Index(IdentityType)
	colPrincipalARN     = Index(PrincipalARN)
	colPrincipalKind    = Index(PrincipalKind)
	colUserIdentityARN  = Index(UserIdentityARN)
	colPrincipalID      = Index(PrincipalID)
	colSessionName      = Index(SessionName)
	colAccessKeyID      = Index(AccessKeyID)
	colPrincipalAccount = Index(PrincipalAccount)
	colRecipientAccount = Index(RecipientAccount)
	colInvokedBy        = Index(InvokedBy)
	colMFA              = Index(MFAAuthenticated)
	colErrorCode        = Index(ErrorCode)
	colErrorMessage     = Index(ErrorMessage)
	colReadOnly         = Index(ReadOnly)
	colEventType        = Index(EventType)
	colEventCategory    = Index(EventCategory)
	colManagement       = Index(ManagementEvent)
	colVPCE             = Index(VPCEndpointID)
	colRequest          = Index(RequestParameters)
	colResponse         = Index(ResponseElements)
	colAdditional       = Index(AdditionalEventData)
	colShared           = Index(SharedEventID)
	colTLS              = Index(TLSVersion)
	colSourceObject     = Index(SourceObject)
)
