package cis

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func byControl(r *Report) map[string]ControlResult {
	out := map[string]ControlResult{}
	for _, c := range r.Controls {
		out[c.Control] = c
	}
	return out
}

func sgPerm(proto string, from, to int32, v4, v6 string) IpPermission {
	p := IpPermission{IpProtocol: proto, FromPort: &from, ToPort: &to}
	if v4 != "" {
		p.IpRanges = append(p.IpRanges, struct {
			CidrIp string `json:"CidrIp"`
		}{v4})
	}
	if v6 != "" {
		p.Ipv6Ranges = append(p.Ipv6Ranges, struct {
			CidrIpv6 string `json:"CidrIpv6"`
		}{v6})
	}
	return p
}

// TestV120SSHAndRDPAreTwoControls: v1.2.0 4.1 (22) and 4.2 (3389) are two
// controls, each judging ::/0 as well as 0.0.0.0/0, so a v1.2.0 user sees
// which one fails.
func TestV120SSHAndRDPAreTwoControls(t *testing.T) {
	s := loadSnapshot(t, "pass")
	sgs := &s.Regions["us-east-1"].SecurityGroups.SecurityGroups
	*sgs = append(*sgs, SecurityGroup{GroupId: "sg-rdp6", GroupName: "rdp6", VpcId: "vpc-us-east-1",
		IpPermissions: []IpPermission{sgPerm("tcp", 3389, 3389, "", "::/0")}})
	r := evaluate(t, s, V120)
	ctl := byControl(r)
	if _, merged := ctl["4.1, 4.2"]; merged {
		t.Fatal("4.1 and 4.2 are still one entry")
	}
	if c := ctl["4.1"]; c.CheckID != "ec2-sg-no-world-ssh" || c.Status != Pass || c.Title != "Ensure no security groups allow ingress from 0.0.0.0/0 to port 22" {
		t.Errorf("4.1: %+v", c)
	}
	if c := ctl["4.2"]; c.CheckID != "ec2-sg-no-world-rdp" || c.Status != Fail {
		t.Errorf("4.2: %+v", c)
	}
	rdp := findings(r, "ec2-sg-no-world-rdp")
	var fail *Finding
	for i := range rdp {
		if rdp[i].Status == Fail {
			fail = &rdp[i]
		}
	}
	if fail == nil || !strings.Contains(fail.Evidence, "from ::/0 (covers port 3389)") || !strings.Contains(fail.Fix, `"Ipv6Ranges":[{"CidrIpv6":"::/0"}]`) {
		t.Errorf("4.2 on ::/0: %+v", fail)
	}
	// And SSH from 0.0.0.0/0 fails 4.1 only.
	s = loadSnapshot(t, "pass")
	sgs = &s.Regions["eu-west-1"].SecurityGroups.SecurityGroups
	*sgs = append(*sgs, SecurityGroup{GroupId: "sg-ssh", GroupName: "ssh", IpPermissions: []IpPermission{sgPerm("tcp", 0, 1000, "0.0.0.0/0", "")}})
	ctl = byControl(evaluate(t, s, V120))
	if ctl["4.1"].Status != Fail || ctl["4.2"].Status != Pass {
		t.Errorf("ssh open: 4.1 %s, 4.2 %s", ctl["4.1"].Status, ctl["4.2"].Status)
	}
	// Later versions keep one control per source family.
	if c := byControl(evaluate(t, s, V140))["5.2"]; c.CheckID != "ec2-sg-no-world-admin-ports-ipv4" || c.Status != Fail {
		t.Errorf("v1.4.0 5.2: %+v", c)
	}
}

// TestAdminPolicyScopeByVersion: v1.2.0 1.22 asks that no customer managed
// policy allowing "*:*" be created, so an unattached one fails it; v1.4.0+
// 1.16 asks that none be attached, so it does not.
func TestAdminPolicyScopeByVersion(t *testing.T) {
	c := Checks()
	var admin Check
	for _, x := range c {
		if x.ID == "iam-no-admin-policies" {
			admin = x
		}
	}
	if admin.Controls[V120].Scope != ScopeCreated || admin.Controls[V140].Scope != ScopeAttached || admin.Controls[V300].Scope != ScopeAttached {
		t.Fatalf("scopes: %+v", admin.Controls)
	}
	s := loadSnapshot(t, "fail") // god (attached) and spare-admin (attached to nothing)
	res := func(b Benchmark) []string {
		var out []string
		for _, f := range findings(evaluate(t, s, b), "iam-no-admin-policies") {
			if f.Status == Fail {
				out = append(out, f.Resource[strings.LastIndex(f.Resource, "/")+1:])
			}
		}
		return out
	}
	if got := strings.Join(res(V120), ","); got != "god,spare-admin" {
		t.Errorf("v1.2.0 1.22: %s, want god,spare-admin", got)
	}
	for _, b := range []Benchmark{V140, V150, V300} {
		if got := strings.Join(res(b), ","); got != "god" {
			t.Errorf("%s 1.16: %s, want god", b, got)
		}
	}
	for _, f := range findings(evaluate(t, s, V120), "iam-no-admin-policies") {
		if strings.HasSuffix(f.Resource, "spare-admin") && !strings.Contains(f.Fix, "aws iam delete-policy --policy-arn arn:aws:iam::111122223333:policy/spare-admin") {
			t.Errorf("fix: %s", f.Fix)
		}
	}
	// "*:*" is an action like "*".
	if !isFullAdmin(iampolicy.Statement{Effect: "Allow", Action: iampolicy.Values{"*:*"}, Resource: iampolicy.Values{"*"}}) {
		t.Error("*:* is full admin")
	}
}

