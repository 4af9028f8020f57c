package columns

// Event is one record of the events table as the Parquet writer takes it:
// the same columns, in the same order, as Schema. Its tags choose each
// column's encoding: dictionary for the columns whose values repeat
// (sources, names, regions, principals, accounts), plain for unique IDs and
// long JSON texts, so that reading a few rows of a principal decodes a few
// small pages rather than a whole row group's dictionary. Optional strings
// are null when empty (the builder stores empty values as null).
//
// Events built by Builder.Events alias the builder's memory: write them before
// the builder is reset.
type Event struct {
	EventID             string     `parquet:"event_id"`
	EventTime           int64      `parquet:"event_time,timestamp(millisecond)"`
	EventVersion        string     `parquet:"event_version,optional,dict"`
	EventSource         string     `parquet:"event_source,optional,dict"`
	EventName           string     `parquet:"event_name,optional,dict"`
	AWSRegion           string     `parquet:"aws_region,optional,dict"`
	SourceIP            string     `parquet:"source_ip,optional"`
	UserAgent           string     `parquet:"user_agent,optional"`
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

var boolValues = [2]bool{false, true}

func boolPtr(v int8) *bool {
	if v < 0 {
		return nil
	}
	return &boolValues[v]
}

// Selection is the builder's rows at idx, in that order: what the store's
// writer takes (store.Rows), converted to Events a chunk at a time.
type Selection struct {
	b   *Builder
	idx []int32
}

// Select returns the rows at idx, in that order.
func (b *Builder) Select(idx []int32) Selection { return Selection{b, idx} }

func (s Selection) Len() int { return len(s.idx) }

// Fill returns rows [from, to) of the selection, reusing dst.
func (s Selection) Fill(dst []Event, from, to int) []Event { return s.b.Events(s.idx[from:to], dst) }

// PrincipalARN is the selection's row i's principal.
func (s Selection) PrincipalARN(i int) string { return s.b.PrincipalARN(int(s.idx[i])) }

// Events fills dst with the rows at idx, in that order, and returns it (grown
// when too short). Strings are views of the builder's memory, not copies.
func (b *Builder) Events(idx []int32, dst []Event) []Event {
	dst = dst[:0]
	if cap(dst) < len(idx) {
		dst = make([]Event, 0, len(idx))
	}
	s := b.str
	nres := 0
	for _, i := range idx {
		a, e := b.res.span(int(i))
		nres += int(e - a)
	}
	res := make([]Resource, 0, nres)
	for _, i := range idx {
		r := int(i)
		row := Event{
			EventID:             s[colEventID].value(r),
			EventTime:           b.times[r],
			EventVersion:        s[colEventVersion].value(r),
			EventSource:         s[colEventSource].value(r),
			EventName:           s[colEventName].value(r),
			AWSRegion:           s[colAWSRegion].value(r),
			SourceIP:            s[colSourceIP].value(r),
			UserAgent:           s[colUserAgent].value(r),
			IdentityType:        s[colIdentityType].value(r),
			PrincipalARN:        s[colPrincipalARN].value(r),
			PrincipalKind:       s[colPrincipalKind].value(r),
			UserIdentityARN:     s[colUserIdentityARN].value(r),
			PrincipalID:         s[colPrincipalID].value(r),
			SessionName:         s[colSessionName].value(r),
			AccessKeyID:         s[colAccessKeyID].value(r),
			PrincipalAccount:    s[colPrincipalAccount].value(r),
			RecipientAccount:    s[colRecipientAccount].value(r),
			InvokedBy:           s[colInvokedBy].value(r),
			MFAAuthenticated:    boolPtr(b.bools[colMFA][r]),
			ErrorCode:           s[colErrorCode].value(r),
			ErrorMessage:        s[colErrorMessage].value(r),
			ReadOnly:            boolPtr(b.bools[colReadOnly][r]),
			EventType:           s[colEventType].value(r),
			EventCategory:       s[colEventCategory].value(r),
			ManagementEvent:     boolPtr(b.bools[colManagement][r]),
			VPCEndpointID:       s[colVPCE].value(r),
			RequestParameters:   s[colRequest].value(r),
			ResponseElements:    s[colResponse].value(r),
			AdditionalEventData: s[colAdditional].value(r),
			SharedEventID:       s[colShared].value(r),
			TLSVersion:          s[colTLS].value(r),
			SourceObject:        s[colSourceObject].value(r),
		}
		if b.res.valid[r] {
			a, e := b.res.span(r)
			start := len(res)
			for j := a; j < e; j++ {
				res = append(res, Resource{ARN: b.res.arn.value(int(j)), Type: b.res.typ.value(int(j)), AccountID: b.res.accnt.value(int(j))})
			}
			row.Resources = res[start:len(res):len(res)]
		}
		dst = append(dst, row)
	}
	return dst
}

func (r *resCol) span(i int) (int32, int32) { return span(r.ends, i) }
