package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// realRecord loads one record from the real CloudTrail data. file is
// named as under ../shared/data/cloudtrail/dev (ingesttest.CloudTrailFile); id is the eventID, or for the
// panther JSON-lines file (whose eventIDs repeat or are missing) "line:N".
func realRecord(t *testing.T, file, id string) gjson.Result {
	t.Helper()
	path := ingesttest.CloudTrailFile(t, file)
	if n, ok := strings.CutPrefix(id, "line:"); ok {
		want, err := strconv.Atoi(n)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for line := 1; sc.Scan(); line++ {
			if line == want {
				return gjson.Get(sc.Text(), "event")
			}
		}
		t.Fatalf("%s has no line %d", file, want)
	}
	var data []byte
	if strings.HasSuffix(path, ".gz") {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := json.NewDecoder(zr).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		data = raw
	} else {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	root := gjson.ParseBytes(data)
	if recs := root.Get("Records"); recs.IsArray() {
		root = recs
	}
	var found gjson.Result
	root.ForEach(func(_, rec gjson.Result) bool {
		if rec.Get("eventID").Str == id {
			found = rec
			return false
		}
		return true
	})
	if !found.Exists() {
		t.Fatalf("%s: no record with eventID %s", file, id)
	}
	return found
}

const (
	invictusDir = "invictus-ir-aws_dataset/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_"
	panther     = "panther-analysis-tests/cloudtrail_tests.jsonl"
	trailscrap  = "trailscraper-fixtures/tests/cloudtrail/data/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json"
)

// TestResolveRecordReal resolves real records of each principal kind the
// shared data holds (found with a survey script over every file).
func TestResolveRecordReal(t *testing.T) {
	tests := []struct {
		name, file, id string
		want           Principal
		cross          bool
	}{
		{
			name: "iam user", file: "traildiscover/logExamples/AssumeRole.json.cloudtrail", id: "74291117-984f-4ac2-bffc-0dd438b58e6f",
			want: Principal{ARN: "arn:aws:iam::111111111111:user/TrailDiscover", Kind: KindIAMUser, Account: "111111111111"},
		},
		{
			// A console sign-in step names the user but has no ARN.
			name: "iam user without arn", file: invictusDir + "20230710T1230Z_AvIajGd5rkz6vTy4.json.gz", id: "74b4a7d6-764d-4ec8-bbd4-91e7a84e6780",
			want: Principal{ARN: "arn:aws:iam::123837392027:user/bert-jan", Kind: KindIAMUser, Account: "123837392027"},
		},
		{
			// The user is the principal; the service that acted for it is InvokedBy.
			name: "iam user via a service", file: invictusDir + "20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz", id: "1fb0962b-8d29-4ea5-b0f3-b12665a99c40",
			want: Principal{ARN: "arn:aws:iam::123837392027:user/bert-jan", Kind: KindIAMUser, Account: "123837392027", InvokedBy: "secretsmanager.amazonaws.com"},
		},
		{
			name: "iam user via AWS Internal", file: invictusDir + "20230710T1145Z_7xgocspSowgK0Gto.json.gz", id: "293ba626-3be5-4a26-ab1b-0f4c54f49959",
			want: Principal{ARN: "arn:aws:iam::123837392027:user/benjamin", Kind: KindIAMUser, Account: "123837392027", InvokedBy: "AWS Internal"},
		},
		{
			name: "assumed role", file: invictusDir + "20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz", id: "fbd91225-39aa-4c00-822c-9f0b96e7758f",
			want: Principal{ARN: "arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role", Kind: KindRole, Account: "123837392027", SessionName: "aws-go-sdk-1688990082523310002"},
		},
		{
			// No sessionIssuer: the role ARN is rebuilt from the session ARN.
			name: "assumed role without issuer", file: panther, id: "line:72",
			want: Principal{ARN: "arn:aws:iam::123456789012:role/MyRole", Kind: KindRole, Account: "123456789012", SessionName: "session"},
		},
		{
			name: "identity center permission-set role", file: "traildiscover/logExamples/CreateKey.json.cloudtrail", id: "6f4babb4-aac4-4664-a2e6-1ce8c9baac2b",
			want: Principal{
				ARN:  "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ReadOnlyAccess_ff7f8c5c5851db50",
				Kind: KindSSORole, Account: "111111111111", SessionName: "AdanAlvarez", PermissionSet: "ReadOnlyAccess",
			},
		},
		{
			// No issuer and no accountId: the path is lost, the name still says sso.
			name: "sso role without issuer", file: panther, id: "line:73",
			want: Principal{ARN: "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin", Kind: KindSSORole, Account: "123456789012", SessionName: "user@example.com", PermissionSet: "Admin"},
		},
		{
			name: "service-linked role", file: invictusDir + "20230710T1220Z_ovtmbuX3ENJ119uH.json.gz", id: "a6e2c503-7c14-4aca-b20f-0b34957b7279",
			want: Principal{ARN: "arn:aws:iam::123837392027:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS", Kind: KindServiceLinkedRole, Account: "123837392027", SessionName: "SLRManagement", InvokedBy: "rds.amazonaws.com"},
		},
		{
			name: "service-linked role invoked by its service", file: invictusDir + "20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz", id: "3bcc9d61-5936-429a-8b49-d5cb8e7b0e06",
			want: Principal{ARN: "arn:aws:iam::123837392027:role/aws-service-role/inspector2.amazonaws.com/AWSServiceRoleForAmazonInspector2", Kind: KindServiceLinkedRole, Account: "123837392027", SessionName: "MandoService2842426183934887787", InvokedBy: "inspector2.amazonaws.com"},
		},
		{
			name: "root", file: panther, id: "line:163",
			want: Principal{ARN: "arn:aws:iam::123456789012:root", Kind: KindRoot, Account: "123456789012"},
		},
		{
			// ConsoleLogin with {"type":"Root","userName":"root"} only: the
			// root user acts in its own account, the recipient.
			name: "root without arn or account", file: panther, id: "line:66",
			want: Principal{ARN: "arn:aws:iam::111122223333:root", Kind: KindRoot, Account: "111122223333"},
		},
		{
			name: "federated user", file: panther, id: "line:160",
			want: Principal{ARN: "arn:aws:sts::123456789012:federated-user/federated-user", Kind: KindFederatedUser, Account: "123456789012", SessionName: "federated-user"},
		},
		{
			name: "aws service", file: invictusDir + "20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz", id: "a4a7b25e-c2d5-436f-8a7e-ea89f50541ab",
			want: Principal{ARN: "inspector2.amazonaws.com", Kind: KindAWSService, InvokedBy: "inspector2.amazonaws.com"},
		},
		{
			name: "aws service in trailscraper", file: trailscrap, id: "b25ff7e3-f1cf-4b7f-883d-b09168c454d5",
			want: Principal{ARN: "config.amazonaws.com", Kind: KindAWSService, InvokedBy: "config.amazonaws.com"},
		},
		{
			// AwsServiceEvent: userIdentity has accountId and invokedBy, no type.
			name: "aws service event without type", file: invictusDir + "20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz", id: "895dc875-cb08-45a5-b8c2-9158838741c0",
			want: Principal{ARN: "ec2.amazonaws.com", Kind: KindAWSService, Account: "123837392027", InvokedBy: "ec2.amazonaws.com"},
		},
		{
			// AwsServiceEvent with no userIdentity at all: the event source acts.
			name: "aws service event without userIdentity", file: panther, id: "line:3",
			want: Principal{ARN: "organizations.amazonaws.com", Kind: KindAWSService, InvokedBy: "organizations.amazonaws.com"},
		},
		{
			name: "api call without userIdentity", file: "traildiscover/logExamples/SendEmail.json.cloudtrail", id: "eb834e01-f168-435f-92c0-c36278378b6e",
			want: Principal{Kind: KindUnknown},
		},
		{
			// Another account's role session: only account and unique ID are given.
			name: "aws account, cross-account", file: panther, id: "line:213",
			want:  Principal{ARN: "arn:aws:iam::111111111111:root", Kind: KindAWSAccount, Account: "111111111111", SessionName: "session-name"},
			cross: true,
		},
		{
			name: "aws account, same account", file: panther, id: "line:218",
			want: Principal{ARN: "arn:aws:iam::111122223333:root", Kind: KindAWSAccount, Account: "111122223333", SessionName: "lambda-name"},
		},
		{
			name: "assumed role, cross-account", file: panther, id: "line:395",
			want:  Principal{ARN: "arn:aws:iam::123456789012:role/SomeRole", Kind: KindRole, Account: "123456789012", SessionName: "1641313043312360000"},
			cross: true,
		},
		{
			// Older Identity Center sign-ins: type Unknown, no ARN.
			name: "unknown type", file: panther, id: "line:171",
			want: Principal{Kind: KindUnknown, Account: "<organization master account ID>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := realRecord(t, tt.file, tt.id)
			got := ResolveRecord(rec)
			if got != tt.want {
				t.Errorf("ResolveRecord(%s %s)\n got %+v\nwant %+v", tt.file, tt.id, got, tt.want)
			}
			if cross := IsCrossAccount(got.Account, rec.Get("recipientAccountId").Str); cross != tt.cross {
				t.Errorf("IsCrossAccount = %v, want %v", cross, tt.cross)
			}
			// ResolvePrincipal (userIdentity alone) agrees whenever the
			// record's userIdentity names the principal by itself.
			alone := ResolvePrincipal(rec.Get("userIdentity"))
			if alone.ARN != "" && alone != got {
				t.Errorf("ResolvePrincipal disagrees: %+v", alone)
			}
		})
	}
}

// TestResolveDocumented covers kinds of which the shared data holds no real
// record. Each userIdentity is AWS's documented example ("CloudTrail
// userIdentity element" and "Values for AWS STS APIs with SAML and web
// identity federation" in the CloudTrail User Guide), or that example with
// only the partition or region changed where the case is a partition.
func TestResolveDocumented(t *testing.T) {
	tests := []struct {
		name   string
		record string
		want   Principal
	}{
		{
			name: "web identity user",
			record: `{"eventName":"AssumeRoleWithWebIdentity","eventSource":"sts.amazonaws.com","recipientAccountId":"123456789012",
			  "userIdentity":{"type":"WebIdentityUser","principalId":"accounts.google.com:application-id.apps.googleusercontent.com:user-id","userName":"user-id","identityProvider":"accounts.google.com"},
			  "requestParameters":{"roleArn":"arn:aws:iam::123456789012:role/FederatedWebIdentityRole","roleSessionName":"MyAssignedRoleSessionName"}}`,
			want: Principal{ARN: "web-identity:accounts.google.com:user-id", Kind: KindWebIdentity, IdentityProvider: "accounts.google.com", TargetRole: "arn:aws:iam::123456789012:role/FederatedWebIdentityRole"},
		},
		{
			name: "saml user",
			record: `{"eventName":"AssumeRoleWithSAML","eventSource":"sts.amazonaws.com","recipientAccountId":"444455556666",
			  "userIdentity":{"type":"SAMLUser","principalId":"SampleUkh1i4+ExamplexL/jEvs=:SamlExample","userName":"SamlExample","identityProvider":"bdGOnTesti4+ExampleGYmSqw="},
			  "requestParameters":{"sAMLAssertionID":"_c0046cEXAMPLEb9d4b8eEXAMPLE2619aEXAMPLE","roleSessionName":"MyAssignedRoleSessionName","durationSeconds":3600,"roleArn":"arn:aws:iam::444455556666:role/SAMLTestRoleShibboleth","principalArn":"arn:aws:iam::444455556666:saml-provider/Shibboleth"}}`,
			want: Principal{ARN: "saml:bdGOnTesti4+ExampleGYmSqw=:SamlExample", Kind: KindSAML, IdentityProvider: "bdGOnTesti4+ExampleGYmSqw=", TargetRole: "arn:aws:iam::444455556666:role/SAMLTestRoleShibboleth"},
		},
		{
			// A later call of a web-identity session is an AssumedRole of the role.
			name: "role session from web identity",
			record: `{"recipientAccountId":"123456789012","userIdentity":{"type":"AssumedRole","principalId":"AROACQRSTUVWRAOEXAMPLE:my-app",
			  "arn":"arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/my-app","accountId":"123456789012",
			  "sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROACQRSTUVWRAOEXAMPLE","arn":"arn:aws:iam::123456789012:role/FederatedWebIdentityRole","accountId":"123456789012","userName":"FederatedWebIdentityRole"},
			  "webIdFederationData":{"federatedProvider":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com","attributes":{}}}}}`,
			want: Principal{ARN: "arn:aws:iam::123456789012:role/FederatedWebIdentityRole", Kind: KindRole, Account: "123456789012", SessionName: "my-app",
				IdentityProvider: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
		},
		{
			name: "identity center user",
			record: `{"recipientAccountId":"123456789012","userIdentity":{"type":"IdentityCenterUser","accountId":"123456789012",
			  "onBehalfOf":{"userId":"544894e8-80c1-707f-60e3-3ba6510dfac1","identityStoreArn":"arn:aws:identitystore::123456789012:identitystore/d-9067642ac7"},
			  "credentialId":"EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE"}}`,
			want: Principal{ARN: "arn:aws:identitystore:::user/544894e8-80c1-707f-60e3-3ba6510dfac1", Kind: KindIdentityCenter, Account: "123456789012"},
		},
		{
			name: "federated user with issuer",
			record: `{"recipientAccountId":"123456789012","userIdentity":{"type":"FederatedUser","principalId":"123456789012:Bob",
			  "arn":"arn:aws:sts::123456789012:federated-user/Bob","accountId":"123456789012","accessKeyId":"ASIAIOSFODNN7EXAMPLE",
			  "sessionContext":{"sessionIssuer":{"type":"IAMUser","principalId":"AIDAJ45Q7YFFAREXAMPLE","arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012","userName":"Alice"},
			  "attributes":{"mfaAuthenticated":"false","creationDate":"2023-05-15T17:11:55Z"}}}}`,
			want: Principal{ARN: "arn:aws:sts::123456789012:federated-user/Bob", Kind: KindFederatedUser, Account: "123456789012", SessionName: "Bob", Issuer: "arn:aws:iam::123456789012:user/Alice"},
		},
		{
			name: "aws-cn assumed role keeps its partition and path",
			record: `{"awsRegion":"cn-north-1","recipientAccountId":"123456789012","userIdentity":{"type":"AssumedRole","principalId":"AROAIDPPEZS35WEXAMPLE:MySessionName",
			  "arn":"arn:aws-cn:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName","accountId":"123456789012",
			  "sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAIDPPEZS35WEXAMPLE","arn":"arn:aws-cn:iam::123456789012:role/ops/RoleToBeAssumed","accountId":"123456789012","userName":"RoleToBeAssumed"}}}}`,
			want: Principal{ARN: "arn:aws-cn:iam::123456789012:role/ops/RoleToBeAssumed", Kind: KindRole, Account: "123456789012", SessionName: "MySessionName"},
		},
		{
			name:   "aws-us-gov session without issuer",
			record: `{"awsRegion":"us-gov-west-1","userIdentity":{"type":"AssumedRole","arn":"arn:aws-us-gov:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName","accountId":"123456789012"}}`,
			want:   Principal{ARN: "arn:aws-us-gov:iam::123456789012:role/RoleToBeAssumed", Kind: KindRole, Account: "123456789012", SessionName: "MySessionName"},
		},
		{
			name:   "aws-us-gov iam user",
			record: `{"awsRegion":"us-gov-east-1","userIdentity":{"type":"IAMUser","principalId":"AIDAJ45Q7YFFAREXAMPLE","arn":"arn:aws-us-gov:iam::123456789012:user/division/Alice","accountId":"123456789012","userName":"Alice"}}`,
			want:   Principal{ARN: "arn:aws-us-gov:iam::123456789012:user/division/Alice", Kind: KindIAMUser, Account: "123456789012"},
		},
		{
			// Without an ARN the partition comes from the region.
			name:   "aws-cn root without arn",
			record: `{"awsRegion":"cn-northwest-1","recipientAccountId":"123456789012","userIdentity":{"type":"Root","principalId":"123456789012","accountId":"123456789012"}}`,
			want:   Principal{ARN: "arn:aws-cn:iam::123456789012:root", Kind: KindRoot, Account: "123456789012"},
		},
		{
			name:   "service-linked role name without path",
			record: `{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForECS/ecs-service-scheduler","accountId":"123456789012"}}`,
			want:   Principal{ARN: "arn:aws:iam::123456789012:role/AWSServiceRoleForECS", Kind: KindServiceLinkedRole, Account: "123456789012", SessionName: "ecs-service-scheduler"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !gjson.Valid(tt.record) {
				t.Fatal("invalid JSON in the test table")
			}
			got := ResolveRecord(gjson.Parse(tt.record))
			if got != tt.want {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPermissionSetName(t *testing.T) {
	tests := []struct{ arn, want string }{
		{"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ReadOnlyAccess_ff7f8c5c5851db50", "ReadOnlyAccess"},
		{"arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Data_Eng_Admin_0123456789abcdef/alice", "Data_Eng_Admin"},
		{"arn:aws:iam::123456789012:role/AWSReservedSSO_Admin", "Admin"},
		{"arn:aws:iam::123456789012:role/Admin", ""},
	}
	for _, tt := range tests {
		if got := PermissionSetName(tt.arn); got != tt.want {
			t.Errorf("PermissionSetName(%q) = %q, want %q", tt.arn, got, tt.want)
		}
	}
}

func TestIsCrossAccount(t *testing.T) {
	tests := []struct {
		p, r string
		want bool
	}{
		{"111111111111", "222222222222", true},
		{"111111111111", "111111111111", false},
		{"", "222222222222", false},
		{"111111111111", "", false},
	}
	for _, tt := range tests {
		if got := IsCrossAccount(tt.p, tt.r); got != tt.want {
			t.Errorf("IsCrossAccount(%q, %q) = %v", tt.p, tt.r, got)
		}
	}
}

// TestResolveInvictusEveryRecord resolves every record of the invictus
// sample and checks invariants computed independently with encoding/json:
// every record with a userIdentity ARN or an invokedBy gets a principal,
// assumed-role sessions never keep an sts ARN, and the principal of a record
// with both an ARN and invokedBy is not the service.
func TestResolveInvictusEveryRecord(t *testing.T) {
	type ui struct {
		Type      string `json:"type"`
		ARN       string `json:"arn"`
		InvokedBy string `json:"invokedBy"`
	}
	records, named := 0, 0
	files := 0
	ingesttest.LogFiles(t, ingesttest.Sample(t), func(path string, data []byte) {
		files++
		var log struct {
			Records []json.RawMessage `json:"Records"`
		}
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&log); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, raw := range log.Records {
			var r struct {
				EventID      string `json:"eventID"`
				UserIdentity *ui    `json:"userIdentity"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			records++
			p := ResolveRecord(gjson.ParseBytes(raw))
			if p.Kind == "" {
				t.Errorf("%s: empty kind", r.EventID)
			}
			if p.ARN != "" {
				named++
			}
			if r.UserIdentity == nil {
				continue
			}
			u := r.UserIdentity
			if (u.ARN != "" || u.InvokedBy != "") && p.ARN == "" {
				t.Errorf("%s: %+v resolved to no principal", r.EventID, u)
			}
			if u.Type == "AssumedRole" && !strings.Contains(p.ARN, ":iam::") {
				t.Errorf("%s: assumed role resolved to %q", r.EventID, p.ARN)
			}
			if u.ARN != "" && u.InvokedBy != "" && p.ARN == u.InvokedBy {
				t.Errorf("%s: a service acting for %s was taken as the principal", r.EventID, u.ARN)
			}
		}
	})
	if files == 0 {
		t.Fatal("no invictus files")
	}
	if records != 2900 {
		t.Errorf("read %d records, the data README says 2,900", records)
	}
	t.Logf("%d records, %d with a named principal", records, named)
}

// BenchmarkResolveIdentity parses and resolves every distinct userIdentity
// block of the real logs, with the MFA flag the decoder reads: the work of
// an identity cache miss.
func BenchmarkResolveIdentity(b *testing.B) {
	seen := map[string]bool{}
	var blocks []gjson.Result
	for _, ui := range realIdentities(b) {
		if ui.Exists() && !seen[ui.Raw] {
			seen[ui.Raw] = true
			blocks = append(blocks, ui)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, ui := range blocks {
			id := ParseIdentity(ui)
			_ = ResolveIdentity(id, Context{RecipientAccount: "111122223333", Region: "us-east-1"})
		}
	}
	b.ReportMetric(float64(len(blocks)), "blocks")
}

func TestSessionFromARN(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sts::123456789012:assumed-role/Deploy/ci-42":        "ci-42",
		"arn:aws:sts::123456789012:assumed-role/Deploy":              "",
		"arn:aws:sts::123456789012:assumed-role/":                    "",
		"arn:aws:sts::123456789012:federated-user/Bob":               "Bob",
		"arn:aws:iam::123456789012:user/ops/alice":                   "",
		"arn:aws:iam::123456789012:root":                             "",
		"":                                                           "",
		"arn:aws-cn:sts::123456789012:assumed-role/R/s/with/slashes": "slashes",
	} {
		if got := sessionFromARN(parseARN(arn)); got != want {
			t.Errorf("sessionFromARN(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestIsEmptyObject(t *testing.T) {
	for raw, want := range map[string]bool{
		`{}`: true, `{ }`: true, "{\n\t\r }": true, ` {}`: true,
		`{"a":1}`: false, `{ "type":"Root" }`: false, `{"":{}}`: false,
	} {
		if got := isEmptyObject(gjson.Parse(raw)); got != want {
			t.Errorf("isEmptyObject(%q) = %v, want %v", raw, got, want)
		}
	}
}

func TestWithoutSession(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:sts::123456789012:assumed-role/deploy/run-42":    "arn:aws:sts::123456789012:assumed-role/deploy",
		"arn:aws-cn:sts::123456789012:assumed-role/deploy/i-0abc": "arn:aws-cn:sts::123456789012:assumed-role/deploy",
		"arn:aws:sts::123456789012:assumed-role/deploy":           "arn:aws:sts::123456789012:assumed-role/deploy",
		"arn:aws:iam::123456789012:user/alice":                    "arn:aws:iam::123456789012:user/alice",
		"arn:aws:sts::123456789012:federated-user/bob":            "arn:aws:sts::123456789012:federated-user/bob",
		"arn:aws:iam::123456789012:role/path/assumed-role/x/y":    "arn:aws:iam::123456789012:role/path/assumed-role/x/y",
		"": "",
	} {
		if got := WithoutSession(in); got != want {
			t.Errorf("WithoutSession(%q) = %q, want %q", in, got, want)
		}
	}
}
