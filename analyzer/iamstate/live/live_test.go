package live

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamlens/iamlens/analyzer/cis/collect/awsfake"
	"github.com/iamlens/iamlens/analyzer/iamstate"
)

var readAt = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func testConfig() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
}

func fastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 4
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.RateLimiter = ratelimit.None
	})
}

// fakeClient is a real SDK IAM client pointed at the fake.
func fakeClient(f *awsfake.AWS) *iam.Client {
	return iam.NewFromConfig(testConfig(), func(o *iam.Options) {
		o.BaseEndpoint = aws.String(f.Endpoints()[awsfake.ServiceIAM])
		o.Retryer = fastRetryer()
	})
}

func readFake(t *testing.T, f *awsfake.AWS, opts AccountOptions) *iamstate.Account {
	t.Helper()
	opts.IAMEndpoint = f.Endpoints()[awsfake.ServiceIAM]
	opts.STSEndpoint = f.Endpoints()[awsfake.ServiceSTS]
	opts.Retryer = fastRetryer
	opts.ReportPoll = time.Millisecond
	opts.Now = func() time.Time { return readAt }
	a, err := ReadAccount(context.Background(), testConfig(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestReadAccountAgainstFakeIAM drives the real SDK client against IAM's
// Query protocol: GAAD in two pages (the first call throttled), the
// credential report STARTED then COMPLETE, then ReportInProgress twice,
// and each user's keys (two pages) and MFA devices.
func TestReadAccountAgainstFakeIAM(t *testing.T) {
	f := awsfake.New(t, true)
	f.SetIAM(awsfake.IAMOptions{ReportInProgress: 2})
	a := readFake(t, f, AccountOptions{Options: Options{PerUser: true}})

	if a.ID != awsfake.Account || a.Partition != "aws" || !a.CollectedAt.Equal(readAt) {
		t.Errorf("account %q %q at %v", a.ID, a.Partition, a.CollectedAt)
	}
	if len(a.Problems) != 0 {
		t.Errorf("problems: %v", a.Problems)
	}
	if !a.Read.AuthorizationDetails || !a.Read.CredentialReport || !a.Read.VirtualMFADevices || !a.Read.UserCredentials {
		t.Errorf("read %+v", a.Read)
	}
	// Pagination merged both GAAD pages; the throttled call was retried.
	if len(a.Users) != 1 || len(a.Groups) != 1 || len(a.Roles) != 1 || len(a.Policies) != 1 {
		t.Fatalf("%d users %d groups %d roles %d policies", len(a.Users), len(a.Groups), len(a.Roles), len(a.Policies))
	}
	if n := f.Count("iam:GetAccountAuthorizationDetails:us-east-1"); n != 3 {
		t.Errorf("GAAD calls %d, want 3 (one throttled, two pages)", n)
	}
	// The report: STARTED, COMPLETE; then two ReportInProgress answers.
	if g, r := f.Count("iam:GenerateCredentialReport:us-east-1"), f.Count("iam:GetCredentialReport:us-east-1"); g != 4 || r != 3 {
		t.Errorf("GenerateCredentialReport %d calls (want 4), GetCredentialReport %d (want 3)", g, r)
	}
	if a.CredentialReport == nil || !a.CredentialReport.GeneratedTime.Equal(time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)) || a.Root == nil || !a.Root.MFAActive.On() {
		t.Errorf("credential report %+v root %+v", a.CredentialReport, a.Root)
	}

	alice := a.User("alice")
	if alice == nil || alice.Path != "/" || alice.PermissionsBoundary != "arn:aws:iam::111122223333:policy/god" ||
		len(alice.Tags) != 1 || alice.Tags[0] != (iamstate.Tag{Key: "team", Value: "platform"}) || !alice.PasswordEnabled || alice.MFAActive {
		t.Fatalf("alice: %+v", alice)
	}
	if len(alice.InlinePolicies) != 1 || alice.InlinePolicies[0].Document == nil || len(alice.InlinePolicies[0].Document.Statement[0].Action) != 2 {
		t.Errorf("alice's URL-encoded inline policy: %+v", alice.InlinePolicies)
	}
	// Keys: key 1 is the report's slot 1 (its last use from the report, no
	// GetAccessKeyLastUsed); key 2 is newer than the report and was asked.
	if len(alice.AccessKeys) != 2 {
		t.Fatalf("alice's keys: %+v", alice.AccessKeys)
	}
	k1, k2 := alice.AccessKeys[0], alice.AccessKeys[1]
	if k1.ID != awsfake.AliceKey1 || !k1.Active() || k1.ReportSlot != 1 || k1.LastUsedService != "s3" || k1.LastUsedRegion != "us-east-1" || !k1.LastUsed.Equal(time.Date(2026, 11, 19, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("key 1: %+v", k1)
	}
	if k2.ID != awsfake.AliceKey2 || k2.Active() || k2.ReportSlot != 0 || !k2.LastUsed.IsZero() || k2.LastUsedService != "" || k2.LastUsedRegion != "" {
		t.Errorf("key 2 (never used; IAM says N/A): %+v", k2)
	}
	if n := f.Count("iam:GetAccessKeyLastUsed:us-east-1"); n != 1 {
		t.Errorf("GetAccessKeyLastUsed called %d times, want 1 (key 2 only)", n)
	}
	if n := f.Count("iam:ListAccessKeys:us-east-1"); n != 2 {
		t.Errorf("ListAccessKeys called %d times, want 2 (two pages)", n)
	}
	if u, k := a.AccessKey(awsfake.AliceKey2); u != alice || k == nil || k.ID != awsfake.AliceKey2 {
		t.Errorf("lookup by key ID: %v %v", u, k)
	}
	if len(alice.MFADevices) != 1 || alice.MFADevices[0].SerialNumber != "arn:aws:iam::111122223333:mfa/alice-phone" || !alice.MFADevices[0].Virtual() {
		t.Errorf("alice's MFA devices: %+v", alice.MFADevices)
	}

	devs := a.Group("devs")
	if devs == nil || devs.Path != "/eng/" || len(devs.Members) != 1 || devs.Members[0] != "alice" {
		t.Errorf("devs: %+v", devs)
	}
	role := a.Role("aws-support")
	if role == nil || role.TrustPolicy == nil || role.TrustPolicy.Statement[0].Principal.Types["AWS"][0] != "arn:aws:iam::111122223333:root" ||
		role.LastUsed.Region != "eu-west-1" || role.LastUsed.LastUsedDate.IsZero() || len(role.InstanceProfiles) != 1 || role.ServiceLinked {
		t.Errorf("aws-support: %+v", role)
	}
	god := a.Policy("arn:aws:iam::111122223333:policy/god")
	if god == nil || god.AWSManaged || !god.IsAttachable || god.Document == nil || god.Default == nil || god.Default.ID != "v1" || god.PermissionsBoundaryUsageCount != 1 {
		t.Errorf("god: %+v", god)
	}

	// alice's policies: her own inline and managed, then devs' inline and
	// managed; the fake's GAAD leaves ReadOnlyAccess out of Policies, so
	// it is unknown.
	eff, err := a.EffectivePolicies("arn:aws:iam::111122223333:user/alice")
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, p := range eff.Policies {
		labels = append(labels, p.Label)
	}
	want := []string{"user alice: inline team-data", "user alice: managed god (arn:aws:iam::111122223333:policy/god)", "group devs: inline read-logs"}
	if strings.Join(labels, "|") != strings.Join(want, "|") {
		t.Errorf("policies %q, want %q", labels, want)
	}
	if eff.Boundary == nil || eff.Boundary.ARN != "arn:aws:iam::111122223333:policy/god" || len(eff.Unknown) != 1 || !strings.Contains(eff.Unknown[0], "ReadOnlyAccess") {
		t.Errorf("boundary %+v unknown %q", eff.Boundary, eff.Unknown)
	}
}

// TestReadRecordsFailures: a denied read is a problem, the rest is read;
// when nothing is read, ReadAccount fails.
func TestReadRecordsFailures(t *testing.T) {
	f := awsfake.New(t, false)
	f.SetIAM(awsfake.IAMOptions{Deny: []string{"GetAccountAuthorizationDetails"}})
	a := readFake(t, f, AccountOptions{Options: Options{PerUser: true}})
	if a.Read.AuthorizationDetails || !a.Read.CredentialReport || len(a.Problems) != 1 ||
		a.Problems[0].Source != OpGAAD || !strings.Contains(a.Problems[0].Message, "AccessDenied") {
		t.Errorf("read %+v problems %v", a.Read, a.Problems)
	}
	// Without GAAD the users come from the credential report, keys without
	// IDs (no per-user read is made: the user list comes from GAAD).
	if u := a.User("alice"); u == nil || len(u.AccessKeys) != 1 || u.AccessKeys[0].ID != "" || u.AccessKeys[0].ReportSlot != 1 {
		t.Errorf("alice from the report: %+v", u)
	}
	if _, err := a.EffectivePolicies("arn:aws:iam::111122223333:user/alice"); !errors.Is(err, iamstate.ErrNotRead) {
		t.Errorf("EffectivePolicies without GAAD: %v", err)
	}

	f2 := awsfake.New(t, false)
	f2.SetIAM(awsfake.IAMOptions{Deny: []string{"GetAccountAuthorizationDetails", "GenerateCredentialReport"}})
	_, err := ReadAccount(context.Background(), testConfig(), AccountOptions{IAMEndpoint: f2.Endpoints()[awsfake.ServiceIAM],
		STSEndpoint: f2.Endpoints()[awsfake.ServiceSTS], Retryer: fastRetryer})
	if !errors.Is(err, ErrNothingRead) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("nothing read: %v", err)
	}
}

// TestCredentialReportWaitBounded: a report that never becomes ready ends
// in an error naming the state, after ReportWait.
func TestCredentialReportWaitBounded(t *testing.T) {
	f := awsfake.New(t, false)
	f.SetIAM(awsfake.IAMOptions{ReportInProgress: -1})
	r := New(fakeClient(f), Options{ReportPoll: time.Millisecond, ReportWait: 30 * time.Millisecond})
	_, err := r.CredentialReport(context.Background())
	if err == nil || !strings.Contains(err.Error(), "still ReportInProgress after 30ms") {
		t.Errorf("got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.CredentialReport(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestPolicyCoversCalls checks that policy.json grants exactly the IAM
// actions a full read calls (sts:GetCallerIdentity needs no permission).
func TestPolicyCoversCalls(t *testing.T) {
	f := awsfake.New(t, false)
	readFake(t, f, AccountOptions{Options: Options{PerUser: true}})
	var doc struct {
		Statement []struct {
			Action []string
		}
	}
	if err := json.Unmarshal(Policy, &doc); err != nil {
		t.Fatal(err)
	}
	var granted, called []string
	for _, s := range doc.Statement {
		granted = append(granted, s.Action...)
	}
	for k := range f.Ops() {
		svc, op, _ := strings.Cut(k, ":")
		if svc == awsfake.ServiceIAM {
			called = append(called, "iam:"+op)
		}
	}
	sort.Strings(granted)
	sort.Strings(called)
	if strings.Join(granted, " ") != strings.Join(called, " ") {
		t.Errorf("policy.json grants %v; a full read calls %v", granted, called)
	}
	for _, a := range granted {
		verb := strings.TrimPrefix(a, "iam:")
		if !(strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List") || a == "iam:GenerateCredentialReport") {
			t.Errorf("%s is not a read", a)
		}
	}
}
