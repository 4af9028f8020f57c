package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamlens/iamlens/analyzer/cis"
	"github.com/iamlens/iamlens/analyzer/cis/collect/awsfake"
	"github.com/iamlens/iamlens/analyzer/iamstate"
)

func testConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}
}

func fastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 4
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

func collectFake(t *testing.T) (*awsfake.AWS, *cis.Snapshot) {
	t.Helper()
	f := awsfake.New(t, true)
	snap, err := Collect(context.Background(), testConfig(), Options{
		Endpoints: f.Endpoints(), Retryer: fastRetryer, ReportPoll: time.Millisecond, Concurrency: 2,
		Now: func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, snap
}

func TestCollectAgainstFakeAWS(t *testing.T) {
	f, snap := collectFake(t)
	if snap.AccountID != awsfake.Account || snap.Partition != "aws" {
		t.Errorf("account %q partition %q", snap.AccountID, snap.Partition)
	}
	if got := snap.EnabledRegions(); strings.Join(got, ",") != "ap-south-1,eu-west-1,us-east-1" {
		t.Errorf("regions %v (ap-east-1 is not opted in)", got)
	}
	// Pagination: both pages of security groups, KMS keys and GAAD.
	us := snap.Regions["us-east-1"]
	if us == nil || us.SecurityGroups == nil || len(us.SecurityGroups.SecurityGroups) != 2 {
		t.Fatalf("us-east-1 security groups: %+v", us)
	}
	if sg := us.SecurityGroups.SecurityGroups[1]; sg.GroupId != "sg-ssh" || len(sg.IpPermissions) != 1 || *sg.IpPermissions[0].FromPort != 22 || sg.IpPermissions[0].IpRanges[0].CidrIp != "0.0.0.0/0" {
		t.Errorf("sg-ssh: %+v", sg)
	}
	if n := len(snap.Regions["eu-west-1"].KMSKeys.Keys); n != 2 {
		t.Errorf("eu-west-1 keys: %d, want 2", n)
	}
	d := snap.IAM.AuthorizationDetails
	if d == nil || len(d.UserDetailList) != 1 || len(d.RoleDetailList) != 1 || len(d.Policies) != 1 {
		t.Fatalf("GAAD: %+v", d)
	}
	if doc, err := d.Policies[0].PolicyVersionList[0].Document.Document(); err != nil || len(doc.Statement) != 1 {
		t.Fatalf("GAAD policy document: %+v, %v", doc, err)
	}
	// Throttling was retried: more calls than pages, and no error left.
	for key, min := range map[string]int{"ec2:DescribeSecurityGroups:us-east-1": 4, "cloudtrail:GetTrailStatus:us-east-1": 3, "kms:ListKeys:eu-west-1": 3, "iam:GetAccountAuthorizationDetails:us-east-1": 3} {
		if n := f.Count(key); n < min {
			t.Errorf("%s: %d calls, want at least %d", key, n, min)
		}
	}
	var errs []string
	for _, e := range snap.Errors {
		errs = append(errs, e.Region+" "+e.Service+" "+e.Operation+" "+e.Resource)
		if e.Region != awsfake.BadRegion && e.Resource != "central-logs" {
			t.Errorf("unexpected error: %+v", e)
		}
	}
	// The failing region: every regional read recorded, fields left nil.
	bad := snap.Regions[awsfake.BadRegion]
	if bad == nil || bad.DescribeTrails != nil || bad.SecurityGroups != nil || bad.KMSKeys != nil {
		t.Errorf("%s should be present and empty: %+v", awsfake.BadRegion, bad)
	}
	for _, op := range []string{"DescribeTrails", "ListKeys", "DescribeSecurityGroups", "DescribeMetricFilters", "ListAnalyzers", "DescribeConfigurationRecorders"} {
		found := false
		for _, e := range snap.Errors {
			found = found || (e.Region == awsfake.BadRegion && e.Operation == op)
		}
		if !found {
			t.Errorf("no %s error recorded for %s; errors: %v", op, awsfake.BadRegion, errs)
		}
	}
	// Password policy absent (NoSuchEntity) is read as {} — an account
	// without a policy — not as an error.
	if pp := snap.IAM.PasswordPolicy; pp == nil || pp.PasswordPolicy != nil {
		t.Errorf("password policy: %+v", pp)
	}
	if rep, err := snap.IAM.CredentialReport.Parse(); err != nil || len(rep.Rows) != 2 {
		t.Errorf("credential report: %+v, %v", rep, err)
	}
	if f.Count("iam:GenerateCredentialReport:us-east-1") != 2 {
		t.Errorf("GenerateCredentialReport polled %d times, want 2", f.Count("iam:GenerateCredentialReport:us-east-1"))
	}
	b := snap.Buckets["trail-bucket"]
	if b == nil || b.Region != "eu-west-1" || b.PolicyStatus == nil || b.PublicAccessBlock == nil || b.Logging == nil || b.Logging.LoggingEnabled == nil || len(b.Acl.Grants) != 2 || b.Acl.Grants[1].Grantee.Type != "Group" {
		t.Errorf("trail-bucket: %+v", b)
	}
	if snap.Buckets["central-logs"] != nil {
		t.Error("central-logs is denied and must stay unread")
	}
	// The trail status came through the JSON epoch-seconds timestamps.
	if st := us.TrailStatus[awsfake.TrailARN("main")]; st == nil || !st.IsLogging || st.LatestDeliveryTime.Unix() != 1763640000 {
		t.Errorf("trail status %+v", st)
	}
	if eu := snap.Regions["eu-west-1"]; len(eu.TrailStatus) != 0 {
		t.Error("trail status must be read in the home region only")
	}
}

// TestCollectedSnapshotEvaluates runs the checks on what the fake served.
func TestCollectedSnapshotEvaluates(t *testing.T) {
	_, snap := collectFake(t)
	rep, err := cis.Evaluate(snap, cis.Options{Benchmark: cis.V140, Now: func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]cis.Status{}
	for _, c := range rep.Controls {
		st[c.CheckID] = c.Status
	}
	for id, want := range map[string]cis.Status{
		"cloudtrail-multi-region":          cis.Pass,
		"iam-no-admin-policies":            cis.Fail, // god allows * on *
		"iam-root-hardware-mfa":            cis.Fail, // root uses a virtual device
		"iam-password-min-length":          cis.Fail, // no policy
		"iam-support-role":                 cis.Pass,
		"cloudtrail-bucket-not-public":     cis.Fail, // AllUsers READ on trail-bucket
		"ec2-sg-no-world-admin-ports-ipv4": cis.Fail,
		"s3-object-read-logging":           cis.Pass,
		"monitor-root-usage":               cis.Fail, // a filter but no alarm
		"ec2-nacl-no-world-admin-ports":    cis.Fail, // the default NACL
	} {
		if st[id] != want {
			t.Errorf("%s: got %s, want %s", id, st[id], want)
		}
	}
	// The failing region is NOT_ASSESSABLE, never FAIL.
	for _, f := range rep.Findings {
		if f.Region == awsfake.BadRegion && f.Status != cis.NotAssessable {
			t.Errorf("%s in %s: %s", f.CheckID, awsfake.BadRegion, f.Status)
		}
	}
	var sawCentral bool
	for _, f := range rep.Findings {
		if strings.HasSuffix(f.Resource, ":::central-logs") {
			sawCentral = true
			if f.Status != cis.NotAssessable {
				t.Errorf("central-logs %s: %s", f.CheckID, f.Status)
			}
		}
	}
	if !sawCentral {
		t.Error("no finding on the organization trail's bucket")
	}
}

// TestPolicyCoversCalls checks that policy.json grants exactly the actions
// the collector called (sts:GetCallerIdentity needs no permission).
func TestPolicyCoversCalls(t *testing.T) {
	f, _ := collectFake(t)
	var doc struct {
		Statement []struct {
			Action []string
		}
	}
	if err := json.Unmarshal(Policy, &doc); err != nil {
		t.Fatal(err)
	}
	granted := map[string]bool{}
	for _, s := range doc.Statement {
		for _, a := range s.Action {
			granted[a] = true
		}
	}
	prefix := map[string]string{ServiceAccessAnalyzer: "access-analyzer", ServiceCloudTrail: "cloudtrail", ServiceCloudWatch: "cloudwatch", ServiceLogs: "logs",
		ServiceConfig: "config", ServiceEC2: "ec2", ServiceIAM: "iam", ServiceKMS: "kms", ServiceS3: "s3", ServiceRDS: "rds", ServiceEFS: "elasticfilesystem",
		ServiceSecurityHub: "securityhub", ServiceSNS: "sns", ServiceS3Control: "s3control"}
	// IAM action names that differ from the API operation.
	rename := map[string]string{"s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock", "s3:ListBuckets": "s3:ListAllMyBuckets",
		"s3control:GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock"}
	called := map[string]bool{}
	for k := range f.Ops() {
		svc, op, _ := strings.Cut(k, ":")
		if svc == ServiceSTS {
			continue
		}
		action := prefix[svc] + ":" + op
		if r, ok := rename[action]; ok {
			action = r
		}
		called[action] = true
		if !granted[action] {
			t.Errorf("the collector calls %s, which policy.json does not grant", action)
		}
	}
	var unused []string
	for a := range granted {
		if !called[a] {
			unused = append(unused, a)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("policy.json grants actions the collector never called: %v", unused)
	}
	for a := range granted {
		verb := a[strings.Index(a, ":")+1:]
		if !(strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List") || strings.HasPrefix(verb, "Describe") || a == "iam:GenerateCredentialReport") {
			t.Errorf("%s is not a read", a)
		}
	}
}

func TestCollectRestrictRegions(t *testing.T) {
	f := awsfake.New(t, true)
	snap, err := Collect(context.Background(), testConfig(), Options{Regions: []string{"eu-west-1"}, Endpoints: f.Endpoints(), Retryer: fastRetryer, ReportPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.EnabledRegions(); len(got) != 1 || got[0] != "eu-west-1" || len(snap.Regions) != 1 {
		t.Errorf("regions %v / %d", got, len(snap.Regions))
	}
	if f.Count("cloudtrail:DescribeTrails:us-east-1") != 0 {
		t.Error("us-east-1 was read")
	}
}

// TestCollectPerUser: with PerUser the snapshot holds each user's keys and
// MFA devices, and iamstate reads the written snapshot back into the same
// account state.
func TestCollectPerUser(t *testing.T) {
	f := awsfake.New(t, false)
	snap, err := Collect(context.Background(), testConfig(), Options{Regions: []string{"us-east-1"}, Endpoints: f.Endpoints(), Retryer: fastRetryer,
		ReportPoll: time.Millisecond, PerUser: true, Now: func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	uc := snap.IAM.UserCredentials["alice"]
	if uc == nil || len(uc.AccessKeyMetadata) != 2 || len(uc.MFADevices) != 1 {
		t.Fatalf("alice's credentials: %+v", uc)
	}
	var buf bytes.Buffer
	if err := cis.WriteSnapshot(&buf, snap); err != nil {
		t.Fatal(err)
	}
	in, err := iamstate.ReadSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	a := iamstate.Build(in)
	if a.ID != awsfake.Account || !a.Read.UserCredentials || len(a.Problems) != 0 {
		t.Fatalf("account %q read %+v problems %v", a.ID, a.Read, a.Problems)
	}
	if u, k := a.AccessKey(awsfake.AliceKey1); u == nil || u.Name != "alice" || k.ReportSlot != 1 || k.LastUsedService != "s3" {
		t.Errorf("key 1: %+v %+v", u, k)
	}
	direct := iamstate.Build(&iamstate.Input{AccountID: snap.AccountID, Partition: snap.Partition, CollectedAt: snap.CollectedAt.Time, Outputs: snap.IAM.Outputs})
	if !reflect.DeepEqual(a.Users, direct.Users) || !reflect.DeepEqual(a.Policies, direct.Policies) || !a.CollectedAt.Equal(direct.CollectedAt) {
		t.Error("the state read back from the written snapshot differs from the collected one")
	}
}

// TestCollectStorageAndMore reads, through the real SDK clients, the calls
// of the storage, Security Hub, IMDSv2, instance-role and SNS controls:
// S3 (ListBuckets, GetBucketPolicy, GetBucketVersioning,
// GetPublicAccessBlock), s3control, EC2 (DescribeInstances,
// GetEbsEncryptionByDefault), RDS (two pages), EFS, Security Hub (not
// subscribed in eu-west-1) and SNS.
func TestCollectStorageAndMore(t *testing.T) {
	_, snap := collectFake(t)
	if snap.AccountName != "fake-main" {
		t.Errorf("account name %q (the IAM alias)", snap.AccountName)
	}
	if lb := snap.ListBuckets; lb == nil || len(lb.Buckets) != 2 || lb.Buckets[0].Name != "app-data" || lb.Buckets[0].CreationDate.IsZero() {
		t.Fatalf("ListBuckets: %+v", lb)
	}
	app := snap.Buckets["app-data"]
	if app == nil || app.Region != "us-east-1" || app.Policy == nil || !strings.Contains(app.Policy.Policy, `"aws:SecureTransport":"false"`) ||
		app.Versioning == nil || app.Versioning.Status != "Enabled" || app.Versioning.MFADelete != "Enabled" || app.PublicAccessBlock.PublicAccessBlockConfiguration == nil {
		t.Errorf("app-data: %+v", app)
	}
	if app != nil && app.Acl != nil {
		t.Error("the ACL is read for trail buckets only")
	}
	tb := snap.Buckets["trail-bucket"]
	if tb == nil || tb.Policy == nil || tb.Policy.Policy != "" || tb.Versioning == nil || tb.Versioning.MFADelete != "" {
		t.Errorf("trail-bucket (no policy, no MFA delete): %+v", tb)
	}
	if ab := snap.S3AccountPublicAccessBlock; ab == nil || ab.PublicAccessBlockConfiguration == nil || !ab.PublicAccessBlockConfiguration.BlockPublicAcls || ab.PublicAccessBlockConfiguration.BlockPublicPolicy {
		t.Errorf("account public access block: %+v", ab)
	}
	us, eu := snap.Regions["us-east-1"], snap.Regions["eu-west-1"]
	if us.Instances == nil || len(us.Instances.Reservations) != 1 || len(us.Instances.Reservations[0].Instances) != 3 {
		t.Fatalf("instances: %+v", us.Instances)
	}
	in := us.Instances.Reservations[0].Instances
	if in[0].IamInstanceProfile == nil || in[0].MetadataOptions.HttpTokens != "required" || in[1].IamInstanceProfile != nil || in[2].State.Name != "terminated" {
		t.Errorf("instances: %+v", in)
	}
	if us.EbsEncryptionByDefault == nil || !us.EbsEncryptionByDefault.EbsEncryptionByDefault || eu.EbsEncryptionByDefault == nil || eu.EbsEncryptionByDefault.EbsEncryptionByDefault {
		t.Errorf("EBS default encryption: %+v / %+v", us.EbsEncryptionByDefault, eu.EbsEncryptionByDefault)
	}
	if us.DBInstances == nil || len(us.DBInstances.DBInstances) != 2 || !us.DBInstances.DBInstances[1].StorageEncrypted || eu.DBInstances.DBInstances[0].PubliclyAccessible != true {
		t.Errorf("RDS: %+v / %+v", us.DBInstances, eu.DBInstances)
	}
	if us.FileSystems == nil || len(us.FileSystems.FileSystems) != 1 || !us.FileSystems.FileSystems[0].Encrypted || eu.FileSystems.FileSystems[0].Encrypted {
		t.Errorf("EFS: %+v / %+v", us.FileSystems, eu.FileSystems)
	}
	if us.SecurityHub == nil || us.SecurityHub.HubArn == "" || eu.SecurityHub == nil || eu.SecurityHub.HubArn != "" {
		t.Errorf("Security Hub: %+v / %+v (not subscribed is read as {})", us.SecurityHub, eu.SecurityHub)
	}
	if subs := us.SNSSubscriptions[awsfake.AlertsTopic]; subs == nil || len(subs.Subscriptions) != 1 || len(subs.Confirmed()) != 0 {
		t.Errorf("SNS: %+v", us.SNSSubscriptions)
	}
	if len(eu.SNSSubscriptions) != 0 {
		t.Error("eu-west-1 has no alarm: no topic to read")
	}

	rep, err := cis.Evaluate(snap, cis.Options{Benchmark: cis.V300})
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]cis.Status{}
	for _, c := range rep.Controls {
		st[c.CheckID] = c.Status
	}
	for id, want := range map[string]cis.Status{
		"s3-deny-http": cis.Fail, "s3-mfa-delete": cis.Fail, "s3-block-public-access": cis.Fail, // trail-bucket fails, app-data passes
		"ebs-default-encryption": cis.Fail, "rds-encryption": cis.Fail, "efs-encryption": cis.Fail, // eu-west-1
		"securityhub-enabled": cis.Fail, "ec2-imdsv2": cis.Fail, "iam-instance-roles": cis.Fail, // i-2: no profile, IMDSv1
		"monitor-root-usage": cis.Fail, // the alarm's topic has a pending subscription only
	} {
		if st[id] != want {
			t.Errorf("%s: %s, want %s", id, st[id], want)
		}
	}
	for _, f := range rep.Findings {
		if f.CheckID == "monitor-root-usage" && !strings.Contains(f.Evidence, "alarm root-use: topic "+awsfake.AlertsTopic+" has no confirmed subscriber") {
			t.Errorf("monitor evidence: %s", f.Evidence)
		}
		if strings.Contains(f.Resource, "i-3") {
			t.Errorf("the terminated instance was judged: %+v", f)
		}
		if (f.CheckID == "s3-deny-http" || f.CheckID == "s3-mfa-delete") && strings.HasSuffix(f.Resource, "app-data") && f.Status != cis.Pass {
			t.Errorf("app-data %s: %s %s", f.CheckID, f.Status, f.Evidence)
		}
	}
}

// TestCollectedFolderRoundTrip: what the SDK read from the fake, written
// as the CLI script's folder, reads back into the same report.
func TestCollectedFolderRoundTrip(t *testing.T) {
	_, snap := collectFake(t)
	dir := t.TempDir()
	if err := cis.WriteCLIFolder(dir, snap); err != nil {
		t.Fatal(err)
	}
	back, err := cis.ReadCLIFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range cis.Benchmarks {
		a, err1 := cis.Evaluate(snap, cis.Options{Benchmark: b})
		c, err2 := cis.Evaluate(back, cis.Options{Benchmark: b})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		ja, _ := json.Marshal(a.Findings)
		jc, _ := json.Marshal(c.Findings)
		if string(ja) != string(jc) {
			t.Errorf("%s: the folder gives another report", b)
		}
	}
	if len(back.Errors) != len(snap.Errors) {
		t.Errorf("errors: %d read back, %d collected", len(back.Errors), len(snap.Errors))
	}
}