// TestInstanceRolesAndIMDSv2: instances without a profile fail 1.19/1.18,
// instances answering IMDSv1 fail 5.6; terminated instances are ignored.
func TestInstanceRolesAndIMDSv2(t *testing.T) {
	for _, b := range Benchmarks {
		r := evaluate(t, loadSnapshot(t, "fail"), b)
		fs := findings(r, "iam-instance-roles")
		var failed []string
		for _, f := range fs {
			if f.Status == Fail {
				failed = append(failed, f.Resource)
			}
			if strings.Contains(f.Resource, "i-gone") {
				t.Errorf("%s: the terminated instance was judged: %+v", b, f)
			}
		}
		if len(failed) != 2 || !strings.HasSuffix(failed[0], "instance/i-legacy-eu-west-1") {
			t.Errorf("%s: instance roles: %v", b, failed)
		}
		want := map[Benchmark]string{V120: "1.19", V140: "1.18", V150: "1.18", V300: "1.18"}[b]
		if c := byControl(r)[want]; c.CheckID != "iam-instance-roles" || c.Status != Fail {
			t.Errorf("%s %s: %+v", b, want, c)
		}
	}
	r := evaluate(t, loadSnapshot(t, "fail"), V300)
	imds := findings(r, "ec2-imdsv2")
	if len(imds) != 2 || imds[0].Status != Fail || !strings.Contains(imds[0].Evidence, "HttpTokens is optional") ||
		!strings.Contains(imds[0].Fix, "modify-instance-metadata-options --instance-id i-legacy-eu-west-1 --http-tokens required") {
		t.Errorf("imdsv2: %+v", imds)
	}
	if c := byControl(r)["5.6"]; c.CheckID != "ec2-imdsv2" {
		t.Errorf("5.6: %+v", c)
	}
	// Not read: NOT_ASSESSABLE, not FAIL.
	s := loadSnapshot(t, "fail")
	s.Regions["us-east-1"].Instances = nil
	s.Errors = append(s.Errors, CollectError{Region: "us-east-1", Service: "ec2", Operation: "DescribeInstances", Message: "UnauthorizedOperation"})
	for _, f := range findings(evaluate(t, s, V300), "ec2-imdsv2") {
		if f.Region == "us-east-1" && (f.Status != NotAssessable || !strings.Contains(f.Evidence, "UnauthorizedOperation")) {
			t.Errorf("unread instances: %+v", f)
		}
	}
}

