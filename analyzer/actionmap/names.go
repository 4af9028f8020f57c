package actionmap

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Why texts of patterns the request builders write.
const (
	whyLogGroup      = "a log group's streams: log-group:NAME:*"
	whyServiceLinked = "a service-linked role the call creates: AWS names it, under /aws-service-role/SERVICE/"
	whyStack         = "a stack's ARN ends in an ID AWS assigns: stack/NAME/*"
	whyTaskFamily    = "the request names the task definition's family without its revision: FAMILY:*"
	whyConsumer      = "a stream consumer's ARN ends in its creation time: consumer/NAME:*"
)

// moreCandidates derives the resources of calls whose ARN is built from a
// name or another resource's ARN in the request, for services the main
// builders (candidates) do not cover.
func moreCandidates(prefix, name string, req gjson.Result, ac arnCtx, add func(string), addPattern func(p, why string)) {
	str := func(path string) string { return req.Get(path).Str }
	switch prefix {
	case "firehose":
		if n := str("deliveryStreamName"); n != "" {
			add(ac.arn("firehose", ac.region, "deliverystream/"+n))
		}
		if a := str("deliveryStreamARN"); strings.HasPrefix(a, "arn:") {
			add(a)
		}
	case "kinesis":
		if a := str("consumerARN"); strings.HasPrefix(a, "arn:") {
			add(a)
		} else if s, n := str("streamARN"), str("consumerName"); strings.HasPrefix(s, "arn:") && n != "" {
			addPattern(escape(s)+"/consumer/"+escape(n)+":*", whyConsumer)
		}
	case "sqs":
		if q := str("QueueUrl"); q != "" {
			add(queueARN(ac, q))
		}
	case "dynamodb":
		// A DynamoDB Streams shard iterator starts with its stream's ARN:
		// "arn:aws:dynamodb:…:table/T/stream/LABEL|1|AAAA…".
		if it := str("shardIterator"); strings.HasPrefix(it, "arn:") {
			if a, _, ok := strings.Cut(it, "|"); ok {
				add(a)
			}
		}
	case "sns":
		// A subscription's ARN is its topic's ARN and an ID.
		if a := str("subscriptionArn"); strings.HasPrefix(a, "arn:") {
			if i := strings.LastIndexByte(a, ':'); i > 0 {
				add(a[:i])
			}
		}
	case "ecs":
		for _, k := range []string{"taskDefinition", "cluster"} {
			v := str(k)
			switch {
			case v == "":
			case strings.HasPrefix(v, "arn:"):
				add(v)
			case k == "cluster":
				add(ac.arn("ecs", ac.region, "cluster/"+v))
			case strings.Contains(v, ":"):
				add(ac.arn("ecs", ac.region, "task-definition/"+v))
			default:
				addPattern(ac.arn("ecs", ac.region, "task-definition/"+escape(v)+":*"), whyTaskFamily)
			}
		}
		if t := str("task"); t != "" {
			if strings.HasPrefix(t, "arn:") {
				add(t)
			} else if c := str("cluster"); c != "" && !strings.HasPrefix(c, "arn:") {
				add(ac.arn("ecs", ac.region, "task/"+c+"/"+t))
			}
		}
	case "ec2":
		ec2Sources(name, req, ac, add)
	case "iam":
		// An OpenID Connect provider is named by its URL without the scheme.
		if u := str("url"); u != "" && name == "CreateOpenIDConnectProvider" {
			host := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
			add("arn:" + ac.partition + ":iam::" + ac.account + ":oidc-provider/" + strings.TrimSuffix(host, "/"))
		}
		if n := str("name"); n != "" && name == "CreateSAMLProvider" {
			add("arn:" + ac.partition + ":iam::" + ac.account + ":saml-provider/" + n)
		}
	}
}

// ec2IDKinds maps an EC2 ID's prefix to its resource type, for requests
// that list resources by ID whatever their type (CreateTags, CreateFlowLogs).
var ec2IDKinds = []struct{ prefix, kind string }{
	{"i-", "instance"}, {"vol-", "volume"}, {"snap-", "snapshot"}, {"ami-", "image"}, {"sg-", "security-group"},
	{"subnet-", "subnet"}, {"vpc-", "vpc"}, {"eni-", "network-interface"}, {"rtb-", "route-table"},
	{"igw-", "internet-gateway"}, {"acl-", "network-acl"}, {"nat-", "natgateway"}, {"eipalloc-", "elastic-ip"},
	{"lt-", "launch-template"}, {"key-", "key-pair"}, {"dopt-", "dhcp-options"}, {"vpce-", "vpc-endpoint"},
	{"pcx-", "vpc-peering-connection"}, {"tgw-attach-", "transit-gateway-attachment"}, {"tgw-", "transit-gateway"},
}

// ec2ByID returns the ARN of an EC2 resource given by ID.
func ec2ByID(ac arnCtx, region, id string) string {
	for _, k := range ec2IDKinds {
		if strings.HasPrefix(id, k.prefix) {
			acct := ac.account
			if k.kind == "image" || k.kind == "snapshot" {
				acct = "" // public images and snapshots: no account in the ARN
			}
			return "arn:" + ac.partition + ":ec2:" + region + ":" + acct + ":" + k.kind + "/" + id
		}
	}
	return ""
}

