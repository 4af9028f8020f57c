package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/cis/collect"
	"github.com/iamlens/iamlens/analyzer/cis/collect/awsfake"
)

var cisNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// runCISCLI runs iamlens like run does, with the clock fixed at cisNow.
func runCISCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runAt(t, cisNow, args...)
}

func cisFixture(name string) string {
	return filepath.Join("..", "..", "testdata", "cis", name, "snapshot.json")
}

func TestCISCommandExitCodes(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "nostore")
	tests := []struct {
		name string
		args []string
		code int
		in   string // expected in stdout or stderr
	}{
		{"pass snapshot", []string{"cis", "--snapshot", cisFixture("pass"), "--store", empty, "--fail-on", "low"}, 0, "Score 100.0%"},
		{"fail snapshot, no threshold", []string{"cis", "--snapshot", cisFixture("fail"), "--store", empty}, 0, "Failures:"},
		{"fail on high", []string{"cis", "--snapshot", cisFixture("fail"), "--store", empty, "--fail-on", "high"}, exitFindings, "failing findings at or above HIGH"},
		{"partial is never a failure", []string{"cis", "--snapshot", cisFixture("partial"), "--store", empty, "--fail-on", "low", "--benchmark", "1.4"}, 0, "NOT_ASSESSABLE"},
		{"bad benchmark", []string{"cis", "--snapshot", cisFixture("pass"), "--benchmark", "v9"}, exitUsage, "--benchmark"},
		{"bad level", []string{"cis", "--snapshot", cisFixture("pass"), "--level", "3"}, exitUsage, "--level"},
		{"bad format", []string{"cis", "--snapshot", cisFixture("pass"), "--format", "xml"}, exitUsage, "--format"},
		{"bad severity", []string{"cis", "--snapshot", cisFixture("pass"), "--fail-on", "urgent"}, exitUsage, "--fail-on"},
		{"regions offline", []string{"cis", "--snapshot", cisFixture("pass"), "--region", "us-east-1"}, exitUsage, "--region applies to live reads"},
		{"old spelling", []string{"cis", "--snapshot", cisFixture("pass"), "--regions", "us-east-1"}, exitUsage, "--region applies to live reads"},
		{"concurrency", []string{"cis", "--snapshot", cisFixture("pass"), "--concurrency", "0"}, exitUsage, "--concurrency must be at least 1"},
		{"missing snapshot", []string{"cis", "--snapshot", "nope.json"}, exitUsage, "nope.json"},
		{"collect needs --out", []string{"collect"}, exitUsage, "--out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCISCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			if !strings.Contains(out+errs, tt.in) {
				t.Errorf("output lacks %q:\n%s%s", tt.in, out, errs)
			}
		})
	}
}

