package analyzer

import "testing"

// TestPrincipalNameARNEdgeCases: the name a user may give for a principal,
// on ARNs with paths, colons and other partitions, and on non-ARNs.
func TestPrincipalNameARNEdgeCases(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::1:role/ci/deploy":              "deploy",
		"arn:aws-cn:iam::1:user/team/ops/alice":      "alice",
		"arn:aws-us-gov:iam::1:root":                 "root",
		"arn:aws:sts::1:federated-user/bob":          "bob",
		"arn:aws:identitystore:::user/9067a5c1-0001": "9067a5c1-0001",
		"arn:aws:states:us-east-1:1:stateMachine:sm": "sm",
		"lambda.amazonaws.com":                       "lambda.amazonaws.com",
		"saml:arn:aws:iam::1:saml-provider/Okta:bob": "Okta:bob",
		"arn:aws:iam": "arn:aws:iam",
	} {
		if got := PrincipalName(in); got != want {
			t.Errorf("PrincipalName(%q) = %q, want %q", in, got, want)
		}
	}
}
