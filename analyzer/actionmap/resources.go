package actionmap

import (
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/tidwall/gjson"
)

// candSet holds the ARNs a call touched. Most calls touch one set for all
// their actions; a copy reads one object and writes another, so it keeps
// per-action sets.
type candSet struct {
	all       []string
	perAction map[string][]string
	// why explains the candidates that are patterns
	why map[string]string
	ctx arnCtx
}

func (s candSet) forAction(action string) []string {
	if arns, ok := s.perAction[action]; ok {
		return arns
	}
	return s.all
}

// arnCtx carries what an ARN needs besides the resource's own name.
type arnCtx struct {
	partition, region, account string
}

func (a arnCtx) arn(service, region, rest string) string {
	return arn.ARN{Partition: a.partition, Service: service, Region: region, AccountID: a.account, Resource: rest}.String()
}

// Partition returns the ARN partition of a call: from the caller's ARN when
// it has one, else from the region (cloudtrail.RegionPartition, the rule
// the dataset's partition column follows).
func Partition(userARN, region string) string {
	if a, err := arn.Parse(userARN); err == nil && a.Partition != "" {
		return a.Partition
	}
	return cloudtrail.RegionPartition(region)
}

// candidates derives the resource ARNs a call touched, from the record's
// resources field and from requestParameters, for the services people use
// most. Map keeps only those that fit one of each action's resource types.
//
// Every candidate is an IAM Resource pattern: values from the log are
// escaped (escape), and a wildcard is written only with a reason in why.
func (m *Mapper) candidates(c *Call, prefix, name string, req gjson.Result) candSet {
	ac := arnCtx{partition: Partition(c.UserIdentityARN, c.AWSRegion), region: c.AWSRegion, account: c.RecipientAccount}
	if ac.account == "" {
		ac.account = c.PrincipalAccount
	}
	s := candSet{ctx: ac}
	for _, r := range c.Resources {
		if arn.IsARN(r.ARN) {
			s.all = append(s.all, escape(r.ARN))
		}
	}
	// A denied call usually has no requestParameters, but its message names
	// the resource AWS checked.
	if c.ErrorMessage != "" && IsDenied(c.ErrorCode) {
		if arn := deniedResourceARN(c.ErrorMessage, prefix, ac); arn != "" {
			s.all = append(s.all, escape(arn))
		}
	}
	if c.RequestParameters == "" {
		if prefix == "iam" && selfUserCalls[name] && isIAMUser(c.UserIdentityARN) && !IsDenied(c.ErrorCode) {
			s.all = append(s.all, escape(c.UserIdentityARN))
		}
		return s
	}
	// add takes a literal ARN (from the log, or built from its values);
	// addPattern a pattern whose log values the caller escaped.
	add := func(arn string) {
		if arn != "" {
			s.all = append(s.all, escape(arn))
		}
	}
	addPattern := func(p, why string) {
		s.all = append(s.all, p)
		setWhy(&s.why, p, why)
	}
	str := func(path string) string { return req.Get(path).Str }
	switch prefix {
	case "s3":
		bucket := str("bucketName")
		if bucket != "" {
			add("arn:" + ac.partition + ":s3:::" + bucket)
			if key := str("key"); key != "" {
				add("arn:" + ac.partition + ":s3:::" + bucket + "/" + key)
			}
		}
		if name == "DeleteObjects" {
			cloudtrail.Path(req, "Delete", "Object").ForEach(func(_, o gjson.Result) bool {
				if k := o.Get("Key").Str; k != "" && bucket != "" {
					add("arn:" + ac.partition + ":s3:::" + bucket + "/" + k)
				}
				return true
			})
		}
		if src := str("x-amz-copy-source"); src != "" && (name == "CopyObject" || name == "UploadPartCopy") {
			src, _ = url.PathUnescape(strings.TrimPrefix(src, "/"))
			src, _, _ = strings.Cut(src, "?versionId=")
			s.perAction = map[string][]string{
				"s3:GetObject": {escape("arn:" + ac.partition + ":s3:::" + src)},
				"s3:PutObject": {escape("arn:" + ac.partition + ":s3:::" + bucket + "/" + str("key"))},
			}
		}
	case "dynamodb":
		table := str("tableName")
		if table != "" {
			tarn := ac.arn("dynamodb", ac.region, "table/"+table)
			if arn.IsARN(table) {
				tarn = table
			}
			add(tarn)
			if idx := str("indexName"); idx != "" {
				add(tarn + "/index/" + idx)
			}
		}
		for _, path := range []string{"requestItems", "RequestItems"} {
			req.Get(path).ForEach(func(k, _ gjson.Result) bool {
				add(ac.arn("dynamodb", ac.region, "table/"+k.Str))
				return true
			})
		}
		req.Get("transactItems").ForEach(func(_, it gjson.Result) bool {
			it.ForEach(func(_, op gjson.Result) bool {
				if t := op.Get("tableName").Str; t != "" {
					add(ac.arn("dynamodb", ac.region, "table/"+t))
				}
				return true
			})
			return true
		})
		if sa := str("streamArn"); sa != "" {
			add(sa)
		}
	case "lambda":
		fn := str("functionName")
		if fn == "" {
			fn = str("FunctionName")
		}
		switch {
		case arn.IsARN(fn):
			add(fn)
		case fn != "":
			add(ac.arn("lambda", ac.region, "function:"+fn))
		}
		if l := str("layerName"); l != "" {
			if arn.IsARN(l) {
				add(l)
			} else {
				add(ac.arn("lambda", ac.region, "layer:"+l))
			}
		}
	case "sqs":
		if q := str("queueUrl"); q != "" {
			add(queueARN(ac, q))
		}
		if n := str("queueName"); n != "" {
			add(ac.arn("sqs", ac.region, n))
		}
	case "sns":
		add(str("topicArn"))
		add(str("targetArn"))
		if n := str("name"); n != "" && name == "CreateTopic" {
			add(ac.arn("sns", ac.region, n))
		}
	case "kms":
		for _, k := range []string{"keyId", "sourceKeyId", "destinationKeyId", "targetKeyId"} {
			add(kmsARN(ac, str(k)))
		}
		add(kmsARN(ac, str("aliasName")))
	case "secretsmanager":
		// A name lacks the 6-character suffix AWS appends.
		if n := str("name"); n != "" && name == "CreateSecret" {
			addPattern(ac.arn("secretsmanager", ac.region, "secret:"+escape(n)+"-??????"), WhyRandomName)
		}
		if id := str("secretId"); id != "" {
			if arn.IsARN(id) {
				add(id)
			} else {
				addPattern(ac.arn("secretsmanager", ac.region, "secret:"+escape(id)+"-??????"), WhyRandomName)
			}
		}
	case "ssm":
		addParam := func(n string) {
			if n == "" {
				return
			}
			if arn.IsARN(n) {
				add(n)
				return
			}
			add(ac.arn("ssm", ac.region, "parameter/"+strings.TrimPrefix(n, "/")))
		}
		if name == "GetParameter" || name == "GetParameterHistory" || name == "PutParameter" || name == "DeleteParameter" ||
			name == "LabelParameterVersion" {
			addParam(str("name"))
		}
		req.Get("names").ForEach(func(_, n gjson.Result) bool { addParam(n.Str); return true })
		if p := str("path"); p != "" && name == "GetParametersByPath" {
			addParam(strings.TrimSuffix(p, "/"))
		}
		req.Get("instanceIds").ForEach(func(_, id gjson.Result) bool {
			add(ac.arn("ec2", ac.region, "instance/"+id.Str))
			return true
		})
		if t := str("target"); strings.HasPrefix(t, "i-") {
			add(ac.arn("ec2", ac.region, "instance/"+t))
		}
		if id := str("instanceId"); strings.HasPrefix(id, "i-") {
			add(ac.arn("ec2", ac.region, "instance/"+id))
		} else if strings.HasPrefix(id, "mi-") {
			add(ac.arn("ssm", ac.region, "managed-instance/"+id))
		}
		d := str("documentName")
		if d == "" && (name == "GetDocument" || name == "DescribeDocument" || name == "UpdateDocument" || name == "DeleteDocument" || name == "CreateDocument" ||
			name == "CreateAssociation" || name == "UpdateAssociation") {
			d = str("name")
		}
		if d != "" {
			if strings.HasPrefix(d, "AWS-") || strings.HasPrefix(d, "AWSSupport-") || strings.HasPrefix(d, "Amazon") {
				add("arn:" + ac.partition + ":ssm:" + ac.region + "::document/" + d)
			} else {
				add(ac.arn("ssm", ac.region, "document/"+d))
			}
		}
	case "logs":
		g := str("logGroupName")
		if g == "" {
			if id := str("logGroupIdentifier"); arn.IsARN(id) {
				add(id)
			} else {
				g = id
			}
		}
		if g != "" {
			add(ac.arn("logs", ac.region, "log-group:"+g))
			addPattern(ac.arn("logs", ac.region, "log-group:"+escape(g)+":*"), whyLogGroup)
			if st := str("logStreamName"); st != "" {
				add(ac.arn("logs", ac.region, "log-group:"+g+":log-stream:"+st))
			}
		}
	case "iam":
		iam := func(kind, n string) {
			if n == "" {
				return
			}
			path := str("path")
			if path == "" && createdKinds[name] != "" {
				path = "/" // created without a path: at the root
			}
			arns, why := m.iamARN(ac, kind, n, path)
			for _, a := range arns {
				if why != "" {
					addPattern(a, why)
				} else {
					s.all = append(s.all, a)
				}
			}
		}
		iam("user", str("userName"))
		// Calls that act on the caller when they name no user.
		if selfUserCalls[name] && str("userName") == "" && isIAMUser(c.UserIdentityARN) {
			add(c.UserIdentityARN)
		}
		if name == "CreateServiceLinkedRole" {
			if svc := str("aWSServiceName"); svc != "" {
				addPattern("arn:"+ac.partition+":iam::"+ac.account+":role/aws-service-role/"+escape(svc)+"/*", whyServiceLinked)
			}
		}
		iam("role", str("roleName"))
		iam("group", str("groupName"))
		iam("instance-profile", str("instanceProfileName"))
		if name == "CreatePolicy" {
			iam("policy", str("policyName"))
		}
		add(str("policyArn"))
		add(str("openIDConnectProviderArn"))
		add(str("sAMLProviderArn"))
		if n := str("serialNumber"); arn.IsARN(n) {
			add(n)
		}
		if n := str("virtualMFADeviceName"); n != "" {
			add("arn:" + ac.partition + ":iam::" + ac.account + ":mfa/" + n)
		}
		if n := str("serverCertificateName"); n != "" {
			add("arn:" + ac.partition + ":iam::" + ac.account + ":server-certificate/" + n)
		}
	case "sts":
		add(str("roleArn"))
	case "ec2":
		var ids []string
		cloudtrail.Path(req, "instancesSet", "items").ForEach(func(_, it gjson.Result) bool {
			ids = append(ids, it.Get("instanceId").Str)
			return true
		})
		if id := str("instanceId"); id != "" {
			ids = append(ids, id)
		}
		for _, id := range ids {
			if id != "" {
				add(ac.arn("ec2", ac.region, "instance/"+id))
			}
		}
		if id := str("groupId"); strings.HasPrefix(id, "sg-") {
			add(ac.arn("ec2", ac.region, "security-group/"+id))
		}
		if id := str("volumeId"); id != "" {
			add(ac.arn("ec2", ac.region, "volume/"+id))
		}
		if id := str("snapshotId"); id != "" {
			add("arn:" + ac.partition + ":ec2:" + ac.region + "::snapshot/" + id)
		}
		if id := str("vpcId"); id != "" {
			add(ac.arn("ec2", ac.region, "vpc/"+id))
		}
		for _, k := range ec2IDParams {
			if id := str(k.param); id != "" {
				add(ac.arn("ec2", ac.region, k.kind+"/"+id))
			}
		}
		if id := str("imageId"); strings.HasPrefix(id, "ami-") {
			add("arn:" + ac.partition + ":ec2:" + ac.region + "::image/" + id)
		}
	case "rds":
		for _, k := range rdsIDParams {
			if id := str(k.param); id != "" {
				if arn.IsARN(id) {
					add(id)
				} else {
					add(ac.arn("rds", ac.region, k.kind+":"+id))
				}
			}
		}
		if n := str("resourceName"); arn.IsARN(n) {
			add(n)
		}
	case "ecr":
		if n := str("repositoryName"); n != "" {
			add(ac.arn("ecr", ac.region, "repository/"+n))
		}
	case "cloudformation":
		if n := str("stackName"); n != "" {
			if arn.IsARN(n) {
				add(n)
			} else {
				addPattern(ac.arn("cloudformation", ac.region, "stack/"+escape(n)+"/*"), whyStack)
			}
		}
	case "states":
		add(str("stateMachineArn"))
		add(str("executionArn"))
		add(str("activityArn"))
		if n := str("name"); n != "" && name == "CreateStateMachine" {
			add(ac.arn("states", ac.region, "stateMachine:"+n))
		}
	case "kinesis":
		if n := str("streamName"); n != "" {
			add(ac.arn("kinesis", ac.region, "stream/"+n))
		}
		add(str("streamARN"))
	case "cloudtrail":
		if n := str("name"); n != "" {
			if arn.IsARN(n) {
				add(n)
			} else {
				add(ac.arn("cloudtrail", ac.region, "trail/"+n))
			}
		}
		if n := str("trailName"); n != "" {
			if arn.IsARN(n) {
				add(n)
			} else {
				add(ac.arn("cloudtrail", ac.region, "trail/"+n))
			}
		}
	}
	moreCandidates(prefix, name, req, ac, add, addPattern)
	return s
}

