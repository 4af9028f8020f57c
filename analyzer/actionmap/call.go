package actionmap

import (
	"encoding/binary"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
)

// CallFromRecord builds the Call of one raw CloudTrail record (an element of
// a log file's Records array). Fields the record lacks stay empty, and so
// does a requestParameters that is null. The strings are copied, so the
// Call outlives the record's buffer.
//
// The dataset's columns of the same names hold the same values, so a Call
// built from a stored row equals the one built here from the record.
func CallFromRecord(rec gjson.Result) Call {
	var c Call
	var ui, req, res gjson.Result
	var seen uint16 // the keys read so far: the first of a repeated key wins
	rec.ForEach(func(k, v gjson.Result) bool {
		i := callKeys[k.Str]
		if i == 0 || seen&(1<<i) != 0 {
			return true
		}
		seen |= 1 << i
		switch k.Str {
		case "eventSource":
			c.EventSource = strings.Clone(v.Str)
		case "eventName":
			c.EventName = strings.Clone(v.Str)
		case "eventType":
			c.EventType = strings.Clone(v.Str)
		case "eventCategory":
			c.EventCategory = strings.Clone(v.Str)
		case "awsRegion":
			c.AWSRegion = strings.Clone(v.Str)
		case "recipientAccountId":
			c.RecipientAccount = strings.Clone(v.Str)
		case "errorCode":
			c.ErrorCode = strings.Clone(v.Str)
		case "errorMessage":
			c.ErrorMessage = strings.Clone(v.Str)
		case "userIdentity":
			ui = v
		case "requestParameters":
			req = v
		case "resources":
			res = v
		}
		return true
	})
	c.PrincipalAccount = strings.Clone(ui.Get("accountId").Str)
	c.UserIdentityARN = strings.Clone(ui.Get("arn").Str)
	if req.IsObject() {
		c.RequestParameters = strings.Clone(req.Raw)
	}
	if res.IsArray() {
		res.ForEach(func(_, r gjson.Result) bool {
			c.Resources = append(c.Resources, Resource{
				ARN:       strings.Clone(firstOf(r, "ARN", "arn")),
				Type:      strings.Clone(r.Get("type").Str),
				AccountID: strings.Clone(r.Get("accountId").Str),
			})
			return true
		})
	}
	return c
}

// callKeys numbers (from 1) the record keys CallFromRecord reads.
var callKeys = map[string]int{"eventSource": 1, "eventName": 2, "eventType": 3, "eventCategory": 4, "awsRegion": 5,
	"recipientAccountId": 6, "errorCode": 7, "errorMessage": 8, "userIdentity": 9, "requestParameters": 10, "resources": 11}

// firstOf returns the first of the keys that r has: CloudTrail spells the
// resources element's ARN "ARN", some exporters "arn".
func firstOf(r gjson.Result, keys ...string) string {
	for _, k := range keys {
		if v := r.Get(k); v.Exists() {
			return v.Str
		}
	}
	return ""
}

// mapKey appends to b what Map's answer depends on (TestMapKey): every
// field of the call but the caller's ARN, of which Map reads only the
// partition, and the ARN itself in the IAM calls that act on their
// caller (selfUserCalls) when it is a user's. Two calls with the same key
// map alike, given the same paths.
func (c *Call) mapKey(b []byte) []byte {
	partition, self := cloudtrail.RegionPartition(c.AWSRegion), ""
	if a, err := arn.Parse(c.UserIdentityARN); err == nil {
		if a.Partition != "" {
			partition = a.Partition
		}
		if a.Service == "iam" && strings.HasPrefix(a.Resource, "user/") &&
			ServicePrefix(c.EventSource) == "iam" && selfUserCalls[BaseName(c.EventName)] {
			self = c.UserIdentityARN
		}
	}
	for _, s := range [...]string{c.EventSource, c.EventName, c.EventType, c.EventCategory, c.AWSRegion,
		c.RecipientAccount, c.PrincipalAccount, c.RequestParameters, c.ErrorCode, c.ErrorMessage, partition, self} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if c.Resources == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Resources))+1)
	for _, r := range c.Resources {
		for _, s := range [...]string{r.ARN, r.Type, r.AccountID} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return b
}
