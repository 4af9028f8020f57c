package actionmap

import (
	"slices"
	"testing"
)

// TestARNEdgeCases: the partition and the IAM-user test the mapper reads
// from the caller's ARN, and ARNs given in request parameters, on other
// partitions, paths with slashes and resources with colons and wildcards.
func TestARNEdgeCases(t *testing.T) {
	for _, c := range []struct{ userARN, region, want string }{
		{"arn:aws-cn:iam::1:user/a", "us-east-1", "aws-cn"},
		{"arn:aws-us-gov:sts::1:assumed-role/R/s", "", "aws-us-gov"},
		{"", "cn-northwest-1", "aws-cn"},
		{"", "us-gov-east-1", "aws-us-gov"},
		{"", "us-iso-east-1", "aws-iso"},
		{"arn::iam::1:user/a", "cn-north-1", "aws-cn"},    // empty partition field
		{"arn:aws-cn:iam", "us-gov-west-1", "aws-us-gov"}, // not an ARN
		{"lambda.amazonaws.com", "eu-west-1", "aws"},
	} {
		if got := Partition(c.userARN, c.region); got != c.want {
			t.Errorf("Partition(%q, %q) = %q, want %q", c.userARN, c.region, got, c.want)
		}
	}
	for s, want := range map[string]bool{
		"arn:aws:iam::1:user/alice":              true,
		"arn:aws-cn:iam::1:user/team/ops/alice":  true,
		"arn:aws:iam::1:role/user/alice":         false,
		"arn:aws:sts::1:assumed-role/user/alice": false,
		"arn:aws:sts::1:federated-user/alice":    false,
		"arn:aws:iam::1:root":                    false,
		"user/alice":                             false,
		"arn:aws:iam::1:user/a:colon/and*wild":   true,
		"arn:aws:iam:user/alice":                 false,
	} {
		if got := isIAMUser(s); got != want {
			t.Errorf("isIAMUser(%q) = %v, want %v", s, got, want)
		}
	}

	m, _ := mapper(t)
	for _, c := range []struct {
		source, name, req, region, action string
		want                              []string
	}{
		// an ARN given for a log group is kept whole, colons included; its
		// literal "*" is escaped as the policy language's ${*}
		{"logs.amazonaws.com", "DescribeLogStreams", `{"logGroupIdentifier":"arn:aws:logs:us-east-1:123456789012:log-group:/a:*"}`, "us-east-1",
			"logs:DescribeLogStreams", []string{"arn:aws:logs:us-east-1:123456789012:log-group:/a:${*}"}},
		// a name is made an ARN in the region's partition
		{"lambda.amazonaws.com", "GetFunction", `{"functionName":"fn"}`, "cn-north-1",
			"lambda:GetFunction", []string{"arn:aws-cn:lambda:cn-north-1:123456789012:function:fn"}},
		{"lambda.amazonaws.com", "GetFunction", `{"functionName":"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn:live"}`, "us-gov-west-1",
			"lambda:GetFunction", []string{"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn:live"}},
		{"ssm.amazonaws.com", "GetParameter", `{"name":"arn:aws:ssm:us-east-1:123456789012:parameter/a/b/c"}`, "us-east-1",
			"ssm:GetParameter", []string{"arn:aws:ssm:us-east-1:123456789012:parameter/a/b/c"}},
	} {
		call := Call{EventSource: c.source, EventName: c.name, RequestParameters: c.req, AWSRegion: c.region, RecipientAccount: "123456789012"}
		r := m.Map(&call)
		var got []string
		for _, a := range r.Actions {
			if a.Name == c.action {
				got = a.Resources
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %s: %s resources %v, want %v (%s)", c.name, c.req, c.action, got, c.want, r.Reason)
		}
	}
}
