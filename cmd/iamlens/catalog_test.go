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

// TestCatalogGolden renders each view of `iamlens catalog` and compares it
// with testdata/catalog/*.golden (go test ./cmd/iamlens -run CatalogGolden -update).
func TestCatalogGolden(t *testing.T) {
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"catalog/summary.table.golden", []string{"catalog"}},
		{"catalog/summary.json.golden", []string{"catalog", "--format", "json"}},
		{"catalog/sqs.table.golden", []string{"catalog", "SQS"}},
		{"catalog/services.table.golden", []string{"catalog", "--services"}},
		{"catalog/s3-GetObject.table.golden", []string{"catalog", "s3:GetObject"}},
		{"catalog/kms-ReEncryptFrom.json.golden", []string{"catalog", "kms:reencryptfrom", "--format", "json"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			checkGolden(t, tt.golden, []byte(out))
		})
	}
}

// TestCatalogUnknownNames: unknown services and actions are usage errors
// (exit 2) with a suggestion.
func TestCatalogUnknownNames(t *testing.T) {
	for _, tt := range []struct {
		arg, want string
	}{
		{"s3:GetObjekt", "s3:GetObject"},
		{"lamda:InvokeFunction", "lambda:InvokeFunction"},
		{"dynamodbb", "dynamodb"},
		{"nosuchservicexyz", "Run 'iamlens catalog --services'"},
	} {
		code, _, errOut := runCLI(t, "catalog", tt.arg)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("catalog %s: exit %d, stderr %q; want exit %d and %q", tt.arg, code, errOut, exitUsage, tt.want)
		}
	}
	if code, _, _ := runCLI(t, "catalog", "--format", "xml"); code != exitUsage {
		t.Errorf("--format xml: exit %d, want %d", code, exitUsage)
	}
}
