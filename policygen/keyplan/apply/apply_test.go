package apply_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/cis/collect/awsfake"
	"github.com/iamlens/iamlens/analyzer/review"
	"github.com/iamlens/iamlens/policygen/keyplan"
	"github.com/iamlens/iamlens/policygen/keyplan/apply"
)

const (
	acct      = awsfake.Account
	unusedKey = "AKIAUNUSED0000000001"
	neverKey  = "AKIANEVER00000000001"
	failKey   = "AKIAFAILING000000001"
)

var (
	planMade  = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	unusedAt  = time.Date(2026, 1, 10, 8, 30, 0, 0, time.UTC)
	keyCreate = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
)

// plan is the staged plan of three keys: unused (last used in January),
// never used, and failing-only.
func plan(t *testing.T) *keyplan.Plan {
	t.Helper()
	f := func(kind, user, key string, last time.Time) review.Finding {
		return review.Finding{Kind: kind, Severity: review.High, Account: acct, Principal: "arn:aws:iam::" + acct + ":user/" + user,
			PrincipalName: user, User: user, AccessKeyID: key, Summary: kind, Evidence: review.Evidence{LastUsed: last}}
	}
	rep := &review.Report{Account: acct, At: planMade, Findings: []review.Finding{
		f(review.UnusedKey, "bob", unusedKey, unusedAt),
		f(review.NeverUsedKey, "intern", neverKey, time.Time{}),
		f(review.FailingOnlyKey, "old-job", failKey, planMade.Add(-time.Minute)),
	}}
	p, err := keyplan.Build(rep, keyplan.Options{Now: planMade})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Schedule) != 3 {
		t.Fatalf("%d keys planned", len(p.Schedule))
	}
	return p
}

func clients(f *awsfake.AWS) (*iam.Client, *sts.Client) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	fast := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	ic := iam.NewFromConfig(cfg, func(o *iam.Options) {
		o.BaseEndpoint = aws.String(f.Endpoints()[awsfake.ServiceIAM])
		o.Retryer = fast()
	})
	sc := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.BaseEndpoint = aws.String(f.Endpoints()[awsfake.ServiceSTS])
		o.Retryer = fast()
	})
	return ic, sc
}

func fakeAccount(t *testing.T) *awsfake.AWS {
	f := awsfake.New(t, false)
	f.SetKeys(
		awsfake.Key{User: "bob", ID: unusedKey, Status: "Active", Created: keyCreate, LastUsed: unusedAt},
		awsfake.Key{User: "intern", ID: neverKey, Status: "Active", Created: keyCreate},
		awsfake.Key{User: "old-job", ID: failKey, Status: "Active", Created: keyCreate, LastUsed: planMade.Add(-time.Minute)},
	)
	return f
}

// successCheck is the dataset's answer, as a table: the first successful
// call of each key after the plan.
type successCheck struct {
	first   map[string]time.Time
	covered time.Time
}

func (s successCheck) SucceededSince(_ context.Context, key string, since time.Time) (time.Time, time.Time, error) {
	if t, ok := s.first[key]; ok && t.After(since) {
		return t, s.covered, nil
	}
	return time.Time{}, s.covered, nil
}

type runOpts struct {
	at    time.Time
	yes   bool
	stage int
	audit string
	check apply.SuccessCheck
}

