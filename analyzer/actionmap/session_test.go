package actionmap

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// The usage rollup keys calls on the caller's ARN without its session name
// (cloudtrail.WithoutSession), so the mapping must not depend on it: every
// real record maps the same with the session and without, whether it came
// from a role session or is made to look like one.
func TestMapIgnoresSessionName(t *testing.T) {
	m, _ := mapper(t)
	recs := ingesttest.DevRecords(t)
	sessions := 0
	for _, r := range recs {
		c := CallFromRecord(r.Rec)
		variants := []string{c.UserIdentityARN}
		if strings.Contains(c.UserIdentityARN, ":assumed-role/") {
			sessions++
		} else {
			acct := c.PrincipalAccount
			if acct == "" {
				acct = "111122223333"
			}
			variants = append(variants, "arn:"+Partition(c.UserIdentityARN, c.AWSRegion)+":sts::"+acct+":assumed-role/some-role/some-session")
		}
		for _, arn := range variants {
			with, without := c, c
			with.UserIdentityARN = arn
			without.UserIdentityARN = cloudtrail.WithoutSession(arn)
			if a, b := m.Map(&with), m.Map(&without); !reflect.DeepEqual(a, b) {
				t.Fatalf("%s %s:%s maps differently without the session of %s:\n%+v\n%+v", r.Where, c.EventSource, c.EventName, arn, a, b)
			}
		}
	}
	if sessions < 50 || len(recs) < 3000 {
		t.Fatalf("%d records, %d from role sessions", len(recs), sessions)
	}
}
