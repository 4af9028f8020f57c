#!/usr/bin/env python3
"""Writes the purpose-built CIS snapshots (pass/, fail/, partial/).

Run from the repo root: python3 testdata/cis/gen_fixtures.py
It reads testdata/cis/monitor-patterns.json, the CIS metric filter pattern of
each monitoring check (cis.MonitorPatterns; refresh it with
go test ./analyzer/cis -run MonitorPatternsFile -update). The snapshots use the
AWS CLI output shapes.
"""
import base64, json, sys, os

ACCT = "111122223333"
HEAD = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

def row(user, created, pw, pw_used, pw_changed, mfa, k1, k1_rot, k1_used, k2="false", k2_rot="N/A", k2_used="N/A"):
    arn = f"arn:aws:iam::{ACCT}:root" if user == "<root_account>" else f"arn:aws:iam::{ACCT}:user/{user}"
    return ",".join([user, arn, created, pw, pw_used, pw_changed, "N/A" if pw != "true" else "2027-01-01T00:00:00+00:00", mfa,
                     k1, k1_rot, k1_used, "N/A" if k1_used == "N/A" else "us-east-1", "N/A" if k1_used == "N/A" else "iam",
                     k2, k2_rot, k2_used, "N/A" if k2_used == "N/A" else "us-east-1", "N/A" if k2_used == "N/A" else "s3",
                     "false", "N/A", "false", "N/A"])

def regions_list():
    return {"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
                        {"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"},
                        {"RegionName": "ap-east-1", "OptInStatus": "not-opted-in"}]}

def trail(name, home, multi, validation, kms, cw, bucket, acct=ACCT, org=False):
    t = {"Name": name, "S3BucketName": bucket, "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": multi,
         "HomeRegion": home, "TrailARN": f"arn:aws:cloudtrail:{home}:{acct}:trail/{name}",
         "LogFileValidationEnabled": validation, "HasCustomEventSelectors": True, "HasInsightSelectors": False,
         "IsOrganizationTrail": org}
    if kms:
        t["KmsKeyId"] = f"arn:aws:kms:{home}:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    if cw:
        t["CloudWatchLogsLogGroupArn"] = f"arn:aws:logs:{home}:{acct}:log-group:cloudtrail-logs:*"
        t["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{acct}:role/CloudTrail_CloudWatchLogs_Role"
    return t

def sg(gid, name, vpc, ingress, egress):
    return {"GroupId": gid, "GroupName": name, "OwnerId": ACCT, "VpcId": vpc, "Description": name,
            "IpPermissions": ingress, "IpPermissionsEgress": egress}

FULL_BLOCK = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}}

