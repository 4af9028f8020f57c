package actionmap

import (
	"strings"
	"sync"
)

// ResourceGroup is one resource AWS authorises a call against. A call
// whose action has several groups is allowed only when every group's
// resource is (a conjunction); a group of several types is filled by any
// one of them, whichever the request names (an alternative).
type ResourceGroup struct {
	// Types are resource types of the action (catalogue names).
	Types []string
	// Named: the group is checked only when the request names such a
	// resource (RunInstances' key pair, launch template, snapshot).
	Named bool
	// Created: the call creates the resource, so the request cannot name
	// it; the policy grants the type in the call's region and account.
	Created bool
	// Always: the call creates one even when the request names another
	// resource of the type (the source of a copy).
	Always bool
}

// authorisedOn lists the calls AWS authorises against several resources at
// once: RunInstances is checked on the image, the new instance, its network
// interfaces, security groups, subnet and volumes, and on the key pair,
// launch template, placement group and snapshots when the request uses
// them. The catalogue marks each action's required resource types but not
// whether they are alternatives (bedrock:InvokeModel is authorised on the
// one model or profile it names, not on all twelve of its types) or a
// conjunction, so the conjunctions are kept here as data, each with a test
// (TestAuthorisedOn). An action not listed is authorised on the resource
// its request names, of any of its types.
//
// Each entry is a list of groups separated by spaces; a group is one type
// or several separated by '|' (any one); '?' before a group: only when the
// request names one; '+' after it: created by the call unless the request
// names it; '!' after it: created by the call, besides any the request
// names (a copy and its source). A group not named
// by the request and not created is one AWS picks (the default VPC,
// subnet or security group, the option group of the engine): the policy
// grants it by type in the call's region and account.
var authorisedOn = map[string]string{
	// EC2 instances, EBS, snapshots and AMIs.
	"ec2:RunInstances":             "image instance+ network-interface+ security-group subnet volume+ ?key-pair ?launch-template ?placement-group ?snapshot ?capacity-reservation",
	"ec2:AttachVolume":             "instance volume",
	"ec2:DetachVolume":             "instance volume",
	"ec2:CreateVolume":             "volume+ ?snapshot",
	"ec2:CreateSnapshot":           "snapshot+ volume",
	"ec2:CreateSnapshots":          "instance snapshot+ volume",
	"ec2:CopySnapshot":             "snapshot!",
	"ec2:CreateImage":              "image+ instance snapshot+",
	"ec2:CopyImage":                "image! snapshot+",
	"ec2:RegisterImage":            "image+ ?snapshot",
	"ec2:ImportImage":              "image+ import-image-task+",
	"ec2:ImportSnapshot":           "import-snapshot-task+ snapshot+",
	"ec2:ExportImage":              "export-image-task+ image",
	"ec2:CreateInstanceExportTask": "export-instance-task+ instance",
	"ec2:AttachNetworkInterface":   "instance network-interface",
	"ec2:DetachNetworkInterface":   "instance network-interface",
	"ec2:AllocateAddress":          "elastic-ip+",
	// VPC networking: a resource created inside a parent.
	"ec2:CreateSubnet":                    "subnet+ vpc",
	"ec2:CreateRouteTable":                "route-table+ vpc",
	"ec2:CreateNetworkAcl":                "network-acl+ vpc",
	"ec2:CreateNetworkInterface":          "network-interface+ subnet ?security-group",
	"ec2:CreateSecurityGroup":             "security-group+ vpc",
	"ec2:CreateEgressOnlyInternetGateway": "egress-only-internet-gateway+ vpc",
	"ec2:CreateVpcEndpoint":               "vpc vpc-endpoint+ ?route-table ?security-group ?subnet",
	"ec2:CreateVpcPeeringConnection":      "vpc vpc-peering-connection+",
	"ec2:AcceptVpcPeeringConnection":      "vpc vpc-peering-connection",
	"ec2:CreateNatGateway":                "natgateway+ ?subnet ?elastic-ip",
	"ec2:AttachInternetGateway":           "internet-gateway vpc",
	"ec2:DetachInternetGateway":           "internet-gateway vpc",
	"ec2:AttachVpnGateway":                "vpc vpn-gateway",
	"ec2:DetachVpnGateway":                "vpc vpn-gateway",
	"ec2:AssociateDhcpOptions":            "dhcp-options vpc",
	"ec2:AssociateRouteTable":             "route-table ?subnet ?internet-gateway ?vpn-gateway",
	"ec2:ReplaceNetworkAclAssociation":    "network-acl subnet",
	"ec2:CreateFlowLogs":                  "vpc-flow-log+ ?vpc|subnet|network-interface|transit-gateway|transit-gateway-attachment",
	"ec2:CreateTrafficMirrorFilterRule":   "traffic-mirror-filter traffic-mirror-filter-rule+",
	"ec2:CreateTrafficMirrorSession":      "network-interface traffic-mirror-filter traffic-mirror-session+ traffic-mirror-target",
	"ec2:CreateTrafficMirrorTarget":       "traffic-mirror-target+ ?network-interface",
	"ec2:ModifySecurityGroupRules":        "security-group security-group-rule",
	// Systems Manager: the document and what it runs on.
	"ssm:SendCommand":                 "document ?instance|managed-instance",
	"ssm:CreateAssociation":           "association+ document ?instance|managed-instance",
	"ssm:StartAutomationExecution":    "automation-execution+ document",
	"ssm:StartChangeRequestExecution": "automation-execution+ document",
	// ECS.
	"ecs:ExecuteCommand": "cluster task",
	// Lambda.
	"lambda:PutFunctionCodeSigningConfig":    "code signing config function",
	"lambda:UpdateFunctionCodeSigningConfig": "code signing config function",
	// KMS aliases point at a key: both are checked.
	"kms:CreateAlias": "alias key",
	"kms:UpdateAlias": "alias key",
	"kms:DeleteAlias": "alias key",
	// RDS: the instance or cluster and the groups it is made with (the
	// engine's default groups when the request names none).
	"rds:CreateDBSnapshot":                "db snapshot+",
	"rds:CreateDBClusterSnapshot":         "cluster cluster-snapshot+",
	"rds:RestoreDBInstanceFromDBSnapshot": "db+ og pg subgrp ?snapshot|cluster-snapshot",
	"rds:RestoreDBInstanceToPointInTime":  "db+ og pg subgrp",
	"rds:RestoreDBClusterFromSnapshot":    "cluster+ cluster-pg og subgrp",
	"rds:RestoreDBClusterToPointInTime":   "cluster+ cluster-pg og subgrp",
	"rds:CreateDBCluster":                 "cluster+ cluster-pg og subgrp",
	"rds:DeleteDBCluster":                 "cluster ?cluster-snapshot",
	// DynamoDB and Kinesis.
	"dynamodb:RestoreTableFromBackup": "backup table+",
	"dynamodb:CreateGlobalTable":      "global-table+ table",
	"kinesis:StartStreamEncryption":   "kmsKey stream",
	"kinesis:StopStreamEncryption":    "kmsKey stream",
	// CloudWatch Logs deliveries join a source and a destination.
	"logs:CreateDelivery": "delivery+ delivery-destination delivery-source",
}

