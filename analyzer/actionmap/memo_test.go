package actionmap

import (
	"reflect"
	"testing"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// Map's answer depends on nothing of a call but its key (mapKey): for
// every record of the real logs, the call as made by other callers of the
// same partition (a role's session in another account, an IAM user, the
// caller itself) maps exactly as the call does whenever the key is the
// same; and changing any other field of the call changes the key, so a
// field added to Call and read by Map cannot be left out of it.
func TestMapKey(t *testing.T) {
	m, _ := mapper(t)
	recs := ingesttest.DevRecords(t)
	shared := 0
	for _, r := range recs {
		c := CallFromRecord(r.Rec)
		part := Partition(c.UserIdentityARN, c.AWSRegion)
		key := string(c.mapKey(nil))
		for _, other := range []string{
			"arn:" + part + ":sts::999988887777:assumed-role/other-role/other-session",
			"arn:" + part + ":iam::999988887777:user/other-user",
			"arn:" + part + ":iam::999988887777:root",
		} {
			o := c
			o.UserIdentityARN = other
			if string(o.mapKey(nil)) != key {
				continue
			}
			shared++
			if a, b := m.mapCall(&c), m.mapCall(&o); !reflect.DeepEqual(a, b) {
				t.Fatalf("%s %s:%s maps differently when %s makes it, with the same key:\n%+v\n%+v", r.Where, c.EventSource, c.EventName, other, a, b)
			}
		}
		v := reflect.ValueOf(&c).Elem()
		for i := range v.NumField() {
			f := v.Type().Field(i)
			o := c
			ov := reflect.ValueOf(&o).Elem().Field(i)
			switch f.Type.Kind() {
			case reflect.String:
				if f.Name == "UserIdentityARN" {
					continue
				}
				ov.SetString(ov.String() + "x")
			case reflect.Slice:
				o.Resources = append(append([]Resource(nil), c.Resources...), Resource{ARN: "arn:aws:s3:::x"})
			default:
				t.Fatalf("Call.%s is a %s: mapKey does not know it", f.Name, f.Type)
			}
			if string(o.mapKey(nil)) == key {
				t.Fatalf("%s: a call with another %s has the same key", r.Where, f.Name)
			}
		}
	}
	if shared < len(recs) {
		t.Fatalf("only %d of %d records' calls shared a key with another caller's", shared, len(recs))
	}
}

// The memo gives Map's answer, and a new one once the paths have learnt
// something: a user named in a call maps under its path once known.
func TestMapMemoFollowsPaths(t *testing.T) {
	_, cat := mapper(t)
	paths := NewPaths()
	m := New(cat).WithPaths(paths)
	c := Call{EventSource: "iam.amazonaws.com", EventName: "GetUser", AWSRegion: "us-east-1", EventType: "AwsApiCall",
		RecipientAccount: "111122223333", PrincipalAccount: "111122223333",
		UserIdentityARN:   "arn:aws:sts::111122223333:assumed-role/admin/s",
		RequestParameters: `{"userName":"alice"}`}
	before := m.Map(&c)
	if again := m.Map(&c); !reflect.DeepEqual(before, again) || !reflect.DeepEqual(before, m.mapCall(&c)) {
		t.Fatalf("the memo's answer differs from Map's: %+v %+v", before, again)
	}
	paths.Add("aws", "111122223333", "user", "alice", "/team/")
	after := m.Map(&c)
	if reflect.DeepEqual(before, after) || !reflect.DeepEqual(after, m.mapCall(&c)) {
		t.Fatalf("the memo kept its answer after the paths learnt alice's: %+v, then %+v", before, after)
	}
	t.Logf("before: %v; after: %v", before.Actions, after.Actions)
}