func run(t *testing.T, f *awsfake.AWS, p *keyplan.Plan, o runOpts) *apply.Summary {
	t.Helper()
	ic, sc := clients(f)
	opts := apply.Options{Now: func() time.Time { return o.at }, Yes: o.yes, Stage: o.stage, Success: o.check}
	var out bytes.Buffer
	opts.Out = &out
	if o.audit != "" {
		fh, err := apply.OpenAudit(o.audit)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		opts.Audit = fh
	}
	sum, err := apply.Run(context.Background(), p, ic, sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("apply at %s (yes=%v):\n%s", o.at.Format(time.RFC3339), o.yes, out.String())
	return sum
}

func outcomes(sum *apply.Summary) map[string]string {
	m := map[string]string{}
	for _, r := range sum.Results {
		m[r.AccessKeyID] = r.Outcome
	}
	return m
}

func status(t *testing.T, f *awsfake.AWS, key string) string {
	t.Helper()
	k, ok := f.Key(key)
	if !ok {
		return "deleted"
	}
	return k.Status
}

func auditLines(t *testing.T, path string) []apply.AuditEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []apply.AuditEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e apply.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func TestApplyStages(t *testing.T) {
	f := fakeAccount(t)
	p := plan(t)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	check := successCheck{covered: planMade.Add(30 * 24 * time.Hour)}
	t1 := p.Schedule[0].Stages[0].At

	// Before stage 1: nothing is due.
	sum := run(t, f, p, runOpts{at: t1.Add(-time.Hour), yes: true, audit: audit, check: check})
	if sum.Count(apply.NotDue) != 3 {
		t.Fatalf("before stage 1: %v", outcomes(sum))
	}

	// The dry run reads but changes nothing, and logs nothing.
	sum = run(t, f, p, runOpts{at: t1.Add(time.Minute), check: check})
	if sum.Count(apply.WouldCall) != 3 || !sum.DryRun || sum.Caller.ARN != "arn:aws:iam::111122223333:user/auditor" {
		t.Fatalf("dry run: %v, caller %+v", outcomes(sum), sum.Caller)
	}
	if n := f.Ops()["iam:UpdateAccessKey"]; n != 0 {
		t.Fatalf("the dry run made %d UpdateAccessKey calls", n)
	}
	if len(auditLines(t, audit)) != 0 {
		t.Fatal("the dry run wrote the audit log")
	}

	// Stage 1, for real, with the first UpdateAccessKey throttled twice.
	f.Throttle("iam:UpdateAccessKey:us-east-1", 2)
	sum = run(t, f, p, runOpts{at: t1.Add(time.Minute), yes: true, audit: audit, check: check})
	if sum.Count(apply.Done) != 3 {
		t.Fatalf("stage 1: %v", outcomes(sum))
	}
	for _, k := range []string{unusedKey, neverKey, failKey} {
		if s := status(t, f, k); s != "Inactive" {
			t.Errorf("%s is %s after stage 1", k, s)
		}
	}
	if n := f.Ops()["iam:UpdateAccessKey"]; n != 5 {
		t.Errorf("%d UpdateAccessKey calls: want 3 and 2 throttled retries", n)
	}
	lines := auditLines(t, audit)
	if len(lines) != 3 {
		t.Fatalf("%d audit lines", len(lines))
	}
	for _, l := range lines {
		if l.Result != "ok" || l.Call != "iam:UpdateAccessKey" || l.Params["Status"] != "Inactive" || l.Caller.ARN != "arn:aws:iam::111122223333:user/auditor" ||
			!l.Time.Equal(t1.Add(time.Minute)) || l.Stage != 1 {
			t.Errorf("audit line %+v", l)
		}
	}
	if st, err := os.Stat(audit); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v (%v)", st.Mode().Perm(), err)
	}

	// Running again does nothing new.
	before := f.Ops()
	sum = run(t, f, p, runOpts{at: t1.Add(2 * time.Minute), yes: true, audit: audit, check: check})
	if sum.Count(apply.NothingToDo) != 3 {
		t.Errorf("second run: %v", outcomes(sum))
	}
	after := f.Ops()
	if after["iam:UpdateAccessKey"] != before["iam:UpdateAccessKey"] || after["iam:DeleteAccessKey"] != 0 {
		t.Errorf("the second run wrote: %v -> %v", before, after)
	}
	if n := len(auditLines(t, audit)); n != 3 {
		t.Errorf("the second run added audit lines: %d", n)
	}

	// Ten minutes later: reactivate.
	sum = run(t, f, p, runOpts{at: t1.Add(11 * time.Minute), yes: true, audit: audit, check: check})
	if sum.Count(apply.Done) != 3 || status(t, f, unusedKey) != "Active" {
		t.Fatalf("end of stage 1: %v", outcomes(sum))
	}

	// Between stages, bob's key is used, and the failing job's call
	// succeeds once: both plans stop at stage 2; the never-used key goes on.
	f.UseKey(unusedKey, t1.Add(24*time.Hour))
	f.UseKey(failKey, t1.Add(25*time.Hour)) // its failures move the date: not a stop by itself
	t2 := p.Schedule[0].Stages[2].At
	sum = run(t, f, p, runOpts{at: t2.Add(time.Minute), yes: true, audit: audit, check: check})
	got := outcomes(sum)
	if got[unusedKey] != apply.Stopped || got[neverKey] != apply.Done || got[failKey] != apply.Done {
		t.Fatalf("stage 2: %v", got)
	}
	if status(t, f, unusedKey) != "Active" || status(t, f, failKey) != "Inactive" {
		t.Errorf("after stage 2: bob %s, old-job %s", status(t, f, unusedKey), status(t, f, failKey))
	}
	stops := 0
	for _, l := range auditLines(t, audit) {
		if l.AccessKeyID == unusedKey && l.Result == apply.Stopped && l.Call == "" && l.Stage == 2 {
			stops++
		}
	}
	if stops != 1 {
		t.Errorf("%d audit lines for the stop of bob's key", stops)
	}

	// A successful call of the failing job's key (the dataset says) stops
	// its plan; without the dataset, nothing can confirm and it waits.
	f.UseKey(failKey, t2.Add(2*24*time.Hour))
	t3 := p.Schedule[0].Stages[4].At
	withSuccess := successCheck{first: map[string]time.Time{failKey: t2.Add(2 * 24 * time.Hour)}, covered: t3}
	// End of stage 2 first.
	run(t, f, p, runOpts{at: p.Schedule[0].Stages[3].At.Add(time.Minute), yes: true, audit: audit, check: check})
	sum = run(t, f, p, runOpts{at: t3.Add(time.Minute), yes: true, audit: audit})
	if got := outcomes(sum); got[failKey] != apply.Unconfirmed || got[neverKey] != apply.Done {
		t.Errorf("stage 3 without the dataset: %v", got)
	}
	sum = run(t, f, p, runOpts{at: t3.Add(2 * time.Minute), yes: true, audit: audit, check: withSuccess})
	if got := outcomes(sum); got[failKey] != apply.Stopped {
		t.Errorf("stage 3 with a success since the plan: %v", got)
	}

	// Stage 4 deletes the never-used key, which stayed off; a second run
	// finds it deleted.
	t4 := p.Schedule[0].Stages[5].At
	sum = run(t, f, p, runOpts{at: t4.Add(time.Minute), yes: true, audit: audit, check: check})
	if got := outcomes(sum); got[neverKey] != apply.Done || status(t, f, neverKey) != "deleted" {
		t.Errorf("stage 4: %v, intern's key %s", got, status(t, f, neverKey))
	}
	sum = run(t, f, p, runOpts{at: t4.Add(2 * time.Minute), yes: true, audit: audit, check: check})
	if got := outcomes(sum); got[neverKey] != apply.NothingToDo {
		t.Errorf("stage 4 again: %v", got)
	}
	if n := f.Ops()["iam:DeleteAccessKey"]; n != 1 {
		t.Errorf("%d DeleteAccessKey calls", n)
	}
}

