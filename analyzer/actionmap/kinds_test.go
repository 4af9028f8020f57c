package actionmap

import (
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// TestPrincipalKinds maps one real record of each principal kind (and of
// each kind of record that is not an API call) from the logs under
// real logs (ingesttest.CloudTrailDirs), and checks the actions and resources.
func TestPrincipalKinds(t *testing.T) {
	m, _ := mapper(t)
	recs := ingesttest.DevRecords(t)
	tests := []struct {
		kind, eventType, source, name, code string // selects the first matching record
		status                              Status
		want                                map[string][]string // action → resources
	}{
		{"IAMUser", "AwsApiCall", "s3.amazonaws.com", "GetBucketAcl", "", Mapped,
			map[string][]string{"s3:GetBucketAcl": {"arn:aws:s3:::baker221b-bucketssecuritylogsbef08b3e-13nrzhi7fcs7w"}}},
		// Denied: no requestParameters; the resource comes from the message.
		{"IAMUser", "AwsApiCall", "sts.amazonaws.com", "AssumeRole", "AccessDenied", Mapped,
			map[string][]string{"sts:AssumeRole": {"arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role"}}},
		{"AssumedRole", "AwsApiCall", "ec2.amazonaws.com", "GetPasswordData", "Client.UnauthorizedOperation", Mapped,
			map[string][]string{"ec2:GetPasswordData": {"arn:aws:ec2:us-east-1:123837392027:instance/i-durz4ux740gjqvcm"}}},
		{"Root", "AwsApiCall", "iam.amazonaws.com", "ListAccessKeys", "", Mapped,
			map[string][]string{"iam:ListAccessKeys": nil}}, // the root user is not an IAM user resource
		{"AWSAccount", "AwsApiCall", "sts.amazonaws.com", "AssumeRole", "", Mapped,
			map[string][]string{"sts:AssumeRole": {"arn:aws:iam::111122223333:role/SampleRole"}}},
		{"AWSService", "AwsApiCall", "sts.amazonaws.com", "AssumeRole", "", Mapped,
			map[string][]string{"sts:AssumeRole": {"arn:aws:iam::123837392027:role/aws-service-role/inspector2.amazonaws.com/AWSServiceRoleForAmazonInspector2"}}},
		{"FederatedUser", "AwsApiCall", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "", Mapped,
			map[string][]string{"lambda:UpdateFunctionCode": {"arn:aws:lambda:us-west-2:123456789012:function:production-api"}}},
		{"Unknown", "", "sso.amazonaws.com", "CreateToken", "", NoPermission, nil},
		{"Unknown", "", "sso.amazonaws.com", "ListApplications", "", Mapped, map[string][]string{"sso:ListApplications": {"*"}}},
		{"", "AwsServiceEvent", "secretsmanager.amazonaws.com", "StartSecretVersionDelete", "", NotAPICall, nil},
		{"IAMUser", "AwsConsoleSignIn", "signin.amazonaws.com", "ConsoleLogin", "", NotAPICall, nil},
		{"Root", "AwsConsoleSignIn", "signin.amazonaws.com", "ConsoleLogin", "", NotAPICall, nil},
		{"AssumedRole", "AwsConsoleAction", "billingconsole.amazonaws.com", "GetContactInformation", "", NotAPICall, nil},
		{"AWSAccount", "AwsVpceEvent", "s3.amazonaws.com", "GetObject", "", NotAPICall, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join([]string{tt.kind, tt.eventType, tt.name, tt.code}, "/"), func(t *testing.T) {
			var rec gjson.Result
			for _, dr := range recs {
				r := dr.Rec
				if r.Get("userIdentity.type").Str == tt.kind && r.Get("eventType").Str == tt.eventType &&
					r.Get("eventSource").Str == tt.source && r.Get("eventName").Str == tt.name && r.Get("errorCode").Str == tt.code {
					rec = r
					break
				}
			}
			if !rec.Exists() {
				t.Fatal("no such record in the real logs")
			}
			c := CallFromRecord(rec)
			r := m.Map(&c)
			if r.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", r.Status, r.Reason, tt.status)
			}
			got := map[string][]string{}
			for _, a := range r.Actions {
				got[a.Name] = a.Resources
			}
			if len(got) != len(tt.want) {
				t.Errorf("actions %v, want %v", got, tt.want)
			}
			for action, want := range tt.want {
				res, ok := got[action]
				if !ok || !slices.Equal(res, want) {
					t.Errorf("%s: %v (present %v), want %v", action, res, ok, want)
				}
			}
		})
	}
}
