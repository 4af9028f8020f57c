package actionmap

// The mapping rules as data. Each table has a test per entry in
// rules_test.go, and every action named here must exist in the catalogue
// (TestRulesNameRealActions).

// sourcePrefix maps eventSource hosts whose IAM service prefix is not the
// host's first label.
var sourcePrefix = map[string]string{
	"monitoring.amazonaws.com":                 "cloudwatch",
	"email.amazonaws.com":                      "ses",
	"application-insights.amazonaws.com":       "applicationinsights",
	"streams.dynamodb.amazonaws.com":           "dynamodb",
	"tagging.amazonaws.com":                    "tag",
	"billingconsole.amazonaws.com":             "aws-portal",
	"discovery-marketplace.amazonaws.com":      "aws-marketplace",
	"servicecatalog-appregistry.amazonaws.com": "servicecatalog",
	"appregistry.amazonaws.com":                "servicecatalog",
	"s3-outposts.amazonaws.com":                "s3-outposts",
	"elasticmapreduce.amazonaws.com":           "elasticmapreduce",
	"api.ecr.amazonaws.com":                    "ecr",
	"ecr.amazonaws.com":                        "ecr",
	"api.ecr-public.amazonaws.com":             "ecr-public",
	"apigateway.amazonaws.com":                 "apigateway",
	"execute-api.amazonaws.com":                "execute-api",
	"lex.amazonaws.com":                        "lex",
	"models.lex.amazonaws.com":                 "lex",
	"runtime.lex.amazonaws.com":                "lex",
	"runtime.sagemaker.amazonaws.com":          "sagemaker",
	"data.iot.amazonaws.com":                   "iot",
	"iot-data.amazonaws.com":                   "iot",
	"secretsmanager.amazonaws.com":             "secretsmanager",
	"sso-directory.amazonaws.com":              "sso-directory",
	"identitystore.amazonaws.com":              "identitystore",
	"kinesisanalytics.amazonaws.com":           "kinesisanalytics",
	"es.amazonaws.com":                         "es",
	"opensearch.amazonaws.com":                 "es",
	"codestar-connections.amazonaws.com":       "codestar-connections",
	"resource-explorer-2.amazonaws.com":        "resource-explorer-2",
	"cloudcontrolapi.amazonaws.com":            "cloudformation",
	"s3express.amazonaws.com":                  "s3express",
	"agreement-marketplace.amazonaws.com":      "aws-marketplace",
	"pinpoint.amazonaws.com":                   "mobiletargeting",
	"rdsdata.amazonaws.com":                    "rds-data",
}

// notAPISources are event sources whose records are sign-in and session
// events, not calls a policy allows.
var notAPISources = map[string]string{
	"signin.amazonaws.com": "console sign-in event",
}

// noPermission lists calls that need no IAM permission.
var noPermission = map[string]string{
	"sts:GetCallerIdentity":              "sts:GetCallerIdentity needs no permission",
	"sts:GetSessionToken":                "sts:GetSessionToken needs no permission (it can only be denied)",
	"sts:AssumeRoleWithSAML":             "the role's trust policy, not the caller's policy, allows AssumeRoleWithSAML",
	"sts:AssumeRoleWithWebIdentity":      "the role's trust policy, not the caller's policy, allows AssumeRoleWithWebIdentity",
	"sts:GetWebIdentityToken":            "sts:GetWebIdentityToken needs no permission",
	"sso:GetRoleCredentials":             "portal call authorised by the Identity Center session, not IAM",
	"sso:ListAccounts":                   "portal call authorised by the Identity Center session, not IAM",
	"sso:ListAccountRoles":               "portal call authorised by the Identity Center session, not IAM",
	"sso:Logout":                         "portal call authorised by the Identity Center session, not IAM",
	"sso-oauth:CreateToken":              "OIDC token call, not authorised by IAM",
	"sso-oauth:RegisterClient":           "OIDC client registration, not authorised by IAM",
	"sso-oauth:StartDeviceAuthorization": "OIDC device authorisation, not authorised by IAM",
	// Identity Center OIDC calls as some logs show them (eventSource sso.amazonaws.com).
	"sso:CreateToken":              "OIDC token call, not authorised by IAM",
	"sso:RegisterClient":           "OIDC client registration, not authorised by IAM",
	"sso:StartDeviceAuthorization": "OIDC device authorisation, not authorised by IAM",
	// Cognito identity pools: public APIs that need no credentials.
	"cognito-identity:GetId":                     "public Cognito identity-pool API, not authorised by IAM",
	"cognito-identity:GetCredentialsForIdentity": "public Cognito identity-pool API, not authorised by IAM",
	"cognito-identity:GetOpenIdToken":            "public Cognito identity-pool API, not authorised by IAM",
	// Cognito user pools: unauthenticated or access-token calls.
	"cognito-idp:InitiateAuth":           "Cognito user-pool sign-in call, not authorised by IAM",
	"cognito-idp:RespondToAuthChallenge": "Cognito user-pool sign-in call, not authorised by IAM",
	"cognito-idp:SignUp":                 "Cognito user-pool sign-up call, not authorised by IAM",
	"cognito-idp:ConfirmSignUp":          "Cognito user-pool sign-up call, not authorised by IAM",
	"cognito-idp:ResendConfirmationCode": "Cognito user-pool sign-up call, not authorised by IAM",
	"cognito-idp:ForgotPassword":         "Cognito user-pool password reset, not authorised by IAM",
	"cognito-idp:ConfirmForgotPassword":  "Cognito user-pool password reset, not authorised by IAM",
	"cognito-idp:GetUser":                "Cognito user-pool call authorised by the user's access token, not IAM",
	"cognito-idp:ChangePassword":         "Cognito user-pool call authorised by the user's access token, not IAM",
	"cognito-idp:GlobalSignOut":          "Cognito user-pool call authorised by the user's access token, not IAM",
	"cognito-idp:RevokeToken":            "Cognito user-pool token revocation, not authorised by IAM",
}

