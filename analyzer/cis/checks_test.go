package cis

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/iamstate"
)

var testNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func loadSnapshot(t *testing.T, name string) *Snapshot {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "cis", name, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ReadSnapshot(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func evaluate(t *testing.T, s *Snapshot, b Benchmark) *Report {
	t.Helper()
	r, err := Evaluate(s, Options{Benchmark: b, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func controlStatus(r *Report) map[string]Status {
	out := map[string]Status{}
	for _, c := range r.Controls {
		out[c.CheckID] = c.Status
	}
	return out
}

// TestChecksPassAndFail runs every check on the purpose-built pass and fail
// snapshots under every benchmark that has it.
func TestChecksPassAndFail(t *testing.T) {
	pass, fail := loadSnapshot(t, "pass"), loadSnapshot(t, "fail")
	manual := map[string]bool{}
	for _, c := range Checks() {
		if c.Manual {
			manual[c.ID] = true
		}
	}
	for _, b := range Benchmarks {
		t.Run(string(b), func(t *testing.T) {
			rp, rf := evaluate(t, pass, b), evaluate(t, fail, b)
			sp, sf := controlStatus(rp), controlStatus(rf)
			if len(sp) == 0 {
				t.Fatal("no controls")
			}
			for _, c := range Checks() {
				if _, ok := c.Controls[b]; !ok {
					if _, ran := sp[c.ID]; ran {
						t.Errorf("%s ran under %s, which has no such control", c.ID, b)
					}
					continue
				}
				want := Pass
				if manual[c.ID] {
					want = Manual
				}
				if sp[c.ID] != want {
					t.Errorf("pass snapshot: %s is %s, want %s", c.ID, sp[c.ID], want)
				}
				wantF := Fail
				if manual[c.ID] {
					wantF = Manual
				}
				if sf[c.ID] != wantF {
					t.Errorf("fail snapshot: %s is %s, want %s", c.ID, sf[c.ID], wantF)
				}
			}
			for _, f := range rf.Findings {
				if f.Status == Fail && f.Fix == "" {
					t.Errorf("%s FAIL on %s has no fix", f.CheckID, f.Resource)
				}
				if f.Resource == "" || f.Evidence == "" {
					t.Errorf("%s finding without resource or evidence: %+v", f.CheckID, f)
				}
			}
		})
	}
}

func findings(r *Report, id string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.CheckID == id {
			out = append(out, f)
		}
	}
	return out
}

func TestCrosswalkNumbers(t *testing.T) {
	tests := []struct {
		id   string
		b    Benchmark
		want string
	}{
		{"iam-root-mfa", V120, "1.13"}, {"iam-root-mfa", V140, "1.5"}, {"iam-root-mfa", V300, "1.5"},
		{"iam-unused-credentials", V120, "1.3"}, {"iam-unused-credentials", V300, "1.12"},
		{"config-enabled-all-regions", V120, "2.5"}, {"config-enabled-all-regions", V150, "3.5"}, {"config-enabled-all-regions", V300, "3.3"},
		{"monitor-root-usage", V120, "3.3"}, {"monitor-root-usage", V300, "4.3"},
		{"ec2-default-sg-closed", V140, "5.3"}, {"ec2-default-sg-closed", V300, "5.4"},
	}
	byID := map[string]Check{}
	seen := map[Benchmark]map[string]string{}
	for _, c := range Checks() {
		if _, dup := byID[c.ID]; dup {
			t.Errorf("duplicate check ID %s", c.ID)
		}
		byID[c.ID] = c
		if c.Level != 1 && c.Level != 2 {
			t.Errorf("%s: level %d", c.ID, c.Level)
		}
		if c.Severity < Low || c.Severity > Critical {
			t.Errorf("%s: severity %d", c.ID, c.Severity)
		}
		if len(c.Controls) == 0 {
			t.Errorf("%s has no control in any benchmark", c.ID)
		}
		for b, ctl := range c.Controls {
			n := ctl.ID
			if seen[b] == nil {
				seen[b] = map[string]string{}
			}
			if other, ok := seen[b][n]; ok {
				t.Errorf("%s %s is both %s and %s", b, n, other, c.ID)
			}
			seen[b][n] = c.ID
		}
	}
	for _, tt := range tests {
		if got := byID[tt.id].Controls[tt.b].ID; got != tt.want {
			t.Errorf("%s under %s: got %q, want %q", tt.id, tt.b, got, tt.want)
		}
	}
	// Dropped in v3.0.0.
	for _, id := range []string{"cloudtrail-bucket-not-public", "cloudtrail-cloudwatch-logs"} {
		if _, ok := byID[id].Controls[V300]; ok {
			t.Errorf("%s is not a v3.0.0 control", id)
		}
	}
}

func TestUnusedCredentialDaysByBenchmark(t *testing.T) {
	// alice's password was last used 2026-08-01: 111 days before testNow.
	// A key used 60 days ago fails v3.0.0 (45 days) but passes v1.2.0 (90).
	s := loadSnapshot(t, "pass")
	rows := strings.Replace(string(mustRows(t, s)), "2026-11-15T00:00:00+00:00", "2026-09-21T00:00:00+00:00", 1)
	s.IAM.CredentialReport = &iamstate.CredentialReportOutput{CSV: rows}
	if got := controlStatus(evaluate(t, s, V300))["iam-unused-credentials"]; got != Fail {
		t.Errorf("v3.0.0: key unused 60 days: got %s, want FAIL", got)
	}
	if got := controlStatus(evaluate(t, s, V120))["iam-unused-credentials"]; got != Pass {
		t.Errorf("v1.2.0: key unused 60 days: got %s, want PASS", got)
	}
}

func mustRows(t *testing.T, s *Snapshot) []byte {
	t.Helper()
	if s.IAM.CredentialReport.CSV != "" {
		return []byte(s.IAM.CredentialReport.CSV)
	}
	return s.IAM.CredentialReport.Content
}

func TestPartialSnapshotIsNotAssessable(t *testing.T) {
	r := evaluate(t, loadSnapshot(t, "partial"), V140)
	st := controlStatus(r)
	for id, want := range map[string]Status{
		"iam-root-mfa":                     Pass, // from the account summary
		"iam-user-console-mfa":             NotAssessable,
		"iam-password-min-length":          NotAssessable,
		"cloudtrail-multi-region":          NotAssessable, // the org trail's status is in another account
		"cloudtrail-bucket-not-public":     NotAssessable,
		"cloudtrail-bucket-access-logging": NotAssessable,
		"cloudtrail-log-validation":        Pass, // read from the trail's configuration
		"monitor-root-usage":               NotAssessable,
		"ec2-sg-no-world-admin-ports-ipv4": NotAssessable, // eu-west-1 failed
		"config-enabled-all-regions":       NotAssessable,
	} {
		if st[id] != want {
			t.Errorf("%s: got %s, want %s", id, st[id], want)
		}
	}
	if r.Summary.Fail != 0 {
		for _, f := range r.Findings {
			if f.Status == Fail {
				t.Errorf("FAIL from what could not be read: %s %s: %s", f.CheckID, f.Resource, f.Evidence)
			}
		}
	}
	for _, f := range findings(r, "cloudtrail-bucket-not-public") {
		if !strings.Contains(f.Evidence, "another account") {
			t.Errorf("evidence should say why: %q", f.Evidence)
		}
	}
}

func TestPasswordPolicyFix(t *testing.T) {
	r := evaluate(t, loadSnapshot(t, "fail"), V120)
	fs := findings(r, "iam-password-min-length")
	if len(fs) != 1 {
		t.Fatalf("got %d findings", len(fs))
	}
	want := "aws iam update-account-password-policy --minimum-password-length 14 --require-uppercase-characters --require-lowercase-characters --require-numbers --require-symbols --password-reuse-prevention 24 --max-password-age 90 --allow-users-to-change-password"
	if fs[0].Fix != want {
		t.Errorf("fix:\n got %s\nwant %s", fs[0].Fix, want)
	}
	// A stricter current setting is kept, not weakened.
	got := passwordPolicyFix(&PasswordPolicy{MinimumPasswordLength: 20, PasswordReusePrevention: 2, MaxPasswordAge: 30, HardExpiry: true}, V300)
	for _, part := range []string{"--minimum-password-length 20", "--password-reuse-prevention 24", "--max-password-age 30", "--hard-expiry", "--no-allow-users-to-change-password"} {
		if !strings.Contains(got, part) {
			t.Errorf("%s: missing %s", got, part)
		}
	}
}

func TestFailEvidence(t *testing.T) {
	r := evaluate(t, loadSnapshot(t, "fail"), V300)
	byResource := func(id string) map[string]Finding {
		out := map[string]Finding{}
		for _, f := range findings(r, id) {
			out[f.Resource] = f
		}
		return out
	}
	uc := byResource("iam-unused-credentials")
	if _, ok := uc["arn:aws:iam::111122223333:user/carol"]; !ok {
		t.Errorf("carol's never-used password (set 2026-01-01) should fail: %v", uc)
	}
	var aliceKeys int
	for _, f := range findings(r, "iam-unused-credentials") {
		if strings.HasSuffix(f.Resource, "user/alice") && strings.Contains(f.Evidence, "access key") {
			aliceKeys++
		}
	}
	if aliceKeys != 1 { // key 1 never used since 2026-01-01; key 2 used 2026-11-18
		t.Errorf("alice: %d stale keys, want 1", aliceKeys)
	}
	sg := findings(r, "ec2-sg-no-world-admin-ports-ipv4")
	if len(sg) != 2 { // sg-admin in both regions
		t.Fatalf("ipv4 SG findings: %d", len(sg))
	}
	if !strings.Contains(sg[0].Fix, `--ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'`) {
		t.Errorf("fix: %s", sg[0].Fix)
	}
	v6 := findings(r, "ec2-sg-no-world-admin-ports-ipv6")
	if len(v6) != 2 || !strings.Contains(v6[0].Evidence, "ports 3000-4000 from ::/0 (covers port 3389)") {
		// ::/0 is open on 3000-4000, which holds 3389.
		t.Errorf("ipv6: %+v", v6)
	}
	admin := findings(r, "iam-no-admin-policies")
	if len(admin) != 1 || admin[0].Resource != "arn:aws:iam::111122223333:policy/god" {
		t.Errorf("admin policies: %+v", admin)
	}
	mon := findings(r, "monitor-root-usage")
	if len(mon) != 1 || !strings.Contains(mon[0].Evidence, "no logging multi-region trail") {
		t.Errorf("monitor: %+v", mon)
	}
}

func TestMonitorFilterMatching(t *testing.T) {
	tests := []struct {
		name, id, pattern string
		want              bool
	}{
		{"cis text", "monitor-root-usage", `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`, true},
		{"compact", "monitor-root-usage", `{$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!="AwsServiceEvent"}`, true},
		{"missing term", "monitor-root-usage", `{ $.userIdentity.type = "Root" }`, false},
		{"one event short", "monitor-cloudtrail-changes", `{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }`, false},
		{"quoted names", "monitor-cloudtrail-changes", `{ ($.eventName = "CreateTrail") || ($.eventName = "UpdateTrail") || ($.eventName = "DeleteTrail") || ($.eventName = "StartLogging") || ($.eventName = "StopLogging") }`, true},
		{"v3 unauthorized", "monitor-unauthorized-api-calls", MonitorPatterns()["monitor-unauthorized-api-calls"], true},
		{"console mfa short", "monitor-console-no-mfa", `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`, true},
	}
	ms := map[string]monitor{}
	for _, m := range monitors() {
		ms[m.id] = m
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ms[tt.id].covers(tt.pattern); got != tt.want {
				t.Errorf("covers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMonitorNeedsAlarmActions(t *testing.T) {
	s := loadSnapshot(t, "pass")
	alarms := s.Regions["us-east-1"].MetricAlarms.MetricAlarms
	for i := range alarms {
		if alarms[i].MetricName == "cis-monitor-root-usage" {
			alarms[i].AlarmActions = nil
		}
	}
	r := evaluate(t, s, V300)
	fs := findings(r, "monitor-root-usage")
	if len(fs) != 1 || fs[0].Status != Fail || !strings.Contains(fs[0].Evidence, "alarm without actions") {
		t.Fatalf("got %+v", fs)
	}
	if !strings.Contains(fs[0].Fix, "aws logs put-metric-filter --log-group-name cloudtrail-logs") || !strings.Contains(fs[0].Fix, "--region us-east-1") {
		t.Errorf("fix: %s", fs[0].Fix)
	}
	if controlStatus(r)["monitor-vpc-changes"] != Pass {
		t.Error("other monitors still pass")
	}
}

func TestLevelFilter(t *testing.T) {
	r, err := Evaluate(loadSnapshot(t, "pass"), Options{Level: 1, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Controls {
		if c.Level != 1 {
			t.Errorf("%s is level %d", c.CheckID, c.Level)
		}
	}
	if len(r.Controls) == 0 || len(r.Controls) == len(evaluate(t, loadSnapshot(t, "pass"), V300).Controls) {
		t.Errorf("level 1 kept %d controls", len(r.Controls))
	}
}

func TestNACLRuleOrder(t *testing.T) {
	s := loadSnapshot(t, "pass")
	acl := &s.Regions["us-east-1"].NetworkAcls.NetworkAcls[0]
	acl.Entries = nil // json.Unmarshal would decode into the old entries, keeping their port ranges
	if err := json.Unmarshal([]byte(`[
	  {"RuleNumber": 1, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 0, "To": 1024}},
	  {"RuleNumber": 5, "Protocol": "17", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
	  {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"}]`), &acl.Entries); err != nil {
		t.Fatal(err)
	}
	fs := findings(evaluate(t, s, V150), "ec2-nacl-no-world-admin-ports")
	var failed []Finding
	for _, f := range fs {
		if f.Status == Fail {
			failed = append(failed, f)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("got %+v", fs)
	}
	f := failed[0]
	// 0-1024/tcp covers 22, not 3389; UDP is not an admin protocol before
	// v3.0.0; rule 1 leaves no room ahead of it, so the fix re-creates it
	// first.
	if f.Evidence != "acl-us-east-1 (vpc-us-east-1): rule 1 allows tcp port 22 from 0.0.0.0/0" {
		t.Errorf("evidence %q", f.Evidence)
	}
	if !strings.Contains(f.Fix, "delete-network-acl-entry --network-acl-id acl-us-east-1 --ingress --rule-number 1 ") || !strings.Contains(f.Fix, "--port-range From=22,To=22 --cidr-block 0.0.0.0/0 --rule-action deny") {
		t.Errorf("fix %q", f.Fix)
	}
	// v3.0.0 names UDP too: rule 5 (all UDP) now fails as well, and the
	// deny rule it asks for is a UDP one.
	v3 := findings(evaluate(t, s, V300), "ec2-nacl-no-world-admin-ports")
	if len(v3) == 2 {
		v3 = v3[1:] // eu-west-1 passes; us-east-1 sorts second
	}
	if len(v3) != 1 || v3[0].Status != Fail || !strings.Contains(v3[0].Evidence, "rule 5 allows udp port 22 from 0.0.0.0/0") || !strings.Contains(v3[0].Evidence, "rule 5 allows udp port 3389") ||
		!strings.Contains(v3[0].Fix, "--protocol udp --port-range From=3389,To=3389 --cidr-block 0.0.0.0/0 --rule-action deny") {
		t.Errorf("v3.0.0: %+v", v3)
	}
}
