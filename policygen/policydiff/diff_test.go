package policydiff

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/policygen"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func realCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Skipf("the IAM catalogue is not available: %v", err)
	}
	return cat
}

func mustDoc(t testing.TB, s string) *iampolicy.Document {
	t.Helper()
	d, err := iampolicy.Parse([]byte(s))
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return d
}

// current builds an Effective from inline documents (name → JSON).
func current(t testing.TB, docs ...string) *iamstate.Effective {
	t.Helper()
	e := &iamstate.Effective{Kind: iamstate.KindRole, Name: "app"}
	for i, d := range docs {
		name := fmt.Sprintf("p%d", i)
		e.Policies = append(e.Policies, iamstate.AppliedPolicy{Label: "role app: inline " + name, Kind: iamstate.PolicyInline, Name: name, Document: mustDoc(t, d)})
	}
	return e
}

// act is one action's usage on ARNs (each called once at t0+i minutes).
func act(action string, arns ...string) *analyzer.ActionUsage {
	a := &analyzer.ActionUsage{Action: action, FirstSeen: t0, LastSeen: t0, Events: []string{"x:" + action}, Regions: []string{"us-east-1"}}
	at := map[string]int{}
	for i, r := range arns {
		ts := t0.Add(time.Duration(i) * time.Minute)
		a.Calls++
		a.LastSeen = ts
		if r == "*" {
			a.UnknownResourceCalls++
			continue
		}
		if j, ok := at[r]; ok {
			a.Resources[j].Calls++
			a.Resources[j].LastSeen = ts
			continue
		}
		at[r] = len(a.Resources)
		a.Resources = append(a.Resources, analyzer.ResourceUsage{ARN: r, Calls: 1, FirstSeen: ts, LastSeen: ts})
	}
	sort.Slice(a.Resources, func(i, j int) bool { return a.Resources[i].ARN < a.Resources[j].ARN })
	return a
}

func usageOf(principal string, allowed ...*analyzer.ActionUsage) *analyzer.Usage {
	var n int64
	for _, a := range allowed {
		n += a.Calls
	}
	return &analyzer.Usage{Principal: principal, Kind: "role", From: t0.Add(-24 * time.Hour), To: t0.Add(24 * time.Hour),
		Events: n, FirstSeen: t0, LastSeen: t0, Allowed: allowed, Origins: analyzer.Origins{Calls: n}}
}

const app = "arn:aws:iam::111122223333:role/app"

func findUsed(p *Principal, action string) []GrantedUsed {
	var out []GrantedUsed
	for _, g := range p.GrantedUsed {
		if g.Action == action {
			out = append(out, g)
		}
	}
	return out
}

func unusedNames(p *Principal) []string {
	var out []string
	for _, g := range p.GrantedUnused {
		out = append(out, g.Action)
	}
	return out
}

func hiddenNames(p *Principal) []string {
	var out []string
	for _, n := range p.NotObservable {
		out = append(out, n.Action)
	}
	return out
}

