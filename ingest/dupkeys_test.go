package ingest_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
)

// TestDuplicateKeysOneRule feeds a record with keys repeated at every level
// (ingesttest.DuplicateKeysRecord) through every reader of ingest, and
// holds each to one rule: at each level the first of a repeated key wins,
// the whole first object included (docs/duplicate-keys.md). The
// readers: the splitter's spans, cloudtrail.Path (one level at a time with
// gjson), ParseIdentity, ResolveRecord against ResolveIdentity, the
// builder fed by gjson (Append) and by the splitter (AppendSpans), and a
// whole run's stored row.
func TestDuplicateKeysOneRule(t *testing.T) {
	want := ingesttest.DuplicateKeysFirst
	rec := gjson.Parse(ingesttest.DuplicateKeysRecord)
	file := []byte(`{"Records":[` + ingesttest.DuplicateKeysRecord + `]}`)

	// Path (gjson, level by level) reads the first of each
	for path, w := range map[string]string{
		"eventID": want.EventID, "eventName": want.EventName, "userIdentity.arn": want.UserIdentityARN,
		"userIdentity.sessionContext.sessionIssuer.arn": want.Issuer, "userIdentity.sessionContext.attributes.mfaAuthenticated": "true",
		"requestParameters.bucketName": "first-bucket", "tlsDetails.tlsVersion": want.TLSVersion,
		"userIdentity.sessionContext.webIdFederationData.federatedProvider": "", // only in the second sessionContext
		"requestParameters.Delete.Object":                                   "", // only in the second Delete
	} {
		if got := cloudtrail.Path(rec, splitPath(path)...); got.String() != w {
			t.Errorf("Path %s = %q, want %q", path, got.String(), w)
		}
	}

	// the splitter's span of every top-level key is Path's
	sp := cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields}
	if n, err := sp.Split(file); err != nil || n != 1 {
		t.Fatalf("split: %d, %v", n, err)
	}
	vals := sp.Values(0)
	checked := 0
	rec.ForEach(func(k, _ gjson.Result) bool {
		if slot := columns.Slot(k.Str); slot >= 0 {
			checked++
			if got, w := vals[slot].Result(file).Raw, cloudtrail.Path(rec, k.Str).Raw; got != w {
				t.Errorf("splitter %s = %s, want %s", k.Str, got, w)
			}
		}
		return true
	})
	if checked < 20 {
		t.Fatalf("only %d keys checked", checked)
	}

	// ParseIdentity: the first userIdentity, and in it the first of each
	ui := vals[columns.Slot("userIdentity")].Result(file)
	id := cloudtrail.ParseIdentity(ui)
	for path, got := range map[string]gjson.Result{"type": id.Type, "arn": id.ARN, "accountId": id.AccountID, "accessKeyId": id.AccessKeyID,
		"sessionContext": id.SessionContext, "sessionContext.sessionIssuer.arn": id.IssuerARN,
		"sessionContext.attributes.mfaAuthenticated":           id.MFAAuthenticated,
		"sessionContext.webIdFederationData.federatedProvider": id.FederatedProvider} {
		if w := cloudtrail.Path(cloudtrail.Path(rec, "userIdentity"), splitPath(path)...); got.Raw != w.Raw {
			t.Errorf("ParseIdentity %s = %q, want %q", path, got.Raw, w.Raw)
		}
	}

	// the principal, from the whole record and from the split fields
	p := cloudtrail.ResolveRecord(rec)
	str := func(key string) string { return vals[columns.Slot(key)].Result(file).Str }
	if q := cloudtrail.ResolveIdentity(id, cloudtrail.Context{RecipientAccount: str("recipientAccountId"), EventType: str("eventType"),
		EventSource: str("eventSource"), Region: str("awsRegion")}); p != q {
		t.Errorf("ResolveRecord %+v, ResolveIdentity %+v", p, q)
	}
	if p.ARN != want.PrincipalARN || p.SessionName != want.SessionName || p.Account != want.PrincipalAccount {
		t.Errorf("principal %q session %q account %q, want %q %q %q", p.ARN, p.SessionName, p.Account, want.PrincipalARN, want.SessionName, want.PrincipalAccount)
	}

	// the builder, from gjson and from the splitter
	viaGjson := columns.NewBuilder(memory.DefaultAllocator)
	if _, err := viaGjson.Append(rec, "f"); err != nil {
		t.Fatal(err)
	}
	viaSpans := columns.NewBuilder(memory.DefaultAllocator)
	if _, err := viaSpans.AppendSpans(file, sp.Record(0), vals, "f"); err != nil {
		t.Fatal(err)
	}
	a, b := viaGjson.Events([]int32{0}, nil)[0], viaSpans.Events([]int32{0}, nil)[0]
	if !reflect.DeepEqual(a, b) {
		t.Errorf("builder via gjson:\n%+v\nvia the splitter:\n%+v", a, b)
	}

	// a whole run stores the first of each
	dir := t.TempDir()
	ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/11/01", 1), ingesttest.Gzip(t, file))
	src, _ := source.NewDir(dir)
	st := openStore(t)
	runIngest(t, src, st, ingest.Options{})
	rows := readAll(t, st)
	if len(rows) != 1 {
		t.Fatalf("%d rows stored, want 1", len(rows))
	}
	r := rows[0]
	when, _ := time.Parse(time.RFC3339, want.EventTime)
	got := []any{r.EventID, r.EventTime, r.EventSource, r.EventName, r.AWSRegion, r.SourceIP, r.ErrorCode, r.EventType, r.RecipientAccount,
		r.IdentityType, r.UserIdentityARN, r.PrincipalARN, r.AccessKeyID, deref(r.MFA), deref(r.ReadOnly), deref(r.Request), r.Resources, r.TLSVersion}
	exp := []any{want.EventID, when.UnixMilli(), want.EventSource, want.EventName, want.Region, want.SourceIP, want.ErrorCode, want.EventType, want.Recipient,
		want.IdentityType, want.UserIdentityARN, want.PrincipalARN, want.AccessKeyID, want.MFA, want.ReadOnly, want.RequestParameters,
		[]resource{{ARN: want.ResourceARN, Type: want.ResourceType, Account: "111122223333"}}, want.TLSVersion}
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Errorf("stored row\n%v\nwant\n%v", got, exp)
	}
	if fmt.Sprint(a.EventID, a.PrincipalARN, a.SessionName, a.PrincipalAccount, a.TLSVersion) !=
		fmt.Sprint(want.EventID, want.PrincipalARN, want.SessionName, want.PrincipalAccount, want.TLSVersion) {
		t.Errorf("builder row %+v", a)
	}
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