// TestNotASnapshotIsRefused: other JSON is refused with what is missing.
func TestNotASnapshotIsRefused(t *testing.T) {
	for name, tt := range map[string]struct{ in, want string }{
		"manifest":      {`{"version":1,"files":["a.parquet"],"rows":12}`, "missing accountId (the 12-digit account ID); collectedAt"},
		"array":         {`[1,2,3]`, "the file is a JSON array, not an object"},
		"no outputs":    {`{"accountId":"111122223333","collectedAt":"2026-11-20T12:00:00Z"}`, "missing every AWS output"},
		"no time":       {`{"accountId":"111122223333","iam":{}}`, "missing collectedAt"},
		"bad account":   {`{"accountId":"prod","collectedAt":"2026-11-20T12:00:00Z","iam":{}}`, `accountId "prod" is not a 12-digit`},
		"wrong format":  {`{"format":"iamlens-cis-snapshot/9","accountId":"111122223333","collectedAt":"2026-11-20T12:00:00Z","iam":{}}`, "snapshot format"},
		"not json":      {`accountId: 1`, "decode snapshot"},
		"names members": {`{"Records":[]}`, "the file has members Records"},
	} {
		_, err := ReadSnapshot(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
	}
	if _, err := ReadSnapshot(strings.NewReader(`{"accountId":"111122223333","collectedAt":"2026-11-20T12:00:00Z","regions":{}}`)); err != nil {
		t.Errorf("a minimal snapshot: %v", err)
	}
}

// TestStorageChecks reads the storage outputs of the fail snapshot.
func TestStorageChecks(t *testing.T) {
	r := evaluate(t, loadSnapshot(t, "fail"), V300)
	ev := func(id, bucket string) Finding {
		for _, f := range findings(r, id) {
			if strings.HasSuffix(f.Resource, ":::"+bucket) {
				return f
			}
		}
		t.Fatalf("%s: no finding on %s", id, bucket)
		return Finding{}
	}
	if f := ev("s3-deny-http", "public-data"); f.Status != Fail || !strings.Contains(f.Evidence, "no statement denying") {
		t.Errorf("deny http: %+v", f)
	}
	if f := ev("s3-deny-http", "trail-bucket"); f.Status != Fail || !strings.Contains(f.Fix, "aws s3api put-bucket-policy --bucket trail-bucket --policy") {
		t.Errorf("deny http, no policy: %+v", f)
	}
	if f := ev("s3-mfa-delete", "public-data"); f.Status != Fail || f.Evidence != "versioning is Enabled, MFA delete is Disabled" {
		t.Errorf("mfa delete: %+v", f)
	}
	if f := ev("s3-block-public-access", "trail-bucket"); f.Status != Fail || !strings.Contains(f.Evidence, "account settings: BlockPublicAcls=true IgnorePublicAcls=false") {
		t.Errorf("block public access: %+v", f)
	}
	// The account-level block covers every bucket.
	s := loadSnapshot(t, "fail")
	s.S3AccountPublicAccessBlock = loadSnapshot(t, "pass").Buckets["app-data"].PublicAccessBlock
	if st := controlStatus(evaluate(t, s, V300))["s3-block-public-access"]; st != Pass {
		t.Errorf("account block on: %s", st)
	}
	for id, ev := range map[string]string{"rds-encryption": "StorageEncrypted is false", "rds-no-public-access": "PubliclyAccessible is true", "rds-auto-minor-upgrade": "AutoMinorVersionUpgrade is false",
		"efs-encryption": "fs-plain (shared) is not encrypted", "ebs-default-encryption": "EbsEncryptionByDefault is false", "securityhub-enabled": "Security Hub is not enabled"} {
		fs := findings(r, id)
		if len(fs) != 2 || fs[0].Status != Fail || !strings.Contains(fs[0].Evidence, ev) || fs[0].Fix == "" {
			t.Errorf("%s: %+v", id, fs)
		}
	}
	// A Deny of s3:* on the bucket and its objects when SecureTransport is
	// false passes; one on the objects only, or with another condition,
	// does not.
	arn := "arn:aws:s3:::b"
	for doc, want := range map[string]bool{
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`:         true,
		`{"Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}`:                                        true,
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`:                            false,
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`: false,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`:         false,
	} {
		d, err := iampolicy.Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := deniesHTTP(d, arn); got != want {
			t.Errorf("%s: %v, want %v", doc, got, want)
		}
	}
}

// TestMonitorNeedsConfirmedSubscriber: an alarm counts only when an SNS
// topic it notifies has a confirmed subscriber.
func TestMonitorNeedsConfirmedSubscriber(t *testing.T) {
	s := loadSnapshot(t, "pass")
	topic := "arn:aws:sns:us-east-1:111122223333:security-alerts"
	subs := s.Regions["us-east-1"].SNSSubscriptions[topic]
	if subs == nil || len(subs.Confirmed()) != 1 {
		t.Fatalf("pass fixture subscriptions: %+v", subs)
	}
	if f := findings(evaluate(t, s, V300), "monitor-root-usage"); len(f) != 1 || f[0].Status != Pass || !strings.Contains(f[0].Evidence, "confirmed subscribers: email:secops@example.com") {
		t.Errorf("confirmed: %+v", f)
	}
	subs.Subscriptions = subs.Subscriptions[1:] // only the pending one is left
	f := findings(evaluate(t, s, V300), "monitor-root-usage")
	if len(f) != 1 || f[0].Status != Fail || !strings.Contains(f[0].Evidence, "has no confirmed subscriber (1 pending or none)") {
		t.Errorf("pending only: %+v", f)
	}
	delete(s.Regions["us-east-1"].SNSSubscriptions, topic)
	f = findings(evaluate(t, s, V300), "monitor-root-usage")
	if len(f) != 1 || f[0].Status != NotAssessable || !strings.Contains(f[0].Evidence, "were not read") {
		t.Errorf("not read: %+v", f)
	}
}
