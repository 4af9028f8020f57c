package cloudtrail

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestARNEdgeCases: the ARN helpers (the SDK's parser underneath) on
// partitions other than aws, resource paths with slashes, resources with
// colons and wildcards, and strings that are no ARN.
func TestARNEdgeCases(t *testing.T) {
	for _, c := range []struct {
		in, account, partition, role, session string
	}{
		{"arn:aws-cn:sts::123456789012:assumed-role/Deploy/ci", "123456789012", "aws-cn", "arn:aws-cn:iam::123456789012:role/Deploy", "ci"},
		{"arn:aws-us-gov:sts::123456789012:assumed-role/R/s@example.com", "123456789012", "aws-us-gov", "arn:aws-us-gov:iam::123456789012:role/R", "s@example.com"},
		{"arn:aws:iam::123456789012:user/team/ops/alice", "123456789012", "aws", "arn:aws:iam::123456789012:user/team/ops/alice", ""},
		{"arn:aws:logs:us-east-1:1:log-group:/a:*", "1", "aws", "arn:aws:logs:us-east-1:1:log-group:/a:*", ""},
		{"arn:aws:s3:::bucket/*", "", "aws", "arn:aws:s3:::bucket/*", ""},
		{"arn:aws:sts::1:federated-user/Bob", "1", "aws", "arn:aws:sts::1:federated-user/Bob", "Bob"},
		{"arn:aws:iam::1:root", "1", "aws", "arn:aws:iam::1:root", ""},
		{"arn:aws:sts::1", "", "aws", "arn:aws:sts::1", ""}, // too few fields: not an ARN
		{"lambda.amazonaws.com", "", "aws", "lambda.amazonaws.com", ""},
		{"", "", "aws", "", ""},
	} {
		a := parseARN(c.in)
		if got := accountOfARN(c.in); got != c.account {
			t.Errorf("accountOfARN(%q) = %q, want %q", c.in, got, c.account)
		}
		if got := partitionOf(a, "us-east-1"); got != c.partition {
			t.Errorf("partitionOf(%q) = %q, want %q", c.in, got, c.partition)
		}
		if got := roleFromSessionARN(a, c.in); got != c.role {
			t.Errorf("roleFromSessionARN(%q) = %q, want %q", c.in, got, c.role)
		}
		if got := sessionFromARN(a); got != c.session {
			t.Errorf("sessionFromARN(%q) = %q, want %q", c.in, got, c.session)
		}
	}
	for region, want := range map[string]string{
		"cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov", "us-iso-east-1": "aws-iso",
		"us-isob-east-1": "aws-iso-b", "eu-west-1": "aws", "": "aws",
	} {
		if got := RegionPartition(region); got != want {
			t.Errorf("RegionPartition(%q) = %q, want %q", region, got, want)
		}
	}
}

// TestResolveOtherPartitions: an assumed role without its session issuer
// resolves to the role in the session's own partition, and a user without
// an ARN gets one in the region's partition.
func TestResolveOtherPartitions(t *testing.T) {
	for _, c := range []struct {
		ui, region, arn, account, session string
	}{
		{`{"type":"AssumedRole","arn":"arn:aws-cn:sts::123456789012:assumed-role/Deploy/ci-1"}`, "cn-north-1",
			"arn:aws-cn:iam::123456789012:role/Deploy", "123456789012", "ci-1"},
		{`{"type":"AssumedRole","arn":"arn:aws-us-gov:sts::123456789012:assumed-role/R/s"}`, "us-east-1",
			"arn:aws-us-gov:iam::123456789012:role/R", "123456789012", "s"},
		{`{"type":"IAMUser","accountId":"123456789012","userName":"alice"}`, "us-gov-west-1",
			"arn:aws-us-gov:iam::123456789012:user/alice", "123456789012", ""},
		{`{"type":"Root","arn":"arn:aws-cn:iam::123456789012:root"}`, "cn-north-1",
			"arn:aws-cn:iam::123456789012:root", "123456789012", ""},
	} {
		p := ResolveWith(gjson.Parse(c.ui), Context{Region: c.region})
		if p.ARN != c.arn || p.Account != c.account || p.SessionName != c.session {
			t.Errorf("%s in %s: got (%q, %q, %q), want (%q, %q, %q)", c.ui, c.region,
				p.ARN, p.Account, p.SessionName, c.arn, c.account, c.session)
		}
	}
}