// isIAMUser reports whether s is the ARN of an IAM user.
func isIAMUser(s string) bool {
	a, err := arn.Parse(s)
	return err == nil && a.Service == "iam" && strings.HasPrefix(a.Resource, "user/")
}

// queueARN turns https://sqs.us-east-1.amazonaws.com/123456789012/name (or
// the legacy https://queue.amazonaws.com/... form) into the queue's ARN.
func queueARN(ac arnCtx, q string) string {
	u, err := url.Parse(q)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 {
		return ""
	}
	region := ac.region
	if h := strings.Split(u.Host, "."); len(h) > 2 && h[0] == "sqs" {
		region = h[1]
	}
	return "arn:" + ac.partition + ":sqs:" + region + ":" + parts[0] + ":" + parts[1]
}

// kmsARN turns a key ID, alias name or ARN into an ARN.
func kmsARN(ac arnCtx, id string) string {
	switch {
	case id == "":
		return ""
	case arn.IsARN(id):
		return id
	case strings.HasPrefix(id, "alias/"):
		return ac.arn("kms", ac.region, id)
	default:
		return ac.arn("kms", ac.region, "key/"+id)
	}
}

// deniedResourceARN returns the resource a denial message names ("... is
// not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::…"),
// or "" when it names none, or only a pattern (instance/*). IAM messages
// name some resources by kind and name ("on resource: user alice"); those
// become ARNs in the call's account.
func deniedResourceARN(msg, prefix string, ac arnCtx) string {
	const marker = "on resource: "
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(marker):]
	word := func() string {
		w, tail, _ := strings.Cut(rest, " ")
		rest = tail
		return w
	}
	first := word()
	if arn.IsARN(first) {
		if strings.ContainsAny(first, "*\"") {
			return ""
		}
		return first
	}
	if prefix != "iam" {
		return ""
	}
	switch first {
	case "user", "role", "group":
		if name := word(); name != "" && name != "because" && !strings.ContainsAny(name, "*\"") {
			return "arn:" + ac.partition + ":iam::" + ac.account + ":" + first + "/" + name
		}
	}
	return ""
}

