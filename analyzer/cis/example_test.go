package cis_test

import (
	"fmt"
	"strings"

	"github.com/iamlens/iamlens/analyzer/cis"
)

// A snapshot holds AWS's own outputs; Evaluate needs nothing else.
func ExampleEvaluate() {
	snap, err := cis.ReadSnapshot(strings.NewReader(`{
	  "accountId": "111122223333",
	  "collectedAt": "2026-11-20T00:00:00Z",
	  "iam": {
	    "accountSummary": {"SummaryMap": {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0}},
	    "passwordPolicy": {"PasswordPolicy": {"MinimumPasswordLength": 8, "PasswordReusePrevention": 24}}
	  }
	}`))
	if err != nil {
		panic(err)
	}
	rep, err := cis.Evaluate(snap, cis.Options{Benchmark: cis.V300, Level: 1})
	if err != nil {
		panic(err)
	}
	for _, f := range rep.Findings {
		switch f.CheckID {
		case "iam-root-no-access-keys", "iam-root-mfa", "iam-password-min-length", "iam-user-console-mfa":
			fmt.Printf("%s %s %s: %s\n", f.Control, f.CheckID, f.Status, f.Evidence)
		}
	}
	// Output:
	// 1.4 iam-root-no-access-keys PASS: GetAccountSummary: AccountAccessKeysPresent is 0
	// 1.5 iam-root-mfa FAIL: GetAccountSummary: AccountMFAEnabled is 0
	// 1.8 iam-password-min-length FAIL: MinimumPasswordLength is 8
	// 1.10 iam-user-console-mfa NOT_ASSESSABLE: the credential report: not in the snapshot
}
