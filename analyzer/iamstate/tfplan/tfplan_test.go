package tfplan

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iampolicy/managed"
	"github.com/iamlens/iamlens/analyzer/iamstate"
)

func embedded(policyARN string) (*iampolicy.Document, string, bool, bool) {
	p, err := managed.Lookup(policyARN)
	if err != nil {
		return nil, "", false, false
	}
	return p.Document, "the embedded copy", true, true
}

func readFixture(t *testing.T, name string) *Plan {
	t.Helper()
	p, err := ReadFile(filepath.Join("..", "..", "..", "testdata", "diff", "tfplan", name), Options{ManagedPolicy: embedded})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func find(t *testing.T, p *Plan, kind iamstate.Kind, name string) *Principal {
	t.Helper()
	for _, pr := range p.Principals {
		if pr.Kind == kind && pr.Name == name {
			return pr
		}
	}
	t.Fatalf("no %s %q among %d principals", kind, name, len(p.Principals))
	return nil
}

// policyAddrs lists "kind name @address" of the principal's policies.
func policyAddrs(e *iamstate.Effective) []string {
	var out []string
	for _, ap := range e.Policies {
		out = append(out, string(ap.Kind)+" "+ap.Name+" @"+ap.Address)
	}
	return out
}

func evaluator(t *testing.T, e *iamstate.Effective) *iampolicy.Evaluator {
	t.Helper()
	var set iampolicy.Set
	for _, ap := range e.Policies {
		set.Identity = append(set.Identity, iampolicy.Policy{Name: ap.Label, Document: ap.Document})
	}
	if e.Boundary != nil {
		set.Boundary = []iampolicy.Policy{{Name: e.Boundary.Label, Document: e.Boundary.Document}}
	}
	ev, err := iampolicy.New(set, iampolicy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestReadBasic(t *testing.T) {
	p := readFixture(t, "basic.json")
	if p.FormatVersion != "1.2" || p.TerraformVersion != "1.9.8" || len(p.Principals) != 2 || len(p.Problems) != 0 {
		t.Fatalf("plan %+v", p)
	}
	deploy := find(t, p, iamstate.KindRole, "deploy")
	want := []string{
		"inline read-config @aws_iam_role_policy.read_config",
		"managed deploy-s3 @aws_iam_policy.deploy_s3",
		"managed CloudWatchLogsReadOnlyAccess @aws_iam_role_policy_attachment.deploy_logs_read",
	}
	if got := policyAddrs(deploy.Effective); !slices.Equal(got, want) {
		t.Errorf("deploy's policies:\n%q\nwant\n%q", got, want)
	}
	if deploy.Address != "aws_iam_role.deploy" || deploy.Action != "create" || deploy.Path != "/" || deploy.ARN != "" || len(deploy.Notes) != 0 {
		t.Errorf("deploy %+v (a new role has only what the plan gives it: no note)", deploy)
	}
	// The inline policy whose document reads a value of the apply is
	// unknown, not dropped.
	if u := deploy.Effective.Unknown; len(u) != 1 || !strings.Contains(u[0], "write-logs") || !strings.Contains(u[0], "unknown until apply") {
		t.Errorf("deploy unknown %q", u)
	}
	if ap := deploy.Effective.Policies[2]; !ap.Embedded || ap.ARN != "arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess" || !strings.Contains(ap.Label, "the embedded copy") {
		t.Errorf("managed policy by ARN: %+v", ap)
	}
	ev := evaluator(t, deploy.Effective)
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"s3:PutObject", "arn:aws:s3:::deploy-artifacts/build/1.zip", true}, // the policy attached by reference
		{"s3:PutObject", "arn:aws:s3:::other/x", false},
		{"ssm:GetParameter", "arn:aws:ssm:us-east-1:111122223333:parameter/deploy/db", true},
		{"logs:GetLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:x:log-stream:y", true},
		{"logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:x:log-stream:y", false}, // only in the unknown document
	} {
		if got := ev.Evaluate(iampolicy.Request{Action: c.action, Resource: c.resource}).Decision.Granted(); got != c.want {
			t.Errorf("deploy: %s on %s granted %v, want %v", c.action, c.resource, got, c.want)
		}
	}

	bot := find(t, p, iamstate.KindUser, "ci-bot")
	if bot.ARN != "arn:aws:iam::111122223333:user/ci/ci-bot" || bot.Path != "/ci/" {
		t.Errorf("ci-bot %+v", bot)
	}
	// The updated inline policy (not its old ecr:*), the boundary, and not
	// the AdministratorAccess the plan detaches.
	if got := policyAddrs(bot.Effective); !slices.Equal(got, []string{"inline ci-bot @aws_iam_user_policy.ci_bot"}) {
		t.Errorf("ci-bot's policies %q", got)
	}
	if b := bot.Effective.Boundary; b == nil || b.Name != "ci-boundary" || b.Address != "aws_iam_policy.ci_boundary" || b.Kind != iamstate.PolicyBoundary {
		t.Errorf("ci-bot's boundary %+v", b)
	}
	ev = evaluator(t, bot.Effective)
	if ev.Evaluate(iampolicy.Request{Action: "ecr:DeleteRepository", Resource: "arn:aws:ecr:us-east-1:111122223333:repository/app"}).Decision.Granted() {
		t.Error("ci-bot: the old inline policy's ecr:* is still read")
	}
	if !ev.Evaluate(iampolicy.Request{Action: "ecr:PutImage", Resource: "arn:aws:ecr:us-east-1:111122223333:repository/app"}).Decision.Granted() {
		t.Error("ci-bot: the new inline policy is not read")
	}
	// An existing user: what is attached outside the configuration is not
	// in the plan, and the report says so.
	if len(bot.Notes) != 1 || !strings.Contains(bot.Notes[0], "outside this configuration") {
		t.Errorf("ci-bot notes %q", bot.Notes)
	}

	// Find: by ARN with its path, by a role session's ARN, and not by a
	// path that differs.
	for _, c := range []struct {
		arn  string
		want string
		err  error
	}{
		{"arn:aws:iam::111122223333:user/ci/ci-bot", "ci-bot", nil},
		{"arn:aws:iam::111122223333:role/deploy", "deploy", nil},
		{"arn:aws:sts::111122223333:assumed-role/deploy/build-42", "deploy", nil},
		{"arn:aws:iam::111122223333:role/team/deploy", "", iamstate.ErrNoSuchPrincipal},
		{"arn:aws:iam::111122223333:user/ci-bot", "", iamstate.ErrNoSuchPrincipal},
		{"arn:aws:iam::111122223333:group/admins", "", iamstate.ErrNotPrincipal},
		{"deploy", "", iamstate.ErrNotPrincipal},
	} {
		pr, err := p.Find(c.arn)
		switch {
		case c.err != nil && !errors.Is(err, c.err):
			t.Errorf("Find(%s): %v, want %v", c.arn, err, c.err)
		case c.err == nil && (err != nil || pr.Name != c.want):
			t.Errorf("Find(%s): %v %v, want %s", c.arn, pr, err, c.want)
		}
	}
}

func TestReadModules(t *testing.T) {
	p := readFixture(t, "modules.json")
	if len(p.Problems) != 0 {
		t.Errorf("problems %q", p.Problems)
	}
	var ci *Principal
	for _, pr := range p.Principals {
		if pr.Address == "module.ci.aws_iam_role.this" {
			ci = pr
		}
	}
	if ci == nil || ci.Name != "" || ci.Path != "/ci/" {
		t.Fatalf("module.ci role: %+v", ci)
	}
	// Linked by references inside the module, and from the root through
	// the module's output role_name.
	if got := policyAddrs(ci.Effective); !slices.Equal(got, []string{
		"managed gha-ecr-push @module.ci.aws_iam_policy.this",
		"managed AmazonEC2ContainerRegistryReadOnly @aws_iam_role_policy_attachment.ci_ecr_read"}) {
		t.Errorf("module.ci role's policies %q", got)
	}
	if len(ci.Effective.Unknown) != 1 || !strings.Contains(ci.Effective.Unknown[0], "name is unknown until apply") {
		t.Errorf("module.ci unknown %q", ci.Effective.Unknown)
	}

	orders := find(t, p, iamstate.KindRole, "svc-orders")
	if orders.Address != `module.service["orders"].aws_iam_role.this` || len(orders.Notes) != 0 {
		t.Errorf("svc-orders %+v", orders)
	}
	if got := policyAddrs(orders.Effective); !slices.Equal(got, []string{
		`inline svc-orders-data @module.service["orders"].aws_iam_role_policy.this`,
		`managed AWSXRayDaemonWriteAccess @module.service["orders"].aws_iam_role_policy_attachments_exclusive.this`}) {
		t.Errorf("svc-orders' policies %q (legacy is taken off svc-orders)", got)
	}
	// The boundary through the nested module's output.
	if b := orders.Effective.Boundary; b == nil || b.Address != `module.service["orders"].module.boundary.aws_iam_policy.this` {
		t.Errorf("svc-orders boundary %+v", b)
	}
	ev := evaluator(t, orders.Effective)
	table := "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
	if !ev.Evaluate(iampolicy.Request{Action: "dynamodb:GetItem", Resource: table}).Decision.Granted() {
		t.Error("svc-orders: dynamodb:GetItem not granted")
	}
	if ev.Evaluate(iampolicy.Request{Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:111122223333:q"}).Decision.Granted() {
		t.Error("svc-orders: the boundary grants sqs, no identity policy does")
	}

	billing := find(t, p, iamstate.KindRole, "svc-billing")
	if got := policyAddrs(billing.Effective); !slices.Equal(got, []string{
		`managed AWSXRayDaemonWriteAccess @module.service["billing"].aws_iam_role_policy_attachments_exclusive.this`,
		`managed legacy @aws_iam_policy.legacy`}) {
		t.Errorf("svc-billing's policies %q", got)
	}
	if u := billing.Effective.Unknown; len(u) != 1 || !strings.Contains(u[0], "svc-billing-data") {
		t.Errorf("svc-billing unknown %q (its document comes from a data source read during apply)", u)
	}

	for i, name := range []string{"worker-0", "worker-1"} {
		w := find(t, p, iamstate.KindRole, name)
		ev := evaluator(t, w.Effective)
		for j := 0; j < 2; j++ {
			q := "arn:aws:sqs:us-east-1:111122223333:jobs-" + string(rune('0'+j))
			if got := ev.Evaluate(iampolicy.Request{Action: "sqs:ReceiveMessage", Resource: q}).Decision.Granted(); got != (i == j) {
				t.Errorf("%s on jobs-%d: %v", name, j, got)
			}
		}
	}

	alice := find(t, p, iamstate.KindUser, "alice")
	got := policyAddrs(alice.Effective)
	if !slices.Equal(got, []string{"inline deploy @aws_iam_group_policy.deployers", "managed AmazonSQSReadOnlyAccess @aws_iam_group_policy_attachment.deployers_sqs"}) {
		t.Errorf("alice's policies %q", got)
	}
	for _, ap := range alice.Effective.Policies {
		if ap.Via != "deployers" {
			t.Errorf("alice: %s via %q, want the group", ap.Label, ap.Via)
		}
	}
	if pr, err := p.Find("arn:aws:sts::111122223333:assumed-role/svc-orders/task-1"); err != nil || pr != orders {
		t.Errorf("Find svc-orders by its session: %v %v", pr, err)
	}
}

// planJSON builds a small plan: rcs are resource_changes, cfg the root
// module's configuration resources.
func planJSON(t *testing.T, rcs, cfg []map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"format_version": "1.2", "terraform_version": "1.9.8", "planned_values": map[string]any{},
		"resource_changes": rcs,
		"configuration":    map[string]any{"root_module": map[string]any{"resources": cfg}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func change(addr, typ string, actions []string, before, after, unknown map[string]any) map[string]any {
	name := addr[strings.LastIndexByte(addr, '.')+1:]
	return map[string]any{"address": addr, "mode": "managed", "type": typ, "name": name,
		"change": map[string]any{"actions": actions, "before": before, "after": after, "after_unknown": unknown}}
}

func config(addr, typ string, expr map[string]any) map[string]any {
	name := addr[strings.LastIndexByte(addr, '.')+1:]
	return map[string]any{"address": addr, "mode": "managed", "type": typ, "name": name, "expressions": expr}
}

const ecrRO = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"

// TestReadBackAndExclusive: an existing role whose configuration does not
// set inline_policy or managed_policy_arns shows what it has now (read
// back by the provider) less what the plan removes; a role that sets them
// has exactly those; unknown list elements are matched to referenced
// policies only when they count the same.
func TestReadBackAndExclusive(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	rcs := []map[string]any{
		change("aws_iam_role.old", "aws_iam_role", []string{"no-op"}, map[string]any{},
			map[string]any{"name": "old", "path": "/", "arn": "arn:aws:iam::1:role/old",
				"inline_policy":       []any{map[string]any{"name": "kept", "policy": doc}, map[string]any{"name": "dropped", "policy": doc}},
				"managed_policy_arns": []any{ecrRO, "arn:aws:iam::aws:policy/AdministratorAccess"}},
			map[string]any{}),
		change("aws_iam_role_policy.dropped", "aws_iam_role_policy", []string{"delete"}, map[string]any{"role": "old", "name": "dropped", "policy": doc}, nil, nil),
		change("aws_iam_role_policy_attachment.admin", "aws_iam_role_policy_attachment", []string{"delete"},
			map[string]any{"role": "old", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}, nil, nil),
		change("aws_iam_policy.a", "aws_iam_policy", []string{"create"}, nil, map[string]any{"name": "a", "path": "/", "policy": doc}, map[string]any{"arn": true}),
		change("aws_iam_policy.b", "aws_iam_policy", []string{"create"}, nil, map[string]any{"name": "b", "path": "/", "policy": doc}, map[string]any{"arn": true}),
		change("aws_iam_role.exact", "aws_iam_role", []string{"update"}, map[string]any{},
			map[string]any{"name": "exact", "path": "/", "arn": "arn:aws:iam::1:role/exact",
				"inline_policy": []any{map[string]any{"name": "only", "policy": doc}}, "managed_policy_arns": []any{ecrRO, nil, nil}},
			map[string]any{"managed_policy_arns": []any{false, true, true}}),
		change("aws_iam_role.mismatch", "aws_iam_role", []string{"update"}, map[string]any{},
			map[string]any{"name": "mismatch", "path": "/", "managed_policy_arns": []any{nil}},
			map[string]any{"managed_policy_arns": []any{true}}),
		change("aws_iam_role_policy.external", "aws_iam_role_policy", []string{"create"}, nil,
			map[string]any{"role": "made-elsewhere", "name": "extra", "policy": doc}, map[string]any{}),
	}
	cfg := []map[string]any{
		config("aws_iam_role.exact", "aws_iam_role", map[string]any{
			"inline_policy":       []any{map[string]any{"name": map[string]any{"constant_value": "only"}}},
			"managed_policy_arns": map[string]any{"references": []string{"aws_iam_policy.a.arn", "aws_iam_policy.a", "aws_iam_policy.b.arn", "aws_iam_policy.b"}}}),
		config("aws_iam_role.mismatch", "aws_iam_role", map[string]any{
			"managed_policy_arns": map[string]any{"references": []string{"aws_iam_policy.a.arn", "aws_iam_policy.a", "aws_iam_policy.b.arn", "aws_iam_policy.b"}}}),
	}
	p, err := Read(strings.NewReader(string(planJSON(t, rcs, cfg))), Options{ManagedPolicy: embedded})
	if err != nil {
		t.Fatal(err)
	}
	old := find(t, p, iamstate.KindRole, "old")
	if got := policyAddrs(old.Effective); !slices.Equal(got, []string{"inline kept @aws_iam_role.old", "managed AmazonEC2ContainerRegistryReadOnly @aws_iam_role.old"}) {
		t.Errorf("old's policies %q: the plan deletes 'dropped' and detaches AdministratorAccess", got)
	}
	if len(old.Notes) != 0 || !strings.Contains(old.Effective.Policies[0].Label, "read back") {
		t.Errorf("old: notes %q, label %q", old.Notes, old.Effective.Policies[0].Label)
	}
	exact := find(t, p, iamstate.KindRole, "exact")
	if got := policyAddrs(exact.Effective); !slices.Equal(got, []string{"inline only @aws_iam_role.exact", "managed AmazonEC2ContainerRegistryReadOnly @aws_iam_role.exact",
		"managed a @aws_iam_policy.a", "managed b @aws_iam_policy.b"}) {
		t.Errorf("exact's policies %q", got)
	}
	mis := find(t, p, iamstate.KindRole, "mismatch")
	if len(mis.Effective.Policies) != 0 || len(mis.Effective.Unknown) != 1 || !strings.Contains(mis.Effective.Unknown[0], "managed_policy_arns unknown until apply") {
		t.Errorf("one unknown element, two referenced policies: %+v", mis.Effective)
	}
	ext := find(t, p, iamstate.KindRole, "made-elsewhere")
	if ext.Address != "" || len(ext.Notes) != 1 || !strings.Contains(ext.Notes[0], "not managed by this plan") || len(ext.Effective.Policies) != 1 {
		t.Errorf("a role the plan names only: %+v", ext)
	}
}

func TestReadBadInput(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     error
		text     string
	}{
		{"not JSON", "resource \"aws_iam_role\" {", ErrNotPlan, ""},
		{"a state file", `{"format_version":"1.0","values":{"root_module":{}}}`, ErrNotPlan, "state file"},
		{"a newer major version", `{"format_version":"2.0","resource_changes":[]}`, nil, "unsupported plan format version"},
	} {
		_, err := Read(strings.NewReader(c.in), Options{})
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// A document that does not parse is a problem and an unknown, and the
	// rest is read.
	rcs := []map[string]any{
		change("aws_iam_role.r", "aws_iam_role", []string{"create"}, nil, map[string]any{"name": "r", "path": "/"}, map[string]any{}),
		change("aws_iam_role_policy.bad", "aws_iam_role_policy", []string{"create"}, nil, map[string]any{"role": "r", "name": "bad", "policy": `{"Statement": 7}`}, map[string]any{}),
		change("aws_iam_role_policy_attachment.custom", "aws_iam_role_policy_attachment", []string{"create"}, nil,
			map[string]any{"role": "r", "policy_arn": "arn:aws:iam::1:policy/not-in-plan"}, map[string]any{}),
	}
	p, err := Read(strings.NewReader(string(planJSON(t, rcs, nil))), Options{ManagedPolicy: embedded})
	if err != nil {
		t.Fatal(err)
	}
	r := find(t, p, iamstate.KindRole, "r")
	if len(p.Problems) != 1 || len(r.Effective.Unknown) != 2 || !strings.Contains(r.Effective.Unknown[0], "does not parse") ||
		!strings.Contains(r.Effective.Unknown[1], "not defined in this plan") {
		t.Errorf("problems %q, unknown %q", p.Problems, r.Effective.Unknown)
	}
}
