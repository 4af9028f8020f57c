package iamstate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iampolicy/managed"
)

func buildExcerpt(t *testing.T) *Account {
	t.Helper()
	d := readGAADFile(t, testdata("cloudsplaining", "example-excerpt.json"))
	return Build(&Input{Outputs: Outputs{AuthorizationDetails: d}})
}

func labels(e *Effective) string {
	var out []string
	for _, p := range e.Policies {
		out = append(out, p.Label)
	}
	return strings.Join(out, "|")
}

// TestEffectivePolicies resolves users (own and group policies), roles by
// IAM ARN and by STS assumed-role ARN, and reports what it cannot know.
func TestEffectivePolicies(t *testing.T) {
	a := buildExcerpt(t)
	e, err := a.EffectivePolicies("arn:aws:iam::200611803367:user/userwithlotsofpermissions")
	if err != nil {
		t.Fatal(err)
	}
	want := "user userwithlotsofpermissions: inline InsecureUserPolicy|group admin: managed AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess)"
	if labels(e) != want || e.Kind != KindUser || e.Path != "/" || e.Boundary != nil || len(e.Unknown) != 0 {
		t.Errorf("got %q %+v, want %q", labels(e), e, want)
	}
	if p := e.Policies[1]; p.Kind != PolicyManaged || p.Via != "admin" || p.Document == nil || p.Document.Statement[0].Action[0] != "*" {
		t.Errorf("group policy %+v", p)
	}

	// An Identity Center role: the two policies the excerpt leaves out are
	// unknown, not silently missing.
	const sso = "AWSReservedSSO_ViewOnlyAccess_0ace44bbc7092ea8"
	e, err = a.EffectivePolicies("arn:aws:sts::200611803367:assumed-role/" + sso + "/alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindRole || e.Name != sso || e.Path != IdentityCenterPath || len(e.Policies) != 0 || len(e.Unknown) != 2 ||
		!strings.Contains(e.Unknown[0], "ReadOnlyAccess") || !strings.Contains(e.Unknown[1], "ViewOnlyAccess") {
		t.Errorf("sso role: %+v", e)
	}
	// With the embedded AWS managed policies, both are read from there and
	// say so; a customer policy would stay unknown.
	e, err = a.EffectivePoliciesWith("arn:aws:sts::200611803367:assumed-role/"+sso+"/alice@example.com", EffectiveOptions{
		AWSManaged: func(arn string) (*iampolicy.Document, bool) {
			p, err := managed.Lookup(arn)
			if err != nil {
				return nil, false
			}
			return p.Document, true
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Policies) != 2 || len(e.Unknown) != 0 || !e.Policies[0].Embedded || e.Policies[0].Name != "ReadOnlyAccess" ||
		!strings.Contains(e.Policies[1].Label, EmbeddedNote) || e.Policies[1].Document == nil {
		t.Errorf("sso role with the embedded policies: %+v", e)
	}
	if r := a.Role(sso); !r.IdentityCenter || r.ServiceLinked || r.LastUsed.LastUsedDate.Format(time.RFC3339) != "2023-03-27T17:24:21Z" {
		t.Errorf("%s: %+v", sso, r)
	}
	ssm := a.Role("AWSServiceRoleForAmazonSSM")
	if !ssm.ServiceLinked || ssm.IdentityCenter || ssm.Path != "/aws-service-role/ssm.amazonaws.com/" {
		t.Errorf("service-linked role: %+v", ssm)
	}
	// A role ARN with its path, and one whose path differs (matched by name).
	for _, arn := range []string{ssm.ARN, "arn:aws:iam::200611803367:role/AWSServiceRoleForAmazonSSM"} {
		e, err := a.EffectivePolicies(arn)
		if err != nil || e.Name != ssm.Name || len(e.Policies) != 1 || e.Policies[0].ARN != "arn:aws:iam::aws:policy/aws-service-role/AmazonSSMServiceRolePolicy" {
			t.Errorf("%s: %+v %v", arn, e, err)
		}
	}

	for arn, want := range map[string]error{
		"arn:aws:iam::200611803367:user/nobody":           ErrNoSuchPrincipal,
		"arn:aws:iam::111122223333:user/privesc-sre-user": ErrNoSuchPrincipal,
		"arn:aws:iam::200611803367:group/admin":           ErrNotPrincipal,
		"arn:aws:iam::200611803367:root":                  ErrNotPrincipal,
		"arn:aws:sts::200611803367:federated-user/bob":    ErrNotPrincipal,
		"alice": ErrNotPrincipal,
		"arn:aws:sts::200611803367:assumed-role/NoSuchRole/s": ErrNoSuchPrincipal,
	} {
		if _, err := a.EffectivePolicies(arn); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", arn, err, want)
		}
	}

	if ps := a.PoliciesNamed("AdministratorAccess"); len(ps) != 1 || !ps[0].AWSManaged || ps[0].Default == nil || ps[0].Default.ID != "v1" {
		t.Errorf("PoliciesNamed: %+v", ps)
	}
	if g := a.Group("admin"); g == nil || strings.Join(g.Members, ",") != "userwithlotsofpermissions" {
		t.Errorf("admin members: %+v", g)
	}
	if p, ok := a.Path(KindRole, sso); !ok || p != IdentityCenterPath {
		t.Errorf("Path(role) %q %v", p, ok)
	}
	if _, ok := a.Path(KindGroup, "nope"); ok {
		t.Error("Path of a missing group")
	}
}

// TestAccessKeysMerge: keys listed by ListAccessKeys take the report's
// last use when their creation time matches a slot; a slot matching no
// listed key is kept without an ID (and reported); keys can be found by ID.
func TestAccessKeysMerge(t *testing.T) {
	csvText := strings.Join(CredentialReportColumns, ",") + "\n" +
		"<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2024-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
		"dev,arn:aws:iam::111122223333:user/team/dev,2024-01-01T00:00:00+00:00,true,no_information,2024-01-01T00:00:00+00:00,N/A,true," +
		"true,2024-03-01T10:00:00+00:00,2024-06-01T00:00:00+00:00,eu-west-1,sts," +
		"false,2024-04-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n"
	in := &Input{Outputs: Outputs{
		CredentialReport: &CredentialReportOutput{CSV: csvText, GeneratedTime: Time{Time: time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)}},
		UserCredentials: map[string]*UserCredentials{
			"dev": {AccessKeyMetadata: []AccessKeyMetadata{
				{AccessKeyId: "AKIAKEYB", Status: "Active", CreateDate: Time{Time: time.Date(2024, 6, 20, 0, 0, 0, 0, time.UTC)},
					AccessKeyLastUsed: &AccessKeyLastUsed{ServiceName: NA, Region: NA}},
				{AccessKeyId: "AKIAKEYA", Status: "Active", CreateDate: Time{Time: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}},
			}, MFADevices: []MFADevice{{UserName: "dev", SerialNumber: "GAHT12345678"}}},
			"ghost": {},
		},
		VirtualMFADevices: &VirtualMFADevicesOutput{VirtualMFADevices: []VirtualMFADevice{
			{SerialNumber: "arn:aws:iam::111122223333:mfa/dev", User: &MFAUser{Arn: "arn:aws:iam::111122223333:user/team/dev"}},
			{SerialNumber: "arn:aws:iam::111122223333:mfa/root-account-mfa-device", User: &MFAUser{Arn: "arn:aws:iam::111122223333:root"}},
		}},
	}}
	a := Build(in)
	if a.ID != "111122223333" || !a.CollectedAt.Equal(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)) || a.Root == nil {
		t.Errorf("account %q at %v root %v", a.ID, a.CollectedAt, a.Root)
	}
	u := a.User("dev")
	if u == nil || u.Path != "/team/" || !u.PasswordEnabled || !u.PasswordLastUsed.IsZero() || !u.MFAActive || len(u.AccessKeys) != 3 {
		t.Fatalf("dev: %+v", u)
	}
	ka, slot2, kb := u.AccessKeys[0], u.AccessKeys[1], u.AccessKeys[2]
	if ka.ID != "AKIAKEYA" || ka.ReportSlot != 1 || ka.LastUsedRegion != "eu-west-1" || ka.LastUsedService != "sts" || ka.LastUsed.Format("2006-01-02") != "2024-06-01" {
		t.Errorf("key A: %+v", ka)
	}
	if slot2.ID != "" || slot2.ReportSlot != 2 || slot2.Active() || !slot2.LastUsed.IsZero() || slot2.Created.Format("2006-01-02") != "2024-04-01" {
		t.Errorf("report slot 2: %+v", slot2)
	}
	if kb.ID != "AKIAKEYB" || kb.ReportSlot != 0 || !kb.LastUsed.IsZero() || kb.LastUsedService != "" {
		t.Errorf("key B: %+v", kb)
	}
	if owner, k := a.AccessKey("AKIAKEYA"); owner != u || k.ReportSlot != 1 {
		t.Errorf("AccessKey: %v %v", owner, k)
	}
	if owner, _ := a.AccessKey("AKIANONE"); owner != nil {
		t.Error("found a key nobody has")
	}
	if len(u.MFADevices) != 2 || u.MFADevices[0].Virtual() || !u.MFADevices[1].Virtual() {
		t.Errorf("MFA devices %+v", u.MFADevices)
	}
	var msgs []string
	for _, p := range a.Problems {
		msgs = append(msgs, p.String())
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "access key 2 (created 2024-04-01T00:00:00+00:00) is not among the keys") || !strings.Contains(msgs[1], "ghost") {
		t.Errorf("problems %q", msgs)
	}
	if _, err := a.EffectivePolicies(u.ARN); !errors.Is(err, ErrNotRead) {
		t.Errorf("policies without GAAD: %v", err)
	}
}

