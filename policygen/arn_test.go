package policygen

import (
	"fmt"
	"testing"
)

// TestServiceGroupsARNEdgeCases: service mode keeps each ARN's partition,
// service, region and account whatever the resource holds (slashes,
// colons, "*"), and leaves what is no ARN as it is.
func TestServiceGroupsARNEdgeCases(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws-cn:s3:::bucket/a/b/c.gz":                 "arn:aws-cn:s3:::*/*",
		"arn:aws-us-gov:s3:::bucket":                      "arn:aws-us-gov:s3:::*",
		"arn:aws:logs:us-east-1:1:log-group:/a:*":         "arn:aws:logs:us-east-1:1:log-group:*",
		"arn:aws:iam::1:role/team/ops/deploy":             "arn:aws:iam::1:role/*",
		"arn:aws:lambda:us-gov-west-1:1:function:fn:live": "arn:aws:lambda:us-gov-west-1:1:function:*",
		"arn:aws:sns:us-east-1:1:topic":                   "arn:aws:sns:us-east-1:1:*",
		"*":                                               "*",
		"arn:aws:s3":                                      "arn:aws:s3",
	} {
		gs := serviceGroups([]string{in})
		if len(gs) != 1 || gs[0].pattern != want || fmt.Sprint(gs[0].members) != fmt.Sprint([]string{in}) {
			t.Errorf("serviceGroups(%q) = %+v, want pattern %q", in, gs, want)
		}
	}
}

// TestPrefixGroupsOtherPartitions: S3 object keys collapse under their
// bucket in any partition; the bucket's ARN header is kept exactly.
func TestPrefixGroupsOtherPartitions(t *testing.T) {
	var arns []string
	for i := range 4 {
		arns = append(arns, fmt.Sprintf("arn:aws-cn:s3:::logs/app/2026/%02d/x.gz", i))
	}
	gs := prefixGroups(arns, 1)
	if len(gs) != 1 || gs[0].pattern != "arn:aws-cn:s3:::logs/app/2026/*" || len(gs[0].members) != 4 {
		t.Errorf("prefixGroups = %+v, want one group arn:aws-cn:s3:::logs/app/2026/* of 4", gs)
	}
}
