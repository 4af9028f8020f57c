package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCatalogCommand(t *testing.T) {
	code, out, _ := runCLI(t, "catalog", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var s catalogSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.Services < 400 || s.Actions < 20000 || !strings.Contains(s.Version, "iam-data") {
		t.Fatalf("summary %+v", s)
	}

	code, out, _ = runCLI(t, "catalog", "s3:getobject", "--format", "json")
	var a actionView
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.Action != "s3:GetObject" || a.AccessLevel != "Read" || len(a.ResourceTypes) == 0 {
		t.Fatalf("exit %d, action %+v", code, a)
	}

	code, out, _ = runCLI(t, "catalog", "kms")
	if code != 0 || !strings.Contains(out, "kms:Decrypt") || !strings.Contains(out, "ACCESS LEVEL") {
		t.Fatalf("exit %d, table:\n%s", code, out)
	}

	code, _, errOut := runCLI(t, "catalog", "s3:GetObjekt")
	if code != exitUsage || !strings.Contains(errOut, "Did you mean") || !strings.Contains(errOut, "s3:GetObject") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
