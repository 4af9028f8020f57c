package review_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/analyzer/review"
	"github.com/iamlens/iamlens/analyzer/review/reviewtest"
)

const day = 24 * time.Hour

var (
	genOnce     sync.Once
	genActivity *review.Activity
	genErr      error
)

// generated reads the generated account's logs (ingested once for the
// package's tests) and state.
func generated(t *testing.T) (*review.Activity, *iamstate.Account) {
	t.Helper()
	genOnce.Do(func() {
		st, _ := reviewtest.Store(t)
		genActivity, genErr = (&review.RollupUsage{Store: st}).Activity(context.Background(), reviewtest.Query(t))
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	in, err := iamstate.ReadSnapshot(bytes.NewReader(reviewtest.Snapshot()))
	if err != nil {
		t.Fatal(err)
	}
	a := iamstate.Build(in)
	if len(a.Problems) > 0 {
		t.Fatalf("the generated state has problems: %v", a.Problems)
	}
	return genActivity, a
}

func runReview(t *testing.T, at time.Time, act *review.Activity, a *iamstate.Account) *review.Report {
	t.Helper()
	rep, err := review.Review(context.Background(), review.Options{Rules: review.DefaultRules(), At: at, Account: a, Activity: act})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// find returns the findings of kind about subject (a key ID or a principal
// name).
func find(rep *review.Report, kind, subject string) []review.Finding {
	var out []review.Finding
	for _, f := range rep.Findings {
		if f.Kind == kind && (f.AccessKeyID == subject || f.PrincipalName == subject) {
			out = append(out, f)
		}
	}
	return out
}

func kindsOf(rep *review.Report, subject string) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.AccessKeyID == subject || (f.AccessKeyID == "" && f.PrincipalName == subject) {
			out = append(out, f.Kind)
		}
	}
	slices.Sort(out)
	return out
}

func TestGeneratedAccount(t *testing.T) {
	act, a := generated(t)
	at := reviewtest.At
	if act.From.After(at.Add(-400*day)) || !act.To.Before(at) {
		t.Fatalf("the dataset spans %s to %s; want more than 400 days before %s", act.From, act.To, at)
	}
	rep := runReview(t, at, act, a)
	for _, f := range rep.Findings {
		t.Logf("%-8s %-22s %-32s %s", f.Severity, f.Kind, f.Subject(), f.Summary)
	}

	want := map[string][]string{
		reviewtest.DeployerKey:     {review.PeriodicKey, review.StaleKey},
		reviewtest.OldJobKey:       {review.FailingOnlyKey},
		reviewtest.InternKey:       {review.NeverUsedKey},
		"intern":                   {review.UnusedPassword, review.UnusedUser},
		reviewtest.BobKey:          {review.UnusedKey},
		"bob":                      {review.UnusedPassword, review.UnusedUser},
		reviewtest.AliceKey:        nil,
		"alice":                    {review.UnusedPermissionsKind},
		"deployer":                 nil,
		"legacy-etl":               {review.UnusedRole},
		"AWSServiceRoleForSupport": {review.UnusedRole},
		"nightly-report":           {review.PeriodicPrincipal, review.UnusedPermissionsKind},
		"broken-lambda":            {review.FailingOnlyPrincipal},
		"AWSReservedSSO_AdministratorAccess_0123456789abcdef": nil,
	}
	for subject, kinds := range want {
		if got := kindsOf(rep, subject); !slices.Equal(got, kinds) {
			t.Errorf("%s: findings %v, want %v", subject, got, kinds)
		}
	}

	// The quarterly key: its last use is 100 days old, past the 90-day
	// window, yet it is periodic, not unused.
	per := find(rep, review.PeriodicKey, reviewtest.DeployerKey)[0]
	if p := per.Evidence.Period; p == nil || p.Name != "quarterly" || p.Days != 91 || p.DaysUsed != 5 ||
		!p.NextExpected.Equal(at.Add(-100*day).Truncate(day).Add(91*day)) {
		t.Errorf("deployer's period: %+v", per.Evidence.Period)
	}
	if per.Severity != review.Info || !slices.Contains(per.Clues.Tools, "Terraform") || !slices.Contains(per.Clues.Tools, "GitHub Actions") {
		t.Errorf("deployer: severity %s, tools %v", per.Severity, per.Clues.Tools)
	}

	// The key failing every minute: IAM says it was used a minute ago.
	fo := find(rep, review.FailingOnlyKey, reviewtest.OldJobKey)[0]
	x := fo.Evidence.Failing
	if x == nil || x.Calls < 30*24*60-2 || x.Calls > 30*24*60 || x.Denied != x.Calls || x.Rate != "about 1 call a minute" {
		t.Fatalf("old-job's failures: %+v", x)
	}
	if !x.LastSuccess.Equal(at.Add(-200*day)) || !fo.Evidence.LastUsed.After(at.Add(-2*time.Minute)) {
		t.Errorf("old-job: last success %s, last used %s", x.LastSuccess, fo.Evidence.LastUsed)
	}
	if len(x.ErrorCodes) != 1 || x.ErrorCodes[0].Value != "AccessDenied" {
		t.Errorf("old-job's error codes %v", x.ErrorCodes)
	}
	if !strings.Contains(fo.Summary, "none successful") {
		t.Errorf("summary %q", fo.Summary)
	}

	// Never used: the credential report's N/A, and no call in the logs.
	nu := find(rep, review.NeverUsedKey, reviewtest.InternKey)[0]
	if !nu.Evidence.NeverUsed || nu.Evidence.AgeDays != 200 {
		t.Errorf("intern's key: %+v", nu.Evidence)
	}

	// bob: owner clues from the logs and the tags.
	bob := find(rep, review.UnusedUser, "bob")[0]
	if c := bob.Clues.CreatedBy; c == nil || c.Event != "iam:CreateUser" || !c.Human || !strings.HasSuffix(c.Principal, "AWSReservedSSO_AdministratorAccess_0123456789abcdef") {
		t.Errorf("bob created by %+v", bob.Clues.CreatedBy)
	}
	if h := bob.Clues.LastHumanCaller; h == nil || h.Event != "iam:AttachUserPolicy" || !h.At.Equal(at.Add(-300*day)) {
		t.Errorf("bob's last human caller %+v", bob.Clues.LastHumanCaller)
	}
	if !slices.Equal(bob.Clues.Tags, []string{"owner=bob@example.com", "team=data"}) {
		t.Errorf("bob's tags %v", bob.Clues.Tags)
	}
	bk := find(rep, review.UnusedKey, reviewtest.BobKey)[0]
	if c := bk.Clues.CreatedBy; c == nil || c.Event != "iam:CreateAccessKey" {
		t.Errorf("bob's key created by %+v", bk.Clues.CreatedBy)
	}
	if bk.Evidence.DaysSinceUse != 140 || len(bk.Clues.Networks) != 1 || bk.Clues.Networks[0].Value != "198.51.100.0/24" {
		t.Errorf("bob's key: %d days, networks %v", bk.Evidence.DaysSinceUse, bk.Clues.Networks)
	}

	// Roles: the service-linked one is labelled and informational.
	sl := find(rep, review.UnusedRole, "AWSServiceRoleForSupport")[0]
	if sl.Severity != review.Info || !slices.Equal(sl.Labels, []string{review.LabelServiceLinked}) {
		t.Errorf("service-linked role: %s %v", sl.Severity, sl.Labels)
	}
	if le := find(rep, review.UnusedRole, "legacy-etl")[0]; le.Severity != review.Medium || le.Evidence.DaysSinceUse != 200 {
		t.Errorf("legacy-etl: %+v", le)
	}
	if nr := find(rep, review.PeriodicPrincipal, "nightly-report")[0]; nr.Evidence.Period.Name != "monthly" {
		t.Errorf("nightly-report's period %+v", nr.Evidence.Period)
	}
	if bl := find(rep, review.FailingOnlyPrincipal, "broken-lambda")[0]; bl.Evidence.Failing.Rate != "about 1 call an hour" {
		t.Errorf("broken-lambda: %+v", bl.Evidence.Failing)
	}

	// Unused permissions: alice may read S3 and describe volumes, and only
	// described instances; the report role never fetched a result.
	up := find(rep, review.UnusedPermissionsKind, "alice")[0].Evidence.Unused
	if up == nil || up.Granted != 3 || up.Used != 1 || up.UnusedCount != 2 ||
		!slices.Equal(up.Actions, []string{"ec2:DescribeVolumes", "s3:GetObject"}) || !slices.Equal(up.Services, []string{"s3"}) {
		t.Errorf("alice's unused permissions %+v", up)
	}
	if up := find(rep, review.UnusedPermissionsKind, "nightly-report")[0].Evidence.Unused; !slices.Equal(up.Actions, []string{"athena:GetQueryResults"}) {
		t.Errorf("nightly-report's unused permissions %+v", up)
	}

	// Timelines cover every key and principal reviewed.
	if len(rep.Timelines) != rep.Summary.KeysReviewed+rep.Summary.PrincipalsReviewed || rep.Summary.KeysReviewed != 5 {
		t.Errorf("%d timelines, %d keys and %d principals reviewed", len(rep.Timelines), rep.Summary.KeysReviewed, rep.Summary.PrincipalsReviewed)
	}
}

// TestPeriodicLapses: the same quarterly key, judged 30 days later, is past
// its largest gap plus the grace: now it is unused.
func TestPeriodicLapses(t *testing.T) {
	act, a := generated(t)
	rep := runReview(t, reviewtest.At.Add(30*day), act, a)
	if got := kindsOf(rep, reviewtest.DeployerKey); !slices.Equal(got, []string{review.UnusedKey}) {
		t.Errorf("deployer's key 130 days after its last use: %v", got)
	}
	// 4 days later, 104.5 days after its last day of use: within 91+14.
	rep = runReview(t, reviewtest.At.Add(4*day), act, a)
	if got := kindsOf(rep, reviewtest.DeployerKey); !slices.Contains(got, review.PeriodicKey) {
		t.Errorf("deployer's key 104 days after its last use: %v", got)
	}
}

// TestRulesAreFlags: the numbers change the findings.
func TestRulesAreFlags(t *testing.T) {
	act, a := generated(t)
	r := review.DefaultRules()
	r.Window = 150 * day  // bob's key (140 days) is no longer unused
	r.PeriodicMinDays = 6 // the quarterly key has 5 days: not periodic
	r.NeverUsedAge = 365 * day
	rep, err := review.Review(context.Background(), review.Options{Rules: r, At: reviewtest.At, Account: a, Activity: act})
	if err != nil {
		t.Fatal(err)
	}
	if got := kindsOf(rep, reviewtest.BobKey); !slices.Equal(got, []string{review.StaleKey}) {
		t.Errorf("bob's key with a 150-day window: %v (in use, 400 days old: stale)", got)
	}
	if got := kindsOf(rep, reviewtest.DeployerKey); !slices.Equal(got, []string{review.StaleKey}) {
		t.Errorf("deployer's key needing 6 days of use: %v", got)
	}
	if got := kindsOf(rep, reviewtest.InternKey); len(got) != 0 {
		t.Errorf("intern's key with a 365-day never-used age: %v", got)
	}
	if rep.Rules.WindowDays != 150 || rep.Rules.PeriodicMinDays != 6 {
		t.Errorf("rules reported %+v", rep.Rules)
	}
	bad := review.DefaultRules()
	bad.PeriodicMinDays = 1
	if _, err := review.Review(context.Background(), review.Options{Rules: bad, At: reviewtest.At, Account: a}); err == nil {
		t.Error("a 1-day period was accepted")
	}
}

// TestLogsOnly: without the state, only what the logs show is found.
func TestLogsOnly(t *testing.T) {
	act, _ := generated(t)
	rep := runReview(t, reviewtest.At, act, nil)
	got := map[string]bool{}
	for _, f := range rep.Findings {
		got[f.Kind+" "+f.Subject()] = true
	}
	for _, w := range []string{
		review.PeriodicKey + " " + reviewtest.DeployerKey + " (deployer)",
		review.FailingOnlyKey + " " + reviewtest.OldJobKey + " (old-job)",
		review.PeriodicPrincipal + " nightly-report",
		review.FailingOnlyPrincipal + " broken-lambda",
	} {
		if !got[w] {
			t.Errorf("missing %q in %v", w, got)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "unused") || strings.HasPrefix(k, "never") {
			t.Errorf("logs alone cannot say %q", k)
		}
	}
}

func TestHumanLooking(t *testing.T) {
	for _, c := range []struct {
		kind, agent, session string
		mfa, want            bool
	}{
		{"sso-role", "aws-cli/2", "", false, true},
		{"iam-user", "aws-cli/2", "", true, true},
		{"role", "Boto3/1.34", "alice@example.com", false, true},
		{"iam-user", "Mozilla/5.0 (X11)", "", false, true},
		{"iam-user", "AWS Internal", "", false, false},
		{"role", "APN/1.0 HashiCorp/1.0 Terraform/1.7.5", "ci", false, false},
	} {
		if got := review.HumanLooking(c.kind, c.agent, c.session, c.mfa); got != c.want {
			t.Errorf("HumanLooking(%q, %q, %q, %v) = %v", c.kind, c.agent, c.session, c.mfa, got)
		}
	}
}

func ExampleRules() {
	r := review.DefaultRules()
	fmt.Println(int(r.Window/day), int(r.NeverUsedAge/day), int(r.StaleAge/day), int(r.FailingWindow/day), r.PeriodicMinDays, int(r.PeriodicMinGap/day), int(r.PeriodicGrace/day))
	// Output: 90 30 90 30 4 21 14
}

// TestUnusedPermissionsOf: granted minus used, case-blind, services none of
// whose actions was used.
func TestUnusedPermissionsOf(t *testing.T) {
	g := []iampolicy.Grant{{Action: "s3:GetObject"}, {Action: "s3:PutObject"}, {Action: "sqs:SendMessage"}}
	u := review.UnusedPermissionsOf(g, []string{"S3:getobject", "ec2:RunInstances"})
	if u.Granted != 3 || u.Used != 1 || u.UnusedCount != 2 || !slices.Equal(u.Actions, []string{"s3:PutObject", "sqs:SendMessage"}) || !slices.Equal(u.Services, []string{"sqs"}) {
		t.Errorf("%+v", u)
	}
}

// BenchmarkActivity reads the generated account's dataset (43,491 events
// over 465 days) once, with the action mapping of the unused permissions.
func BenchmarkActivity(b *testing.B) {
	st, _ := reviewtest.Store(b)
	q := reviewtest.Query(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := (&review.RollupUsage{Store: st}).Activity(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}
