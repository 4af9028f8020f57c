package cis

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// TestChecksOnRealIAMData runs the IAM checks on third-party outputs (the
// prowler credential report, the cloudsplaining authorization details) and
// compares the failures with counts taken from the raw files.
func TestChecksOnRealIAMData(t *testing.T) {
	base := filepath.Join(thirdParty(t), "aws-outputs")
	csvText, err := os.ReadFile(filepath.Join(base, "credential-report", "prowler-test-credential-report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	gaadPath := filepath.Join(base, "gaad", "cloudsplaining-examples-files-example.json")
	var gaad iamstate.AuthorizationDetails
	readJSON(t, gaadPath, &gaad)
	s := &Snapshot{AccountID: "123456789012", IAM: IAM{Outputs: iamstate.Outputs{CredentialReport: &iamstate.CredentialReportOutput{Content: csvText}, AuthorizationDetails: &gaad}}}
	r := evaluate(t, s, V300)

	// Independent counts from the CSV.
	recs, err := csv.NewReader(strings.NewReader(string(csvText))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var noMFA, twoKeys, passwords int
	for _, rec := range recs[1:] {
		if rec[col["user"]] == "<root_account>" {
			continue
		}
		if rec[col["password_enabled"]] == "true" && rec[col["mfa_active"]] == "false" {
			noMFA++
		}
		if rec[col["password_enabled"]] == "true" {
			passwords++
		}
		if rec[col["access_key_1_active"]] == "true" && rec[col["access_key_2_active"]] == "true" {
			twoKeys++
		}
	}
	count := func(id string, st Status) int {
		n := 0
		for _, f := range findings(r, id) {
			if f.Status == st {
				n++
			}
		}
		return n
	}
	if got := count("iam-user-console-mfa", Fail); got != noMFA || got == 0 {
		t.Errorf("console users without MFA: %d, the CSV has %d", got, noMFA)
	}
	if got := count("iam-one-active-key", Fail); got != twoKeys || got == 0 {
		t.Errorf("users with two active keys: %d, the CSV has %d", got, twoKeys)
	}
	// The prowler rows hold placeholders instead of last-used dates: each
	// console password counts as never used since the user was created in
	// 2022, so it is stale; keys without any date are not judged.
	if got := count("iam-unused-credentials", Fail); got != passwords {
		t.Errorf("stale passwords: %d, the CSV has %d console passwords never used", got, passwords)
	}
	for _, f := range findings(r, "iam-unused-credentials") {
		if f.Status == Fail && !strings.Contains(f.Evidence, "never used, user created 2022-") {
			t.Errorf("evidence: %s", f.Evidence)
		}
	}
	if n := count("iam-key-rotation", Fail); n != 0 {
		t.Errorf("iam-key-rotation failed %d times on keys without dates", n)
	}

	// Independent counts from the GAAD JSON.
	var raw struct {
		UserDetailList []struct {
			UserPolicyList          []json.RawMessage
			AttachedManagedPolicies []json.RawMessage
		}
		Policies []struct {
			Arn               string
			AttachmentCount   int
			DefaultVersionId  string
			PolicyVersionList []struct {
				VersionId string
				Document  struct {
					Statement json.RawMessage
				}
			}
		}
	}
	readJSON(t, gaadPath, &raw)
	var direct, admin int
	for _, u := range raw.UserDetailList {
		if len(u.UserPolicyList)+len(u.AttachedManagedPolicies) > 0 {
			direct++
		}
	}
	for _, p := range raw.Policies {
		if strings.Contains(p.Arn, ":iam::aws:") || p.AttachmentCount == 0 {
			continue
		}
		for _, v := range p.PolicyVersionList {
			if v.VersionId != p.DefaultVersionId {
				continue
			}
			var sts []map[string]any
			if err := json.Unmarshal(v.Document.Statement, &sts); err != nil {
				var one map[string]any
				json.Unmarshal(v.Document.Statement, &one)
				sts = []map[string]any{one}
			}
			for _, st := range sts {
				if st["Effect"] == "Allow" && hasStar(st["Action"]) && hasStar(st["Resource"]) {
					admin++
					break
				}
			}
		}
	}
	if got := count("iam-user-no-direct-policies", Fail); got != direct || got == 0 {
		t.Errorf("users with their own policies: %d, the GAAD has %d", got, direct)
	}
	if got := count("iam-no-admin-policies", Fail); got != admin {
		t.Errorf("attached admin policies: %d, the GAAD has %d", got, admin)
	}
	t.Logf("prowler CSV: %d console users without MFA, %d with two keys; cloudsplaining: %d users with own policies, %d attached admin policies", noMFA, twoKeys, direct, admin)
}

func hasStar(v any) bool {
	switch x := v.(type) {
	case string:
		return x == "*" || x == "*:*"
	case []any:
		for _, y := range x {
			if hasStar(y) {
				return true
			}
		}
	}
	return false
}