// TestReadSnapshotFixtures reads the IAM part of the CIS snapshots.
func TestReadSnapshotFixtures(t *testing.T) {
	read := func(name string) *Input {
		f, err := os.Open(filepath.Join("..", "..", "testdata", "cis", name, "snapshot.json"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		in, err := ReadSnapshot(f)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	a := Build(read("fail"))
	if a.ID != "111122223333" || !a.CollectedAt.Equal(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)) || !a.Read.AuthorizationDetails || !a.Read.CredentialReport {
		t.Fatalf("fail: %q %v %+v", a.ID, a.CollectedAt, a.Read)
	}
	// carol is in the credential report but not in the authorization
	// details: a problem, not a user without policies.
	if len(a.Problems) != 1 || !strings.Contains(a.Problems[0].String(), "user/carol: a user the authorization details do not list") || a.User("carol") != nil {
		t.Errorf("problems %v", a.Problems)
	}
	e, err := a.EffectivePolicies("arn:aws:iam::111122223333:user/alice")
	if err != nil || labels(e) != "user alice: inline extra|user alice: managed god (arn:aws:iam::111122223333:policy/god)" {
		t.Errorf("alice: %q %v", labels(e), err)
	}
	// god's document is URL-encoded in the fixture.
	if god := a.Policy("arn:aws:iam::111122223333:policy/god"); god == nil || god.Document == nil || god.Document.Statement[0].Resource[0] != "*" {
		t.Errorf("god: %+v", god)
	}
	pass := Build(read("pass"))
	// deploy's default is v2 (v1 allows everything).
	if d := pass.Policy("arn:aws:iam::111122223333:policy/deploy"); d == nil || d.Default.ID != "v2" || d.Document.Statement[0].Action[0] != "s3:PutObject" || len(d.Versions) != 2 {
		t.Errorf("deploy: %+v", d)
	}
	partial := Build(read("partial"))
	if partial.Read.AuthorizationDetails || partial.Read.CredentialReport || len(partial.Users) != 0 {
		t.Errorf("partial: %+v", partial.Read)
	}

	in, err := ReadSnapshot(strings.NewReader(`{"format":"iamlens-cis-snapshot/1","accountId":"1","collectedAt":"2026-01-02T03:04:05Z","iam":{},
	 "errors":[{"service":"iam","operation":"GetCredentialReport","message":"AccessDenied: no"},{"region":"us-east-1","service":"ec2","operation":"DescribeVpcs","message":"x"}]}`))
	if err != nil || len(in.Failed) != 1 || !strings.Contains(in.Failed[0].String(), "GetCredentialReport could not be read: AccessDenied: no") {
		t.Errorf("errors: %+v %v", in, err)
	}
	if _, err := ReadSnapshot(strings.NewReader(`{"format":"iamlens-cis-snapshot/9"}`)); err == nil || !strings.Contains(err.Error(), "this iamlens reads") {
		t.Errorf("format: %v", err)
	}
}

func airIAMFiles(t *testing.T) []string {
	files := []string{testdata("airiam", "iam_data-excerpt.json")}
	if haveShared(t) {
		files = append(files, sharedOutputs(t, "credential-report", "airiam-tests-iam_data.json"))
	}
	return files
}

// TestReadAirIAM reads AirIAM's iam_data.json: its GAAD lists and its
// credential report rows, whose left-out cells are N/A.
func TestReadAirIAM(t *testing.T) {
	for _, path := range airIAMFiles(t) {
		a, err := (Files{GAAD: path}).Load()
		if err != nil {
			t.Fatal(err)
		}
		acct := Build(a)
		if acct.ID != "000000000000" || !acct.Read.AuthorizationDetails || !acct.Read.CredentialReport || len(acct.Problems) != 0 || acct.Root == nil {
			t.Fatalf("%s: %q %+v %v", path, acct.ID, acct.Read, acct.Problems)
		}
		wifi := acct.User("wifi")
		if wifi == nil || wifi.PasswordEnabled || !wifi.Credentials.PasswordLastUsed.Is(NA) || len(wifi.AccessKeys) != 1 ||
			wifi.AccessKeys[0].LastUsedService != "ec2" || wifi.AccessKeys[0].LastUsedRegion != "us-east-2" || wifi.CreateDate.IsZero() {
			t.Errorf("wifi: %+v", wifi)
		}
		e, err := acct.EffectivePolicies(wifi.ARN)
		if err != nil || !strings.Contains(labels(e), "group aws-admins: managed AdministratorAccess") || len(e.Unknown) != 0 {
			t.Errorf("wifi's policies: %q %v %v", labels(e), e, err)
		}
		if r := acct.Role("aws-quicksight-service-role-v0"); r == nil || r.Path != "/service-role/" || r.ServiceLinked {
			t.Errorf("quicksight role: %+v", r)
		}
	}
}

// TestFilesLoad: the file combinations, and content detection.
func TestFilesLoad(t *testing.T) {
	gaad := testdata("cloudsplaining", "example-authz-details-excerpt.json")
	report := testdata("prowler", "credential-report.csv")
	in, err := Files{GAAD: gaad, CredentialReport: report}.Load()
	if err != nil || in.AuthorizationDetails == nil || in.CredentialReport == nil {
		t.Fatalf("%+v %v", in, err)
	}
	// The prowler rows are for other users than the GAAD's: each is a
	// problem, not a silent loss.
	a := Build(in)
	n := 0
	for _, p := range a.Problems {
		if strings.Contains(p.Message, "do not list") {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d rows of unlisted users reported, want 4: %v", n, a.Problems)
	}
	if _, err := (Files{}).Load(); !errors.Is(err, ErrNoFiles) {
		t.Errorf("no files: %v", err)
	}
	if _, err := (Files{Snapshot: "s.json", GAAD: gaad}).Load(); err == nil {
		t.Error("snapshot and GAAD together")
	}
	if _, err := (Files{GAAD: report}).Load(); err == nil || !strings.Contains(err.Error(), report) {
		t.Errorf("a CSV as GAAD: %v", err)
	}
	if _, err := (Files{CredentialReport: gaad}).Load(); err == nil {
		t.Error("a GAAD file read as a credential report")
	}
	if _, err := (Files{Snapshot: filepath.Join(t.TempDir(), "none.json")}).Load(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing snapshot: %v", err)
	}
}

func TestPathFromARN(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::1:user/alice":                              "/",
		"arn:aws:iam::1:role/aws-service-role/x.amazonaws.com/R": "/aws-service-role/x.amazonaws.com/",
		"arn:aws-cn:iam::1:group/eng/devs":                       "/eng/",
		"arn:aws:iam::aws:policy/job-function/Billing":           "/job-function/",
	} {
		if got, ok := PathFromARN(in); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"arn:aws:iam::1:root", "arn:aws:s3:::bucket/key", "arn:aws:iam::1:mfa/dev", "user/alice"} {
		if got, ok := PathFromARN(in); ok {
			t.Errorf("%s: %q", in, got)
		}
	}
}