// TestDeletedInBetween: the key is deleted by someone else between the read
// of its state and the call.
func TestDeletedInBetween(t *testing.T) {
	f := fakeAccount(t)
	f.SetIAM(awsfake.IAMOptions{Before: func(op string, form url.Values) {
		if op == "UpdateAccessKey" && form["AccessKeyId"][0] == neverKey {
			f.DeleteKey(neverKey)
		}
	}})
	p := plan(t)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	sum := run(t, f, p, runOpts{at: p.Schedule[0].Stages[0].At, yes: true, audit: audit, check: successCheck{covered: planMade.Add(time.Hour)}})
	if got := outcomes(sum); got[neverKey] != apply.Gone || got[unusedKey] != apply.Done {
		t.Fatalf("outcomes %v", got)
	}
	var gone *apply.AuditEntry
	for _, l := range auditLines(t, audit) {
		if l.AccessKeyID == neverKey {
			gone = &l
		}
	}
	if gone == nil || gone.Result != apply.Gone || !strings.Contains(gone.Detail, "NoSuchEntity") {
		t.Errorf("audit of the deleted key: %+v", gone)
	}
	// Later steps find it gone without calling.
	sum = run(t, f, p, runOpts{at: p.Schedule[0].Stages[1].At, yes: true, audit: audit})
	if got := outcomes(sum); got[neverKey] != apply.Gone {
		t.Errorf("later: %v", got)
	}
}

