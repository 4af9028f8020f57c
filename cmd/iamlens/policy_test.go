package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

const appPolicy = "../../examples/policies/app.json"
const boundaryPolicy = "../../examples/policies/boundary.json"

func policyActions(t *testing.T, args ...string) map[string]bool {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"policy", "actions", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep policyActionsReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for i, g := range rep.Actions {
		if i > 0 && rep.Actions[i-1].Action >= g.Action {
			t.Fatalf("not sorted: %s, %s", rep.Actions[i-1].Action, g.Action)
		}
		got[g.Action] = g.Conditional
	}
	if rep.Count != len(rep.Actions) {
		t.Errorf("count %d of %d", rep.Count, len(rep.Actions))
	}
	return got
}

func TestPolicyActions(t *testing.T) {
	app := policyActions(t, appPolicy)
	want := map[string]bool{"s3:GetObject": false, "s3:ListBucket": false, "s3:PutObject": true,
		"sqs:SendMessage": false, "sqs:ReceiveMessage": false, "sqs:DeleteMessage": false}
	if len(app) != len(want) {
		t.Errorf("app.json: %v", app)
	}
	for a, cond := range want {
		if c, ok := app[a]; !ok || c != cond {
			t.Errorf("app.json %s: listed %v, conditional %v", a, ok, c)
		}
	}

	ro := policyActions(t, "ReadOnlyAccess", "--service", "s3")
	if _, ok := ro["s3:GetObject"]; !ok || len(ro) < 50 {
		t.Errorf("ReadOnlyAccess s3: %d actions", len(ro))
	}
	if _, ok := ro["s3:PutObject"]; ok {
		t.Error("ReadOnlyAccess allows s3:PutObject")
	}
	for a := range ro {
		if !strings.HasPrefix(a, "s3:") {
			t.Errorf("--service s3 lists %s", a)
		}
	}

	// Several policies are one principal's: the union.
	union := policyActions(t, appPolicy, "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
	view := policyActions(t, "ViewOnlyAccess")
	if len(union) <= len(view) || !mapHas(union, "sqs:SendMessage") || !mapHas(union, "ec2:DescribeInstances") {
		t.Errorf("union %d, ViewOnlyAccess %d", len(union), len(view))
	}

	// A boundary keeps PowerUserAccess to its services, minus its Deny.
	bounded := policyActions(t, "PowerUserAccess", "--boundary", boundaryPolicy)
	for a := range bounded {
		svc, _, _ := strings.Cut(a, ":")
		if svc != "s3" && svc != "sqs" && svc != "cloudwatch" && svc != "logs" {
			t.Errorf("the boundary lets through %s", a)
		}
	}
	if !mapHas(bounded, "s3:PutObject") || mapHas(bounded, "s3:PutBucketPolicy") {
		t.Errorf("bounded: s3:PutObject %v, s3:PutBucketPolicy %v", mapHas(bounded, "s3:PutObject"), mapHas(bounded, "s3:PutBucketPolicy"))
	}

	code, out, _ := runCLI(t, "policy", "actions", appPolicy)
	if code != 0 || !strings.Contains(out, "6 actions in 2 services allowed (1 only under conditions)") || !strings.Contains(out, "SERVICE") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "policy", "actions", appPolicy, "--list")
	if code != 0 || !strings.Contains(out, "s3:PutObject") || !strings.Contains(out, "conditional") || !strings.Contains(out, "Sid WriteDrafts") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
}

func mapHas(m map[string]bool, k string) bool { _, ok := m[k]; return ok }

func TestPolicyActionsErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"policy", "actions", "ReadOnlyAcess"}, "Did you mean: ReadOnlyAccess"},
		{[]string{"policy", "actions", "no-such-file.json"}, "neither a file nor an AWS managed policy"},
		{[]string{"policy", "actions", appPolicy, "--service", "s4"}, "no service prefix"},
		{[]string{"policy", "actions", appPolicy, "--format", "yaml"}, "--format"},
		{[]string{"policy", "actions"}, "name at least one POLICY"},
	} {
		code, _, errOut := runCLI(t, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q", tt.args, code, errOut)
		}
	}
}

func TestPolicyWarnings(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/typo.json"
	writeFile(t, path, `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":["s3:GetObjekt","s3:GetObject"],"Resource":"*"}]}`)
	code, _, errOut := runCLI(t, "policy", "actions", path)
	if code != 0 || !strings.Contains(errOut, `Effect "allow" must be Allow or Deny`) || !strings.Contains(errOut, "s3:GetObjekt") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func checkPolicy(t *testing.T, args ...string) (int, iampolicy.Result, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"policy", "check", "--format", "json"}, args...)...)
	var r iampolicy.Result
	if code == 0 || code == exitFindings {
		var raw struct {
			Decision   string                   `json:"decision"`
			Reason     string                   `json:"reason"`
			Statements []iampolicy.StatementRef `json:"statements"`
		}
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for d := iampolicy.ImplicitDeny; d <= iampolicy.ExplicitDeny; d++ {
			if d.String() == raw.Decision {
				r.Decision = d
			}
		}
		r.Reason, r.Statements = raw.Reason, raw.Statements
	}
	return code, r, errOut
}

