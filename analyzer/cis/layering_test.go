package cis

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyCollectorImportsSDK keeps the AWS SDK out of the checks: only
// package collect talks to AWS, so the checks run on a snapshot anywhere.
// The SDK's ARN parser (aws/arn, the standard library only) is the
// project's one ARN parser and is allowed.
func TestOnlyCollectorImportsSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/aws/") && dep != arnPackage {
			t.Errorf("analyzer/cis depends on %s; only analyzer/cis/collect may", dep)
		}
	}
}

// arnPackage is the SDK's ARN parser, which any package may use.
const arnPackage = "github.com/aws/aws-sdk-go-v2/aws/arn"