// TestReactivatedBeforeDelete: a key turned back on during stage 3 is
// never deleted.
func TestReactivatedBeforeDelete(t *testing.T) {
	f := fakeAccount(t)
	p := plan(t)
	p.Schedule = p.Schedule[1:2] // intern's key
	f.SetKeys(awsfake.Key{User: "intern", ID: neverKey, Status: "Active", Created: keyCreate})
	sum := run(t, f, p, runOpts{at: p.Schedule[0].Stages[5].At.Add(time.Minute), yes: true, audit: filepath.Join(t.TempDir(), "a.jsonl")})
	if got := outcomes(sum); got[neverKey] != apply.Stopped || status(t, f, neverKey) != "Active" {
		t.Errorf("outcomes %v, key %s", got, status(t, f, neverKey))
	}
}

func TestStageFlag(t *testing.T) {
	f := fakeAccount(t)
	p := plan(t)
	t1 := p.Schedule[0].Stages[0].At
	sum := run(t, f, p, runOpts{at: t1.Add(time.Minute), stage: 2})
	if sum.Count(apply.NotDue) != 3 || !strings.Contains(sum.Results[0].Detail, "stage 2 starts") {
		t.Errorf("stage 2 asked during stage 1: %+v", sum.Results[0])
	}
	sum = run(t, f, p, runOpts{at: t1.Add(time.Minute), stage: 1, check: successCheck{covered: t1}})
	if sum.Count(apply.WouldCall) != 3 {
		t.Errorf("stage 1: %v", outcomes(sum))
	}
}

func TestWrongAccount(t *testing.T) {
	f := fakeAccount(t)
	p := plan(t)
	p.Account = "999988887777"
	ic, sc := clients(f)
	if _, err := apply.Run(context.Background(), p, ic, sc, apply.Options{Now: func() time.Time { return planMade }}); err == nil || !strings.Contains(err.Error(), "999988887777") {
		t.Errorf("err %v", err)
	}
	if _, err := apply.Run(context.Background(), plan(t), ic, sc, apply.Options{Yes: true}); err == nil {
		t.Error("--yes without an audit log was accepted")
	}
}

func TestOpenAuditRefusesShared(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.OpenAudit(p); err == nil {
		t.Error("a world-readable audit log was accepted")
	}
}

// TestPolicyCoversCalls: policy.json grants exactly the IAM actions a run
// through every stage calls, each in the catalogue.
func TestPolicyCoversCalls(t *testing.T) {
	f := fakeAccount(t)
	p := plan(t)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	for _, s := range p.Schedule[0].Stages {
		run(t, f, p, runOpts{at: s.At.Add(time.Minute), yes: true, audit: audit, check: successCheck{covered: s.At}})
	}
	var doc struct {
		Statement []struct {
			Action   []string
			Resource string
		}
	}
	if err := json.Unmarshal(apply.Policy, &doc); err != nil {
		t.Fatal(err)
	}
	var granted, called []string
	for _, s := range doc.Statement {
		granted = append(granted, s.Action...)
	}
	for k := range f.Ops() {
		if svc, op, _ := strings.Cut(k, ":"); svc == awsfake.ServiceIAM {
			called = append(called, "iam:"+op)
		}
	}
	slices.Sort(granted)
	slices.Sort(called)
	if !slices.Equal(granted, called) {
		t.Errorf("policy.json grants %v; the stages call %v", granted, called)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range granted {
		if _, ok := cat.Action(a); !ok {
			t.Errorf("%s is not in the IAM catalogue", a)
		}
	}
}