def deny_http_policy(bucket, extra=False):
    stmts = [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
              "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    if extra:
        stmts.insert(0, {"Sid": "Readers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/reader"}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    return json.dumps({"Version": "2012-10-17", "Statement": stmts})

def instance(iid, state, name, profile, tokens):
    i = {"InstanceId": iid, "InstanceType": "t3.micro", "State": {"Code": 16, "Name": state}, "Tags": [{"Key": "Name", "Value": name}],
         "MetadataOptions": {"State": "applied", "HttpTokens": tokens, "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"}}
    if profile:
        i["IamInstanceProfile"] = {"Arn": f"arn:aws:iam::{ACCT}:instance-profile/{name}", "Id": "AIPAEXAMPLE"}
    return i

def db(region, ident, encrypted, public, minor):
    return {"DBInstanceIdentifier": ident, "DBInstanceArn": f"arn:aws:rds:{region}:{ACCT}:db:{ident}", "Engine": "postgres", "DBInstanceStatus": "available",
            "StorageEncrypted": encrypted, "PubliclyAccessible": public, "AutoMinorVersionUpgrade": minor}

def efs(region, fsid, encrypted):
    f = {"FileSystemId": fsid, "FileSystemArn": f"arn:aws:elasticfilesystem:{region}:{ACCT}:file-system/{fsid}", "Name": "shared", "Encrypted": encrypted, "LifeCycleState": "available"}
    if encrypted:
        f["KmsKeyId"] = f"arn:aws:kms:{region}:{ACCT}:key/k-cust"
    return f

EGRESS_ALL = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]

def passing(patterns):
    users = "\n".join([HEAD,
        row("<root_account>", "2020-01-01T00:00:00+00:00", "not_supported", "2025-01-01T10:00:00+00:00", "not_supported", "true", "false", "N/A", "N/A"),
        row("alice", "2024-01-01T00:00:00+00:00", "true", "2026-11-10T09:00:00+00:00", "2024-01-01T00:00:00+00:00", "true", "true", "2026-10-01T00:00:00+00:00", "2026-11-15T00:00:00+00:00"),
        row("bob", "2024-02-01T00:00:00+00:00", "false", "N/A", "N/A", "false", "true", "2026-09-01T00:00:00+00:00", "2026-11-19T00:00:00+00:00"),
    ]) + "\n"
    main = trail("main", "us-east-1", True, True, True, True, "org-trail-logs")
    filters, alarms = [], []
    for i, (cid, pat) in enumerate(sorted(patterns.items())):
        if cid == "monitor-unauthorized-api-calls":
            pat = '{($.errorCode="*UnauthorizedOperation")||($.errorCode="AccessDenied*")}'  # the v1.2.0 form
        name = "cis-" + cid
        filters.append({"filterName": name, "filterPattern": pat, "logGroupName": "cloudtrail-logs",
                        "metricTransformations": [{"metricName": name, "metricNamespace": "CIS", "metricValue": "1"}],
                        "creationTime": 1700000000000})
        alarms.append({"AlarmName": name, "AlarmArn": f"arn:aws:cloudwatch:us-east-1:{ACCT}:alarm:{name}",
                       "MetricName": name, "Namespace": "CIS", "ActionsEnabled": True,
                       "AlarmActions": [f"arn:aws:sns:us-east-1:{ACCT}:security-alerts"], "Statistic": "Sum",
                       "Period": 300, "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold"})
    def region(name, extra_sgs=()):
        return {
            "describeTrails": {"trailList": [main]},
            "trailStatus": {main["TrailARN"]: {"IsLogging": True, "LatestDeliveryTime": 1763600000.0,
                                               "LatestCloudWatchLogsDeliveryTime": "2026-11-19T23:00:00Z"}} if name == "us-east-1" else {},
            "eventSelectors": {main["TrailARN"]: {"TrailARN": main["TrailARN"], "AdvancedEventSelectors": [
                {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
                {"Name": "S3 objects", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                          {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]}} if name == "us-east-1" else {},
            "kmsKeys": {"Keys": [{"KeyId": "k-cust", "KeyArn": f"arn:aws:kms:{name}:{ACCT}:key/k-cust"},
                                 {"KeyId": "k-aws", "KeyArn": f"arn:aws:kms:{name}:{ACCT}:key/k-aws"}]},
            "kmsKeyMetadata": {"k-cust": {"KeyMetadata": {"KeyId": "k-cust", "Arn": f"arn:aws:kms:{name}:{ACCT}:key/k-cust", "KeyManager": "CUSTOMER", "KeyState": "Enabled", "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "Origin": "AWS_KMS"}},
                               "k-aws": {"KeyMetadata": {"KeyId": "k-aws", "Arn": f"arn:aws:kms:{name}:{ACCT}:key/k-aws", "KeyManager": "AWS", "KeyState": "Enabled", "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "Origin": "AWS_KMS"}}},
            "kmsKeyRotation": {"k-cust": {"KeyRotationEnabled": True}},
            "metricFilters": {"metricFilters": filters if name == "us-east-1" else []},
            "metricAlarms": {"MetricAlarms": alarms if name == "us-east-1" else []},
            "configRecorders": {"ConfigurationRecorders": [{"name": "default", "roleARN": f"arn:aws:iam::{ACCT}:role/config", "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": name == "us-east-1", "resourceTypes": []}}]},
            "configRecorderStatus": {"ConfigurationRecordersStatus": [{"name": "default", "recording": True, "lastStatus": "SUCCESS"}]},
            "vpcs": {"Vpcs": [{"VpcId": f"vpc-{name}", "OwnerId": ACCT, "IsDefault": True, "CidrBlock": "172.31.0.0/16"}]},
            "flowLogs": {"FlowLogs": [{"FlowLogId": f"fl-{name}", "ResourceId": f"vpc-{name}", "TrafficType": "ALL", "FlowLogStatus": "ACTIVE"}]},
            "securityGroups": {"SecurityGroups": [sg(f"sg-default-{name}", "default", f"vpc-{name}", [], []),
                sg(f"sg-web-{name}", "web", f"vpc-{name}",
                   [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}], EGRESS_ALL)] + list(extra_sgs)},
            "analyzers": {"analyzers": [{"arn": f"arn:aws:access-analyzer:{name}:{ACCT}:analyzer/account", "name": "account", "type": "ACCOUNT", "status": "ACTIVE"}]},
            "instances": {"Reservations": [{"OwnerId": ACCT, "Instances": [
                instance(f"i-web-{name}", "running", "web", profile=True, tokens="required"),
                instance(f"i-old-{name}", "terminated", "old", profile=False, tokens="optional")]}]},
            "ebsEncryptionByDefault": {"EbsEncryptionByDefault": True},
            "dbInstances": {"DBInstances": [db(name, "orders", encrypted=True, public=False, minor=True)]},
            "fileSystems": {"FileSystems": [efs(name, "fs-shared", True)]},
            "securityHub": {"HubArn": f"arn:aws:securityhub:{name}:{ACCT}:hub/default", "SubscribedAt": "2024-01-01T00:00:00.000Z", "AutoEnableControls": True},
            "snsSubscriptions": {f"arn:aws:sns:us-east-1:{ACCT}:security-alerts": {"Subscriptions": [
                {"SubscriptionArn": f"arn:aws:sns:us-east-1:{ACCT}:security-alerts:0b6941c3-f04d-4d3e-a66d-b1df00e1e381", "Owner": ACCT, "Protocol": "email", "Endpoint": "secops@example.com", "TopicArn": f"arn:aws:sns:us-east-1:{ACCT}:security-alerts"},
                {"SubscriptionArn": "PendingConfirmation", "Owner": ACCT, "Protocol": "email", "Endpoint": "new@example.com", "TopicArn": f"arn:aws:sns:us-east-1:{ACCT}:security-alerts"}]}} if name == "us-east-1" else {},
            "networkAcls": {"NetworkAcls": [{"NetworkAclId": f"acl-{name}", "VpcId": f"vpc-{name}", "IsDefault": True, "Entries": [
                {"RuleNumber": 90, "Protocol": "6", "RuleAction": "allow", "Egress": False, "CidrBlock": "10.0.0.0/8", "PortRange": {"From": 22, "To": 22}},
                {"RuleNumber": 91, "Protocol": "6", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 22, "To": 22}},
                {"RuleNumber": 92, "Protocol": "6", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 3389, "To": 3389}},
                {"RuleNumber": 94, "Protocol": "17", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 22, "To": 22}},
                {"RuleNumber": 95, "Protocol": "17", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 3389, "To": 3389}},
                {"RuleNumber": 93, "Protocol": "-1", "RuleAction": "deny", "Egress": False, "Ipv6CidrBlock": "::/0"},
                {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0"},
                {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": True, "CidrBlock": "0.0.0.0/0"},
                {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0"}]}]},
        }
    return {
        "format": "iamlens-cis-snapshot/1", "accountId": ACCT, "partition": "aws", "collectedAt": "2026-11-20T12:00:00Z",
        "describeRegions": regions_list(),
        "iam": {
            "credentialReport": {"Content": base64.b64encode(users.encode()).decode(), "ReportFormat": "text/csv", "GeneratedTime": "2026-11-20T11:59:00Z"},
            "passwordPolicy": {"PasswordPolicy": {"MinimumPasswordLength": 16, "RequireSymbols": True, "RequireNumbers": True,
                               "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True, "AllowUsersToChangePassword": True,
                               "ExpirePasswords": True, "MaxPasswordAge": 90, "PasswordReusePrevention": 24}},
            "accountSummary": {"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0, "Users": 2}},
            "virtualMFADevices": {"VirtualMFADevices": [{"SerialNumber": f"arn:aws:iam::{ACCT}:mfa/alice", "User": {"UserName": "alice", "Arn": f"arn:aws:iam::{ACCT}:user/alice"}}]},
            "authorizationDetails": {
                "UserDetailList": [{"UserName": "alice", "Arn": f"arn:aws:iam::{ACCT}:user/alice", "GroupList": ["admins"], "AttachedManagedPolicies": [], "UserPolicyList": []},
                                   {"UserName": "bob", "Arn": f"arn:aws:iam::{ACCT}:user/bob", "GroupList": ["ci"], "AttachedManagedPolicies": []}],
                "GroupDetailList": [{"GroupName": "admins", "Arn": f"arn:aws:iam::{ACCT}:group/admins", "AttachedManagedPolicies": [{"PolicyName": "PowerUserAccess", "PolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}]},
                                    {"GroupName": "ci", "Arn": f"arn:aws:iam::{ACCT}:group/ci", "AttachedManagedPolicies": [{"PolicyName": "deploy", "PolicyArn": f"arn:aws:iam::{ACCT}:policy/deploy"}]}],
                "RoleDetailList": [{"RoleName": "aws-support", "Arn": f"arn:aws:iam::{ACCT}:role/aws-support", "AttachedManagedPolicies": [{"PolicyName": "AWSSupportAccess", "PolicyArn": "arn:aws:iam::aws:policy/AWSSupportAccess"}]}],
                "Policies": [{"PolicyName": "deploy", "Arn": f"arn:aws:iam::{ACCT}:policy/deploy", "DefaultVersionId": "v2", "AttachmentCount": 1,
                              "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": False, "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
                                                    {"VersionId": "v2", "IsDefaultVersion": True, "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::deploy/*"}]}}]}],
            },
            "entitiesForPolicy": {"arn:aws:iam::aws:policy/AWSSupportAccess": {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": [{"RoleName": "aws-support", "RoleId": "AROAEXAMPLE"}]},
                                  "arn:aws:iam::aws:policy/AWSCloudShellFullAccess": {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}},
            "serverCertificates": {"ServerCertificateMetadataList": [{"ServerCertificateName": "www", "Arn": f"arn:aws:iam::{ACCT}:server-certificate/www", "Expiration": "2027-06-01T00:00:00Z", "Path": "/"}]},
        },
        "regions": {"us-east-1": region("us-east-1"), "eu-west-1": region("eu-west-1")},
        "listBuckets": {"Buckets": [{"Name": "app-data", "CreationDate": "2024-03-01T00:00:00+00:00"}, {"Name": "org-trail-logs", "CreationDate": "2024-01-01T00:00:00+00:00"}], "Owner": {"ID": "abc"}},
        "s3AccountPublicAccessBlock": {},
        "buckets": {"org-trail-logs": {"region": "us-east-1",
            "acl": {"Owner": {"ID": "abc"}, "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}]},
            "policyStatus": {"PolicyStatus": {"IsPublic": False}},
            "publicAccessBlock": FULL_BLOCK,
            "logging": {"LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "org-trail-logs/"}},
            "policy": {"Policy": deny_http_policy("org-trail-logs")},
            "versioning": {"Status": "Enabled", "MFADelete": "Enabled"}},
            "app-data": {"region": "eu-west-1", "publicAccessBlock": FULL_BLOCK,
            "policy": {"Policy": deny_http_policy("app-data", extra=True)},
            "versioning": {"Status": "Enabled", "MFADelete": "Enabled"}}},
    }

def failing():
    users = "\n".join([HEAD,
        row("<root_account>", "2020-01-01T00:00:00+00:00", "not_supported", "2026-11-19T08:00:00+00:00", "not_supported", "false", "true", "2021-01-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00"),
        row("alice", "2024-01-01T00:00:00+00:00", "true", "2026-08-01T09:00:00+00:00", "2024-01-01T00:00:00+00:00", "false",
            "true", "2026-01-01T00:00:00+00:00", "N/A", "true", "2026-06-01T00:00:00+00:00", "2026-11-18T00:00:00+00:00"),
        row("carol", "2026-01-01T00:00:00+00:00", "true", "no_information", "2026-01-01T00:00:00+00:00", "true", "false", "N/A", "N/A"),
    ]) + "\n"
    local = trail("local", "us-east-1", False, False, False, False, "trail-bucket")
    def region(name):
        return {
            "describeTrails": {"trailList": [local] if name == "us-east-1" else []},
            "trailStatus": {local["TrailARN"]: {"IsLogging": False}} if name == "us-east-1" else {},
            "eventSelectors": {local["TrailARN"]: {"TrailARN": local["TrailARN"], "EventSelectors": [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True, "DataResources": []}]}} if name == "us-east-1" else {},
            "kmsKeys": {"Keys": [{"KeyId": "k-cust", "KeyArn": f"arn:aws:kms:{name}:{ACCT}:key/k-cust"}]},
            "kmsKeyMetadata": {"k-cust": {"KeyMetadata": {"KeyId": "k-cust", "Arn": f"arn:aws:kms:{name}:{ACCT}:key/k-cust", "KeyManager": "CUSTOMER", "KeyState": "Enabled", "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "Origin": "AWS_KMS"}}},
            "kmsKeyRotation": {"k-cust": {"KeyRotationEnabled": False}},
            "metricFilters": {"metricFilters": []},
            "metricAlarms": {"MetricAlarms": []},
            "configRecorders": {"ConfigurationRecorders": [] if name == "eu-west-1" else [{"name": "default", "roleARN": "x", "recordingGroup": {"allSupported": False, "includeGlobalResourceTypes": False, "resourceTypes": ["AWS::EC2::Instance"]}}]},
            "configRecorderStatus": {"ConfigurationRecordersStatus": [] if name == "eu-west-1" else [{"name": "default", "recording": False, "lastStatus": "FAILURE"}]},
            "vpcs": {"Vpcs": [{"VpcId": f"vpc-{name}", "OwnerId": ACCT, "IsDefault": True}]},
            "flowLogs": {"FlowLogs": [{"FlowLogId": "fl-accept", "ResourceId": f"vpc-{name}", "TrafficType": "ACCEPT", "FlowLogStatus": "ACTIVE"}]},
            "securityGroups": {"SecurityGroups": [
                sg(f"sg-default-{name}", "default", f"vpc-{name}", [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": f"sg-default-{name}", "UserId": ACCT}]}], EGRESS_ALL),
                sg(f"sg-admin-{name}", "admin", f"vpc-{name}",
                   [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                    {"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 4000, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}], EGRESS_ALL)]},
            "analyzers": {"analyzers": [{"arn": "a", "name": "old", "type": "ACCOUNT", "status": "DISABLED"}]},
            "instances": {"Reservations": [{"OwnerId": ACCT, "Instances": [
                instance(f"i-legacy-{name}", "running", "legacy", profile=False, tokens="optional"),
                instance(f"i-gone-{name}", "terminated", "gone", profile=False, tokens="optional")]}]},
            "ebsEncryptionByDefault": {"EbsEncryptionByDefault": False},
            "dbInstances": {"DBInstances": [db(name, "legacy-db", encrypted=False, public=True, minor=False)]},
            "fileSystems": {"FileSystems": [efs(name, "fs-plain", False)]},
            "securityHub": {},
            "networkAcls": {"NetworkAcls": [{"NetworkAclId": f"acl-{name}", "VpcId": f"vpc-{name}", "IsDefault": True, "Entries": [
                {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0"},
                {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Egress": False, "Ipv6CidrBlock": "::/0"},
                {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0"}]}]},
        }
    return {
        "format": "iamlens-cis-snapshot/1", "accountId": ACCT, "collectedAt": "2026-11-20T12:00:00Z",
        "describeRegions": regions_list(),
        "iam": {
            "credentialReport": {"CSV": users},
            "passwordPolicy": {},
            "accountSummary": {"SummaryMap": {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1}},
            "virtualMFADevices": {"VirtualMFADevices": [{"SerialNumber": f"arn:aws:iam::{ACCT}:mfa/root-account-mfa-device", "User": {"Arn": f"arn:aws:iam::{ACCT}:root"}}]},
            "authorizationDetails": {
                "UserDetailList": [{"UserName": "alice", "Arn": f"arn:aws:iam::{ACCT}:user/alice", "GroupList": [],
                                    "AttachedManagedPolicies": [{"PolicyName": "god", "PolicyArn": f"arn:aws:iam::{ACCT}:policy/god"}],
                                    "UserPolicyList": [{"PolicyName": "extra", "PolicyDocument": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}}]}],
                "GroupDetailList": [], "RoleDetailList": [],
                "Policies": [{"PolicyName": "god", "Arn": f"arn:aws:iam::{ACCT}:policy/god", "DefaultVersionId": "v1", "AttachmentCount": 1,
                              "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"}]},
                             {"PolicyName": "spare-admin", "Arn": f"arn:aws:iam::{ACCT}:policy/spare-admin", "DefaultVersionId": "v1", "AttachmentCount": 0,
                              "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}}]}],
            },
            "entitiesForPolicy": {"arn:aws:iam::aws:policy/AWSSupportAccess": {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []},
                                  "arn:aws:iam::aws:policy/AWSCloudShellFullAccess": {"PolicyGroups": [], "PolicyUsers": [{"UserName": "alice"}], "PolicyRoles": []}},
            "serverCertificates": {"ServerCertificateMetadataList": [{"ServerCertificateName": "old", "Arn": f"arn:aws:iam::{ACCT}:server-certificate/old", "Expiration": "2025-01-01T00:00:00Z"}]},
        },
        "regions": {"us-east-1": region("us-east-1"), "eu-west-1": region("eu-west-1")},
        "listBuckets": {"Buckets": [{"Name": "public-data"}, {"Name": "trail-bucket"}]},
        "s3AccountPublicAccessBlock": {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": False}},
        "buckets": {"trail-bucket": {"region": "us-east-1",
            "acl": {"Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]},
            "policyStatus": {}, "publicAccessBlock": {}, "logging": {}, "policy": {}, "versioning": {}},
            "public-data": {"region": "eu-west-1", "publicAccessBlock": {"PublicAccessBlockConfiguration": {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}},
            "policy": {"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-data/*"}]})},
            "versioning": {"Status": "Enabled", "MFADelete": "Disabled"}}},
    }

def partial():
    """A member account of an organization: the org trail lives in the
    management account, its bucket elsewhere; several reads failed."""
    org = trail("org-trail", "us-east-1", True, True, True, True, "central-logs", acct="999988887777", org=True)
    return {
        "accountId": ACCT, "collectedAt": "2026-11-20T12:00:00Z",
        "describeRegions": {"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}, {"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"}]},
        "iam": {"accountSummary": {"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}}},
        "regions": {"us-east-1": {"describeTrails": {"trailList": [org]}, "metricFilters": {"metricFilters": []}, "metricAlarms": {"MetricAlarms": []},
                                  "securityGroups": {"SecurityGroups": []}}},
        "errors": [
            {"service": "iam", "operation": "GetCredentialReport", "message": "AccessDenied: not authorized"},
            {"region": "us-east-1", "service": "cloudtrail", "operation": "GetTrailStatus", "resource": org["TrailARN"], "message": "TrailNotFoundException"},
            {"service": "s3", "operation": "GetBucketAcl", "resource": "central-logs", "message": "AccessDenied: bucket belongs to another account"},
            {"region": "eu-west-1", "service": "ec2", "operation": "DescribeSecurityGroups", "message": "UnauthorizedOperation"},
        ],
    }

def clock():
    """Every age-based control at a known distance from collectedAt
    (2026-06-01T00:00:00Z), so a test can show each flips at its own time:
    bob's key 1 was rotated 88 days before (fails key rotation after 90),
    bob's key 1 was last used 42 days before (unused: fails after 45 days in
    v1.4+, 90 in v1.2.0), root signed in 85 days before (passes root use
    after 90), the certificate expires 9 days after, and the trail last
    delivered to CloudWatch Logs 12 hours before (fails after 24)."""
    users = "\n".join([HEAD,
        row("<root_account>", "2020-01-01T00:00:00+00:00", "not_supported", "2026-03-08T00:00:00+00:00", "not_supported", "true", "false", "N/A", "N/A"),
        row("bob", "2024-02-01T00:00:00+00:00", "false", "N/A", "N/A", "false", "true", "2026-03-05T00:00:00+00:00", "2026-04-20T00:00:00+00:00"),
    ]) + "\n"
    t = trail("main", "us-east-1", True, True, True, True, "trail-logs")
    return {
        "format": "iamlens-cis-snapshot/1", "accountId": ACCT, "partition": "aws", "collectedAt": "2026-06-01T00:00:00Z",
        "describeRegions": {"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}]},
        "iam": {
            "credentialReport": {"CSV": users},
            "serverCertificates": {"ServerCertificateMetadataList": [{"ServerCertificateName": "www", "Arn": f"arn:aws:iam::{ACCT}:server-certificate/www", "Expiration": "2026-06-10T00:00:00Z"}]},
        },
        "regions": {"us-east-1": {
            "describeTrails": {"trailList": [t]},
            "trailStatus": {t["TrailARN"]: {"IsLogging": True, "LatestDeliveryTime": "2026-05-31T23:00:00Z", "LatestCloudWatchLogsDeliveryTime": "2026-05-31T12:00:00Z"}},
            "eventSelectors": {t["TrailARN"]: {"TrailARN": t["TrailARN"], "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}]}},
        }},
    }

if __name__ == "__main__":
    base = os.path.dirname(os.path.abspath(__file__))
    patterns = json.load(open(sys.argv[1] if len(sys.argv) > 1 else os.path.join(base, "monitor-patterns.json")))
    for name, snap in (("pass", passing(patterns)), ("fail", failing()), ("partial", partial()), ("clock", clock())):
        os.makedirs(os.path.join(base, name), exist_ok=True)
        with open(os.path.join(base, name, "snapshot.json"), "w") as f:
            json.dump(snap, f, indent=2, sort_keys=True)
            f.write("\n")
