package iampolicy_test

import (
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iampolicy/managed"
)

func evaluator(t testing.TB, names ...string) *iampolicy.Evaluator {
	t.Helper()
	var set iampolicy.Set
	for _, n := range names {
		p, err := managed.ByName(n)
		if err != nil {
			t.Fatal(err)
		}
		set.Identity = append(set.Identity, p.Policy())
	}
	e, err := iampolicy.New(set, iampolicy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func granted(gs []iampolicy.Grant) map[string]bool {
	m := map[string]bool{}
	for _, g := range gs {
		m[g.Action] = true
	}
	return m
}

// TestManagedPolicies checks the evaluator against what AWS says its
// managed policies grant.
func TestManagedPolicies(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	admin := evaluator(t, "AdministratorAccess").Actions()
	if len(admin) != cat.Counts().Actions {
		t.Errorf("AdministratorAccess grants %d actions, the catalogue has %d", len(admin), cat.Counts().Actions)
	}
	for _, g := range admin {
		if g.Conditional {
			t.Fatalf("%s conditional", g.Action)
		}
	}

	ro := evaluator(t, "ReadOnlyAccess")
	for action, want := range map[string]iampolicy.Decision{
		"s3:GetObject":          iampolicy.Allowed,
		"s3:PutObject":          iampolicy.ImplicitDeny,
		"ec2:DescribeInstances": iampolicy.Allowed,
		"ec2:RunInstances":      iampolicy.ImplicitDeny,
		"iam:CreateUser":        iampolicy.ImplicitDeny,
	} {
		if r := ro.Evaluate(iampolicy.Request{Action: action, Resource: "arn:aws:s3:::b/k"}); r.Decision != want {
			t.Errorf("ReadOnlyAccess %s: %v (%s)", action, r.Decision, r.Reason)
		}
	}
	roSet := granted(ro.Actions())
	if !roSet["s3:GetObject"] || roSet["s3:PutObject"] || len(roSet) < 3000 {
		t.Errorf("ReadOnlyAccess expands to %d actions", len(roSet))
	}

	pu := evaluator(t, "PowerUserAccess")
	puSet := granted(pu.Actions())
	for action, want := range map[string]bool{
		"s3:PutObject": true, "ec2:RunInstances": true,
		"iam:CreateUser": false, "iam:AttachRolePolicy": false, "organizations:CreateAccount": false, "account:PutAlternateContact": false,
		// re-allowed by its second statement
		"iam:CreateServiceLinkedRole": true, "iam:ListRoles": true, "organizations:DescribeOrganization": true, "account:ListRegions": true,
	} {
		if puSet[action] != want {
			t.Errorf("PowerUserAccess %s: %v, want %v", action, puSet[action], want)
		}
	}
	iam := 0
	for a := range puSet {
		if strings.HasPrefix(a, "iam:") {
			iam++
		}
	}
	if iam != 3 {
		t.Errorf("PowerUserAccess grants %d iam actions, want 3", iam)
	}
	if r := pu.Evaluate(iampolicy.Request{Action: "iam:CreateUser", Resource: "arn:aws:iam::1:user/x"}); r.Decision != iampolicy.ImplicitDeny {
		t.Errorf("PowerUserAccess iam:CreateUser %v", r.Decision)
	}
	if r := pu.Evaluate(iampolicy.Request{Action: "iam:ListRoles"}); r.Decision != iampolicy.Allowed || r.Statements[0].Index != 1 {
		t.Errorf("PowerUserAccess iam:ListRoles %+v", r)
	}

	// PowerUserAccess under a ReadOnlyAccess boundary reads only.
	p1, _ := managed.ByName("PowerUserAccess")
	p2, _ := managed.ByName("ReadOnlyAccess")
	e, err := iampolicy.New(iampolicy.Set{Identity: []iampolicy.Policy{p1.Policy()}, Boundary: []iampolicy.Policy{p2.Policy()}}, iampolicy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	both := granted(e.Actions())
	if both["s3:PutObject"] || !both["s3:GetObject"] || both["iam:GetRole"] || !both["iam:ListRoles"] {
		t.Errorf("PowerUserAccess within ReadOnlyAccess: %d actions", len(both))
	}
}

// TestExpandAllManaged expands every embedded managed policy: each grant
// is a catalogue action, sorted and unique.
func TestExpandAllManaged(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	cat, _ := catalog.Load()
	all, err := managed.All()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range all {
		e, err := iampolicy.New(iampolicy.Set{Identity: []iampolicy.Policy{p.Policy()}}, iampolicy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		gs := e.Actions()
		for i, g := range gs {
			if _, ok := cat.Action(g.Action); !ok || (i > 0 && gs[i-1].Action >= g.Action) {
				t.Fatalf("%s: %s", p.Name, g.Action)
			}
		}
		total += len(gs)
	}
	t.Logf("%d policies, %d grants", len(all), total)
}

// BenchmarkActionsStar expands "*" to the whole catalogue.
func BenchmarkActionsStar(b *testing.B) {
	d, _ := iampolicy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	b.ReportAllocs()
	for b.Loop() {
		e, err := iampolicy.New(iampolicy.Set{Identity: []iampolicy.Policy{{Name: "all", Document: d}}}, iampolicy.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(e.Actions()); n < 20000 {
			b.Fatal(n)
		}
	}
}

// BenchmarkActionsManaged expands every embedded AWS managed policy, one
// evaluator each.
func BenchmarkActionsManaged(b *testing.B) {
	all, err := managed.All()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range all {
			e, err := iampolicy.New(iampolicy.Set{Identity: []iampolicy.Policy{p.Policy()}}, iampolicy.Options{})
			if err != nil {
				b.Fatal(err)
			}
			e.Actions()
		}
	}
}

// BenchmarkEvaluate decides one request against ReadOnlyAccess.
func BenchmarkEvaluate(b *testing.B) {
	e := evaluator(b, "ReadOnlyAccess")
	b.ReportAllocs()
	for b.Loop() {
		if r := e.Evaluate(iampolicy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}); r.Decision != iampolicy.Allowed {
			b.Fatal(r.Decision)
		}
	}
}