func TestPolicyCheck(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		code int
		want iampolicy.Decision
		sid  string
	}{
		{"allowed", []string{appPolicy, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::reports/2026/q1.csv"}, 0, iampolicy.Allowed, "ReadReports"},
		{"explicit deny", []string{appPolicy, "--action", "s3:DeleteObject", "--resource", "arn:aws:s3:::reports/q1.csv"}, exitFindings, iampolicy.ExplicitDeny, "NeverDeleteReports"},
		{"implicit deny", []string{appPolicy, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::other/q1.csv"}, exitFindings, iampolicy.ImplicitDeny, ""},
		{"conditional", []string{appPolicy, "--action", "s3:PutObject", "--resource", "arn:aws:s3:::reports/drafts/a.csv"}, exitFindings, iampolicy.ConditionallyAllowed, "WriteDrafts"},
		{"condition decided", []string{appPolicy, "--action", "s3:PutObject", "--resource", "arn:aws:s3:::reports/drafts/a.csv", "--context", "aws:SecureTransport=true"}, 0, iampolicy.Allowed, "WriteDrafts"},
		{"condition fails", []string{appPolicy, "--action", "s3:PutObject", "--resource", "arn:aws:s3:::reports/drafts/a.csv", "--context", "aws:SecureTransport=false"}, exitFindings, iampolicy.ImplicitDeny, ""},
		{"some resource", []string{appPolicy, "--action", "sqs:SendMessage"}, 0, iampolicy.Allowed, "QueueWork"},
		{"managed by name", []string{"ReadOnlyAccess", "--action", "s3:PutObject", "--resource", "arn:aws:s3:::reports/q1.csv"}, exitFindings, iampolicy.ImplicitDeny, ""},
		{"managed by ARN", []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::reports/q1.csv"}, 0, iampolicy.Allowed, "ReadOnlyActionsGroup2"},
		{"boundary", []string{"PowerUserAccess", "--boundary", boundaryPolicy, "--action", "ec2:RunInstances"}, exitFindings, iampolicy.ImplicitDeny, ""},
		{"boundary deny", []string{"PowerUserAccess", "--boundary", boundaryPolicy, "--action", "s3:PutBucketPolicy", "--resource", "arn:aws:s3:::reports"}, exitFindings, iampolicy.ExplicitDeny, "NoBucketPolicyChanges"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, r, errOut := checkPolicy(t, tt.args...)
			if code != tt.code || r.Decision != tt.want {
				t.Fatalf("exit %d, %v (%s) %s; want exit %d, %v", code, r.Decision, r.Reason, errOut, tt.code, tt.want)
			}
			got := ""
			for _, s := range r.Statements {
				if s.Sid != "" {
					got = s.Sid
					break
				}
			}
			if tt.sid != "" && got != tt.sid {
				t.Errorf("deciding Sid %q, want %q (%+v)", got, tt.sid, r.Statements)
			}
		})
	}
	code, out, _ := runCLI(t, "policy", "check", appPolicy, "--action", "s3:DeleteObject", "--resource", "arn:aws:s3:::reports/q1.csv")
	if code != exitFindings || !strings.Contains(out, "explicit-deny") || !strings.Contains(out, "Sid NeverDeleteReports") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	_, _, errOut := runCLI(t, "policy", "check", appPolicy, "--action", "s3:GetBucketPolicy", "--resource", "arn:aws:s3:::reports/q1.csv")
	if !strings.Contains(errOut, "fits none of the resource types") {
		t.Errorf("no note for a mismatched resource: %q", errOut)
	}
}

func TestPolicyCheckErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"policy", "check", appPolicy, "--action", "s3:GetObjekt"}, "Did you mean: s3:GetObject"},
		{[]string{"policy", "check", appPolicy, "--action", "s3:Get*"}, "wildcard"},
		{[]string{"policy", "check", appPolicy}, "--action is required"},
		{[]string{"policy", "check", appPolicy, "--action", "s3:GetObject", "--context", "novalue"}, "KEY=VALUE"},
		{[]string{"policy", "check", "ReadOnlyAcess", "--action", "s3:GetObject"}, "Did you mean: ReadOnlyAccess"},
	} {
		code, _, errOut := runCLI(t, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q", tt.args, code, errOut)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
