package actionmap

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// sampleEvents returns the records of the bundled sample (testdata/sample)
// by eventID, read once.
func sampleEvents(t testing.TB) map[string]gjson.Result {
	t.Helper()
	sample.Lock()
	defer sample.Unlock()
	if sample.recs == nil {
		out := map[string]gjson.Result{}
		ingesttest.LogRecords(t, ingesttest.Sample(t), func(_ string, r gjson.Result) {
			out[r.Get("eventID").Str] = r
		})
		sample.recs = out
	}
	return sample.recs
}

var sample struct {
	sync.Mutex
	recs map[string]gjson.Result
}

// sampleCall is the call of one record of the sample, by eventID.
func sampleCall(t *testing.T, id string) Call {
	t.Helper()
	r, ok := sampleEvents(t)[id]
	if !ok {
		t.Fatalf("no event %s in testdata/sample", id)
	}
	return CallFromRecord(r)
}

// TestAuthorisedOnNamesRealTypes: every action of the table exists, each
// group's types are resource types of the action, and every entry has a
// test in TestAuthorisedOn.
func TestAuthorisedOnNamesRealTypes(t *testing.T) {
	_, cat := mapper(t)
	tested := map[string]bool{}
	for _, tt := range authorisedTests {
		tested[tt.action] = true
	}
	for action := range authorisedOn {
		a, ok := cat.Action(action)
		if !ok {
			t.Errorf("%s: no such action", action)
			continue
		}
		if a.FullName() != action {
			t.Errorf("%s: the catalogue spells it %s", action, a.FullName())
		}
		groups := AuthorisedOn(action)
		if len(groups) < 1 {
			t.Errorf("%s: no groups", action)
		}
		for _, g := range groups {
			for _, typ := range g.Types {
				if !slices.ContainsFunc(a.Resources, func(r catalog.ActionResource) bool { return r.Type == typ }) {
					t.Errorf("%s: %q is not one of its resource types", action, typ)
				}
			}
		}
		if !tested[action] {
			t.Errorf("%s has no test in authorisedTests", action)
		}
	}
}