func TestCISSuppressionsClearFailOn(t *testing.T) {
	// Suppress every critical failure of the fail snapshot: --fail-on
	// critical then passes, while --fail-on high still fails.
	sup := filepath.Join(t.TempDir(), "sup.json")
	os.WriteFile(sup, []byte(`{"suppressions":[
	  {"checkId":"iam-root-no-access-keys","reason":"break-glass key in a safe","expires":"2026-12-01"},
	  {"checkId":"iam-root-mfa","reason":"MFA device on order","expires":"2026-12-01"},
	  {"checkId":"cloudtrail-bucket-not-public","reason":"n/a","expires":"2026-12-01"}]}`), 0o644)
	empty := filepath.Join(t.TempDir(), "nostore")
	code, out, errs := runCISCLI(t, "cis", "--snapshot", cisFixture("fail"), "--store", empty, "--suppressions", sup, "--fail-on", "critical", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Findings []struct {
			CheckID    string
			Status     string
			Suppressed *struct{ Reason string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range rep.Findings {
		if f.Suppressed != nil {
			n++
		}
	}
	if n != 2 { // bucket-not-public is not a v3.0.0 control
		t.Errorf("%d suppressed findings, want 2", n)
	}
	if code, _, _ := runCISCLI(t, "cis", "--snapshot", cisFixture("fail"), "--store", empty, "--suppressions", sup, "--fail-on", "high"); code != exitFindings {
		t.Errorf("--fail-on high: exit %d", code)
	}
	// An unknown check ID in the file is a usage error.
	os.WriteFile(sup, []byte(`[{"checkId":"iam-root-mfaa","reason":"typo"}]`), 0o644)
	if code, _, errs := runCISCLI(t, "cis", "--snapshot", cisFixture("fail"), "--suppressions", sup); code != exitUsage || !strings.Contains(errs, "iam-root-mfaa") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

func TestCISEvidenceFromStore(t *testing.T) {
	st := filepath.Join(t.TempDir(), "store")
	if code, _, errs := runCISCLI(t, "ingest", "--store", st, "--no-progress", "--format", "json", filepath.Join("..", "..", "testdata", "sample")); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errs)
	}
	// The sample's events belong to account 123837392027.
	b, err := os.ReadFile(cisFixture("pass"))
	if err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(t.TempDir(), "snap.json")
	os.WriteFile(snap, bytes.ReplaceAll(b, []byte("111122223333"), []byte("123837392027")), 0o644)
	code, out, errs := runCISCLI(t, "cis", "--snapshot", snap, "--store", st, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Controls []struct {
			CheckID string
			Events  *struct {
				Count      int64
				Principals []struct{ Principal string }
			}
		}
		Notes []string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var unauthorized int64 = -1
	for _, c := range rep.Controls {
		if c.CheckID == "monitor-unauthorized-api-calls" && c.Events != nil {
			unauthorized = c.Events.Count
		}
	}
	if unauthorized <= 0 {
		t.Errorf("unauthorized API calls in the sample: %d", unauthorized)
	}
	if len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "2900 events") {
		t.Errorf("notes: %v", rep.Notes)
	}
	// Zero counts are shown as such.
	if !strings.Contains(out, `"count": 0`) {
		t.Error("controls without events should show a zero count")
	}
	// The fixture's account has no event in the sample: no evidence, and
	// the note says why.
	code, out, _ = runCISCLI(t, "cis", "--snapshot", cisFixture("pass"), "--store", st)
	if code != 0 || !strings.Contains(out, "holds no events of account 111122223333") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	// No dataset: a note, not an error.
	code, out, _ = runCISCLI(t, "cis", "--snapshot", cisFixture("pass"), "--store", filepath.Join(t.TempDir(), "none"))
	if code != 0 || !strings.Contains(out, "CloudTrail evidence not available") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestCISGoldenMarkdown(t *testing.T) {
	code, out, errs := runCISCLI(t, "cis", "--snapshot", cisFixture("fail"), "--no-evidence", "--benchmark", "v1.2.0", "--level", "1", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkGolden(t, "cis/golden/cli-v1.2.0-level1.md", []byte(out))
}

func TestCollectPrintPolicy(t *testing.T) {
	code, out, _ := runCISCLI(t, "collect", "--print-policy")
	if code != 0 || out != string(collect.Policy) {
		t.Errorf("exit %d: %s", code, out)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Error(err)
	}
}

// TestCollectThenCISLive drives 'iamlens collect' and 'iamlens cis' live,
// through the real SDK, against the fake AWS endpoint (--endpoint-url).
func TestCollectThenCISLive(t *testing.T) {
	fake := awsfake.New(t, false)
	dir := t.TempDir()
	awsEnv(t, "AKIDEXAMPLE", "secret")

	snap := filepath.Join(dir, "snapshot.json")
	code, out, errs := runCISCLI(t, "collect", "--endpoint-url", fake.URL(), "--region", "us-east-1,"+awsfake.BadRegion, "--out", snap)
	if code != 0 {
		t.Fatalf("collect: exit %d: %s", code, errs)
	}
	if out != "" || !strings.Contains(errs, "wrote "+snap+": account 111122223333, 2 regions, 2 buckets") {
		t.Errorf("collect output: %q / %q", out, errs)
	}
	if fake.Count("cloudtrail:DescribeTrails:eu-west-1") != 0 || fake.Count("cloudtrail:DescribeTrails:us-east-1") != 1 {
		t.Error("--region not honoured")
	}
	// Offline evaluation of what collect wrote equals the live evaluation.
	args := []string{"--no-evidence", "--format", "json", "--benchmark", "v1.4.0"}
	code, offline, errs := runCISCLI(t, append([]string{"cis", "--snapshot", snap}, args...)...)
	if code != 0 {
		t.Fatalf("cis --snapshot: exit %d: %s", code, errs)
	}
	code, live, errs := runCISCLI(t, append([]string{"cis", "--endpoint-url", fake.URL(), "--regions", "us-east-1," + awsfake.BadRegion}, args...)...)
	if code != 0 {
		t.Fatalf("cis live: exit %d: %s", code, errs)
	}
	// The same findings; the live one is judged at the wall clock, the
	// snapshot at its collectedAt (the same instant here).
	var off, on struct {
		TimeBasis   string
		EvaluatedAt string
		Findings    json.RawMessage
	}
	json.Unmarshal([]byte(offline), &off)
	json.Unmarshal([]byte(live), &on)
	if string(off.Findings) != string(on.Findings) || off.EvaluatedAt != on.EvaluatedAt {
		t.Error("the live report differs from the report of the collected snapshot")
	}
	if off.TimeBasis != "collectedAt" || on.TimeBasis != "now" {
		t.Errorf("time bases %q (snapshot) and %q (live)", off.TimeBasis, on.TimeBasis)
	}
	var rep struct {
		Controls []struct{ CheckID, Status string }
	}
	if err := json.Unmarshal([]byte(live), &rep); err != nil {
		t.Fatal(err)
	}
	st := map[string]string{}
	for _, c := range rep.Controls {
		st[c.CheckID] = c.Status
	}
	for id, want := range map[string]string{"cloudtrail-multi-region": "PASS", "cloudtrail-bucket-not-public": "FAIL", "config-enabled-all-regions": "NOT_ASSESSABLE", "iam-no-admin-policies": "FAIL"} {
		if st[id] != want {
			t.Errorf("%s: %s, want %s", id, st[id], want)
		}
	}
}

// TestCISRound2Flags: --at, several --snapshot, a folder, --policy, the
// benchmark spellings, a file that is not a snapshot.
func TestCISRound2Flags(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "nostore")
	folder := filepath.Join("..", "..", "testdata", "cis", "cli-folder")
	policy := filepath.Join("..", "..", "testdata", "cis", "policy.yaml")
	notSnap := filepath.Join(t.TempDir(), "manifest.json")
	os.WriteFile(notSnap, []byte(`{"version":1,"files":["events/a.parquet"]}`), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		in   []string
	}{
		{"judged at collectedAt", []string{"cis", "--snapshot", cisFixture("clock"), "--store", empty}, 0, []string{"Judged at 2026-06-01T00:00:00Z, the snapshot's collectedAt"}},
		{"--at", []string{"cis", "--snapshot", cisFixture("clock"), "--store", empty, "--at", "2026-06-10T01:00:00Z", "--format", "json"}, 0, []string{`"timeBasis": "at"`, `"evaluatedAt": "2026-06-10T01:00:00Z"`}},
		{"--at date", []string{"cis", "--snapshot", cisFixture("clock"), "--store", empty, "--at", "2026-06-10"}, 0, []string{"Judged at 2026-06-10T00:00:00Z (--at; collected 2026-06-01T00:00:00Z)"}},
		{"bad --at", []string{"cis", "--snapshot", cisFixture("clock"), "--at", "tomorrow"}, exitUsage, []string{"--at \"tomorrow\""}},
		{"two snapshots", []string{"cis", "--snapshot", cisFixture("pass"), "--snapshot", folder, "--store", empty}, 0, []string{"2 accounts", "Ranking (best first):", "1. 111122223333: 100.0%", "every scored control passes. Well done!", "2. 123456789012:", "Controls across accounts:"}},
		{"folder", []string{"cis", "--snapshot", folder, "--store", empty, "--benchmark", "cis-1.5"}, 0, []string{"account 123456789012", "Judged at 2016-01-29T00:00:00Z"}},
		{"policy and notify", []string{"cis", "--snapshot", cisFixture("fail"), "--store", empty, "--policy", policy, "--format", "notify"}, 0, []string{`"accountName":"payments-prod"`, `"due":"2026-11-21T12:00:00Z"`, `"accept":{"checkId":`}},
		{"slack", []string{"cis", "--snapshot", cisFixture("fail"), "--store", empty, "--format", "slack"}, 0, []string{"*CIS AWS Foundations Benchmark v3.0.0*: overall score", "*Decide:*"}},
		{"benchmark 1.2", []string{"cis", "--snapshot", cisFixture("pass"), "--store", empty, "--benchmark", "1.2"}, 0, []string{"v1.2.0", "ec2-sg-no-world-ssh", "ec2-sg-no-world-rdp"}},
		{"benchmark error names the input", []string{"cis", "--snapshot", cisFixture("pass"), "--benchmark", "cis-9.9"}, exitUsage, []string{`benchmark "cis-9.9"`}},
		{"not a snapshot", []string{"cis", "--snapshot", notSnap, "--store", empty}, exitError, []string{"not an iamlens CIS snapshot: missing accountId", "the file has members files, version"}},
		{"bad policy", []string{"cis", "--snapshot", cisFixture("pass"), "--policy", notSnap}, exitUsage, []string{"--policy"}},
		{"role-name with snapshot", []string{"cis", "--snapshot", cisFixture("pass"), "--role-name", "audit"}, exitUsage, []string{"--role-name"}},
		{"print-cli", []string{"collect", "--print-cli", "--regions", "eu-west-1"}, 0, []string{"#!/usr/bin/env bash", `REGIONS="eu-west-1"`, "iam get-account-authorization-details"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCISCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			for _, in := range tt.in {
				if !strings.Contains(out+errs, in) {
					t.Errorf("output lacks %q:\n%s%s", in, out, errs)
				}
			}
		})
	}
}

// TestCISOrganization reads an organization live through the real SDK
// against the fake STS and Organizations: every active account by
// assuming the role, the caller's own account with its own credentials,
// the suspended one skipped, the one without the role reported.
func TestCISOrganization(t *testing.T) {
	fake := awsfake.New(t, false)
	awsEnv(t, "AKIDEXAMPLE", "secret")
	code, out, errs := runCISCLI(t, "cis", "--endpoint-url", fake.URL(), "--regions", "us-east-1", "--role-name", "audit", "--no-evidence", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var c struct {
		Score    *float64
		Accounts []struct {
			Rank        int
			AccountID   string
			AccountName string
			Score       *float64
		}
		Unread []struct {
			AccountID, AccountName, Error string
		}
		Reports []struct{ AccountID, AccountName string }
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range c.Accounts {
		got[a.AccountID] = a.AccountName
	}
	want := map[string]string{awsfake.Account: "management", awsfake.MemberProd: "prod", awsfake.MemberSandbox: "sandbox"}
	if len(got) != len(want) {
		t.Fatalf("accounts %v, want %v", got, want)
	}
	for id, name := range want {
		if got[id] != name {
			t.Errorf("account %s: name %q, want %q", id, got[id], name)
		}
	}
	if len(c.Unread) != 1 || c.Unread[0].AccountID != awsfake.MemberNoRole || !strings.Contains(c.Unread[0].Error, "AccessDenied") {
		t.Errorf("unread: %+v", c.Unread)
	}
	if c.Score == nil || c.Accounts[0].Rank != 1 {
		t.Errorf("score %v, ranking %+v", c.Score, c.Accounts)
	}
	for i := 1; i < len(c.Accounts); i++ {
		if c.Accounts[i-1].Score != nil && c.Accounts[i].Score != nil && *c.Accounts[i-1].Score < *c.Accounts[i].Score {
			t.Errorf("ranking not best first: %+v", c.Accounts)
		}
	}
	if !strings.Contains(errs, "skipping account "+awsfake.MemberSuspended) || !strings.Contains(errs, "1 of 4 accounts could not be read") {
		t.Errorf("stderr: %s", errs)
	}
	if n := fake.Count("sts:AssumeRole:us-east-1"); n < 3 {
		t.Errorf("AssumeRole called %d times", n)
	}
}
