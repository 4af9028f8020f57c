package actionmap

import (
	"slices"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// exactCase is one call and the resources one of its actions must get.
// event names a record of testdata/sample by eventID; otherwise source,
// name and req make the call (in us-east-1, account 123456789012, by
// user alice).
type exactCase struct {
	about                string
	event                string
	source, name, req    string
	action               string
	want                 []string
	patternWhy           string // a text every pattern's reason holds ("" none)
	calledIn, calledFrom string // region ("-": none) and account when not the defaults
}

func (tt exactCase) call(t *testing.T) Call {
	if tt.event != "" {
		return sampleCall(t, tt.event)
	}
	c := Call{EventSource: tt.source, EventName: tt.name, RequestParameters: tt.req, AWSRegion: "us-east-1",
		RecipientAccount: "123456789012", UserIdentityARN: "arn:aws:iam::123456789012:user/alice"}
	if tt.calledIn != "" {
		c.AWSRegion = strings.TrimPrefix(tt.calledIn, "-") // "-": no region
	}
	if tt.calledFrom != "" {
		c.RecipientAccount = tt.calledFrom
	}
	return c
}

func runExact(t *testing.T, m *Mapper, tests []exactCase) {
	t.Helper()
	_, cat := mapper(t)
	for _, tt := range tests {
		t.Run(tt.about, func(t *testing.T) {
			c := tt.call(t)
			r := m.Map(&c)
			if r.Status != Mapped {
				t.Fatalf("%s: %s", r.Status, r.Reason)
			}
			var act *Action
			for i := range r.Actions {
				if r.Actions[i].Name == tt.action {
					act = &r.Actions[i]
				}
			}
			if act == nil {
				t.Fatalf("no %s in %v", tt.action, names(r))
			}
			if !slices.Equal(act.Resources, tt.want) {
				t.Errorf("resources\n got  %q\n want %q", act.Resources, tt.want)
			}
			for _, res := range act.Resources {
				if !cat.MatchesResource(act.Name, res) {
					t.Errorf("%s fits none of the resource types of %s", res, act.Name)
				}
				bare := strings.NewReplacer("${*}", "", "${?}", "").Replace(res)
				if strings.ContainsAny(bare, "*?") && (act.Why[res] == "" || !strings.Contains(act.Why[res], tt.patternWhy)) {
					t.Errorf("%s: reason %q, want one with %q", res, act.Why[res], tt.patternWhy)
				}
			}
			if len(tt.want) == 0 && act.ResourceNote == "" {
				t.Error("no resource and no note saying why")
			}
		})
	}
}

// TestCreatedResources: a call that creates a resource is granted on what
// the request names of it (its name, its parent) and, for what AWS names
// (an ID), on every resource of its type in the call's region and account.
func TestCreatedResources(t *testing.T) {
	m, _ := mapper(t)
	runExact(t, m, []exactCase{
		{about: "CreateVpc, testdata/sample f5e4b2d3", event: "f5e4b2d3-a4a2-4a78-b81f-9036f12b623e", action: "ec2:CreateVpc",
			want: []string{"arn:aws:ec2:us-east-1:123837392027:vpc/*"}, patternWhy: "created by the call"},
		{about: "CreateInternetGateway, testdata/sample e40431f7", event: "e40431f7-07bc-4d9a-a5cb-07e28107babb", action: "ec2:CreateInternetGateway",
			want: []string{"arn:aws:ec2:us-east-1:123837392027:internet-gateway/*"}, patternWhy: "created by the call"},
		{about: "CreateSecurityGroup in the default VPC", source: "ec2.amazonaws.com", name: "CreateSecurityGroup",
			req: `{"groupName":"web","groupDescription":"web"}`, action: "ec2:CreateSecurityGroup",
			want: []string{"arn:aws:ec2:us-east-1:123456789012:security-group/*", "arn:aws:ec2:us-east-1:123456789012:vpc/*"}},
		{about: "lambda CreateFunction, testdata/sample 2e15203f", event: "2e15203f-d196-441a-adeb-794b195b4a28", action: "lambda:CreateFunction",
			want: []string{"arn:aws:lambda:us-east-1:123837392027:function:stratus-red-team-backdoor-f-func"}},
		{about: "transfer CreateUser: the server", source: "transfer.amazonaws.com", name: "CreateUser",
			req: `{"serverId":"s-01234567890abcdef","userName":"sftp","role":"arn:aws:iam::123456789012:role/sftp"}`, action: "transfer:CreateUser",
			want: []string{"arn:aws:transfer:us-east-1:123456789012:server/s-01234567890abcdef"}},
		{about: "ecs CreateCluster", source: "ecs.amazonaws.com", name: "CreateCluster", req: `{"clusterName":"web"}`, action: "ecs:CreateCluster",
			want: []string{"arn:aws:ecs:us-east-1:123456789012:cluster/web"}},
		{about: "ecs RegisterTaskDefinition: the family, any revision", source: "ecs.amazonaws.com", name: "RegisterTaskDefinition",
			req: `{"family":"web","containerDefinitions":[{"name":"app","image":"nginx"}]}`, action: "ecs:RegisterTaskDefinition",
			want: []string{"arn:aws:ecs:us-east-1:123456789012:task-definition/web:*"}, patternWhy: "only in part"},
		{about: "codebuild CreateProject: its name", source: "codebuild.amazonaws.com", name: "CreateProject",
			req: `{"name":"build","source":{"type":"NO_SOURCE"}}`, action: "codebuild:CreateProject",
			want: []string{"arn:aws:codebuild:us-east-1:123456789012:project/build"}},
		{about: "CreateKeyPair: named by the request", source: "ec2.amazonaws.com", name: "CreateKeyPair", req: `{"keyName":"deploy"}`,
			action: "ec2:CreateKeyPair", want: []string{"arn:aws:ec2:us-east-1:123456789012:key-pair/deploy"}},
		{about: "CreateLaunchTemplate: its ARN holds an ID, not its name", source: "ec2.amazonaws.com", name: "CreateLaunchTemplate",
			req: `{"launchTemplateName":"web"}`, action: "ec2:CreateLaunchTemplate",
			want: []string{"arn:aws:ec2:us-east-1:123456789012:launch-template/*"}, patternWhy: "created by the call"},
		// traildiscover CreateServiceLinkedRole.json.cloudtrail's request
		{about: "CreateServiceLinkedRole: under the service's path", source: "iam.amazonaws.com", name: "CreateServiceLinkedRole",
			req: `{"aWSServiceName":"autoscaling.amazonaws.com"}`, action: "iam:CreateServiceLinkedRole",
			want: []string{"arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/*"}, patternWhy: "service-linked role"},
		{about: "CreateStack: the stack's ID", source: "cloudformation.amazonaws.com", name: "CreateStack", req: `{"stackName":"prod"}`,
			action: "cloudformation:CreateStack", want: []string{"arn:aws:cloudformation:us-east-1:123456789012:stack/prod/*"}, patternWhy: "stack/NAME/*"},
		// nothing in the request names the key: "*" stays, with the reason
		{about: "Decrypt of a ciphertext: not derived", source: "kms.amazonaws.com", name: "Decrypt", req: `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`,
			action: "kms:Decrypt", want: nil},
		{about: "a region the record lacks is any region", source: "ec2.amazonaws.com", name: "CreateVpc", req: `{"cidrBlock":"10.0.0.0/16"}`,
			action: "ec2:CreateVpc", calledIn: "-", want: []string{"arn:aws:ec2:*:123456789012:vpc/*"}},
	})
}

// TestNameDerivedARNs: services whose ARN is built from a URL or a name,
// checked against the catalogue's formats (runExact) and, for the random
// suffix of Secrets Manager, against the evaluator.
func TestNameDerivedARNs(t *testing.T) {
	m, _ := mapper(t)
	const sqs = "sqs.amazonaws.com"
	runExact(t, m, []exactCase{
		// the SendMessage example of the SQS developer guide
		// (sqs-logging-using-cloudtrail.html): a FIFO request with a
		// message group
		{about: "SQS SendMessage, AWS's example", source: sqs, name: "SendMessage", calledIn: "ap-southeast-4",
			req:    `{"queueUrl":"https://sqs.ap-southeast-4.amazonaws.com/123456789012/MyQueue","messageBody":"HIDDEN_DUE_TO_SECURITY_REASONS","messageDeduplicationId":"MsgDedupIdSdk1","messageGroupId":"MsgGroupIdSdk16"}`,
			action: "sqs:SendMessage", want: []string{"arn:aws:sqs:ap-southeast-4:123456789012:MyQueue"}},
		{about: "SQS SendMessage to a FIFO queue", source: sqs, name: "SendMessage",
			req:    `{"queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo","messageGroupId":"g"}`,
			action: "sqs:SendMessage", want: []string{"arn:aws:sqs:us-east-1:123456789012:orders.fifo"}},
		{about: "SQS SendMessageBatch is sqs:SendMessage", source: sqs, name: "SendMessageBatch",
			req:    `{"queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo"}`,
			action: "sqs:SendMessage", want: []string{"arn:aws:sqs:us-east-1:123456789012:orders.fifo"}},
		{about: "SQS DeleteMessageBatch is sqs:DeleteMessage", source: sqs, name: "DeleteMessageBatch",
			req:    `{"queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}`,
			action: "sqs:DeleteMessage", want: []string{"arn:aws:sqs:us-east-1:123456789012:q"}},
		{about: "SQS ChangeMessageVisibilityBatch", source: sqs, name: "ChangeMessageVisibilityBatch",
			req:    `{"queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/q"}`,
			action: "sqs:ChangeMessageVisibility", want: []string{"arn:aws:sqs:us-east-1:123456789012:q"}},
		{about: "SQS legacy endpoint: the call's region", source: sqs, name: "ReceiveMessage", calledIn: "eu-west-1",
			req:    `{"queueUrl":"https://queue.amazonaws.com/123456789012/q"}`,
			action: "sqs:ReceiveMessage", want: []string{"arn:aws:sqs:eu-west-1:123456789012:q"}},
		{about: "SQS through a VPC endpoint", source: sqs, name: "ReceiveMessage",
			req:    `{"queueUrl":"https://vpce-0a1b2c3d-4e5f.sqs.us-east-1.vpce.amazonaws.com/123456789012/q.fifo"}`,
			action: "sqs:ReceiveMessage", want: []string{"arn:aws:sqs:us-east-1:123456789012:q.fifo"}},
		{about: "SQS JSON protocol: QueueUrl", source: sqs, name: "DeleteMessage",
			req:    `{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo"}`,
			action: "sqs:DeleteMessage", want: []string{"arn:aws:sqs:us-east-1:123456789012:q.fifo"}},
		{about: "SQS CreateQueue by name", source: sqs, name: "CreateQueue", req: `{"queueName":"jobs.fifo","attributes":{"FifoQueue":"true"}}`,
			action: "sqs:CreateQueue", want: []string{"arn:aws:sqs:us-east-1:123456789012:jobs.fifo"}},
		{about: "SNS Publish to a FIFO topic", source: "sns.amazonaws.com", name: "Publish",
			req:    `{"topicArn":"arn:aws:sns:us-east-1:123456789012:events.fifo","messageGroupId":"g"}`,
			action: "sns:Publish", want: []string{"arn:aws:sns:us-east-1:123456789012:events.fifo"}},
		{about: "SNS PublishBatch is sns:Publish", source: "sns.amazonaws.com", name: "PublishBatch",
			req: `{"topicArn":"arn:aws:sns:us-east-1:123456789012:t"}`, action: "sns:Publish", want: []string{"arn:aws:sns:us-east-1:123456789012:t"}},
		{about: "SNS CreateTopic by name", source: "sns.amazonaws.com", name: "CreateTopic", req: `{"name":"alerts.fifo"}`,
			action: "sns:CreateTopic", want: []string{"arn:aws:sns:us-east-1:123456789012:alerts.fifo"}},
		{about: "SNS Unsubscribe: the subscription's topic", source: "sns.amazonaws.com", name: "Unsubscribe",
			req:    `{"subscriptionArn":"arn:aws:sns:us-east-1:123456789012:alerts:0b9c2f9e-1111-2222-3333-444455556666"}`,
			action: "sns:Unsubscribe", want: []string{"arn:aws:sns:us-east-1:123456789012:alerts"}},
		{about: "Kinesis PutRecord by stream name", source: "kinesis.amazonaws.com", name: "PutRecord", req: `{"streamName":"clicks","partitionKey":"p"}`,
			action: "kinesis:PutRecord", want: []string{"arn:aws:kinesis:us-east-1:123456789012:stream/clicks"}},
		{about: "Kinesis PutRecords by stream ARN", source: "kinesis.amazonaws.com", name: "PutRecords",
			req:    `{"streamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/clicks"}`,
			action: "kinesis:PutRecords", want: []string{"arn:aws:kinesis:us-east-1:123456789012:stream/clicks"}},
		{about: "Kinesis SubscribeToShard: the consumer", source: "kinesis.amazonaws.com", name: "SubscribeToShard",
			req:    `{"consumerARN":"arn:aws:kinesis:us-east-1:123456789012:stream/clicks/consumer/app:1700000000","shardId":"shardId-000000000000"}`,
			action: "kinesis:SubscribeToShard", want: []string{"arn:aws:kinesis:us-east-1:123456789012:stream/clicks/consumer/app:1700000000"}},
		{about: "Kinesis DescribeStreamConsumer by stream and name", source: "kinesis.amazonaws.com", name: "DescribeStreamConsumer",
			req:    `{"streamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/clicks","consumerName":"app"}`,
			action: "kinesis:DescribeStreamConsumer", want: []string{"arn:aws:kinesis:us-east-1:123456789012:stream/clicks/consumer/app:*"}, patternWhy: "creation time"},
		{about: "Firehose PutRecordBatch", source: "firehose.amazonaws.com", name: "PutRecordBatch", req: `{"deliveryStreamName":"logs"}`,
			action: "firehose:PutRecordBatch", want: []string{"arn:aws:firehose:us-east-1:123456789012:deliverystream/logs"}},
		{about: "Step Functions StartSyncExecution", source: "states.amazonaws.com", name: "StartSyncExecution",
			req:    `{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:orders","input":"{}"}`,
			action: "states:StartSyncExecution", want: []string{"arn:aws:states:us-east-1:123456789012:stateMachine:orders"}},
		{about: "Step Functions DescribeExecution of a standard execution", source: "states.amazonaws.com", name: "DescribeExecution",
			req:    `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:orders:run-1"}`,
			action: "states:DescribeExecution", want: []string{"arn:aws:states:us-east-1:123456789012:execution:orders:run-1"}},
		{about: "Step Functions DescribeExecution of an express execution", source: "states.amazonaws.com", name: "DescribeExecution",
			req:    `{"executionArn":"arn:aws:states:us-east-1:123456789012:express:orders:run-1:0a1b"}`,
			action: "states:DescribeExecution", want: []string{"arn:aws:states:us-east-1:123456789012:express:orders:run-1:0a1b"}},
		// testdata/sample 0bdf2b9c: by full ARN, suffix included
		{about: "Secrets Manager GetSecretValue by ARN, testdata/sample 0bdf2b9c", event: "0bdf2b9c-2cf9-40dd-a88b-0148e08e5a75",
			action: "secretsmanager:GetSecretValue", want: []string{"arn:aws:secretsmanager:us-east-1:123837392027:secret:stratus-red-team-retrieve-secret-6-fAVH0t"}},
		// testdata/sample 30f9bf7b: by name, the suffix not yet made
		{about: "Secrets Manager CreateSecret, testdata/sample 30f9bf7b", event: "30f9bf7b-a5dd-4661-8c97-d288ef5680a1",
			action: "secretsmanager:CreateSecret", want: []string{"arn:aws:secretsmanager:us-east-1:123837392027:secret:stratus-red-team-retrieve-secret-0-??????"}, patternWhy: "6 random characters"},
		{about: "Secrets Manager by a name with a wildcard character", source: "secretsmanager.amazonaws.com", name: "GetSecretValue",
			req: `{"secretId":"app/*"}`, action: "secretsmanager:GetSecretValue",
			want: []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:app/${*}-??????"}, patternWhy: "6 random characters"},
		{about: "ECS RunTask of a revision", source: "ecs.amazonaws.com", name: "RunTask", req: `{"cluster":"web","taskDefinition":"web:3","count":1}`,
			action: "ecs:RunTask", want: []string{"arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"}},
		{about: "ECS RunTask of the latest revision", source: "ecs.amazonaws.com", name: "RunTask", req: `{"taskDefinition":"web"}`,
			action: "ecs:RunTask", want: []string{"arn:aws:ecs:us-east-1:123456789012:task-definition/web:*"}, patternWhy: "without its revision"},
		{about: "ECS RunTask by ARN", source: "ecs.amazonaws.com", name: "RunTask", req: `{"taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"}`,
			action: "ecs:RunTask", want: []string{"arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"}},
		{about: "KMS CreateGrant on the key", source: "kms.amazonaws.com", name: "CreateGrant",
			req:    `{"keyId":"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab","granteePrincipal":"arn:aws:iam::123456789012:role/app","operations":["Decrypt"]}`,
			action: "kms:CreateGrant", want: []string{"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
		{about: "DynamoDB Query on an index", source: "dynamodb.amazonaws.com", name: "Query", req: `{"tableName":"orders","indexName":"by-date"}`,
			action: "dynamodb:Query", want: []string{"arn:aws:dynamodb:us-east-1:123456789012:table/orders", "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/by-date"}},
		{about: "DynamoDB Streams DescribeStream", source: "streams.dynamodb.amazonaws.com", name: "DescribeStream",
			req:    `{"streamArn":"arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"}`,
			action: "dynamodb:DescribeStream", want: []string{"arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"}},
		{about: "DynamoDB Streams GetRecords: the iterator's stream", source: "streams.dynamodb.amazonaws.com", name: "GetRecords",
			req:    `{"shardIterator":"arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000|1|AAAAAAAAAAEvJp6D"}`,
			action: "dynamodb:GetRecords", want: []string{"arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"}},
	})

	// NAME-?????? grants the secret whatever AWS's suffix, and no other
	// secret: not a longer name, not one that only starts alike.
	doc := &iampolicy.Document{Version: iampolicy.Version, Statement: []iampolicy.Statement{{Effect: iampolicy.Allow,
		Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"}}}}
	e, err := iampolicy.New(iampolicy.Set{Identity: []iampolicy.Policy{{Name: "p", Document: doc}}}, iampolicy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for arn, want := range map[string]bool{
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf":       true,
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-extra-AbCdEf": false,
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/dbx-AbCdEf":      false,
	} {
		if got := e.Evaluate(iampolicy.Request{Action: "secretsmanager:GetSecretValue", Resource: arn}).Decision == iampolicy.Allowed; got != want {
			t.Errorf("%s allowed %v, want %v", arn, got, want)
		}
	}
}

// TestIAMPaths: a user, role, group or instance profile a request names by
// name is written with its path when it is known (from the logs or the
// account state), at the root when a Create call gives none, and else
// both at the root and under any path.
func TestIAMPaths(t *testing.T) {
	plain, _ := mapper(t)
	paths := NewPaths()
	for _, arn := range []string{
		"arn:aws:iam::123456789012:role/service-role/etl-role",
		"arn:aws:iam::123456789012:user/finance/yasmin",
		"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef",
		"arn:aws:iam::123456789012:instance-profile/web/web-profile",
	} {
		if !paths.Learn(arn) {
			t.Fatalf("%s not learned", arn)
		}
	}
	m := plain.WithPaths(paths)
	const iam = "iam.amazonaws.com"
	runExact(t, m, []exactCase{
		{about: "GetRole of a role the logs show", source: iam, name: "GetRole", req: `{"roleName":"etl-role"}`,
			action: "iam:GetRole", want: []string{"arn:aws:iam::123456789012:role/service-role/etl-role"}},
		{about: "ListAttachedRolePolicies of an Identity Center role", source: iam, name: "ListAttachedRolePolicies",
			req: `{"roleName":"AWSReservedSSO_Admin_0123456789abcdef"}`, action: "iam:ListAttachedRolePolicies",
			want: []string{"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef"}},
		{about: "CreateAccessKey for a pathed user", source: iam, name: "CreateAccessKey", req: `{"userName":"yasmin"}`,
			action: "iam:CreateAccessKey", want: []string{"arn:aws:iam::123456789012:user/finance/yasmin"}},
		{about: "AddRoleToInstanceProfile", source: iam, name: "AddRoleToInstanceProfile", req: `{"instanceProfileName":"web-profile","roleName":"etl-role"}`,
			action: "iam:AddRoleToInstanceProfile", want: []string{"arn:aws:iam::123456789012:instance-profile/web/web-profile"}},
		{about: "GetUser of an unknown user: root and any path", source: iam, name: "GetUser", req: `{"userName":"bob"}`,
			action: "iam:GetUser", want: []string{"arn:aws:iam::123456789012:user/*/bob", "arn:aws:iam::123456789012:user/bob"}, patternWhy: "path is unknown"},
		{about: "the same name in another account is unknown", source: iam, name: "GetRole", req: `{"roleName":"etl-role"}`, calledFrom: "210987654321",
			action: "iam:GetRole", want: []string{"arn:aws:iam::210987654321:role/*/etl-role", "arn:aws:iam::210987654321:role/etl-role"}, patternWhy: "path is unknown"},
		{about: "CreateRole with a path", source: iam, name: "CreateRole", req: `{"roleName":"r","path":"/app/"}`,
			action: "iam:CreateRole", want: []string{"arn:aws:iam::123456789012:role/app/r"}},
		{about: "CreateUser without a path: the root", source: iam, name: "CreateUser", req: `{"userName":"carol"}`,
			action: "iam:CreateUser", want: []string{"arn:aws:iam::123456789012:user/carol"}},
		{about: "GetUser without a name: the caller, path and all", source: iam, name: "GetUser", req: `{}`,
			action: "iam:GetUser", want: []string{"arn:aws:iam::123456789012:user/alice"}},
		// testdata/sample cc66d3e3: bert-jan's GetUser, no request
		{about: "GetUser of the caller, testdata/sample cc66d3e3", event: "cc66d3e3-6fb2-4e6a-9cb3-8eff6c2c973a",
			action: "iam:GetUser", want: []string{"arn:aws:iam::123837392027:user/bert-jan"}},
	})
}

func TestPathsLearn(t *testing.T) {
	for _, tt := range []struct {
		arn                           string
		ok                            bool
		partition, account, kind, pth string
		name                          string
	}{
		{"arn:aws:iam::123456789012:user/alice", true, "aws", "123456789012", "user", "/", "alice"},
		{"arn:aws:iam::123456789012:user/finance/yasmin", true, "aws", "123456789012", "user", "/finance/", "yasmin"},
		{"arn:aws-cn:iam::123456789012:role/a/b/r", true, "aws-cn", "123456789012", "role", "/a/b/", "r"},
		{"arn:aws:iam::123456789012:policy/team/p", true, "aws", "123456789012", "policy", "/team/", "p"},
		{"arn:aws:iam::123456789012:group/g", true, "aws", "123456789012", "group", "/", "g"},
		{"arn:aws:iam::123456789012:instance-profile/ip", true, "aws", "123456789012", "instance-profile", "/", "ip"},
		{"arn:aws:sts::123456789012:assumed-role/r/s", false, "", "", "", "", ""},
		{"arn:aws:iam::123456789012:role/*/r", false, "", "", "", "", ""},
		{"arn:aws:iam::123456789012:mfa/alice", false, "", "", "", "", ""},
		{"arn:aws:iam::123456789012:user/", false, "", "", "", "", ""},
		{"not an arn", false, "", "", "", "", ""},
	} {
		part, acct, kind, path, name, ok := SplitIAM(tt.arn)
		if ok != tt.ok || part != tt.partition || acct != tt.account || kind != tt.kind || path != tt.pth || name != tt.name {
			t.Errorf("SplitIAM(%s) = %q %q %q %q %q %v", tt.arn, part, acct, kind, path, name, ok)
		}
	}

	p := NewPaths()
	p.Learn("arn:aws:iam::1:role/a/r")
	p.Learn("arn:aws:iam::1:role/a/r")
	if path, ok := p.Path("aws", "1", "role", "r"); !ok || path != "/a/" {
		t.Errorf("path %q %v", path, ok)
	}
	// seen under two paths: unknown
	p.Learn("arn:aws:iam::1:role/b/r")
	if _, ok := p.Path("aws", "1", "role", "r"); ok {
		t.Error("a name seen under two paths is known")
	}
	// the account state stands over the logs
	p.LearnState("arn:aws:iam::1:role/state/r")
	p.Learn("arn:aws:iam::1:role/old/r")
	if path, ok := p.Path("aws", "1", "role", "r"); !ok || path != "/state/" {
		t.Errorf("after the state: %q %v", path, ok)
	}
	p.LearnText(`{"roleArn":"arn:aws:iam::1:role/ci/deploy","policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "s":"x arn:aws:iam::1:user/u/bob,"}`)
	for _, want := range []string{"arn:aws:iam::1:role/ci/deploy", "arn:aws:iam::1:user/u/bob", "arn:aws:iam::aws:policy/ReadOnlyAccess"} {
		if !slices.Contains(p.ARNs(), want) {
			t.Errorf("LearnText: %s not learned: %v", want, p.ARNs())
		}
	}
	for _, c := range []Call{
		{EventSource: "iam.amazonaws.com", EventName: "CreateUser", RequestParameters: `{"userName":"carol","path":"/eng/"}`, RecipientAccount: "1"},
		{EventSource: "iam.amazonaws.com", EventName: "CreateGroup", RequestParameters: `{"groupName":"ops"}`, RecipientAccount: "1"},
		{EventSource: "iam.amazonaws.com", EventName: "CreateRole", RequestParameters: `{"roleName":"denied","path":"/x/"}`, RecipientAccount: "1", ErrorCode: "AccessDenied"},
	} {
		p.LearnCreate(&c)
	}
	if path, _ := p.Path("aws", "1", "user", "carol"); path != "/eng/" {
		t.Errorf("CreateUser with a path: %q", path)
	}
	if path, _ := p.Path("aws", "1", "group", "ops"); path != "/" {
		t.Errorf("CreateGroup without a path: %q", path)
	}
	if _, ok := p.Path("aws", "1", "role", "denied"); ok {
		t.Error("a denied CreateRole taught a path")
	}
	missing := Call{EventSource: "iam.amazonaws.com", EventName: "GetRole", RequestParameters: `{"roleName":"nobody"}`, RecipientAccount: "1"}
	known := Call{EventSource: "iam.amazonaws.com", EventName: "GetRole", RequestParameters: `{"roleName":"deploy"}`, RecipientAccount: "1"}
	if !p.Missing(&missing) || p.Missing(&known) {
		t.Errorf("Missing: %v for an unknown role, %v for a known one", p.Missing(&missing), p.Missing(&known))
	}
}

// TestExercisedDependents: what a call needs besides its own action and
// CloudTrail does not log, listed only when the request shows it used it.
func TestExercisedDependents(t *testing.T) {
	m, cat := mapper(t)
	for _, tt := range []struct {
		about, event, source, name, req string
		want                            []string
		not                             string
	}{
		// testdata/sample 86eac0ac: tags and an instance profile
		{about: "RunInstances with tags, testdata/sample 86eac0ac", event: "86eac0ac-8521-4126-aa32-a22f2b74d02e",
			want: []string{"ec2:CreateTags on the instance RunInstances creates", "iam:PassRole on the role of instance profile stratus-red-team-ec2-steal-credentials-instance"}},
		{about: "RunInstances without tags", source: "ec2.amazonaws.com", name: "RunInstances", req: `{"instancesSet":{"items":[{"imageId":"ami-1"}]}}`,
			not: "ec2:CreateTags"},
		// testdata/sample dbb3b16e: the XML shape's TagSpecification
		{about: "CreateNatGateway with tags, testdata/sample dbb3b16e", event: "dbb3b16e-549e-48bc-bfa6-9ca4c2845e43",
			want: []string{"ec2:CreateTags on the natgateway CreateNatGateway creates"}},
		// testdata/sample a46276b9
		{about: "CreateLogGroup with tags, testdata/sample a46276b9", event: "a46276b9-dd85-4736-b9df-6210c69aa8e7",
			want: []string{"logs:TagResource on what CreateLogGroup creates"}},
		{about: "CreateRole with tags", source: "iam.amazonaws.com", name: "CreateRole", req: `{"roleName":"r","tags":[{"key":"team","value":"a"}]}`,
			want: []string{"iam:TagRole on what CreateRole creates"}},
		{about: "CreateQueue with tags", source: "sqs.amazonaws.com", name: "CreateQueue", req: `{"queueName":"q","tags":{"team":"a"}}`,
			want: []string{"sqs:TagQueue on what CreateQueue creates"}},
		{about: "CreateQueue without tags", source: "sqs.amazonaws.com", name: "CreateQueue", req: `{"queueName":"q","tags":{}}`, not: "TagQueue"},
		{about: "CreateFunction with a layer", source: "lambda.amazonaws.com", name: "CreateFunction20150331",
			req:  `{"functionName":"f","role":"arn:aws:iam::123456789012:role/exec","layers":["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"]}`,
			want: []string{"iam:PassRole on arn:aws:iam::123456789012:role/exec", "lambda:GetLayerVersion on arn:aws:lambda:us-east-1:123456789012:layer:deps:3"}},
	} {
		t.Run(tt.about, func(t *testing.T) {
			c := exactCase{event: tt.event, source: tt.source, name: tt.name, req: tt.req}.call(t)
			r := m.Map(&c)
			for _, w := range tt.want {
				if !slices.ContainsFunc(r.NotObservable, func(s string) bool { return strings.HasPrefix(s, w) }) {
					t.Errorf("not observable %q, want %q", r.NotObservable, w)
				}
			}
			for _, n := range r.NotObservable {
				if tt.not != "" && strings.Contains(n, tt.not) {
					t.Errorf("not observable %q holds %q", n, tt.not)
				}
				action, _, _ := strings.Cut(n, " ")
				if _, ok := cat.Action(action); !ok {
					t.Errorf("%q names %s, which the catalogue lacks", n, action)
				}
			}
		})
	}
}
