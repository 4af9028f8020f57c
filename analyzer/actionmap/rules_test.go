package actionmap

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

func mapper(t *testing.T) (*Mapper, *catalog.Catalog) {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return New(cat), cat
}

// TestRulesNameRealActions: every action a rule table names exists.
func TestRulesNameRealActions(t *testing.T) {
	_, cat := mapper(t)
	for from, tos := range renames {
		for _, to := range tos {
			if _, ok := cat.Action(to); !ok {
				t.Errorf("rename %s → %s: no such action", from, to)
			}
		}
	}
	for src, p := range sourcePrefix {
		if _, ok := cat.Service(p); !ok {
			t.Errorf("eventSource %s → %s: no such service prefix", src, p)
		}
	}
	for k := range noPermission {
		p, _, _ := strings.Cut(k, ":")
		if _, ok := cat.Service(p); !ok && p != "sso-oauth" {
			t.Errorf("no-permission rule %s: no such service", k)
		}
	}
}

func names(r Result) []string {
	var out []string
	for _, a := range r.Actions {
		out = append(out, a.Name)
	}
	return out
}

func TestMapActions(t *testing.T) {
	m, _ := mapper(t)
	tests := []struct {
		source, name, eventType, req string
		status                       Status
		want                         []string
	}{
		// same name
		{"iam.amazonaws.com", "ListUsers", "", "", Mapped, []string{"iam:ListUsers"}},
		// eventSource → prefix exceptions
		{"monitoring.amazonaws.com", "PutMetricAlarm", "", "", Mapped, []string{"cloudwatch:PutMetricAlarm"}},
		{"email.amazonaws.com", "SendEmail", "", "", Mapped, []string{"ses:SendEmail"}},
		{"application-insights.amazonaws.com", "ListApplications", "", "", Mapped, []string{"applicationinsights:ListApplications"}},
		{"streams.dynamodb.amazonaws.com", "GetRecords", "", "", Mapped, []string{"dynamodb:GetRecords"}},
		{"tagging.amazonaws.com", "GetResources", "", "", Mapped, []string{"tag:GetResources"}},
		// version suffixes
		{"lambda.amazonaws.com", "ListFunctions20150331", "", "", Mapped, []string{"lambda:ListFunctions"}},
		{"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "", "", Mapped, []string{"lambda:UpdateFunctionCode"}},
		{"cloudfront.amazonaws.com", "GetDistribution2016_11_25", "", "", Mapped, []string{"cloudfront:GetDistribution"}},
		{"cloudfront.amazonaws.com", "PublishFunction2020_05_31", "", "", Mapped, []string{"cloudfront:PublishFunction"}},
		// S3 renames
		{"s3.amazonaws.com", "ListObjects", "", "", Mapped, []string{"s3:ListBucket"}},
		{"s3.amazonaws.com", "ListObjectsV2", "", "", Mapped, []string{"s3:ListBucket"}},
		{"s3.amazonaws.com", "HeadBucket", "", "", Mapped, []string{"s3:ListBucket"}},
		{"s3.amazonaws.com", "HeadObject", "", "", Mapped, []string{"s3:GetObject"}},
		{"s3.amazonaws.com", "ListBuckets", "", "", Mapped, []string{"s3:ListAllMyBuckets"}},
		{"s3.amazonaws.com", "CreateMultipartUpload", "", "", Mapped, []string{"s3:PutObject"}},
		{"s3.amazonaws.com", "UploadPart", "", "", Mapped, []string{"s3:PutObject"}},
		{"s3.amazonaws.com", "CompleteMultipartUpload", "", "", Mapped, []string{"s3:PutObject"}},
		{"s3.amazonaws.com", "DeleteObjects", "", "", Mapped, []string{"s3:DeleteObject"}},
		{"s3.amazonaws.com", "DeleteBucketCors", "", "", Mapped, []string{"s3:PutBucketCORS"}},
		{"s3.amazonaws.com", "DeleteBucketLifecycle", "", "", Mapped, []string{"s3:PutLifecycleConfiguration"}},
		{"s3.amazonaws.com", "DeleteBucketEncryption", "", "", Mapped, []string{"s3:PutEncryptionConfiguration"}},
		{"s3.amazonaws.com", "DeleteBucketPolicy", "", "", Mapped, []string{"s3:DeleteBucketPolicy"}},
		{"s3.amazonaws.com", "GetBucketEncryption", "", "", Mapped, []string{"s3:GetEncryptionConfiguration"}},
		// multi-action
		{"s3.amazonaws.com", "CopyObject", "", "", Mapped, []string{"s3:GetObject", "s3:PutObject"}},
		{"kms.amazonaws.com", "ReEncrypt", "", "", Mapped, []string{"kms:ReEncryptFrom", "kms:ReEncryptTo"}},
		{"dynamodb.amazonaws.com", "BatchGetItem", "", "", Mapped, []string{"dynamodb:BatchGetItem"}},
		{"dynamodb.amazonaws.com", "TransactWriteItems", "", `{"transactItems":[{"put":{"tableName":"A"}},{"delete":{"tableName":"B"}}]}`, Mapped, []string{"dynamodb:DeleteItem", "dynamodb:PutItem"}},
		{"dynamodb.amazonaws.com", "TransactGetItems", "", "", Mapped, []string{"dynamodb:GetItem"}},
		{"dynamodb.amazonaws.com", "ExecuteStatement", "", `{"statement":"SELECT * FROM \"Orders\""}`, Mapped, []string{"dynamodb:PartiQLSelect"}},
		{"dynamodb.amazonaws.com", "BatchExecuteStatement", "", `{"statements":[{"statement":"insert into T value {}"},{"statement":"DELETE FROM T"}]}`, Mapped, []string{"dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert"}},
		{"apigateway.amazonaws.com", "CreateRoute", "", "", Mapped, []string{"apigateway:POST"}},
		{"s3.amazonaws.com", "GetPublicAccessBlock", "", "", Mapped, []string{"s3:GetAccountPublicAccessBlock"}},
		// no permission, not an API call
		{"sts.amazonaws.com", "GetCallerIdentity", "", "", NoPermission, nil},
		{"sts.amazonaws.com", "AssumeRoleWithWebIdentity", "", "", NoPermission, nil},
		{"signin.amazonaws.com", "ConsoleLogin", "AwsConsoleSignIn", "", NotAPICall, nil},
		{"kms.amazonaws.com", "RotateKey", "AwsServiceEvent", "", NotAPICall, nil},
		// more eventSource exceptions
		{"agreement-marketplace.amazonaws.com", "SearchAgreements", "", "", Mapped, []string{"aws-marketplace:SearchAgreements"}},
		{"pinpoint.amazonaws.com", "GetApps", "", "", Mapped, []string{"mobiletargeting:GetApps"}},
		{"rdsdata.amazonaws.com", "ExecuteStatement", "", "", Mapped, []string{"rds-data:ExecuteStatement"}},
		// public and token-authorised APIs
		{"sso.amazonaws.com", "CreateToken", "", "", NoPermission, nil},
		{"cognito-identity.amazonaws.com", "GetCredentialsForIdentity", "", "", NoPermission, nil},
		{"cognito-idp.amazonaws.com", "InitiateAuth", "", "", NoPermission, nil},
		// records that are not a principal's API call
		{"billingconsole.amazonaws.com", "GetContactInformation", "AwsConsoleAction", "", NotAPICall, nil},
		{"s3.amazonaws.com", "GetObject", "AwsVpceEvent", `{"bucketName":"b","key":"k"}`, NotAPICall, nil},
		{"ec2.amazonaws.com", "SharedSnapshotVolumeCreated", "AwsServiceEvent", "", NotAPICall, nil},
		// unknown
		{"s3.amazonaws.com", "NoSuchThing", "", "", Unmapped, nil},
		{"notaservice.amazonaws.com", "Foo", "", "", Unmapped, nil},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.name, func(t *testing.T) {
			c := Call{EventSource: tt.source, EventName: tt.name, EventType: tt.eventType, RequestParameters: tt.req,
				AWSRegion: "us-east-1", RecipientAccount: "123456789012"}
			r := m.Map(&c)
			if r.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", r.Status, r.Reason, tt.status)
			}
			if tt.status != Mapped && r.Reason == "" {
				t.Errorf("no reason given for %s", r.Status)
			}
			if got := names(r); !slices.Equal(got, tt.want) {
				t.Errorf("actions %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMapResources(t *testing.T) {
	m, _ := mapper(t)
	tests := []struct {
		source, name, req, region, userARN string
		res                                []Resource
		want                               map[string][]string
	}{
		{"s3.amazonaws.com", "GetObject", `{"bucketName":"b","key":"a/b.txt"}`, "us-east-1", "",
			nil, map[string][]string{"s3:GetObject": {"arn:aws:s3:::b/a/b.txt"}}},
		{"s3.amazonaws.com", "ListObjectsV2", `{"bucketName":"b","prefix":"a/"}`, "us-east-1", "",
			nil, map[string][]string{"s3:ListBucket": {"arn:aws:s3:::b"}}},
		{"s3.amazonaws.com", "CopyObject", `{"bucketName":"dst","key":"k2","x-amz-copy-source":"src/dir/k1"}`, "us-east-1", "",
			nil, map[string][]string{"s3:GetObject": {"arn:aws:s3:::src/dir/k1"}, "s3:PutObject": {"arn:aws:s3:::dst/k2"}}},
		{"s3.amazonaws.com", "ListBuckets", `{}`, "us-east-1", "",
			nil, map[string][]string{"s3:ListAllMyBuckets": {"*"}}},
		{"dynamodb.amazonaws.com", "Query", `{"tableName":"Orders","indexName":"ByDate"}`, "eu-west-1", "",
			nil, map[string][]string{"dynamodb:Query": {"arn:aws:dynamodb:eu-west-1:123456789012:table/Orders", "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/index/ByDate"}}},
		{"lambda.amazonaws.com", "Invoke", `{"functionName":"fn"}`, "us-east-1", "",
			nil, map[string][]string{"lambda:InvokeFunction": {"arn:aws:lambda:us-east-1:123456789012:function:fn"}}},
		{"sqs.amazonaws.com", "SendMessage", `{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/q1"}`, "eu-west-1", "",
			nil, map[string][]string{"sqs:SendMessage": {"arn:aws:sqs:eu-west-1:123456789012:q1"}}},
		{"sns.amazonaws.com", "Publish", `{"topicArn":"arn:aws:sns:us-east-1:123456789012:t"}`, "us-east-1", "",
			nil, map[string][]string{"sns:Publish": {"arn:aws:sns:us-east-1:123456789012:t"}}},
		{"kms.amazonaws.com", "Decrypt", `{"encryptionContext":{}}`, "us-east-1", "",
			[]Resource{{ARN: "arn:aws:kms:us-east-1:123456789012:key/0000-1111", Type: "AWS::KMS::Key"}}, map[string][]string{"kms:Decrypt": {"arn:aws:kms:us-east-1:123456789012:key/0000-1111"}}},
		// An alias authorises as the key it names: without the key's ARN in
		// the record, nothing is derived (and the note says so).
		{"kms.amazonaws.com", "DescribeKey", `{"keyId":"alias/app"}`, "us-east-1", "",
			nil, map[string][]string{"kms:DescribeKey": nil}},
		{"kms.amazonaws.com", "CreateAlias", `{"aliasName":"alias/app","targetKeyId":"0000-1111"}`, "us-east-1", "",
			nil, map[string][]string{"kms:CreateAlias": {"arn:aws:kms:us-east-1:123456789012:alias/app", "arn:aws:kms:us-east-1:123456789012:key/0000-1111"}}},
		{"secretsmanager.amazonaws.com", "GetSecretValue", `{"secretId":"prod/db"}`, "us-east-1", "",
			nil, map[string][]string{"secretsmanager:GetSecretValue": {"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"}}},
		{"ssm.amazonaws.com", "GetParameter", `{"name":"/app/db/url","withDecryption":true}`, "us-east-1", "",
			nil, map[string][]string{"ssm:GetParameter": {"arn:aws:ssm:us-east-1:123456789012:parameter/app/db/url"}}},
		{"logs.amazonaws.com", "CreateLogStream", `{"logGroupName":"/aws/lambda/fn","logStreamName":"s1"}`, "us-east-1", "",
			nil, map[string][]string{"logs:CreateLogStream": {"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fn:log-stream:s1"}}},
		{"iam.amazonaws.com", "GetRole", `{"roleName":"deploy"}`, "us-east-1", "",
			nil, map[string][]string{"iam:GetRole": {"arn:aws:iam::123456789012:role/*/deploy", "arn:aws:iam::123456789012:role/deploy"}}},
		{"iam.amazonaws.com", "GetUser", `{"userName":"alice"}`, "cn-north-1", "arn:aws-cn:iam::123456789012:user/admin",
			nil, map[string][]string{"iam:GetUser": {"arn:aws-cn:iam::123456789012:user/*/alice", "arn:aws-cn:iam::123456789012:user/alice"}}},
		{"iam.amazonaws.com", "GetPolicy", `{"policyArn":"arn:aws:iam::123456789012:policy/p"}`, "us-east-1", "",
			nil, map[string][]string{"iam:GetPolicy": {"arn:aws:iam::123456789012:policy/p"}}},
		{"sts.amazonaws.com", "AssumeRole", `{"roleArn":"arn:aws:iam::999999999999:role/x","roleSessionName":"s"}`, "us-east-1", "",
			nil, map[string][]string{"sts:AssumeRole": {"arn:aws:iam::999999999999:role/x"}}},
		{"ec2.amazonaws.com", "StopInstances", `{"instancesSet":{"items":[{"instanceId":"i-0abc"}]}}`, "us-gov-west-1", "",
			nil, map[string][]string{"ec2:StopInstances": {"arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0abc"}}},
		{"ecr.amazonaws.com", "BatchGetImage", `{"repositoryName":"team/app"}`, "us-east-1", "",
			nil, map[string][]string{"ecr:BatchGetImage": {"arn:aws:ecr:us-east-1:123456789012:repository/team/app"}}},
		{"cloudformation.amazonaws.com", "DescribeStacks", `{"stackName":"prod"}`, "us-east-1", "",
			nil, map[string][]string{"cloudformation:DescribeStacks": {"arn:aws:cloudformation:us-east-1:123456789012:stack/prod/*"}}},
		{"states.amazonaws.com", "StartExecution", `{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:sm"}`, "us-east-1", "",
			nil, map[string][]string{"states:StartExecution": {"arn:aws:states:us-east-1:123456789012:stateMachine:sm"}}},
		{"kinesis.amazonaws.com", "PutRecord", `{"streamName":"clicks"}`, "us-east-1", "",
			nil, map[string][]string{"kinesis:PutRecord": {"arn:aws:kinesis:us-east-1:123456789012:stream/clicks"}}},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.name, func(t *testing.T) {
			c := Call{EventSource: tt.source, EventName: tt.name, RequestParameters: tt.req, AWSRegion: tt.region,
				RecipientAccount: "123456789012", UserIdentityARN: tt.userARN, Resources: tt.res}
			r := m.Map(&c)
			if r.Status != Mapped {
				t.Fatalf("status %s: %s", r.Status, r.Reason)
			}
			got := map[string][]string{}
			for _, a := range r.Actions {
				got[a.Name] = a.Resources
			}
			for action, want := range tt.want {
				if !slices.Equal(got[action], want) {
					t.Errorf("%s resources %v, want %v", action, got[action], want)
				}
			}
		})
	}
}

func TestPassRoleIsNotObservable(t *testing.T) {
	m, _ := mapper(t)
	c := Call{EventSource: "lambda.amazonaws.com", EventName: "CreateFunction20150331", AWSRegion: "us-east-1", RecipientAccount: "123456789012",
		RequestParameters: `{"functionName":"f","role":"arn:aws:iam::123456789012:role/lambda-exec","runtime":"python3.12"}`}
	r := m.Map(&c)
	if !slices.Contains(r.NotObservable, "iam:PassRole on arn:aws:iam::123456789012:role/lambda-exec") {
		t.Fatalf("not observable %v, want iam:PassRole on the role", r.NotObservable)
	}
	c = Call{EventSource: "ec2.amazonaws.com", EventName: "RunInstances", AWSRegion: "us-east-1", RecipientAccount: "123456789012",
		RequestParameters: `{"iamInstanceProfile":{"name":"web"}}`}
	r = m.Map(&c)
	if !slices.ContainsFunc(r.NotObservable, func(s string) bool { return strings.HasPrefix(s, "iam:PassRole") }) {
		t.Fatalf("RunInstances with an instance profile: not observable %v", r.NotObservable)
	}
}

// TestBaseName covers the version suffixes and names that merely end in
// digits, which must stay as they are.
func TestBaseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ListFunctions20150331", "ListFunctions"},
		{"UpdateFunctionCode20150331v2", "UpdateFunctionCode"},
		{"GetFunctionConfiguration20150331v2", "GetFunctionConfiguration"},
		{"AddPermission20150331v2", "AddPermission"},
		{"ListTags20170331", "ListTags"},
		{"GetDistribution2016_11_25", "GetDistribution"},
		{"PublishFunction2020_05_31", "PublishFunction"},
		{"ListObjectsV2", "ListObjectsV2"},
		{"GetObject", "GetObject"},
		{"DescribeInstances", "DescribeInstances"},
		{"Foo1234567", "Foo1234567"},         // 7 digits
		{"Foo123456789", "Foo123456789"},     // 9 digits
		{"Foo20150331x2", "Foo20150331x2"},   // not a v suffix
		{"Foo20150331v", "Foo20150331v"},     // v without a number
		{"Ec220150331", "Ec220150331"},       // the part left would end in a digit
		{"20150331", "20150331"},             // nothing left
		{"Foo2016_11_2", "Foo2016_11_2"},     // short date
		{"Foo_2016_11_25", "Foo_2016_11_25"}, // the part left is not all letters
		{"", ""},
	}
	for _, tt := range tests {
		if got := BaseName(tt.in); got != tt.want {
			t.Errorf("BaseName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPassRoleKeysPrecheck: passRoles skips requests that contain neither
// "ole" nor "nstanceProfile", so every key must contain one of them.
func TestPassRoleKeysPrecheck(t *testing.T) {
	for _, k := range passRoleParams {
		if !strings.Contains(k, "ole") && !strings.Contains(k, "nstanceProfile") {
			t.Errorf("passRoleParams key %q would be skipped by the precheck", k)
		}
	}
}

// TestPassRoleOnlyWhenARoleIsPassed: reading a role's configuration or
// assuming a role passes nothing.
func TestPassRoleOnlyWhenARoleIsPassed(t *testing.T) {
	m, _ := mapper(t)
	for _, c := range []Call{
		{EventSource: "sts.amazonaws.com", EventName: "AssumeRole", RequestParameters: `{"roleArn":"arn:aws:iam::123456789012:role/x","roleSessionName":"s"}`},
		{EventSource: "iam.amazonaws.com", EventName: "UpdateAssumeRolePolicy", RequestParameters: `{"roleName":"x","role":"x"}`},
		{EventSource: "states.amazonaws.com", EventName: "DescribeStateMachine", RequestParameters: `{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:sm","roleArn":"arn:aws:iam::123456789012:role/x"}`},
	} {
		c.AWSRegion, c.RecipientAccount = "us-east-1", "123456789012"
		r := m.Map(&c)
		if r.Status != Mapped {
			t.Fatalf("%s: %s %s", c.EventName, r.Status, r.Reason)
		}
		if slices.ContainsFunc(r.NotObservable, func(s string) bool { return strings.HasPrefix(s, "iam:PassRole") }) {
			t.Errorf("%s: not observable %v, want no iam:PassRole", c.EventName, r.NotObservable)
		}
	}
	for _, c := range []Call{
		{EventSource: "ecs.amazonaws.com", EventName: "RegisterTaskDefinition", RequestParameters: `{"family":"web","taskRoleArn":"arn:aws:iam::123456789012:role/task","executionRoleArn":"arn:aws:iam::123456789012:role/exec"}`},
		{EventSource: "cloudformation.amazonaws.com", EventName: "CreateStack", RequestParameters: `{"stackName":"s","roleARN":"arn:aws:iam::123456789012:role/cfn"}`},
		{EventSource: "events.amazonaws.com", EventName: "PutTargets", RequestParameters: `{"rule":"r","targets":[{"id":"1","arn":"arn:aws:sqs:us-east-1:123456789012:q","roleArn":"arn:aws:iam::123456789012:role/ev"}]}`},
	} {
		c.AWSRegion, c.RecipientAccount = "us-east-1", "123456789012"
		r := m.Map(&c)
		if !slices.ContainsFunc(r.NotObservable, func(s string) bool { return strings.HasPrefix(s, "iam:PassRole on arn:aws:iam::123456789012:role/") }) {
			t.Errorf("%s: not observable %v, want iam:PassRole on the role", c.EventName, r.NotObservable)
		}
	}
}

// TestDeniedResourceFromMessage: a denied call has no requestParameters,
// but its message names the resource AWS checked.
func TestDeniedResourceFromMessage(t *testing.T) {
	m, _ := mapper(t)
	tests := []struct {
		source, name, code, msg string
		want                    []string
	}{
		{"sts.amazonaws.com", "AssumeRole", "AccessDenied",
			"User: arn:aws:iam::123837392027:user/bert-jan is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123837392027:role/stratus-red-team-leave-org-role",
			[]string{"arn:aws:iam::123837392027:role/stratus-red-team-leave-org-role"}},
		{"iam.amazonaws.com", "PutUserPolicy", "AccessDenied",
			"User: arn:aws:iam::111111111111:user/TrailDiscover is not authorized to perform: iam:PutUserPolicy on resource: user TrailDiscover because no identity-based policy allows the iam:PutUserPolicy action",
			[]string{"arn:aws:iam::111111111111:user/TrailDiscover"}},
		{"ec2.amazonaws.com", "CreateImage", "Client.UnauthorizedOperation",
			"You are not authorized to perform this operation. User: arn:aws:iam::111111111111:user/T is not authorized to perform: ec2:CreateImage on resource: arn:aws:ec2:us-east-1:111111111111:instance/* because no identity-based policy allows the ec2:CreateImage action.",
			nil}, // a pattern, not a resource
		{"iam.amazonaws.com", "ListSSHPublicKeys", "AccessDenied",
			"User: arn:aws:iam::111111111111:user/T is not authorized to perform: iam:ListSSHPublicKeys on resource: user  because no identity-based policy allows the iam:ListSSHPublicKeys action",
			nil}, // no name
		{"lambda.amazonaws.com", "AddPermission20150331v2", "",
			"on resource: arn:aws:lambda:us-east-1:111111111111:function:f", nil}, // not denied: the message is not read
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Call{EventSource: tt.source, EventName: tt.name, ErrorCode: tt.code, ErrorMessage: tt.msg, AWSRegion: "us-east-1", RecipientAccount: "111111111111"}
			r := m.Map(&c)
			if r.Status != Mapped || len(r.Actions) != 1 {
				t.Fatalf("got %+v", r)
			}
			if got := r.Actions[0].Resources; !slices.Equal(got, tt.want) {
				t.Errorf("resources %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSelfUserCalls: IAM calls that name no user act on the calling user.
func TestSelfUserCalls(t *testing.T) {
	m, _ := mapper(t)
	user := "arn:aws:iam::123456789012:user/alice"
	for _, tt := range []struct {
		name, userARN, req string
		want               []string
	}{
		{"CreateAccessKey", user, `{}`, []string{user}},
		{"ListAccessKeys", user, `{"userName":"bob"}`, []string{"arn:aws:iam::123456789012:user/*/bob", "arn:aws:iam::123456789012:user/bob"}},
		{"ChangePassword", user, "", []string{user}},
		{"CreateAccessKey", "arn:aws:iam::123456789012:root", `{}`, nil},
		{"CreateAccessKey", "arn:aws:sts::123456789012:assumed-role/r/s", `{}`, nil},
	} {
		c := Call{EventSource: "iam.amazonaws.com", EventName: tt.name, UserIdentityARN: tt.userARN, RequestParameters: tt.req,
			AWSRegion: "us-east-1", RecipientAccount: "123456789012"}
		r := m.Map(&c)
		if got := r.Actions[0].Resources; !slices.Equal(got, tt.want) {
			t.Errorf("%s by %s: resources %v, want %v", tt.name, tt.userARN, got, tt.want)
		}
	}
}

func TestTally(t *testing.T) {
	m, _ := mapper(t)
	tally := NewTally()
	for _, c := range []Call{
		{EventSource: "s3.amazonaws.com", EventName: "NoSuchThing"},
		{EventSource: "x.amazonaws.com", EventName: "B"},
		{EventSource: "s3.amazonaws.com", EventName: "NoSuchThing"},
		{EventSource: "x.amazonaws.com", EventName: "A"},
		{EventSource: "s3.amazonaws.com", EventName: "GetObject"},
		{EventSource: "sts.amazonaws.com", EventName: "GetCallerIdentity"},
	} {
		tally.Add(&c, m.Map(&c))
	}
	want := map[Status]int{Unmapped: 4, Mapped: 1, NoPermission: 1}
	if got := tally.Counts(); !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	var got []string
	for _, u := range tally.Unmapped() {
		got = append(got, fmt.Sprintf("%s %s %d", u.EventSource, u.EventName, u.Count))
		if u.Reason == "" {
			t.Errorf("%s %s: no reason", u.EventSource, u.EventName)
		}
	}
	wantU := []string{"s3.amazonaws.com NoSuchThing 2", "x.amazonaws.com A 1", "x.amazonaws.com B 1"}
	if !slices.Equal(got, wantU) {
		t.Errorf("unmapped %v, want %v", got, wantU)
	}
}

func BenchmarkMap(b *testing.B) {
	cat, err := catalog.Load()
	if err != nil {
		b.Fatal(err)
	}
	m := New(cat)
	calls := []Call{
		{EventSource: "s3.amazonaws.com", EventName: "GetObject", AWSRegion: "us-east-1", RecipientAccount: "123456789012", RequestParameters: `{"bucketName":"b","key":"k"}`},
		{EventSource: "kms.amazonaws.com", EventName: "Decrypt", AWSRegion: "us-east-1", RecipientAccount: "123456789012", Resources: []Resource{{ARN: "arn:aws:kms:us-east-1:123456789012:key/k"}}},
		{EventSource: "ec2.amazonaws.com", EventName: "DescribeInstances", AWSRegion: "us-east-1", RecipientAccount: "123456789012", RequestParameters: `{}`},
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range calls {
			m.Map(&calls[i])
		}
	}
}