// ec2Sources derives EC2 resources named outside the usual parameters: the
// source of a copy (in its own region), the resources CreateTags and
// DeleteTags list, and the resource of a flow log (whose request CloudTrail
// logs in the XML shape: {"CreateFlowLogsRequest":{"ResourceId":{"content":…}}}).
func ec2Sources(name string, req gjson.Result, ac arnCtx, add func(string)) {
	str := func(path string) string { return req.Get(path).Str }
	switch name {
	case "CopyImage", "CopySnapshot":
		src := str("sourceRegion")
		if src == "" {
			src = ac.region
		}
		for _, k := range []string{"sourceImageId", "sourceSnapshotId"} {
			if id := str(k); id != "" {
				add(ec2ByID(ac, src, id))
			}
		}
	case "CreateTags", "DeleteTags":
		req.Get("resourcesSet.items").ForEach(func(_, it gjson.Result) bool {
			add(ec2ByID(ac, ac.region, it.Get("resourceId").Str))
			return true
		})
	case "CreateFlowLogs":
		var ids []string
		for _, r := range []gjson.Result{req.Get("CreateFlowLogsRequest"), req} {
			for _, k := range []string{"ResourceId", "resourceId", "ResourceIds", "resourceIds", "resourceIdSet.items"} {
				v := r.Get(k)
				switch {
				case v.Type == gjson.String:
					ids = append(ids, v.Str)
				case v.IsObject():
					ids = append(ids, v.Get("content").Str)
				case v.IsArray():
					v.ForEach(func(_, e gjson.Result) bool {
						if e.IsObject() {
							ids = append(ids, e.Get("content").Str)
						} else {
							ids = append(ids, e.Str)
						}
						return true
					})
				}
			}
		}
		for _, id := range ids {
			add(ec2ByID(ac, ac.region, id))
		}
	}
}

// exercised lists the actions a call needs besides its own that its request
// shows it used, as "action on resource" hints: ec2:CreateTags when an EC2
// call tags what it creates (TagSpecifications), the service's TagResource
// when another service's Create call is given tags, lambda:GetLayerVersion
// for each layer a function is given. CloudTrail logs none of them as
// calls of their own.
func (m *Mapper) exercised(prefix, name string, req gjson.Result) []string {
	if !req.IsObject() {
		return nil
	}
	var out []string
	switch {
	case prefix == "ec2":
		var types []string
		// the request, or its XML shape {"CreateNatGatewayRequest": {…}}
		body := req
		if x := req.Get(name + "Request"); x.IsObject() {
			body = x
		}
		for _, k := range []string{"tagSpecificationSet.items", "TagSpecification", "TagSpecifications"} {
			v := body.Get(k)
			add := func(it gjson.Result) {
				if t := firstOf(it, "resourceType", "ResourceType"); t != "" && !contains(types, t) {
					types = append(types, t)
				}
			}
			if v.IsArray() {
				v.ForEach(func(_, it gjson.Result) bool { add(it); return true })
			} else if v.IsObject() {
				add(v)
			}
		}
		for _, t := range types {
			out = append(out, "ec2:CreateTags on the "+t+" "+name+" creates (the request tags it; AWS checks ec2:CreateTags with ec2:CreateAction="+name+")")
		}
	case strings.HasPrefix(name, "Create"):
		tags := req.Get("tags")
		if !tags.Exists() {
			tags = req.Get("Tags")
		}
		if (tags.IsObject() || tags.IsArray()) && len(tags.Raw) > 2 {
			tr := tagAction[prefix]
			if prefix == "iam" {
				tr = "iam:Tag" + strings.TrimPrefix(name, "Create")
			}
			if a, ok := m.cat.Action(tr); ok {
				out = append(out, a.FullName()+" on what "+name+" creates (the request tags it)")
			}
		}
	}
	if prefix == "lambda" && (name == "CreateFunction" || name == "UpdateFunctionConfiguration") {
		req.Get("layers").ForEach(func(_, l gjson.Result) bool {
			if l.Str != "" {
				out = append(out, "lambda:GetLayerVersion on "+l.Str)
			}
			return true
		})
	}
	return out
}

// tagAction is the action a service checks when a Create call is given
// tags; IAM's are iam:Tag<Kind> (iam:TagUser for CreateUser). An action
// the catalogue lacks is not listed.
var tagAction = map[string]string{
	"lambda": "lambda:TagResource", "secretsmanager": "secretsmanager:TagResource", "sns": "sns:TagResource",
	"sqs": "sqs:TagQueue", "kms": "kms:TagResource", "logs": "logs:TagResource", "states": "states:TagResource",
	"dynamodb": "dynamodb:TagResource", "ecr": "ecr:TagResource", "ecs": "ecs:TagResource",
	"events": "events:TagResource", "ssm": "ssm:AddTagsToResource",
	"kinesis": "kinesis:AddTagsToStream", "firehose": "firehose:TagDeliveryStream",
}