// TestCompareRules holds each rule of the comparison to a case.
func TestCompareRules(t *testing.T) {
	cat := realCatalog(t)
	cur := current(t,
		`{"Version":"2012-10-17","Statement":[
			{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:GetBucketPolicy"],"Resource":"*"},
			{"Sid":"Pass","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/worker"},
			{"Sid":"Queue","Effect":"Allow","Action":"sqs:DeleteQueue","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
			{"Sid":"Tables","Effect":"Allow","Action":"dynamodb:DescribeTable","Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/*"}]}`)
	u := usageOf(app,
		act("s3:GetObject", "arn:aws:s3:::data/a.csv", "arn:aws:s3:::data/b.csv"),
		act("s3:ListBucket", "arn:aws:s3:::data"),
		act("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:jobs"), // succeeded, not granted here
		act("dynamodb:DescribeTable", "arn:aws:dynamodb:us-east-1:111122223333:table/orders"),
	)
	failed := act("s3:GetBucketPolicy", "arn:aws:s3:::data")
	failed.ErrorCodes = []analyzer.Count{{Value: "NoSuchBucketPolicy", Count: 1}}
	u.Failed = []*analyzer.ActionUsage{failed}
	u.Denied = []*analyzer.ActionUsage{
		act("s3:PutObject", "arn:aws:s3:::data/c.csv"),   // not granted: missing
		act("s3:GetObject", "arn:aws:s3:::secret/x.csv"), // granted: denied elsewhere
	}
	u.NotObservable = []analyzer.NotObservable{{Action: "iam:PassRole on arn:aws:iam::111122223333:role/worker", Reason: "needed alongside RunInstances but not shown by CloudTrail"}}

	p, err := Compare(Input{Usage: u, Current: cur}, Options{Catalog: cat, Source: Source{Kind: SourceGAAD, Name: "GAAD x.json", File: "x.json"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// granted and used, per resource, with the statement that grants it
	if g := findUsed(p, "s3:GetObject"); len(g) != 2 || g[0].Resource != "arn:aws:s3:::data/a.csv" || g[0].Calls != 1 ||
		!slices.Equal(g[0].GrantedBy, []string{"inline p0, statement 0 (Read)"}) {
		t.Errorf("s3:GetObject used: %+v", g)
	}
	// a call authorised then failed counts as used, marked
	if g := findUsed(p, "s3:GetBucketPolicy"); len(g) != 1 || g[0].FailedCalls != 1 || g[0].ErrorCodes[0].Value != "NoSuchBucketPolicy" {
		t.Errorf("failed after authorisation: %+v", g)
	}
	if slices.Contains(unusedNames(p), "s3:GetBucketPolicy") {
		t.Error("s3:GetBucketPolicy, used (then failed), is listed as unused")
	}
	// used but not granted: each kind
	kinds := map[string]string{}
	for _, x := range p.UsedNotGranted {
		kinds[x.Action+" "+x.Resource] = x.Kind
	}
	want := map[string]string{
		"s3:PutObject arn:aws:s3:::data/c.csv":                    KindMissing,
		"s3:GetObject arn:aws:s3:::secret/x.csv":                  KindDeniedDespiteGrant,
		"sqs:SendMessage arn:aws:sqs:us-east-1:111122223333:jobs": KindGrantedElsewhere,
	}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("used but not granted: %v\nwant %v", kinds, want)
	}
	for _, x := range p.UsedNotGranted {
		if x.Kind == KindGrantedElsewhere && !strings.Contains(x.Reason, "granted elsewhere") {
			t.Errorf("reason %q", x.Reason)
		}
	}
	if p.Counts.Missing != 1 || p.Counts.GrantedElsewhere != 1 || p.Counts.DeniedDespiteGrant != 1 {
		t.Errorf("counts %+v", p.Counts)
	}
	// unused: the conditional grant is marked; iam:PassRole is not
	// observable, never unused
	var q *GrantedUnused
	for i := range p.GrantedUnused {
		if p.GrantedUnused[i].Action == "sqs:DeleteQueue" {
			q = &p.GrantedUnused[i]
		}
	}
	if q == nil || !q.Conditional || q.Service != "sqs" || q.AccessLevel != "Write" {
		t.Errorf("sqs:DeleteQueue unused: %+v", q)
	}
	if slices.Contains(unusedNames(p), "iam:PassRole") || !slices.Contains(hiddenNames(p), "iam:PassRole") {
		t.Errorf("iam:PassRole: unused %v, not observable %v", slices.Contains(unusedNames(p), "iam:PassRole"), hiddenNames(p))
	}
	var pass []NotObservable
	for _, n := range p.NotObservable {
		if n.Action == "iam:PassRole" {
			pass = append(pass, n)
		}
	}
	if len(pass) != 2 || !pass[0].Granted || !pass[0].Needed || pass[1].Resource != "arn:aws:iam::111122223333:role/worker" || !pass[1].Granted {
		t.Errorf("iam:PassRole not observable: %+v", pass)
	}
	// Only iam:PassRole is hidden: this principal's own GetObject calls
	// are S3 data events, so the S3 actions it was granted are observable.
	if !slices.Equal(hiddenNames(p), []string{"iam:PassRole", "iam:PassRole"}) {
		t.Errorf("not observable %v", hiddenNames(p))
	}
	// resource level: "*" granted, used on the data bucket and two objects
	if len(p.ResourceLevel) == 0 || !slices.Equal(p.ResourceLevel[0].Granted, []string{"*"}) ||
		!slices.Contains(p.ResourceLevel[0].Actions, "s3:GetObject") {
		t.Errorf("resource level %+v", p.ResourceLevel)
	}
	// dynamodb:DescribeTable is granted on table/*, used on one table
	found := false
	for _, rl := range p.ResourceLevel {
		if slices.Equal(rl.Actions, []string{"dynamodb:DescribeTable"}) && slices.Equal(rl.Granted, []string{"arn:aws:dynamodb:us-east-1:111122223333:table/*"}) {
			found = true
		}
	}
	if !found {
		t.Errorf("dynamodb resource level missing: %+v", p.ResourceLevel)
	}

	// With --exclude-failed the failed call is not a use.
	p2, err := Compare(Input{Usage: u, Current: cur}, Options{Catalog: cat, Generate: policygen.Options{ExcludeFailed: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(findUsed(p2, "s3:GetBucketPolicy")) != 0 || !slices.Contains(unusedNames(p2), "s3:GetBucketPolicy") {
		t.Errorf("--exclude-failed: used %+v", findUsed(p2, "s3:GetBucketPolicy"))
	}

	// A principal with no S3 object call: the object actions it is
	// granted are not observable, unless the run saw S3 data events.
	u3 := usageOf(app, act("s3:ListAllMyBuckets", "*"))
	cur3 := current(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListAllMyBuckets"],"Resource":"*"}]}`)
	p3, err := Compare(Input{Usage: u3, Current: cur3}, Options{Catalog: cat}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hiddenNames(p3), []string{"s3:GetObject"}) || len(p3.GrantedUnused) != 0 {
		t.Errorf("no data events: not observable %v, unused %v", hiddenNames(p3), unusedNames(p3))
	}
	p3, err = Compare(Input{Usage: u3, Current: cur3}, Options{Catalog: cat, DataSeen: func(s string) bool { return s == "s3.amazonaws.com" }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p3.NotObservable) != 0 || !slices.Equal(unusedNames(p3), []string{"s3:GetObject"}) {
		t.Errorf("data events seen: not observable %v, unused %v", hiddenNames(p3), unusedNames(p3))
	}
}

// TestProposal: the generated policy is held to the current grants.
func TestProposal(t *testing.T) {
	cat := realCatalog(t)
	var keys []string
	for i := 0; i < 6; i++ {
		keys = append(keys, fmt.Sprintf("arn:aws:s3:::data/logs/2026/%02d.json", i))
	}
	keys = append(keys, "arn:aws:s3:::data/logs/2025/12.json") // the current grant leaves 2025 out
	cur := current(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Logs","Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::data/logs/2026/*","arn:aws:s3:::data/logs/2025/12.json"]},
		{"Sid":"Fns","Effect":"Allow","Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:app-*"},
		{"Sid":"Mfa","Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
		{"Sid":"Wide","Effect":"Allow","Action":"s3:*","Resource":"*"},
		{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::data/secret/*"}]}`)
	// s3:* on "*" covers every S3 grant; drop it to see the narrowing.
	cur.Policies[0].Document.Statement = slices.Delete(cur.Policies[0].Document.Statement, 3, 4)
	u := usageOf(app,
		act("s3:GetObject", keys...),
		act("lambda:GetFunction", "*"), // the log hides the function
		act("ec2:DescribeInstances", "*"),
		act("iam:GetRole", "arn:aws:iam::111122223333:role/x"), // not granted at all
	)
	p, err := Compare(Input{Usage: u, Current: cur}, Options{Catalog: cat}, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := p.Proposed
	ev, err := iampolicy.New(iampolicy.Set{Identity: []iampolicy.Policy{{Name: "proposed", Document: doc}}}, iampolicy.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	decide := func(action, arn string) iampolicy.Decision {
		return ev.Evaluate(iampolicy.Request{Action: action, Resource: arn}).Decision
	}
	for _, k := range keys {
		if decide("s3:GetObject", k) != iampolicy.Allowed {
			t.Errorf("the proposal does not allow s3:GetObject on %s, which was used and is granted", k)
		}
	}
	// prefix mode would write arn:aws:s3:::data/logs/*, wider than the
	// grant: it must not allow another 2025 key.
	if decide("s3:GetObject", "arn:aws:s3:::data/logs/2025/01.json").Granted() {
		t.Error("the proposal allows a 2025 key the current policies do not")
	}
	// "*" for GetFunction: the current statement, narrowed to the action
	if decide("lambda:GetFunction", "arn:aws:lambda:us-east-1:111122223333:function:app-1") != iampolicy.Allowed ||
		decide("lambda:GetFunction", "arn:aws:lambda:us-east-1:111122223333:function:other").Granted() {
		t.Error("lambda:GetFunction is not the current grant")
	}
	// the conditional grant stays conditional
	if decide("ec2:DescribeInstances", "*") != iampolicy.ConditionallyAllowed {
		t.Errorf("ec2:DescribeInstances: %v, want conditional", decide("ec2:DescribeInstances", "*"))
	}
	if decide("iam:GetRole", "arn:aws:iam::111122223333:role/x").Granted() {
		t.Error("iam:GetRole is not granted now, the proposal must not grant it")
	}
	// the Deny is kept
	if decide("s3:GetObject", "arn:aws:s3:::data/secret/k") != iampolicy.ImplicitDeny && decide("s3:GetObject", "arn:aws:s3:::data/secret/k") != iampolicy.ExplicitDeny {
		t.Error("secret allowed")
	}
	hasDeny := false
	for _, st := range doc.Statement {
		if st.Effect == iampolicy.Deny && slices.Equal(st.Resource, iampolicy.Values{"arn:aws:s3:::data/secret/*"}) {
			hasDeny = true
		}
	}
	if !hasDeny {
		t.Errorf("the current Deny is not kept: %+v", doc.Statement)
	}
	notes := strings.Join(p.ProposedNotes, "\n")
	for _, w := range []string{"iam:GetRole: left out", "is wider than the current grant; narrowed to the 1 resource(s) seen", "lambda:GetFunction: the calls seen do not narrow", "kept 1 Deny"} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes lack %q:\n%s", w, notes)
		}
	}
	if !strings.HasPrefix(p.UnifiedDiff, "--- current") || !strings.Contains(p.UnifiedDiff, "+++ proposed") || !strings.Contains(p.UnifiedDiff, "+      \"Sid\": \"S3Narrowed\",") {
		t.Errorf("unified diff:\n%s", p.UnifiedDiff)
	}
}
