package review_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/analyzer/review"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

func stateOf(t *testing.T, f iamstate.Files) *iamstate.Account {
	t.Helper()
	in, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	return iamstate.Build(in)
}

func committed(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata", "iamstate"}, parts...)...)
}

// TestProwlerReport: prowler's own test report. Its users' active keys were
// never used (N/A): the case prowler passes, flagged here. The report has
// no key IDs, so the findings name the report's key slots.
func TestProwlerReport(t *testing.T) {
	a := stateOf(t, iamstate.Files{CredentialReport: committed("prowler", "credential-report.csv")})
	at := time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC) // the report has no time of its own
	rep := runReview(t, at, nil, a)
	got := map[string][]int{}
	for _, f := range rep.Findings {
		if f.Kind == review.NeverUsedKey {
			got[f.PrincipalName] = append(got[f.PrincipalName], f.KeySlot)
			if f.AccessKeyID != "" || !f.Evidence.NeverUsed || len(f.Evidence.Notes) == 0 {
				t.Errorf("%s: %+v", f.Subject(), f)
			}
		}
		if f.Kind == review.UnusedKey || f.Kind == review.StaleKey {
			t.Errorf("a never-used key called %s: %s", f.Kind, f.Subject())
		}
	}
	want := map[string][]int{"test_false_access_key_1": {1}, "test_false_access_key_2": {2}, "test_false_both_access_keys": {1, 2}}
	for u, slots := range want {
		if !slices.Equal(got[u], slots) {
			t.Errorf("%s: never-used key slots %v, want %v", u, got[u], slots)
		}
	}
	if len(got) != len(want) {
		t.Errorf("never-used keys of %v", got)
	}
	if len(rep.Problems) == 0 {
		t.Error("the report's {placeholder} cells are not reported as problems")
	}
}

// TestAirIAM: AirIAM's test account, judged the day after its last key use.
func TestAirIAM(t *testing.T) {
	a := stateOf(t, iamstate.Files{GAAD: committed("airiam", "iam_data-excerpt.json")})
	at := time.Date(2020, 3, 22, 0, 0, 0, 0, time.UTC)
	rep := runReview(t, at, nil, a)
	kinds := func(name string) []string {
		var out []string
		for _, f := range rep.Findings {
			if f.PrincipalName == name {
				out = append(out, f.Kind)
			}
		}
		slices.Sort(out)
		return out
	}
	// Keys in daily use, created months ago: stale, not unused.
	for _, u := range []string{"wifi", "hatulik@bridgecrew.io"} {
		if k := kinds(u); !slices.Contains(k, review.StaleKey) || slices.Contains(k, review.UnusedKey) {
			t.Errorf("%s: %v", u, k)
		}
	}
	// gandalf signed in last on 2019-08-15.
	if k := kinds("gandalf@bridgecrew.io"); !slices.Contains(k, review.UnusedPassword) || slices.Contains(k, review.UnusedUser) {
		t.Errorf("gandalf: %v (his key is in use: not an unused user)", k)
	}
	for _, r := range []string{"AllowWriteToEs", "aws-quicksight-service-role-v0"} {
		if k := kinds(r); len(k) != 0 {
			t.Errorf("%s, used this month: %v", r, k)
		}
	}
}

// TestCloudsplainingGAAD: roles with and without RoleLastUsed; the
// service-linked and Identity Center ones are labelled and informational.
// Without a credential report, users are not judged.
func TestCloudsplainingGAAD(t *testing.T) {
	paths := []string{committed("cloudsplaining", "example-excerpt.json")}
	full := filepath.Join("..", "..", "..", "shared", "data", "aws-outputs", "gaad", "cloudsplaining-examples-files-example.json")
	if _, err := os.Stat(full); err == nil {
		paths = append(paths, full)
	} else {
		t.Logf("%s absent: the full file is not checked", full)
	}
	at := time.Date(2023, 6, 30, 0, 0, 0, 0, time.UTC)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			a := stateOf(t, iamstate.Files{GAAD: p})
			rep := runReview(t, at, nil, a)
			labelled, people := 0, 0
			for _, f := range rep.Findings {
				switch {
				case f.Kind == review.UnusedUser || f.Kind == review.UnusedPassword || strings.HasSuffix(f.Kind, "-key"):
					t.Errorf("judged a user without a credential report: %s %s", f.Kind, f.Subject())
				case f.Kind != review.UnusedRole:
					t.Errorf("unexpected %s %s", f.Kind, f.Subject())
				case strings.HasPrefix(f.PrincipalName, "AWSServiceRoleFor") || strings.HasPrefix(f.PrincipalName, "AWSReservedSSO_"):
					labelled++
					if f.Severity != review.Info || len(f.Labels) != 1 {
						t.Errorf("%s: %s %v", f.PrincipalName, f.Severity, f.Labels)
					}
				default:
					people++
					if f.Severity != review.Medium || len(f.Labels) != 0 {
						t.Errorf("%s: %s %v", f.PrincipalName, f.Severity, f.Labels)
					}
				}
			}
			// Every role of the example was last used more than 90 days
			// before, or never.
			roles := 0
			for _, r := range a.Roles {
				if !r.CreateDate.IsZero() {
					roles++
				}
			}
			if labelled+people != roles || labelled == 0 || people == 0 {
				t.Errorf("%d labelled and %d other unused roles of %d", labelled, people, roles)
			}
		})
	}
}

// TestSharedCredentialReports runs the review over the shared copies of
// the credential reports when they are present.
func TestSharedCredentialReports(t *testing.T) {
	dir := filepath.Join(ingesttest.SharedData(t), "aws-outputs", "credential-report")
	for _, f := range []iamstate.Files{
		{CredentialReport: filepath.Join(dir, "prowler-test-credential-report.csv")},
		{GAAD: filepath.Join(dir, "airiam-tests-iam_data.json")},
	} {
		a := stateOf(t, f)
		rep, err := review.Review(context.Background(), review.Options{Rules: review.DefaultRules(), At: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Account: a})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) == 0 || rep.Summary.PrincipalsReviewed != len(a.Users)+len(a.Roles) {
			t.Errorf("%+v: %d findings, %d principals of %d users and %d roles", f, len(rep.Findings), rep.Summary.PrincipalsReviewed, len(a.Users), len(a.Roles))
		}
	}
}