var (
	groupsOnce sync.Once
	groupsOf   map[string][]ResourceGroup
)

func parseGroups(spec string) []ResourceGroup {
	var out []ResourceGroup
	// "code signing config" is one Lambda type with spaces: read the
	// entry's groups as the longest runs of words that name types.
	for _, f := range splitGroups(spec) {
		g := ResourceGroup{}
		if rest, ok := strings.CutPrefix(f, "?"); ok {
			g.Named, f = true, rest
		}
		if rest, ok := strings.CutSuffix(f, "+"); ok {
			g.Created, f = true, rest
		}
		if rest, ok := strings.CutSuffix(f, "!"); ok {
			g.Created, g.Always, f = true, true, rest
		}
		g.Types = strings.Split(f, "|")
		out = append(out, g)
	}
	return out
}

// splitGroups splits an entry at spaces, except inside the one type name
// with spaces ("code signing config").
func splitGroups(spec string) []string {
	const spaced = "code signing config"
	spec = strings.ReplaceAll(spec, spaced, "\x00")
	fs := strings.Fields(spec)
	for i := range fs {
		fs[i] = strings.ReplaceAll(fs[i], "\x00", spaced)
	}
	return fs
}

// AuthorisedOn returns the resources AWS checks a call of action against
// when there are several (nil for an action authorised on the one
// resource its request names). action is "prefix:Action" as the
// catalogue spells it.
func AuthorisedOn(action string) []ResourceGroup {
	groupsOnce.Do(func() {
		groupsOf = make(map[string][]ResourceGroup, len(authorisedOn))
		for a, spec := range authorisedOn {
			groupsOf[a] = parseGroups(spec)
		}
	})
	return groupsOf[action]
}