// selfUserCalls are IAM calls that act on the calling IAM user when the
// request names no user (IAM API reference: "If you do not specify a user
// name, IAM determines the user name implicitly based on the Amazon Web
// Services access key ID signing the request").
var selfUserCalls = map[string]bool{
	"CreateAccessKey": true, "DeleteAccessKey": true, "UpdateAccessKey": true, "ListAccessKeys": true,
	"GetUser": true, "ChangePassword": true, "ListMFADevices": true, "ListSigningCertificates": true,
	"UploadSigningCertificate": true, "DeleteSigningCertificate": true, "UpdateSigningCertificate": true,
	"ListSSHPublicKeys": true, "ListServiceSpecificCredentials": true,
}

// ec2IDParams are EC2 request parameters holding the ID of a resource, with
// the resource type in its ARN.
var ec2IDParams = []struct{ param, kind string }{
	{"networkAclId", "network-acl"}, {"subnetId", "subnet"}, {"routeTableId", "route-table"},
	{"internetGatewayId", "internet-gateway"}, {"natGatewayId", "natgateway"},
	{"networkInterfaceId", "network-interface"}, {"allocationId", "elastic-ip"},
	{"launchTemplateId", "launch-template"}, {"keyPairId", "key-pair"},
}

// rdsIDParams are RDS request parameters holding an identifier, with the
// resource type in its ARN.
var rdsIDParams = []struct{ param, kind string }{
	{"dBInstanceIdentifier", "db"}, {"dBClusterIdentifier", "cluster"}, {"dBSnapshotIdentifier", "snapshot"},
	{"dBClusterSnapshotIdentifier", "cluster-snapshot"}, {"dBSubnetGroupName", "subgrp"},
	{"dBParameterGroupName", "pg"}, {"dBClusterParameterGroupName", "cluster-pg"}, {"optionGroupName", "og"},
	// restores and deletes name a source, a target or a final snapshot
	{"sourceDBInstanceIdentifier", "db"}, {"targetDBInstanceIdentifier", "db"},
	{"sourceDBClusterIdentifier", "cluster"}, {"finalDBSnapshotIdentifier", "snapshot"},
	{"finalDBSnapshotIdentifier", "cluster-snapshot"},
}
