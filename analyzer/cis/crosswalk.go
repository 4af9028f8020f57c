// Code below was written from testdata/cis/crosswalk/controls.tsv (the public
// list named in its SOURCE.txt); TestCrosswalkMatchesSource holds it to that list.

package cis

// crosswalk gives, for each check, its control in each benchmark version that
// has it: the number, the level and title that version gives it, and the
// parameters that differ between versions.
var crosswalk = map[string]map[Benchmark]Control{
	"iam-contact-details": {
		V120: {ID: "1.17", Level: 1, Title: "Maintain current contact details"},
		V140: {ID: "1.1", Level: 1, Title: "Maintain current contact details"},
		V150: {ID: "1.1", Level: 1, Title: "Maintain current contact details"},
		V300: {ID: "1.1", Level: 1, Title: "Maintain current contact details"},
	},
	"iam-security-contact": {
		V120: {ID: "1.18", Level: 1, Title: "Ensure security contact information is registered"},
		V140: {ID: "1.2", Level: 1, Title: "Ensure security contact information is registered"},
		V150: {ID: "1.2", Level: 1, Title: "Ensure security contact information is registered"},
		V300: {ID: "1.2", Level: 1, Title: "Ensure security contact information is registered"},
	},
	"iam-security-questions": {
		V120: {ID: "1.15", Level: 1, Title: "Ensure security questions are registered in the AWS account"},
		V140: {ID: "1.3", Level: 1, Title: "Ensure security questions are registered in the AWS account"},
		V150: {ID: "1.3", Level: 1, Title: "Ensure security questions are registered in the AWS account"},
		V300: {ID: "1.3", Level: 1, Title: "Ensure security questions are registered in the AWS account"},
	},
	"iam-root-no-access-keys": {
		V120: {ID: "1.12", Level: 1, Title: "Ensure no root account access key exists"},
		V140: {ID: "1.4", Level: 1, Title: "Ensure no 'root' user account access key exists"},
		V150: {ID: "1.4", Level: 1, Title: "Ensure no 'root' user account access key exists"},
		V300: {ID: "1.4", Level: 1, Title: "Ensure no 'root' user account access key exists"},
	},
	"iam-root-mfa": {
		V120: {ID: "1.13", Level: 1, Title: "Ensure MFA is enabled for the \"root\" account"},
		V140: {ID: "1.5", Level: 1, Title: "Ensure MFA is enabled for the 'root' user account"},
		V150: {ID: "1.5", Level: 1, Title: "Ensure MFA is enabled for the 'root' user account"},
		V300: {ID: "1.5", Level: 1, Title: "Ensure MFA is enabled for the 'root' user account"},
	},
	"iam-root-hardware-mfa": {
		V120: {ID: "1.14", Level: 2, Title: "Ensure hardware MFA is enabled for the \"root\" account"},
		V140: {ID: "1.6", Level: 2, Title: "Ensure hardware MFA is enabled for the 'root' user account"},
		V150: {ID: "1.6", Level: 2, Title: "Ensure hardware MFA is enabled for the 'root' user account"},
		V300: {ID: "1.6", Level: 2, Title: "Ensure hardware MFA is enabled for the 'root' user account"},
	},
	"iam-root-usage": {
		V120: {ID: "1.1", Level: 1, Title: "Avoid the use of the \"root\" account"},
		V140: {ID: "1.7", Level: 1, Title: "Eliminate use of the 'root' user for administrative and daily tasks"},
		V150: {ID: "1.7", Level: 1, Title: "Eliminate use of the 'root' user for administrative and daily tasks"},
		V300: {ID: "1.7", Level: 1, Title: "Eliminate use of the 'root' user for administrative and daily tasks"},
	},
	"iam-password-min-length": {
		V120: {ID: "1.9", Level: 1, Title: "Ensure IAM password policy requires minimum length of 14 or greater"},
		V140: {ID: "1.8", Level: 1, Title: "Ensure IAM password policy requires minimum length of 14 or greater"},
		V150: {ID: "1.8", Level: 1, Title: "Ensure IAM password policy requires minimum length of 14 or greater"},
		V300: {ID: "1.8", Level: 1, Title: "Ensure IAM password policy requires minimum length of 14 or greater"},
	},
	"iam-password-reuse": {
		V120: {ID: "1.10", Level: 1, Title: "Ensure IAM password policy prevents password reuse"},
		V140: {ID: "1.9", Level: 1, Title: "Ensure IAM password policy prevents password reuse"},
		V150: {ID: "1.9", Level: 1, Title: "Ensure IAM password policy prevents password reuse"},
		V300: {ID: "1.9", Level: 1, Title: "Ensure IAM password policy prevents password reuse"},
	},
	"iam-password-uppercase": {
		V120: {ID: "1.5", Level: 1, Title: "Ensure IAM password policy requires at least one uppercase letter"},
	},
	"iam-password-lowercase": {
		V120: {ID: "1.6", Level: 1, Title: "Ensure IAM password policy require at least one lowercase letter"},
	},
	"iam-password-symbol": {
		V120: {ID: "1.7", Level: 1, Title: "Ensure IAM password policy require at least one symbol"},
	},
	"iam-password-number": {
		V120: {ID: "1.8", Level: 1, Title: "Ensure IAM password policy require at least one number"},
	},
	"iam-password-expiry": {
		V120: {ID: "1.11", Level: 1, Title: "Ensure IAM password policy expires passwords within 90 days or less"},
	},
	"iam-user-console-mfa": {
		V120: {ID: "1.2", Level: 1, Title: "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password"},
		V140: {ID: "1.10", Level: 1, Title: "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password"},
		V150: {ID: "1.10", Level: 1, Title: "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password"},
		V300: {ID: "1.10", Level: 1, Title: "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password"},
	},
	"iam-no-keys-at-setup": {
		V120: {ID: "1.21", Level: 1, Title: "Do not setup access keys during initial user setup for all IAM users that have a console password"},
		V140: {ID: "1.11", Level: 1, Title: "Do not setup access keys during initial user setup for all IAM users that have a console password"},
		V150: {ID: "1.11", Level: 1, Title: "Do not setup access keys during initial user setup for all IAM users that have a console password"},
		V300: {ID: "1.11", Level: 1, Title: "Do not setup access keys during initial user setup for all IAM users that have a console password"},
	},
	"iam-unused-credentials": {
		V120: {ID: "1.3", Level: 1, Title: "Ensure credentials unused for 90 days or greater are disabled", Days: 90},
		V140: {ID: "1.12", Level: 1, Title: "Ensure credentials unused for 45 days or greater are disabled", Days: 45},
		V150: {ID: "1.12", Level: 1, Title: "Ensure credentials unused for 45 days or greater are disabled", Days: 45},
		V300: {ID: "1.12", Level: 1, Title: "Ensure credentials unused for 45 days or greater are disabled", Days: 45},
	},
	"iam-one-active-key": {
		V140: {ID: "1.13", Level: 1, Title: "Ensure there is only one active access key available for any single IAM user"},
		V150: {ID: "1.13", Level: 1, Title: "Ensure there is only one active access key available for any single IAM user"},
		V300: {ID: "1.13", Level: 1, Title: "Ensure there is only one active access key available for any single IAM user"},
	},
	"iam-key-rotation": {
		V120: {ID: "1.4", Level: 1, Title: "Ensure access keys are rotated every 90 days or less"},
		V140: {ID: "1.14", Level: 1, Title: "Ensure access keys are rotated every 90 days or less"},
		V150: {ID: "1.14", Level: 1, Title: "Ensure access keys are rotated every 90 days or less"},
		V300: {ID: "1.14", Level: 1, Title: "Ensure access keys are rotated every 90 days or less"},
	},
	"iam-user-no-direct-policies": {
		V120: {ID: "1.16", Level: 1, Title: "Ensure IAM policies are attached only to groups or roles"},
		V140: {ID: "1.15", Level: 1, Title: "Ensure IAM Users Receive Permissions Only Through Groups"},
		V150: {ID: "1.15", Level: 1, Title: "Ensure IAM Users Receive Permissions Only Through Groups"},
		V300: {ID: "1.15", Level: 1, Title: "Ensure IAM Users Receive Permissions Only Through Groups"},
	},
	"iam-no-admin-policies": {
		V120: {ID: "1.22", Level: 2, Title: "Ensure IAM policies that allow full \"*:*\" administrative privileges are not created", Scope: ScopeCreated},
		V140: {ID: "1.16", Level: 1, Title: "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached", Scope: ScopeAttached},
		V150: {ID: "1.16", Level: 1, Title: "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached", Scope: ScopeAttached},
		V300: {ID: "1.16", Level: 1, Title: "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached", Scope: ScopeAttached},
	},
	"iam-support-role": {
		V120: {ID: "1.20", Level: 1, Title: "Ensure a support role has been created to manage incidents with AWS Support"},
		V140: {ID: "1.17", Level: 1, Title: "Ensure a support role has been created to manage incidents with AWS Support"},
		V150: {ID: "1.17", Level: 1, Title: "Ensure a support role has been created to manage incidents with AWS Support"},
		V300: {ID: "1.17", Level: 1, Title: "Ensure a support role has been created to manage incidents with AWS Support"},
	},
	"iam-instance-roles": {
		V120: {ID: "1.19", Level: 2, Title: "Ensure IAM instance roles are used for AWS resource access from instances"},
		V140: {ID: "1.18", Level: 2, Title: "Ensure IAM instance roles are used for AWS resource access from instances"},
		V150: {ID: "1.18", Level: 2, Title: "Ensure IAM instance roles are used for AWS resource access from instances"},
		V300: {ID: "1.18", Level: 2, Title: "Ensure IAM instance roles are used for AWS resource access from instances"},
	},
	"iam-expired-server-certificates": {
		V140: {ID: "1.19", Level: 1, Title: "Ensure that all the expired SSL/TLS certificates stored in AWS IAM are removed"},
		V150: {ID: "1.19", Level: 1, Title: "Ensure that all the expired SSL/TLS certificates stored in AWS IAM are removed"},
		V300: {ID: "1.19", Level: 1, Title: "Ensure that all the expired SSL/TLS certificates stored in AWS IAM are removed"},
	},
	"iam-access-analyzer": {
		V140: {ID: "1.20", Level: 1, Title: "Ensure that IAM Access analyzer is enabled for all regions"},
		V150: {ID: "1.20", Level: 1, Title: "Ensure that IAM Access analyzer is enabled for all regions"},
		V300: {ID: "1.20", Level: 1, Title: "Ensure that IAM Access analyzer is enabled for all regions"},
	},
	"iam-central-identity": {
		V140: {ID: "1.21", Level: 2, Title: "Ensure IAM users are managed centrally via identity federation or AWS Organizations for multi-account environments"},
		V150: {ID: "1.21", Level: 2, Title: "Ensure IAM users are managed centrally via identity federation or AWS Organizations for multi-account environments"},
		V300: {ID: "1.21", Level: 2, Title: "Ensure IAM users are managed centrally via identity federation or AWS Organizations for multi-account environments"},
	},
	"iam-cloudshell-restricted": {
		V300: {ID: "1.22", Level: 1, Title: "Ensure access to AWSCloudShellFullAccess is restricted"},
	},
	"cloudtrail-multi-region": {
		V120: {ID: "2.1", Level: 1, Title: "Ensure CloudTrail is enabled in all regions"},
		V140: {ID: "3.1", Level: 1, Title: "Ensure CloudTrail is enabled in all regions"},
		V150: {ID: "3.1", Level: 1, Title: "Ensure CloudTrail is enabled in all regions"},
		V300: {ID: "3.1", Level: 1, Title: "Ensure CloudTrail is enabled in all regions"},
	},
	"cloudtrail-log-validation": {
		V120: {ID: "2.2", Level: 2, Title: "Ensure CloudTrail log file validation is enabled."},
		V140: {ID: "3.2", Level: 2, Title: "Ensure CloudTrail log file validation is enabled."},
		V150: {ID: "3.2", Level: 2, Title: "Ensure CloudTrail log file validation is enabled"},
		V300: {ID: "3.2", Level: 2, Title: "Ensure CloudTrail log file validation is enabled"},
	},
	"cloudtrail-bucket-not-public": {
		V120: {ID: "2.3", Level: 1, Title: "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible"},
		V140: {ID: "3.3", Level: 1, Title: "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible"},
		V150: {ID: "3.3", Level: 1, Title: "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible"},
	},
	"cloudtrail-cloudwatch-logs": {
		V120: {ID: "2.4", Level: 1, Title: "Ensure CloudTrail trails are integrated with CloudWatch Logs"},
		V140: {ID: "3.4", Level: 1, Title: "Ensure CloudTrail trails are integrated with CloudWatch Logs"},
		V150: {ID: "3.4", Level: 1, Title: "Ensure CloudTrail trails are integrated with CloudWatch Logs"},
	},
	"config-enabled-all-regions": {
		V120: {ID: "2.5", Level: 1, Title: "Ensure AWS Config is enabled in all regions"},
		V140: {ID: "3.5", Level: 1, Title: "Ensure AWS Config is enabled in all regions"},
		V150: {ID: "3.5", Level: 2, Title: "Ensure AWS Config is enabled in all regions"},
		V300: {ID: "3.3", Level: 2, Title: "Ensure AWS Config is enabled in all regions"},
	},
	"cloudtrail-bucket-access-logging": {
		V120: {ID: "2.6", Level: 1, Title: "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket"},
		V140: {ID: "3.6", Level: 1, Title: "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket"},
		V150: {ID: "3.6", Level: 1, Title: "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket"},
		V300: {ID: "3.4", Level: 1, Title: "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket"},
	},
	"cloudtrail-kms-encryption": {
		V120: {ID: "2.7", Level: 2, Title: "Ensure CloudTrail logs are encrypted at rest using KMS CMKs"},
		V140: {ID: "3.7", Level: 2, Title: "Ensure CloudTrail logs are encrypted at rest using KMS CMKs"},
		V150: {ID: "3.7", Level: 2, Title: "Ensure CloudTrail logs are encrypted at rest using KMS CMKs"},
		V300: {ID: "3.5", Level: 2, Title: "Ensure CloudTrail logs are encrypted at rest using KMS CMKs"},
	},
	"kms-key-rotation": {
		V120: {ID: "2.8", Level: 2, Title: "Ensure rotation for customer created CMKs is enabled"},
		V140: {ID: "3.8", Level: 2, Title: "Ensure rotation for customer created CMKs is enabled"},
		V150: {ID: "3.8", Level: 2, Title: "Ensure rotation for customer created symmetric CMKs is enabled"},
		V300: {ID: "3.6", Level: 2, Title: "Ensure rotation for customer-created symmetric CMKs is enabled"},
	},
	"vpc-flow-logs": {
		V120: {ID: "2.9", Level: 2, Title: "Ensure VPC flow logging is enabled in all VPCs"},
		V140: {ID: "3.9", Level: 2, Title: "Ensure VPC flow logging is enabled in all VPCs"},
		V150: {ID: "3.9", Level: 2, Title: "Ensure VPC flow logging is enabled in all VPCs"},
		V300: {ID: "3.7", Level: 2, Title: "Ensure VPC flow logging is enabled in all VPCs"},
	},
	"s3-object-write-logging": {
		V140: {ID: "3.10", Level: 2, Title: "Ensure that Object-level logging for write events is enabled for S3 bucket"},
		V150: {ID: "3.10", Level: 2, Title: "Ensure that Object-level logging for write events is enabled for S3 bucket"},
		V300: {ID: "3.8", Level: 2, Title: "Ensure that Object-level logging for write events is enabled for S3 bucket"},
	},
	"s3-object-read-logging": {
		V140: {ID: "3.11", Level: 2, Title: "Ensure that Object-level logging for read events is enabled for S3 bucket"},
		V150: {ID: "3.11", Level: 2, Title: "Ensure that Object-level logging for read events is enabled for S3 bucket"},
		V300: {ID: "3.9", Level: 2, Title: "Ensure that Object-level logging for read events is enabled for S3 bucket"},
	},
	"monitor-unauthorized-api-calls": {
		V120: {ID: "3.1", Level: 1, Title: "Ensure a log metric filter and alarm exist for unauthorized API calls"},
		V140: {ID: "4.1", Level: 1, Title: "Ensure a log metric filter and alarm exist for unauthorized API calls"},
		V150: {ID: "4.1", Level: 1, Title: "Ensure a log metric filter and alarm exist for unauthorized API calls"},
		V300: {ID: "4.1", Level: 2, Title: "Ensure unauthorized API calls are monitored"},
	},
	"monitor-console-no-mfa": {
		V120: {ID: "3.2", Level: 1, Title: "Ensure a log metric filter and alarm exist for Management Console sign-in without MFA"},
		V140: {ID: "4.2", Level: 1, Title: "Ensure a log metric filter and alarm exist for Management Console sign-in without MFA"},
		V150: {ID: "4.2", Level: 1, Title: "Ensure a log metric filter and alarm exist for Management Console sign-in without MFA"},
		V300: {ID: "4.2", Level: 1, Title: "Ensure management console sign-in without MFA is monitored"},
	},
	"monitor-root-usage": {
		V120: {ID: "3.3", Level: 1, Title: "Ensure a log metric filter and alarm exist for usage of \"root\" account"},
		V140: {ID: "4.3", Level: 1, Title: "Ensure a log metric filter and alarm exist for usage of 'root' account"},
		V150: {ID: "4.3", Level: 1, Title: "Ensure a log metric filter and alarm exist for usage of 'root' account"},
		V300: {ID: "4.3", Level: 1, Title: "Ensure usage of 'root' account is monitored"},
	},
	"monitor-iam-policy-changes": {
		V120: {ID: "3.4", Level: 1, Title: "Ensure a log metric filter and alarm exist for IAM policy changes"},
		V140: {ID: "4.4", Level: 1, Title: "Ensure a log metric filter and alarm exist for IAM policy changes"},
		V150: {ID: "4.4", Level: 1, Title: "Ensure a log metric filter and alarm exist for IAM policy changes"},
		V300: {ID: "4.4", Level: 1, Title: "Ensure IAM policy changes are monitored"},
	},
	"monitor-cloudtrail-changes": {
		V120: {ID: "3.5", Level: 1, Title: "Ensure a log metric filter and alarm exist for CloudTrail configuration changes"},
		V140: {ID: "4.5", Level: 1, Title: "Ensure a log metric filter and alarm exist for CloudTrail configuration changes"},
		V150: {ID: "4.5", Level: 1, Title: "Ensure a log metric filter and alarm exist for CloudTrail configuration changes"},
		V300: {ID: "4.5", Level: 1, Title: "Ensure CloudTrail configuration changes are monitored"},
	},
	"monitor-console-auth-failures": {
		V120: {ID: "3.6", Level: 2, Title: "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures"},
		V140: {ID: "4.6", Level: 2, Title: "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures"},
		V150: {ID: "4.6", Level: 2, Title: "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures"},
		V300: {ID: "4.6", Level: 2, Title: "Ensure AWS Management Console authentication failures are monitored"},
	},
	"monitor-kms-disable": {
		V120: {ID: "3.7", Level: 2, Title: "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer created CMKs"},
		V140: {ID: "4.7", Level: 2, Title: "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer created CMKs"},
		V150: {ID: "4.7", Level: 2, Title: "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer created CMKs"},
		V300: {ID: "4.7", Level: 2, Title: "Ensure disabling or scheduled deletion of customer created CMKs is monitored"},
	},
	"monitor-s3-policy-changes": {
		V120: {ID: "3.8", Level: 1, Title: "Ensure a log metric filter and alarm exist for S3 bucket policy changes"},
		V140: {ID: "4.8", Level: 1, Title: "Ensure a log metric filter and alarm exist for S3 bucket policy changes"},
		V150: {ID: "4.8", Level: 1, Title: "Ensure a log metric filter and alarm exist for S3 bucket policy changes"},
		V300: {ID: "4.8", Level: 1, Title: "Ensure S3 bucket policy changes are monitored"},
	},
	"monitor-config-changes": {
		V120: {ID: "3.9", Level: 2, Title: "Ensure a log metric filter and alarm exist for AWS Config configuration changes"},
		V140: {ID: "4.9", Level: 2, Title: "Ensure a log metric filter and alarm exist for AWS Config configuration changes"},
		V150: {ID: "4.9", Level: 2, Title: "Ensure a log metric filter and alarm exist for AWS Config configuration changes"},
		V300: {ID: "4.9", Level: 2, Title: "Ensure AWS Config configuration changes are monitored"},
	},
	"monitor-security-group-changes": {
		V120: {ID: "3.10", Level: 2, Title: "Ensure a log metric filter and alarm exist for security group changes"},
		V140: {ID: "4.10", Level: 2, Title: "Ensure a log metric filter and alarm exist for security group changes"},
		V150: {ID: "4.10", Level: 2, Title: "Ensure a log metric filter and alarm exist for security group changes"},
		V300: {ID: "4.10", Level: 2, Title: "Ensure security group changes are monitored"},
	},
	"monitor-nacl-changes": {
		V120: {ID: "3.11", Level: 2, Title: "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)"},
		V140: {ID: "4.11", Level: 2, Title: "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)"},
		V150: {ID: "4.11", Level: 2, Title: "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)"},
		V300: {ID: "4.11", Level: 2, Title: "Ensure Network Access Control Lists (NACL) changes are monitored"},
	},
	"monitor-gateway-changes": {
		V120: {ID: "3.12", Level: 1, Title: "Ensure a log metric filter and alarm exist for changes to network gateways"},
		V140: {ID: "4.12", Level: 1, Title: "Ensure a log metric filter and alarm exist for changes to network gateways"},
		V150: {ID: "4.12", Level: 1, Title: "Ensure a log metric filter and alarm exist for changes to network gateways"},
		V300: {ID: "4.12", Level: 1, Title: "Ensure changes to network gateways are monitored"},
	},
	"monitor-route-table-changes": {
		V120: {ID: "3.13", Level: 1, Title: "Ensure a log metric filter and alarm exist for route table changes"},
		V140: {ID: "4.13", Level: 1, Title: "Ensure a log metric filter and alarm exist for route table changes"},
		V150: {ID: "4.13", Level: 1, Title: "Ensure a log metric filter and alarm exist for route table changes"},
		V300: {ID: "4.13", Level: 1, Title: "Ensure route table changes are monitored"},
	},
	"monitor-vpc-changes": {
		V120: {ID: "3.14", Level: 1, Title: "Ensure a log metric filter and alarm exist for VPC changes"},
		V140: {ID: "4.14", Level: 1, Title: "Ensure a log metric filter and alarm exist for VPC changes"},
		V150: {ID: "4.14", Level: 1, Title: "Ensure a log metric filter and alarm exist for VPC changes"},
		V300: {ID: "4.14", Level: 1, Title: "Ensure VPC changes are monitored"},
	},
	"monitor-organizations-changes": {
		V140: {ID: "4.15", Level: 1, Title: "Ensure a log metric filter and alarm exists for AWS Organizations changes"},
		V150: {ID: "4.15", Level: 1, Title: "Ensure a log metric filter and alarm exists for AWS Organizations changes"},
		V300: {ID: "4.15", Level: 1, Title: "Ensure AWS Organizations changes are monitored"},
	},
	"ec2-nacl-no-world-admin-ports": {
		V140: {ID: "5.1", Level: 1, Title: "Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports", Ports: adminPorts, Sources: worldAny},
		V150: {ID: "5.1", Level: 1, Title: "Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports", Ports: adminPorts, Sources: worldAny},
		V300: {ID: "5.1", Level: 1, Title: "Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports", Ports: adminPorts, Sources: worldAny, UDP: true},
	},
	"ec2-sg-no-world-admin-ports-ipv4": {
		V140: {ID: "5.2", Level: 1, Title: "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports", Ports: adminPorts, Sources: world4},
		V150: {ID: "5.2", Level: 1, Title: "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports", Ports: adminPorts, Sources: world4},
		V300: {ID: "5.2", Level: 1, Title: "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports", Ports: adminPorts, Sources: world4, UDP: true},
	},
	"ec2-sg-no-world-admin-ports-ipv6": {
		V150: {ID: "5.3", Level: 1, Title: "Ensure no security groups allow ingress from ::/0 to remote server administration ports", Ports: adminPorts, Sources: world6},
		V300: {ID: "5.3", Level: 1, Title: "Ensure no security groups allow ingress from ::/0 to remote server administration ports", Ports: adminPorts, Sources: world6},
	},
	"ec2-default-sg-closed": {
		V120: {ID: "4.3", Level: 2, Title: "Ensure the default security group of every VPC restricts all traffic"},
		V140: {ID: "5.3", Level: 2, Title: "Ensure the default security group of every VPC restricts all traffic"},
		V150: {ID: "5.4", Level: 2, Title: "Ensure the default security group of every VPC restricts all traffic"},
		V300: {ID: "5.4", Level: 2, Title: "Ensure the default security group of every VPC restricts all traffic"},
	},
	"ec2-vpc-peering-routes": {
		V120: {ID: "4.4", Level: 2, Title: "Ensure routing tables for VPC peering are \"least access\""},
		V140: {ID: "5.4", Level: 2, Title: "Ensure routing tables for VPC peering are \"least access\""},
		V150: {ID: "5.5", Level: 2, Title: "Ensure routing tables for VPC peering are \"least access\""},
		V300: {ID: "5.5", Level: 2, Title: "Ensure routing tables for VPC peering are \"least access\""},
	},
	"ec2-sg-no-world-ssh": {
		V120: {ID: "4.1", Level: 1, Title: "Ensure no security groups allow ingress from 0.0.0.0/0 to port 22", Ports: []int32{22}, Sources: worldAny},
	},
	"ec2-sg-no-world-rdp": {
		V120: {ID: "4.2", Level: 1, Title: "Ensure no security groups allow ingress from 0.0.0.0/0 to port 3389", Ports: []int32{3389}, Sources: worldAny},
	},
	"s3-deny-http": {
		V140: {ID: "2.1.2", Level: 2, Title: "Ensure S3 Bucket Policy allows HTTPS requests"},
		V150: {ID: "2.1.2", Level: 2, Title: "Ensure S3 Bucket Policy is set to deny HTTP requests"},
		V300: {ID: "2.1.1", Level: 2, Title: "Ensure S3 Bucket Policy is set to deny HTTP requests"},
	},
	"s3-mfa-delete": {
		V140: {ID: "2.1.3", Level: 1, Title: "Ensure MFA Delete is enable on S3 buckets"},
		V150: {ID: "2.1.3", Level: 1, Title: "Ensure MFA Delete is enabled on S3 buckets"},
		V300: {ID: "2.1.2", Level: 2, Title: "Ensure MFA Delete is enabled on S3 buckets"},
	},
	"s3-block-public-access": {
		V140: {ID: "2.1.5", Level: 1, Title: "Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'"},
		V150: {ID: "2.1.5", Level: 1, Title: "Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'"},
		V300: {ID: "2.1.4", Level: 1, Title: "Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'"},
	},
	"ebs-default-encryption": {
		V140: {ID: "2.2.1", Level: 1, Title: "Ensure EBS volume encryption is enabled"},
		V150: {ID: "2.2.1", Level: 1, Title: "Ensure EBS Volume Encryption is Enabled in all Regions"},
		V300: {ID: "2.2.1", Level: 1, Title: "Ensure EBS Volume Encryption is Enabled in all Regions"},
	},
	"rds-encryption": {
		V140: {ID: "2.3.1", Level: 1, Title: "Ensure that encryption is enabled for RDS Instances"},
		V150: {ID: "2.3.1", Level: 1, Title: "Ensure that encryption is enabled for RDS Instances"},
		V300: {ID: "2.3.1", Level: 1, Title: "Ensure that encryption-at-rest is enabled for RDS Instances"},
	},
	"rds-auto-minor-upgrade": {
		V150: {ID: "2.3.2", Level: 1, Title: "Ensure Auto Minor Version Upgrade feature is Enabled for RDS Instances"},
		V300: {ID: "2.3.2", Level: 1, Title: "Ensure Auto Minor Version Upgrade feature is Enabled for RDS Instances"},
	},
	"rds-no-public-access": {
		V150: {ID: "2.3.3", Level: 1, Title: "Ensure that public access is not given to RDS Instance"},
		V300: {ID: "2.3.3", Level: 1, Title: "Ensure that public access is not given to RDS Instance"},
	},
	"efs-encryption": {
		V150: {ID: "2.4.1", Level: 1, Title: "Ensure that encryption is enabled for EFS file systems"},
		V300: {ID: "2.4.1", Level: 1, Title: "Ensure that encryption is enabled for EFS file systems"},
	},
	"securityhub-enabled": {
		V150: {ID: "4.16", Level: 2, Title: "Ensure AWS Security Hub is enabled"},
		V300: {ID: "4.16", Level: 2, Title: "Ensure AWS Security Hub is enabled"},
	},
	"ec2-imdsv2": {
		V300: {ID: "5.6", Level: 1, Title: "Ensure that EC2 Metadata Service only allows IMDSv2"},
	},
}
