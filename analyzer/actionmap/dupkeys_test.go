package actionmap

import (
	"slices"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// TestDuplicateKeysOneRule: the analyzer reads a record with repeated
// keys (ingesttest.DuplicateKeysRecord) by the rule ingest stores it by,
// the first of a repeated key at each level: CallFromRecord's fields, and
// the resources derived from requestParameters (the first bucketName; no
// DeleteObjects keys, which only a later "Delete" holds).
func TestDuplicateKeysOneRule(t *testing.T) {
	want := ingesttest.DuplicateKeysFirst
	c := CallFromRecord(gjson.Parse(ingesttest.DuplicateKeysRecord))
	got := []string{c.EventSource, c.EventName, c.EventType, c.AWSRegion, c.RecipientAccount, c.ErrorCode,
		c.UserIdentityARN, c.PrincipalAccount, c.RequestParameters}
	exp := []string{want.EventSource, want.EventName, want.EventType, want.Region, want.Recipient, want.ErrorCode,
		want.UserIdentityARN, want.PrincipalAccount, want.RequestParameters}
	if !slices.Equal(got, exp) {
		t.Errorf("CallFromRecord:\n%q\nwant\n%q", got, exp)
	}
	if len(c.Resources) != 1 || c.Resources[0].ARN != want.ResourceARN || c.Resources[0].Type != want.ResourceType {
		t.Errorf("resources %+v, want the first of each key", c.Resources)
	}

	m, _ := mapper(t)
	c.ErrorCode = "" // map it as the call that succeeded
	r := m.Map(&c)
	var res []string
	for _, a := range r.Actions {
		if a.Name == "s3:GetObject" {
			res = a.Resources
		}
	}
	if !slices.Equal(res, []string{"arn:aws:s3:::first-bucket/a.txt"}) {
		t.Errorf("s3:GetObject resources %v (%s), want the first bucketName's object", res, r.Reason)
	}

	c.EventName = "DeleteObjects"
	r = m.Map(&c)
	for _, a := range r.Actions {
		for _, arn := range a.Resources {
			if arn == "arn:aws:s3:::first-bucket/b.txt" {
				t.Errorf("%s on %s: read from the second \"Delete\" member", a.Name, arn)
			}
		}
	}
}
