package cis

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/ingesttest/dataset"
	"github.com/iamlens/iamlens/ingest/store"
)

func ingestDir(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, _ := dataset.Ingest(t, dir, ingest.Options{Workers: 1})
	return st
}

func TestEvidenceSynthetic(t *testing.T) {
	rec := func(id, user, source, name string, edit func(r ingesttest.Record)) ingesttest.Record {
		r := ingesttest.NewRecord(id, "2026-11-19T10:00:0"+id[len(id)-1:]+"Z", user, source, name)
		if edit != nil {
			edit(r)
		}
		return r
	}
	root := func(r ingesttest.Record) {
		r["userIdentity"] = map[string]any{"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}
	}
	recs := []ingesttest.Record{
		rec("e1", "x", "iam.amazonaws.com", "GetAccountSummary", root),
		rec("e2", "x", "iam.amazonaws.com", "ListUsers", func(r ingesttest.Record) {
			root(r)
			r["userIdentity"].(map[string]any)["invokedBy"] = "support.amazonaws.com" // a service acting for root
		}),
		rec("e3", "bob", "s3.amazonaws.com", "GetObject", func(r ingesttest.Record) { r["errorCode"] = "AccessDenied" }),
		rec("e4", "alice", "ec2.amazonaws.com", "RunInstances", func(r ingesttest.Record) { r["errorCode"] = "Client.UnauthorizedOperation" }),
		rec("e5", "bob", "s3.amazonaws.com", "HeadBucket", func(r ingesttest.Record) { r["errorCode"] = "AccessDenied" }),
		rec("e6", "alice", "signin.amazonaws.com", "ConsoleLogin", func(r ingesttest.Record) {
			r["additionalEventData"] = map[string]any{"MFAUsed": "No"}
			r["responseElements"] = map[string]any{"ConsoleLogin": "Success"}
		}),
		rec("e7", "carol", "signin.amazonaws.com", "ConsoleLogin", func(r ingesttest.Record) {
			r["additionalEventData"] = map[string]any{"MFAUsed": "Yes"}
			r["responseElements"] = map[string]any{"ConsoleLogin": "Success"}
		}),
		rec("e8", "alice", "signin.amazonaws.com", "ConsoleLogin", func(r ingesttest.Record) {
			r["additionalEventData"] = map[string]any{"MFAUsed": "No"}
			r["responseElements"] = map[string]any{"ConsoleLogin": "Failure"}
			r["errorMessage"] = "Failed authentication"
		}),
		rec("e9", "alice", "iam.amazonaws.com", "PutRolePolicy", nil),
		rec("f1", "alice", "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", nil),
		rec("f2", "bob", "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", nil),
		rec("f3", "alice", "cloudtrail.amazonaws.com", "StopLogging", nil),
		rec("f4", "alice", "kms.amazonaws.com", "ScheduleKeyDeletion", nil),
		rec("f5", "alice", "ec2.amazonaws.com", "CreateRoute", nil),
		rec("f6", "alice", "iam.amazonaws.com", "CreatePolicy", nil),           // IAM policy change
		rec("f7", "alice", "organizations.amazonaws.com", "CreatePolicy", nil), // an Organizations change, not IAM
		rec("f8", "alice", "s3.amazonaws.com", "PutBucketPolicy", nil),
		rec("f9", "alice", "config.amazonaws.com", "StopConfigurationRecorder", nil),
	}
	other := rec("g1", "x", "iam.amazonaws.com", "GetAccountSummary", func(r ingesttest.Record) {
		root(r)
		r["recipientAccountId"] = "444455556666"
		r["userIdentity"].(map[string]any)["accountId"] = "444455556666"
		r["userIdentity"].(map[string]any)["arn"] = "arn:aws:iam::444455556666:root"
	})
	dir := t.TempDir()
	ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/11/19", 1), ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
	ingesttest.WriteFile(t, dir, ingesttest.Key("444455556666", "us-east-1", "2026/11/19", 1), ingesttest.Gzip(t, ingesttest.LogJSON(t, other)))
	st := ingestDir(t, dir)

	ev, stats, err := CollectEvidence(context.Background(), st, EvidenceQuery{Accounts: []string{"111122223333"}})
	if err != nil {
		t.Fatal(err)
	}
	if stats.RowsRead != int64(len(recs)) {
		t.Errorf("read %d rows, want %d (the other account's partition is pruned)", stats.RowsRead, len(recs))
	}
	want := map[string]int64{
		"monitor-root-usage":             1,
		"monitor-unauthorized-api-calls": 2,
		"monitor-console-no-mfa":         1,
		"monitor-console-auth-failures":  1,
		"monitor-iam-policy-changes":     2,
		"monitor-security-group-changes": 2,
		"monitor-cloudtrail-changes":     1,
		"monitor-kms-disable":            1,
		"monitor-route-table-changes":    1,
		"monitor-organizations-changes":  1,
		"monitor-s3-policy-changes":      1,
		"monitor-config-changes":         1,
		"monitor-nacl-changes":           0,
		"monitor-gateway-changes":        0,
		"monitor-vpc-changes":            0,
	}
	if len(ev) != len(want) {
		t.Errorf("%d controls with evidence, want %d", len(ev), len(want))
	}
	for id, n := range want {
		if ev[id] == nil || ev[id].Count != n {
			t.Errorf("%s: got %+v, want %d events", id, ev[id], n)
		}
	}
	if p := ev["monitor-root-usage"].Principals; len(p) != 1 || p[0].Principal != "arn:aws:iam::111122223333:root" {
		t.Errorf("root principals: %+v", p)
	}
	sg := ev["monitor-security-group-changes"].Principals
	if len(sg) != 2 || !strings.HasSuffix(sg[0].Principal, "user/alice") || !strings.HasSuffix(sg[1].Principal, "user/bob") {
		t.Errorf("sg principals: %+v", sg)
	}

	// The evidence shows in the report, on the monitoring controls only.
	r, err := Evaluate(loadSnapshot(t, "pass"), Options{Now: func() time.Time { return testNow }, Evidence: ev})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Controls {
		if (c.Events != nil) != strings.HasPrefix(c.CheckID, "monitor-") {
			t.Errorf("%s (%s): events %v", c.CheckID, c.Section, c.Events)
		}
	}
}

// cisIAMPolicyEvents is the event list of the CIS IAM policy change filter.
var cisIAMPolicyEvents = map[string]bool{"DeleteGroupPolicy": true, "DeleteRolePolicy": true, "DeleteUserPolicy": true, "PutGroupPolicy": true,
	"PutRolePolicy": true, "PutUserPolicy": true, "CreatePolicy": true, "DeletePolicy": true, "CreatePolicyVersion": true, "DeletePolicyVersion": true,
	"AttachRolePolicy": true, "DetachRolePolicy": true, "AttachUserPolicy": true, "DetachUserPolicy": true, "AttachGroupPolicy": true, "DetachGroupPolicy": true}

// TestEvidenceInvictusSample checks the dataset evidence on real logs
// against counts taken straight from the JSON files.
func TestEvidenceInvictusSample(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "sample")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("testdata/sample not present")
	}
	want := map[string]int64{"monitor-root-usage": 0, "monitor-unauthorized-api-calls": 0, "monitor-iam-policy-changes": 0}
	var total int64
	ingesttest.LogFiles(t, dir, func(p string, data []byte) {
		var doc struct {
			Records []struct {
				EventSource, EventName, ErrorCode, ErrorMessage, EventType, SourceIPAddress string
				UserIdentity                                                                struct{ Type, InvokedBy string }
				AdditionalEventData                                                         struct{ MFAUsed string }
			}
		}
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range doc.Records {
			total++
			if r.UserIdentity.Type == "Root" && r.UserIdentity.InvokedBy == "" && r.EventType != "AwsServiceEvent" {
				want["monitor-root-usage"]++
			}
			if (strings.HasPrefix(r.ErrorCode, "AccessDenied") || strings.HasSuffix(r.ErrorCode, "UnauthorizedOperation")) && r.EventName != "HeadBucket" && r.SourceIPAddress != "delivery.logs.amazonaws.com" {
				want["monitor-unauthorized-api-calls"]++
			}
			if r.EventSource == "iam.amazonaws.com" && cisIAMPolicyEvents[r.EventName] {
				want["monitor-iam-policy-changes"]++
			}
		}
	})
	ev, stats, err := CollectEvidence(context.Background(), ingestDir(t, dir), EvidenceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.RowsRead != total {
		t.Errorf("read %d rows, the files hold %d records", stats.RowsRead, total)
	}
	for id, n := range want {
		got := ev[id]
		if got.Count != n {
			t.Errorf("%s: %d events, the JSON holds %d", id, got.Count, n)
		}
		var sum int64
		for _, p := range got.Principals {
			sum += p.Count
		}
		if sum != got.Count {
			t.Errorf("%s: principals add up to %d of %d", id, sum, got.Count)
		}
	}
	if want["monitor-unauthorized-api-calls"] == 0 {
		t.Error("the sample has AccessDenied events; the independent count found none")
	}
	t.Logf("sample evidence: %v", want)
}