// authorisedTests is one call per entry of authorisedOn: a real event of
// the bundled sample (by eventID) where one exists, else a request shaped
// as CloudTrail logs it. want is every resource the call is authorised on.
var authorisedTests = []struct {
	action, event, name, req string
	want                     []string
}{
	// testdata/sample 86eac0ac-…: an existing network interface, no
	// subnet or security group named (they come with the interface)
	{"ec2:RunInstances", "86eac0ac-8521-4126-aa32-a22f2b74d02e", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:instance/*", "arn:aws:ec2:us-east-1:123837392027:network-interface/eni-076fa9fb98a2500a7",
		"arn:aws:ec2:us-east-1:123837392027:security-group/*", "arn:aws:ec2:us-east-1:123837392027:subnet/*",
		"arn:aws:ec2:us-east-1:123837392027:volume/*", "arn:aws:ec2:us-east-1::image/ami-029eb80bc237bec6f"}},
	{"ec2:AttachVolume", "", "AttachVolume", `{"volumeId":"vol-1","instanceId":"i-1","device":"/dev/sdf"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:instance/i-1", "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"}},
	{"ec2:DetachVolume", "", "DetachVolume", `{"volumeId":"vol-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:instance/*", "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"}},
	// testdata/sample 396f94bc-…
	{"ec2:CreateVolume", "396f94bc-78ec-4b64-917d-aadc2260c81d", "", "", []string{"arn:aws:ec2:us-east-1:123837392027:volume/*"}},
	// testdata/sample 9eede385-…
	{"ec2:CreateSnapshot", "9eede385-5c6d-405e-9dda-fd10950e9069", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:volume/vol-0fc2e34e74650e145", "arn:aws:ec2:us-east-1::snapshot/*"}},
	{"ec2:CreateSnapshots", "", "CreateSnapshots", `{"instanceSpecification":{"instanceId":"i-1"}}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:instance/i-1", "arn:aws:ec2:us-east-1:123456789012:volume/*", "arn:aws:ec2:us-east-1::snapshot/*"}},
	{"ec2:CopySnapshot", "", "CopySnapshot", `{"sourceSnapshotId":"snap-1","sourceRegion":"us-west-2"}`, []string{
		"arn:aws:ec2:us-east-1::snapshot/*", "arn:aws:ec2:us-west-2::snapshot/snap-1"}},
	{"ec2:CreateImage", "", "CreateImage", `{"instanceId":"i-1","name":"nightly"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:instance/i-1", "arn:aws:ec2:us-east-1::image/*", "arn:aws:ec2:us-east-1::snapshot/*"}},
	{"ec2:CopyImage", "", "CopyImage", `{"sourceImageId":"ami-1","sourceRegion":"us-west-2","name":"copy"}`, []string{
		"arn:aws:ec2:us-east-1::image/*", "arn:aws:ec2:us-east-1::snapshot/*", "arn:aws:ec2:us-west-2::image/ami-1"}},
	// testdata/sample fa0d7aad-…: an AMI made from a snapshot
	{"ec2:RegisterImage", "fa0d7aad-7d72-46c4-a0cf-230834779e81", "", "", []string{
		"arn:aws:ec2:us-east-1::image/*", "arn:aws:ec2:us-east-1::snapshot/snap-01ee6be9876379b3b"}},
	{"ec2:ImportImage", "", "ImportImage", `{"diskContainerSet":{"items":[{"url":"s3://b/disk.vmdk"}]}}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:import-image-task/*", "arn:aws:ec2:us-east-1::image/*"}},
	{"ec2:ImportSnapshot", "", "ImportSnapshot", `{}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:import-snapshot-task/*", "arn:aws:ec2:us-east-1::snapshot/*"}},
	{"ec2:ExportImage", "", "ExportImage", `{"imageId":"ami-1","diskImageFormat":"VMDK"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:export-image-task/*", "arn:aws:ec2:us-east-1::image/ami-1"}},
	{"ec2:CreateInstanceExportTask", "", "CreateInstanceExportTask", `{"instanceId":"i-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:export-instance-task/*", "arn:aws:ec2:us-east-1:123456789012:instance/i-1"}},
	{"ec2:AttachNetworkInterface", "", "AttachNetworkInterface", `{"networkInterfaceId":"eni-1","instanceId":"i-1","deviceIndex":1}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:instance/i-1", "arn:aws:ec2:us-east-1:123456789012:network-interface/eni-1"}},
	// the request names only the attachment
	{"ec2:DetachNetworkInterface", "", "DetachNetworkInterface", `{"attachmentId":"eni-attach-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:instance/*", "arn:aws:ec2:us-east-1:123456789012:network-interface/*"}},
	// testdata/sample a4ff516f-…
	{"ec2:AllocateAddress", "a4ff516f-8f9a-4c36-9700-b31a883c1a6e", "", "", []string{"arn:aws:ec2:us-east-1:123837392027:elastic-ip/*"}},
	// testdata/sample 078ad2dc-…
	{"ec2:CreateSubnet", "078ad2dc-a2bf-46ee-90dc-f524fb5fe1f1", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:subnet/*", "arn:aws:ec2:us-east-1:123837392027:vpc/vpc-06fe1a64761a0f720"}},
	// testdata/sample dc024e51-…
	{"ec2:CreateRouteTable", "dc024e51-15e4-4829-a971-7e17d4be43be", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:route-table/*", "arn:aws:ec2:us-east-1:123837392027:vpc/vpc-06fe1a64761a0f720"}},
	{"ec2:CreateNetworkAcl", "", "CreateNetworkAcl", `{"vpcId":"vpc-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:network-acl/*", "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1"}},
	// testdata/sample 16034e79-…
	{"ec2:CreateNetworkInterface", "16034e79-0235-4886-9566-19d4a4ca1d72", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:network-interface/*", "arn:aws:ec2:us-east-1:123837392027:subnet/subnet-0ed352584ab4aa265"}},
	// testdata/sample 7475937c-…
	{"ec2:CreateSecurityGroup", "7475937c-a863-44ce-9878-81e8a268e966", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:security-group/*", "arn:aws:ec2:us-east-1:123837392027:vpc/vpc-0e568b18707c87afa"}},
	{"ec2:CreateEgressOnlyInternetGateway", "", "CreateEgressOnlyInternetGateway", `{"vpcId":"vpc-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:egress-only-internet-gateway/*", "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1"}},
	{"ec2:CreateVpcEndpoint", "", "CreateVpcEndpoint", `{"vpcId":"vpc-1","serviceName":"com.amazonaws.us-east-1.ssm","subnetIds":["subnet-1"],"securityGroupIds":["sg-1"]}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:security-group/sg-1", "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1",
		"arn:aws:ec2:us-east-1:123456789012:vpc-endpoint/*", "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1"}},
	{"ec2:CreateVpcPeeringConnection", "", "CreateVpcPeeringConnection", `{"vpcId":"vpc-1","peerVpcId":"vpc-2"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:vpc-peering-connection/*", "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1"}},
	{"ec2:AcceptVpcPeeringConnection", "", "AcceptVpcPeeringConnection", `{"vpcPeeringConnectionId":"pcx-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:vpc-peering-connection/pcx-1", "arn:aws:ec2:us-east-1:123456789012:vpc/*"}},
	// testdata/sample dbb3b16e-…: the request in its XML shape
	{"ec2:CreateNatGateway", "dbb3b16e-549e-48bc-bfa6-9ca4c2845e43", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:elastic-ip/eipalloc-08a083beb7e83dbc0", "arn:aws:ec2:us-east-1:123837392027:natgateway/*",
		"arn:aws:ec2:us-east-1:123837392027:subnet/subnet-01ed430875cff578d"}},
	// testdata/sample 2b4e0526-…, 391942a4-…
	{"ec2:AttachInternetGateway", "2b4e0526-7813-410b-b6a5-366704c3b0d3", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:internet-gateway/igw-02a84e4222d62e16b", "arn:aws:ec2:us-east-1:123837392027:vpc/vpc-06fe1a64761a0f720"}},
	{"ec2:DetachInternetGateway", "391942a4-c330-4d17-9497-343e28c0b8a1", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:internet-gateway/igw-02a84e4222d62e16b", "arn:aws:ec2:us-east-1:123837392027:vpc/vpc-06fe1a64761a0f720"}},
	{"ec2:AttachVpnGateway", "", "AttachVpnGateway", `{"vpnGatewayId":"vgw-1","vpcId":"vpc-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1", "arn:aws:ec2:us-east-1:123456789012:vpn-gateway/vgw-1"}},
	{"ec2:DetachVpnGateway", "", "DetachVpnGateway", `{"vpnGatewayId":"vgw-1","vpcId":"vpc-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1", "arn:aws:ec2:us-east-1:123456789012:vpn-gateway/vgw-1"}},
	{"ec2:AssociateDhcpOptions", "", "AssociateDhcpOptions", `{"dhcpOptionsId":"dopt-1","vpcId":"vpc-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:dhcp-options/dopt-1", "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1"}},
	// testdata/sample a8126719-…
	{"ec2:AssociateRouteTable", "a8126719-8ca9-43a1-9c1c-4fddd2bef9a8", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:route-table/rtb-0c7c2f4aff3677054", "arn:aws:ec2:us-east-1:123837392027:subnet/subnet-01ed430875cff578d"}},
	{"ec2:ReplaceNetworkAclAssociation", "", "ReplaceNetworkAclAssociation", `{"associationId":"aclassoc-1","networkAclId":"acl-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:network-acl/acl-1", "arn:aws:ec2:us-east-1:123456789012:subnet/*"}},
	// testdata/sample a3fbe842-…: the request in its XML shape
	{"ec2:CreateFlowLogs", "a3fbe842-f8df-4bb3-accf-1407cc925cbd", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:vpc-flow-log/*", "arn:aws:ec2:us-east-1:123837392027:vpc/vpc-0255d384b4b458b46"}},
	{"ec2:CreateTrafficMirrorFilterRule", "", "CreateTrafficMirrorFilterRule", `{"CreateTrafficMirrorFilterRuleRequest":{"TrafficMirrorFilterId":"tmf-1","RuleNumber":100}}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:traffic-mirror-filter-rule/*", "arn:aws:ec2:us-east-1:123456789012:traffic-mirror-filter/tmf-1"}},
	{"ec2:CreateTrafficMirrorSession", "", "CreateTrafficMirrorSession", `{"networkInterfaceId":"eni-1","trafficMirrorTargetId":"tmt-1","trafficMirrorFilterId":"tmf-1","sessionNumber":1}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:network-interface/eni-1", "arn:aws:ec2:us-east-1:123456789012:traffic-mirror-filter/tmf-1",
		"arn:aws:ec2:us-east-1:123456789012:traffic-mirror-session/*", "arn:aws:ec2:us-east-1:123456789012:traffic-mirror-target/tmt-1"}},
	{"ec2:CreateTrafficMirrorTarget", "", "CreateTrafficMirrorTarget", `{"networkInterfaceId":"eni-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:network-interface/eni-1", "arn:aws:ec2:us-east-1:123456789012:traffic-mirror-target/*"}},
	{"ec2:ModifySecurityGroupRules", "", "ModifySecurityGroupRules", `{"groupId":"sg-1","securityGroupRuleSet":{"items":[{"securityGroupRuleId":"sgr-1"}]}}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:security-group-rule/sgr-1", "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1"}},
	// testdata/sample 99b46479-…
	{"ssm:SendCommand", "99b46479-d5c7-4384-b342-006ece8c36a0", "", "", []string{
		"arn:aws:ec2:us-east-1:123837392027:instance/i-0dbc91f429e48eeed", "arn:aws:ssm:us-east-1::document/AWS-RunShellScript"}},
	{"ssm:CreateAssociation", "", "CreateAssociation", `{"name":"AWS-GatherSoftwareInventory","instanceId":"i-1"}`, []string{
		"arn:aws:ec2:us-east-1:123456789012:instance/i-1", "arn:aws:ssm:us-east-1:123456789012:association/*", "arn:aws:ssm:us-east-1::document/AWS-GatherSoftwareInventory"}},
	{"ssm:StartAutomationExecution", "", "StartAutomationExecution", `{"documentName":"AWS-RestartEC2Instance"}`, []string{
		"arn:aws:ssm:us-east-1:123456789012:automation-execution/*", "arn:aws:ssm:us-east-1::document/AWS-RestartEC2Instance"}},
	{"ssm:StartChangeRequestExecution", "", "StartChangeRequestExecution", `{"documentName":"patch-window"}`, []string{
		"arn:aws:ssm:us-east-1:123456789012:automation-execution/*", "arn:aws:ssm:us-east-1:123456789012:document/patch-window"}},
	{"ecs:ExecuteCommand", "", "ExecuteCommand", `{"cluster":"web","task":"0f2c","container":"app","interactive":true,"command":"/bin/sh"}`, []string{
		"arn:aws:ecs:us-east-1:123456789012:cluster/web", "arn:aws:ecs:us-east-1:123456789012:task/web/0f2c"}},
	{"lambda:PutFunctionCodeSigningConfig", "", "PutFunctionCodeSigningConfig", `{"functionName":"f","codeSigningConfigArn":"arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-1"}`, []string{
		"arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-1", "arn:aws:lambda:us-east-1:123456789012:function:f"}},
	{"lambda:UpdateFunctionCodeSigningConfig", "", "UpdateFunctionCodeSigningConfig", `{"functionName":"f","codeSigningConfigArn":"arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-1"}`, []string{
		"arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-1", "arn:aws:lambda:us-east-1:123456789012:function:f"}},
	{"kms:CreateAlias", "", "CreateAlias", `{"aliasName":"alias/app","targetKeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}`, []string{
		"arn:aws:kms:us-east-1:123456789012:alias/app", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
	{"kms:UpdateAlias", "", "UpdateAlias", `{"aliasName":"alias/app","targetKeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}`, []string{
		"arn:aws:kms:us-east-1:123456789012:alias/app", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
	// the key the alias points at is not in the request
	{"kms:DeleteAlias", "", "DeleteAlias", `{"aliasName":"alias/app"}`, []string{
		"arn:aws:kms:us-east-1:123456789012:alias/app", "arn:aws:kms:us-east-1:123456789012:key/*"}},
	// testdata/sample 0516b66a-…
	{"rds:CreateDBSnapshot", "0516b66a-77ec-4479-a82d-0cda54d3fc5d", "", "", []string{
		"arn:aws:rds:us-east-1:123837392027:db:terraform-20230710121504061500000001", "arn:aws:rds:us-east-1:123837392027:snapshot:exfiltration"}},
	{"rds:CreateDBClusterSnapshot", "", "CreateDBClusterSnapshot", `{"dBClusterIdentifier":"c1","dBClusterSnapshotIdentifier":"s1"}`, []string{
		"arn:aws:rds:us-east-1:123456789012:cluster-snapshot:s1", "arn:aws:rds:us-east-1:123456789012:cluster:c1"}},
	// no option, parameter or subnet group named: the engine's defaults
	{"rds:RestoreDBInstanceFromDBSnapshot", "", "RestoreDBInstanceFromDBSnapshot", `{"dBInstanceIdentifier":"db1","dBSnapshotIdentifier":"s1"}`, []string{
		"arn:aws:rds:us-east-1:123456789012:db:db1", "arn:aws:rds:us-east-1:123456789012:og:*", "arn:aws:rds:us-east-1:123456789012:pg:*",
		"arn:aws:rds:us-east-1:123456789012:snapshot:s1", "arn:aws:rds:us-east-1:123456789012:subgrp:*"}},
	{"rds:RestoreDBInstanceToPointInTime", "", "RestoreDBInstanceToPointInTime", `{"sourceDBInstanceIdentifier":"db0","targetDBInstanceIdentifier":"db1","dBSubnetGroupName":"private"}`, []string{
		"arn:aws:rds:us-east-1:123456789012:db:db0", "arn:aws:rds:us-east-1:123456789012:db:db1", "arn:aws:rds:us-east-1:123456789012:og:*",
		"arn:aws:rds:us-east-1:123456789012:pg:*", "arn:aws:rds:us-east-1:123456789012:subgrp:private"}},
	{"rds:RestoreDBClusterFromSnapshot", "", "RestoreDBClusterFromSnapshot", `{"dBClusterIdentifier":"c1","snapshotIdentifier":"s1","engine":"aurora-mysql"}`, []string{
		"arn:aws:rds:us-east-1:123456789012:cluster-pg:*", "arn:aws:rds:us-east-1:123456789012:cluster:c1", "arn:aws:rds:us-east-1:123456789012:og:*",
		"arn:aws:rds:us-east-1:123456789012:subgrp:*"}},
	{"rds:RestoreDBClusterToPointInTime", "", "RestoreDBClusterToPointInTime", `{"dBClusterIdentifier":"c1","sourceDBClusterIdentifier":"c0"}`, []string{
		"arn:aws:rds:us-east-1:123456789012:cluster-pg:*", "arn:aws:rds:us-east-1:123456789012:cluster:c0", "arn:aws:rds:us-east-1:123456789012:cluster:c1",
		"arn:aws:rds:us-east-1:123456789012:og:*", "arn:aws:rds:us-east-1:123456789012:subgrp:*"}},
	{"rds:CreateDBCluster", "", "CreateDBCluster", `{"dBClusterIdentifier":"c1","engine":"aurora-postgresql","dBClusterParameterGroupName":"pg15"}`, []string{
		"arn:aws:rds:us-east-1:123456789012:cluster-pg:pg15", "arn:aws:rds:us-east-1:123456789012:cluster:c1", "arn:aws:rds:us-east-1:123456789012:og:*",
		"arn:aws:rds:us-east-1:123456789012:subgrp:*"}},
	{"rds:DeleteDBCluster", "", "DeleteDBCluster", `{"dBClusterIdentifier":"c1","finalDBSnapshotIdentifier":"c1-final"}`, []string{
		"arn:aws:rds:us-east-1:123456789012:cluster-snapshot:c1-final", "arn:aws:rds:us-east-1:123456789012:cluster:c1"}},
	{"dynamodb:RestoreTableFromBackup", "", "RestoreTableFromBackup", `{"targetTableName":"orders-restored","backupArn":"arn:aws:dynamodb:us-east-1:123456789012:table/orders/backup/01700000000000-abcdef12"}`, []string{
		"arn:aws:dynamodb:us-east-1:123456789012:table/orders-restored", "arn:aws:dynamodb:us-east-1:123456789012:table/orders/backup/01700000000000-abcdef12"}},
	{"dynamodb:CreateGlobalTable", "", "CreateGlobalTable", `{"globalTableName":"orders","replicationGroup":[{"regionName":"us-east-1"},{"regionName":"eu-west-1"}]}`, []string{
		"arn:aws:dynamodb::123456789012:global-table/orders", "arn:aws:dynamodb:us-east-1:123456789012:table/orders"}},
	{"kinesis:StartStreamEncryption", "", "StartStreamEncryption", `{"streamName":"clicks","encryptionType":"KMS","keyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}`, []string{
		"arn:aws:kinesis:us-east-1:123456789012:stream/clicks", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
	// an alias names the key: the key itself is not named
	{"kinesis:StopStreamEncryption", "", "StopStreamEncryption", `{"streamName":"clicks","encryptionType":"KMS","keyId":"alias/aws/kinesis"}`, []string{
		"arn:aws:kinesis:us-east-1:123456789012:stream/clicks", "arn:aws:kms:us-east-1:123456789012:key/*"}},
	{"logs:CreateDelivery", "", "CreateDelivery", `{"deliverySourceName":"src","deliveryDestinationArn":"arn:aws:logs:us-east-1:123456789012:delivery-destination:dst"}`, []string{
		"arn:aws:logs:us-east-1:123456789012:delivery-destination:dst", "arn:aws:logs:us-east-1:123456789012:delivery-source:src",
		"arn:aws:logs:us-east-1:123456789012:delivery:*"}},
}

// TestAuthorisedOn maps one call per entry of the table and checks that
// every resource the call is authorised on is there: each group the call
// is always checked against is filled by one of its types, and the
// resources are exactly the ones expected.
func TestAuthorisedOn(t *testing.T) {
	m, cat := mapper(t)
	for _, tt := range authorisedTests {
		t.Run(tt.action, func(t *testing.T) {
			var c Call
			if tt.event != "" {
				c = sampleCall(t, tt.event)
			} else {
				prefix, _, _ := strings.Cut(tt.action, ":")
				c = Call{EventSource: prefix + ".amazonaws.com", EventName: tt.name, RequestParameters: tt.req,
					AWSRegion: "us-east-1", RecipientAccount: "123456789012", UserIdentityARN: "arn:aws:iam::123456789012:user/alice"}
			}
			r := m.Map(&c)
			var act *Action
			for i := range r.Actions {
				if r.Actions[i].Name == tt.action {
					act = &r.Actions[i]
				}
			}
			if act == nil {
				t.Fatalf("%s: not mapped to %s: %+v", c.EventName, tt.action, r)
			}
			if !slices.Equal(act.Resources, tt.want) {
				t.Errorf("resources\n got  %q\n want %q", act.Resources, tt.want)
			}
			svc, _ := cat.Service(strings.Split(tt.action, ":")[0])
			for _, g := range AuthorisedOn(tt.action) {
				if ca, _ := cat.Action(tt.action); !g.Named && !filled(svc, ca, g.Types, act.Resources) {
					t.Errorf("no resource of %v", g.Types)
				}
			}
			for _, res := range act.Resources {
				if !cat.MatchesResource(tt.action, res) {
					t.Errorf("%s fits none of the action's types", res)
				}
				if strings.ContainsAny(strings.NewReplacer("${*}", "", "${?}", "").Replace(res), "*?") && act.Why[res] == "" {
					t.Errorf("%s is a pattern with no reason", res)
				}
			}
		})
	}
}
