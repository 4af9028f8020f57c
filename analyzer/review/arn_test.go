package review

import "testing"

// TestARNHelpers: nameKey and accountOf (aws/arn underneath) on paths,
// partitions, resources with colons, and strings that are no ARN.
func TestARNHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::1:user/alice":               "1:user/alice",
		"arn:aws-cn:iam::1:role/team/ops/deploy":  "1:role/deploy",
		"arn:aws-us-gov:iam::2:user/a/b":          "2:user/b",
		"arn:aws:sts::1:assumed-role/deploy/s":    "",
		"arn:aws:iam::1:policy/p":                 "",
		"arn:aws:iam::1:root":                     "",
		"iam::1:user/alice":                       "",
		"arn:aws:logs:us-east-1:1:log-group:/a:*": "",
	} {
		if got := nameKey(in); got != want {
			t.Errorf("nameKey(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"arn:aws:logs:us-east-1:1:log-group:/a:*": "1",
		"arn:aws:s3:::bucket/*":                   "",
		"arn:aws-cn:iam::123456789012:root":       "123456789012",
		"arn:aws:iam":                             "",
	} {
		if got := accountOf(in); got != want {
			t.Errorf("accountOf(%q) = %q, want %q", in, got, want)
		}
	}
}