// renames maps "prefix:EventName" to the IAM action(s) the call needs when
// they differ from the event name.
var renames = map[string][]string{
	// S3 bucket and object calls whose IAM action has another name.
	"s3:ListObjects":                                 {"s3:ListBucket"},
	"s3:ListObjectsV2":                               {"s3:ListBucket"},
	"s3:HeadBucket":                                  {"s3:ListBucket"},
	"s3:ListObjectVersions":                          {"s3:ListBucketVersions"},
	"s3:ListBuckets":                                 {"s3:ListAllMyBuckets"},
	"s3:ListDirectoryBuckets":                        {"s3express:ListAllMyDirectoryBuckets"},
	"s3:HeadObject":                                  {"s3:GetObject"},
	"s3:SelectObjectContent":                         {"s3:GetObject"},
	"s3:CreateMultipartUpload":                       {"s3:PutObject"},
	"s3:UploadPart":                                  {"s3:PutObject"},
	"s3:CompleteMultipartUpload":                     {"s3:PutObject"},
	"s3:ListParts":                                   {"s3:ListMultipartUploadParts"},
	"s3:ListMultipartUploads":                        {"s3:ListBucketMultipartUploads"},
	"s3:DeleteObjects":                               {"s3:DeleteObject"},
	"s3:GetBucketCors":                               {"s3:GetBucketCORS"},
	"s3:PutBucketCors":                               {"s3:PutBucketCORS"},
	"s3:DeleteBucketCors":                            {"s3:PutBucketCORS"},
	"s3:GetBucketLifecycle":                          {"s3:GetLifecycleConfiguration"},
	"s3:GetBucketLifecycleConfiguration":             {"s3:GetLifecycleConfiguration"},
	"s3:PutBucketLifecycle":                          {"s3:PutLifecycleConfiguration"},
	"s3:PutBucketLifecycleConfiguration":             {"s3:PutLifecycleConfiguration"},
	"s3:DeleteBucketLifecycle":                       {"s3:PutLifecycleConfiguration"},
	"s3:GetBucketEncryption":                         {"s3:GetEncryptionConfiguration"},
	"s3:PutBucketEncryption":                         {"s3:PutEncryptionConfiguration"},
	"s3:DeleteBucketEncryption":                      {"s3:PutEncryptionConfiguration"},
	"s3:GetBucketReplication":                        {"s3:GetReplicationConfiguration"},
	"s3:PutBucketReplication":                        {"s3:PutReplicationConfiguration"},
	"s3:DeleteBucketReplication":                     {"s3:PutReplicationConfiguration"},
	"s3:DeleteBucketTagging":                         {"s3:PutBucketTagging"},
	"s3:DeleteBucketPublicAccessBlock":               {"s3:PutBucketPublicAccessBlock"},
	"s3:DeleteBucketOwnershipControls":               {"s3:PutBucketOwnershipControls"},
	"s3:GetBucketAnalyticsConfiguration":             {"s3:GetAnalyticsConfiguration"},
	"s3:PutBucketAnalyticsConfiguration":             {"s3:PutAnalyticsConfiguration"},
	"s3:DeleteBucketAnalyticsConfiguration":          {"s3:PutAnalyticsConfiguration"},
	"s3:ListBucketAnalyticsConfigurations":           {"s3:GetAnalyticsConfiguration"},
	"s3:GetBucketMetricsConfiguration":               {"s3:GetMetricsConfiguration"},
	"s3:PutBucketMetricsConfiguration":               {"s3:PutMetricsConfiguration"},
	"s3:DeleteBucketMetricsConfiguration":            {"s3:PutMetricsConfiguration"},
	"s3:ListBucketMetricsConfigurations":             {"s3:GetMetricsConfiguration"},
	"s3:GetBucketInventoryConfiguration":             {"s3:GetInventoryConfiguration"},
	"s3:PutBucketInventoryConfiguration":             {"s3:PutInventoryConfiguration"},
	"s3:DeleteBucketInventoryConfiguration":          {"s3:PutInventoryConfiguration"},
	"s3:ListBucketInventoryConfigurations":           {"s3:GetInventoryConfiguration"},
	"s3:GetBucketIntelligentTieringConfiguration":    {"s3:GetIntelligentTieringConfiguration"},
	"s3:PutBucketIntelligentTieringConfiguration":    {"s3:PutIntelligentTieringConfiguration"},
	"s3:DeleteBucketIntelligentTieringConfiguration": {"s3:PutIntelligentTieringConfiguration"},
	"s3:ListBucketIntelligentTieringConfigurations":  {"s3:GetIntelligentTieringConfiguration"},
	"s3:GetObjectLockConfiguration":                  {"s3:GetBucketObjectLockConfiguration"},
	"s3:PutObjectLockConfiguration":                  {"s3:PutBucketObjectLockConfiguration"},
	"s3:GetBucketNotificationConfiguration":          {"s3:GetBucketNotification"},
	"s3:PutBucketNotificationConfiguration":          {"s3:PutBucketNotification"},
	"s3:GetBucketAccelerateConfiguration":            {"s3:GetAccelerateConfiguration"},
	"s3:PutBucketAccelerateConfiguration":            {"s3:PutAccelerateConfiguration"},
	"s3:GetBucketWebsite":                            {"s3:GetBucketWebsite"},
	"s3:GetObjectAttributes":                         {"s3:GetObject", "s3:GetObjectAttributes"},
	"s3:PutObjectLegalHold":                          {"s3:PutObjectLegalHold"},
	// S3 Control account-level calls (host <account>.s3-control...).
	"s3:GetPublicAccessBlock":    {"s3:GetAccountPublicAccessBlock"},
	"s3:PutPublicAccessBlock":    {"s3:PutAccountPublicAccessBlock"},
	"s3:DeletePublicAccessBlock": {"s3:PutAccountPublicAccessBlock"},
	// Multi-action calls.
	"s3:CopyObject":     {"s3:GetObject", "s3:PutObject"},
	"s3:UploadPartCopy": {"s3:GetObject", "s3:PutObject"},
	"kms:ReEncrypt":     {"kms:ReEncryptFrom", "kms:ReEncryptTo"},
	// Batch calls authorised as their single-message action: IAM has no
	// sqs:SendMessageBatch, sqs:DeleteMessageBatch,
	// sqs:ChangeMessageVisibilityBatch or sns:PublishBatch.
	"sqs:SendMessageBatch":             {"sqs:SendMessage"},
	"sqs:DeleteMessageBatch":           {"sqs:DeleteMessage"},
	"sqs:ChangeMessageVisibilityBatch": {"sqs:ChangeMessageVisibility"},
	"sns:PublishBatch":                 {"sns:Publish"},
	// Other renames.
	"lambda:Invoke":                   {"lambda:InvokeFunction"},
	"lambda:InvokeWithResponseStream": {"lambda:InvokeFunction"},
	"dynamodb:TransactGetItems":       {"dynamodb:GetItem"},
	"cloudwatch:PutMetricData":        {"cloudwatch:PutMetricData"},
	"ec2:CreateDefaultSubnet":         {"ec2:CreateDefaultSubnet"},
}

// passRoleParams are requestParameters keys that pass a role to a service,
// which needs iam:PassRole; CloudTrail never logs PassRole itself. They are
// looked for only in calls of Write or Permissions-management access level
// outside iam and sts (sts:AssumeRole's roleArn assumes the role, it does
// not pass it). Every key contains "ole" or "nstanceProfile", which
// passRoles checks first (TestPassRoleKeysPrecheck).
var passRoleParams = []string{
	"role", "roleArn", "RoleArn", "roleARN", "RoleARN", "serviceRole", "serviceRoleArn", "ServiceRoleArn",
	"executionRoleArn", "taskRoleArn", "iamRoleArn", "IamRoleArn", "iamInstanceProfile", "IamInstanceProfile",
	"executionRole", "ExecutionRoleArn", "dataAccessRoleArn", "DataAccessRoleArn", "serviceLinkedRoleARN",
	"jobRoleArn", "jobFlowRole", "serviceExecutionRole", "serviceAccessRoleArn", "instanceRole",
}
