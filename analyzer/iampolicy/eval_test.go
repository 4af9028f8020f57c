package iampolicy

import (
	"strings"
	"testing"
)

func doc(t testing.TB, s string) *Document {
	t.Helper()
	d, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return d
}

// stmts wraps statements in a 2012-10-17 document.
func stmts(s ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(s, ",") + `]}`
}

func newEval(t testing.TB, identity []string, boundary []string) *Evaluator {
	t.Helper()
	var set Set
	for i, d := range identity {
		set.Identity = append(set.Identity, Policy{Name: "p" + string(rune('0'+i)), Document: doc(t, d)})
	}
	if boundary != nil {
		set.Boundary = []Policy{}
		for i, d := range boundary {
			set.Boundary = append(set.Boundary, Policy{Name: "b" + string(rune('0'+i)), Document: doc(t, d)})
		}
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEvaluateRules holds each evaluation rule to a case that fails if the
// rule is dropped.
func TestEvaluateRules(t *testing.T) {
	const (
		allowGet   = `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`
		allowS3All = `{"Effect":"Allow","Action":"s3:*","Resource":"*"}`
	)
	for _, tt := range []struct {
		name             string
		identity         []string
		boundary         []string
		action, resource string
		ctx              map[string][]string
		want             Decision
		deciding         string // "policy:index" of the first deciding statement
		condDeny         bool
	}{
		{"no statement: implicit deny", []string{stmts(allowGet)}, nil, "s3:PutObject", "arn:aws:s3:::b/k", nil, ImplicitDeny, "", false},
		{"exact action and resource", []string{stmts(allowGet)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", false},
		{"action case-insensitive", []string{stmts(`{"Effect":"Allow","Action":"S3:getobject","Resource":"*"}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", false},
		{"action wildcard *", []string{stmts(`{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}`)}, nil, "s3:GetObjectAcl", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", false},
		{"action wildcard ? is one character", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObjec?","Resource":"*"}`)}, nil, "s3:GetObjectAcl", "arn:aws:s3:::b/k", nil, ImplicitDeny, "", false},
		{"action ? matches", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObjec?","Resource":"*"}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", false},
		{"NotAction allows the rest", []string{stmts(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", false},
		{"NotAction excludes", []string{stmts(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}, nil, "iam:CreateUser", "arn:aws:iam::1:user/x", nil, ImplicitDeny, "", false},
		{"resource is case-sensitive", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::B/*"}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, ImplicitDeny, "", false},
		{"resource * crosses slashes", []string{stmts(allowGet)}, nil, "s3:GetObject", "arn:aws:s3:::b/a/b/c", nil, Allowed, "p0:0", false},
		{"resource * ending a segment crosses colons", []string{stmts(`{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::*"}`)}, nil, "iam:GetRole", "arn:aws:iam::111122223333:role/app", nil, Allowed, "p0:0", false},
		{"resource * inside a segment stays in it", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*.txt"}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/x:y.txt", nil, ImplicitDeny, "", false},
		{"resource ? is one character", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/?"}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/ab", nil, ImplicitDeny, "", false},
		{"NotResource allows the rest", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", false},
		{"NotResource excludes", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}`)}, nil, "s3:GetObject", "arn:aws:s3:::secret/k", nil, ImplicitDeny, "", false},
		{"explicit deny wins", []string{stmts(allowS3All), stmts(`{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}`)}, nil, "s3:DeleteObject", "arn:aws:s3:::b/k", nil, ExplicitDeny, "p1:0", false},
		{"deny elsewhere does not apply", []string{stmts(allowS3All, `{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::other/*"}`)}, nil, "s3:DeleteObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", false},
		{"NotAction deny", []string{stmts(allowS3All, `{"Effect":"Deny","NotAction":"s3:Get*","Resource":"*"}`)}, nil, "s3:PutObject", "arn:aws:s3:::b/k", nil, ExplicitDeny, "p0:1", false},
		{"NotResource deny", []string{stmts(allowS3All, `{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}`)}, nil, "s3:GetObject", "arn:aws:s3:::other/k", nil, ExplicitDeny, "p0:1", false},
		{"NotResource deny spares its resources", []string{stmts(allowS3All, `{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", false},
		{"allow under a condition is conditional", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, ConditionallyAllowed, "p0:0", false},
		{"a plain allow beats a conditional one", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`, allowGet)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:1", false},
		{"deny under a condition is not assumed", []string{stmts(allowS3All, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", true},
		{"condition decided by the context: holds", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", map[string][]string{"aws:requestedregion": {"us-east-1"}}, Allowed, "p0:0", false},
		{"condition decided by the context: fails", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", map[string][]string{"aws:RequestedRegion": {"us-east-1"}}, ImplicitDeny, "", false},
		{"deny decided by the context", []string{stmts(allowS3All, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", map[string][]string{"aws:SourceIp": {"192.0.2.1"}}, ExplicitDeny, "p0:1", false},
		{"context key missing: undecided", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"a"}}}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", map[string][]string{"aws:SourceIp": {"192.0.2.1"}}, ConditionallyAllowed, "p0:0", false},
		{"policy variable without context: conditional", []string{stmts(`{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}`)}, nil, "iam:GetUser", "arn:aws:iam::1:user/bob", nil, ConditionallyAllowed, "p0:0", false},
		{"policy variable from the context", []string{stmts(`{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}`)}, nil, "iam:GetUser", "arn:aws:iam::1:user/bob", map[string][]string{"aws:username": {"bob"}}, Allowed, "p0:0", false},
		{"policy variable from the context, other user", []string{stmts(`{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}`)}, nil, "iam:GetUser", "arn:aws:iam::1:user/alice", map[string][]string{"aws:username": {"bob"}}, ImplicitDeny, "", false},
		{"escaped ${*} is a literal star", []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}"}`)}, nil, "s3:GetObject", "arn:aws:s3:::b/k", nil, ImplicitDeny, "", false},
		{"2008-10-17 has no variables", []string{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}]}`}, nil, "iam:GetUser", "arn:aws:iam::1:user/${aws:username}", nil, Allowed, "p0:0", false},
		{"boundary limits", []string{stmts(`{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*"}`)}, []string{stmts(`{"Effect":"Allow","Action":["s3:*","ec2:*"],"Resource":"*"}`)}, "iam:CreateUser", "arn:aws:iam::1:user/x", nil, ImplicitDeny, "p0:0", false},
		{"boundary and identity both allow", []string{stmts(allowGet)}, []string{stmts(allowS3All)}, "s3:GetObject", "arn:aws:s3:::b/k", nil, Allowed, "p0:0", false},
		{"boundary alone grants nothing", []string{stmts(`{"Effect":"Allow","Action":"ec2:*","Resource":"*"}`)}, []string{stmts(allowS3All)}, "s3:GetObject", "arn:aws:s3:::b/k", nil, ImplicitDeny, "", false},
		{"boundary deny", []string{stmts(allowS3All)}, []string{stmts(allowS3All, `{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}`)}, "s3:DeleteBucket", "arn:aws:s3:::b", nil, ExplicitDeny, "b0:1", false},
		{"conditional boundary makes it conditional", []string{stmts(allowS3All)}, []string{stmts(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}`)}, "s3:GetObject", "arn:aws:s3:::b/k", nil, ConditionallyAllowed, "p0:0", false},
		{"action without resource types needs *", []string{stmts(`{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"arn:aws:s3:::b"}`)}, nil, "s3:ListAllMyBuckets", "", nil, ImplicitDeny, "", false},
		{"action without resource types with *", []string{stmts(`{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}`)}, nil, "s3:ListAllMyBuckets", "arn:aws:s3:::ignored", nil, Allowed, "p0:0", false},
		{"literal * asks for every resource", []string{stmts(allowGet)}, nil, "s3:GetObject", "*", nil, ImplicitDeny, "", false},
		{"unknown action, matched by name", []string{stmts(`{"Effect":"Allow","Action":"newsvc:*","Resource":"*"}`)}, nil, "newsvc:DoThing", "arn:aws:newsvc:::x", nil, Allowed, "p0:0", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEval(t, tt.identity, tt.boundary)
			r := e.Evaluate(Request{Action: tt.action, Resource: tt.resource, Context: tt.ctx})
			if r.Decision != tt.want {
				t.Fatalf("got %v (%s), want %v", r.Decision, r.Reason, tt.want)
			}
			got := ""
			if len(r.Statements) > 0 {
				got = r.Statements[0].Policy + ":" + string(rune('0'+r.Statements[0].Index))
			}
			if got != tt.deciding {
				t.Errorf("deciding statement %q, want %q (%+v)", got, tt.deciding, r.Statements)
			}
			if (len(r.ConditionalDenies) > 0) != tt.condDeny {
				t.Errorf("conditional denies %+v", r.ConditionalDenies)
			}
			if r.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

func TestReasonNamesStatements(t *testing.T) {
	e := newEval(t, []string{stmts(`{"Effect":"Allow","Action":"iam:*","Resource":"*"}`)},
		[]string{stmts(`{"Sid":"OnlyS3","Effect":"Allow","Action":"s3:*","Resource":"*"}`)})
	r := e.Evaluate(Request{Action: "iam:CreateUser", Resource: "arn:aws:iam::1:user/x"})
	if !strings.Contains(r.Reason, "p0 statement 0") || !strings.Contains(r.Reason, "permissions boundary does not") {
		t.Errorf("reason %q", r.Reason)
	}
	e = newEval(t, []string{stmts(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`, `{"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}`)}, nil)
	r = e.Evaluate(Request{Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/k"})
	if r.Decision != ExplicitDeny || r.Reason != "explicitly denied by p0 statement 1 (Sid NoDelete)" || r.Statements[0].Sid != "NoDelete" {
		t.Errorf("%+v", r)
	}
}

// TestResourceTypes: an action is granted on some resource only where a
// resource of one of its types can match the statement's Resource.
func TestResourceTypes(t *testing.T) {
	bucketObjects := stmts(`{"Effect":"Allow","Action":["s3:GetBucketPolicy","s3:GetObject","s3:ListAllMyBuckets"],"Resource":"arn:aws:s3:::b/*"}`)
	mixed := stmts(`{"Effect":"Allow","Action":["s3:GetBucketPolicy","s3:GetObject","s3:ListAllMyBuckets"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}`)
	for _, tt := range []struct {
		name, doc, action string
		want              Decision
	}{
		{"bucket action under an object pattern", bucketObjects, "s3:GetBucketPolicy", ImplicitDeny},
		{"object action under an object pattern", bucketObjects, "s3:GetObject", Allowed},
		{"no resource type under an ARN", bucketObjects, "s3:ListAllMyBuckets", ImplicitDeny},
		{"mixed: bucket action on the bucket", mixed, "s3:GetBucketPolicy", Allowed},
		{"mixed: object action on the objects", mixed, "s3:GetObject", Allowed},
		{"mixed: no resource type still needs *", mixed, "s3:ListAllMyBuckets", ImplicitDeny},
		{"another service's ARN", stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:sqs:*:*:q"}`), "s3:GetObject", ImplicitDeny},
		{"bucket pattern with a wildcard", stmts(`{"Effect":"Allow","Action":"s3:GetBucketPolicy","Resource":"arn:aws:s3:::logs-*"}`), "s3:GetBucketPolicy", Allowed},
		{"other partition", stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws-cn:s3:::b/*"}`), "s3:GetObject", ImplicitDeny},
		{"deny covers every allowed object", stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`, `{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::b*"}`), "s3:GetObject", ExplicitDeny},
		{"deny covers some objects", stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`, `{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::b/secret/*"}`), "s3:GetObject", Allowed},
		{"NotResource leaves some objects", stmts(`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/*"}`), "s3:GetObject", Allowed},
		{"NotResource leaves access point objects", stmts(`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::*/*"}`), "s3:GetObject", Allowed},
		{"NotResource takes every object", stmts(`{"Effect":"Allow","Action":"s3:GetObject","NotResource":["arn:aws:s3:::*/*","arn:aws:s3:*:*:accesspoint/*"]}`), "s3:GetObject", ImplicitDeny},
		{"NotResource * takes everything", stmts(`{"Effect":"Allow","Action":"s3:ListAllMyBuckets","NotResource":"*"}`), "s3:ListAllMyBuckets", ImplicitDeny},
		{"NotResource of an ARN keeps *", stmts(`{"Effect":"Allow","Action":"s3:ListAllMyBuckets","NotResource":"arn:aws:s3:::b"}`), "s3:ListAllMyBuckets", Allowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEval(t, []string{tt.doc}, nil)
			r := e.Evaluate(Request{Action: tt.action})
			if r.Decision != tt.want {
				t.Fatalf("got %v (%s), want %v", r.Decision, r.Reason, tt.want)
			}
			granted := false
			for _, g := range e.Actions() {
				if g.Action == tt.action {
					granted = true
				}
			}
			if granted != tt.want.Granted() {
				t.Errorf("Actions() lists it: %v", granted)
			}
		})
	}
}

// TestBoundaryOnSomeResource: identity and boundary must allow the same
// resource.
func TestBoundaryOnSomeResource(t *testing.T) {
	e := newEval(t, []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"}`)},
		[]string{stmts(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`)})
	if r := e.Evaluate(Request{Action: "s3:GetObject"}); r.Decision != ImplicitDeny || !strings.Contains(r.Reason, "boundary") {
		t.Errorf("%+v", r)
	}
	e = newEval(t, []string{stmts(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a*"}`)},
		[]string{stmts(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::*/k"}`)})
	if r := e.Evaluate(Request{Action: "s3:GetObject"}); r.Decision != Allowed || len(r.Statements) != 2 {
		t.Errorf("%+v", r)
	}
}

func TestActionsExpansion(t *testing.T) {
	e := newEval(t, []string{stmts(
		`{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}`,
		`{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`,
		`{"Effect":"Deny","Action":"s3:GetObject*","Resource":"*"}`,
		`{"Effect":"Deny","Action":"s3:GetBucketPolicy","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`,
	)}, nil)
	gs := e.Actions()
	byName := map[string]Grant{}
	for i, g := range gs {
		if i > 0 && gs[i-1].Action >= g.Action {
			t.Fatalf("not sorted: %s, %s", gs[i-1].Action, g.Action)
		}
		byName[g.Action] = g
		if !strings.HasPrefix(g.Action, "s3:Get") && g.Action != "sqs:SendMessage" {
			t.Errorf("unexpected %s", g.Action)
		}
	}
	if _, ok := byName["s3:GetObject"]; ok {
		t.Error("denied s3:GetObject listed")
	}
	if g, ok := byName["sqs:SendMessage"]; !ok || !g.Conditional {
		t.Errorf("sqs:SendMessage %+v", g)
	}
	if g, ok := byName["s3:GetBucketPolicy"]; !ok || g.Conditional || !g.ConditionalDeny {
		t.Errorf("s3:GetBucketPolicy %+v", g)
	}
	if g, ok := byName["s3:GetBucketAcl"]; !ok || g.Conditional || len(g.Statements) != 1 || g.Statements[0].Index != 0 {
		t.Errorf("s3:GetBucketAcl %+v", g)
	}
	if len(byName) < 30 {
		t.Errorf("only %d actions", len(byName))
	}
}

func TestAllowedAll(t *testing.T) {
	e := newEval(t, []string{stmts(`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::src/*"}`,
		`{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::dst/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`)}, nil)
	for _, tt := range []struct {
		resources []string
		want      Decision
	}{
		{[]string{"arn:aws:s3:::src/a"}, Allowed},
		{[]string{"arn:aws:s3:::src/a", "arn:aws:s3:::dst/a"}, ConditionallyAllowed},
		{[]string{"arn:aws:s3:::src/a", "arn:aws:s3:::other/a"}, ImplicitDeny},
		{nil, Allowed},
	} {
		if r := e.AllowedAll("s3:PutObject", tt.resources); r.Decision != tt.want {
			t.Errorf("%v: %v (%s)", tt.resources, r.Decision, r.Reason)
		}
	}
	if r := e.AllowedAll("s3:PutObject", []string{"arn:aws:s3:::other/a", "arn:aws:s3:::src/a"}); r.Resource != "arn:aws:s3:::other/a" {
		t.Errorf("the failing resource is not named: %+v", r)
	}
}

func TestNotes(t *testing.T) {
	e := newEval(t, []string{stmts(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`)}, nil)
	if r := e.Evaluate(Request{Action: "s3:GetBucketPolicy", Resource: "arn:aws:s3:::b/k"}); !strings.Contains(r.Note, "fits none of the resource types") {
		t.Errorf("note %q", r.Note)
	}
	if r := e.Evaluate(Request{Action: "s3:ListAllMyBuckets", Resource: "arn:aws:s3:::b"}); r.Resource != "*" || !strings.Contains(r.Note, "takes no resource") {
		t.Errorf("%+v", r)
	}
	if r := e.Evaluate(Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}); r.Note != "" {
		t.Errorf("note %q", r.Note)
	}
}

func TestConditionOperators(t *testing.T) {
	ctx := map[string][]string{
		"aws:SourceIp": {"203.0.113.7"}, "aws:username": {"bob"}, "aws:CurrentTime": {"2026-01-02T00:00:00Z"},
		"s3:max-keys": {"10"}, "aws:TagKeys": {"team", "env"}, "aws:PrincipalArn": {"arn:aws:iam::1:role/app"},
		"aws:SecureTransport": {"true"},
	}
	for _, tt := range []struct {
		op, key string
		vals    []string
		want    tri
	}{
		{"StringEquals", "aws:username", []string{"bob"}, yes},
		{"StringEquals", "aws:username", []string{"Bob"}, no},
		{"StringEqualsIgnoreCase", "aws:username", []string{"Bob"}, yes},
		{"StringNotEquals", "aws:username", []string{"alice", "carol"}, yes},
		{"StringNotEquals", "aws:username", []string{"bob"}, no},
		{"StringLike", "aws:username", []string{"b*"}, yes},
		{"StringNotLike", "aws:username", []string{"b?b"}, no},
		{"IpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}, yes},
		{"IpAddress", "aws:SourceIp", []string{"198.51.100.0/24"}, no},
		{"NotIpAddress", "aws:SourceIp", []string{"198.51.100.0/24"}, yes},
		{"NumericLessThan", "s3:max-keys", []string{"11"}, yes},
		{"NumericGreaterThanEquals", "s3:max-keys", []string{"11"}, no},
		{"DateGreaterThan", "aws:CurrentTime", []string{"2025-12-31T00:00:00Z"}, yes},
		{"DateLessThan", "aws:CurrentTime", []string{"2025-12-31T00:00:00Z"}, no},
		{"Bool", "aws:SecureTransport", []string{"true"}, yes},
		{"ArnLike", "aws:PrincipalArn", []string{"arn:aws:iam::*:role/*"}, yes},
		{"ArnNotLike", "aws:PrincipalArn", []string{"arn:aws:iam::*:user/*"}, yes},
		{"ForAnyValue:StringEquals", "aws:TagKeys", []string{"env"}, yes},
		{"ForAllValues:StringEquals", "aws:TagKeys", []string{"env"}, no},
		{"ForAllValues:StringEquals", "aws:TagKeys", []string{"env", "team"}, yes},
		{"Null", "aws:TokenIssueTime", []string{"true"}, maybe},
		{"StringEquals", "aws:PrincipalTag/x", []string{"y"}, maybe},
		{"StringEqualsIfExists", "aws:PrincipalTag/x", []string{"y"}, maybe},
		{"StringEquals", "aws:username", []string{"${aws:username}"}, yes},
		{"SomethingNew", "aws:username", []string{"bob"}, maybe},
	} {
		req := &Request{Context: ctx}
		if got := evalCondition(Condition{Operator: tt.op, Key: tt.key, Values: tt.vals}, req, true); got != tt.want {
			t.Errorf("%s %s %v: got %v, want %v", tt.op, tt.key, tt.vals, got, tt.want)
		}
	}
	// A complete context decides missing keys.
	req := &Request{Context: ctx, ContextComplete: true}
	for _, tt := range []struct {
		op   string
		want tri
	}{{"Null", yes}, {"StringEquals", no}, {"StringNotEquals", yes}, {"StringEqualsIfExists", yes}, {"ForAllValues:StringEquals", yes}} {
		vals := []string{"y"}
		if tt.op == "Null" {
			vals = []string{"true"}
		}
		if got := evalCondition(Condition{Operator: tt.op, Key: "aws:PrincipalTag/x", Values: vals}, req, true); got != tt.want {
			t.Errorf("complete context, %s: got %v, want %v", tt.op, got, tt.want)
		}
	}
}

func TestPatterns(t *testing.T) {
	for _, tt := range []struct {
		pat, s string
		arn    bool
		want   bool
	}{
		{"*", "", false, true},
		{"s3:get*", "s3:getobject", false, true},
		{"s3:get*", "s3:putobject", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"fn-*-prod", "fn-a-prod", false, true},
		{"fn-*-prod", "fn-a-dev", false, false},
		{"a*b*c", "aXbYbZc", false, true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y:z", true, true},
		{"arn:aws:s3:::b/*z", "arn:aws:s3:::b/x/y:z", true, false},
		{"arn:aws:iam::*:role/*", "arn:aws:iam::1:role/a/b", true, true},
		{"arn:aws:iam::?:role/x", "arn:aws:iam:::role/x", true, false},
		{"arn:aws:s3:::é/*", "arn:aws:s3:::é/k", true, true},
	} {
		p, _ := compileGlob(tt.pat, false, tt.arn)
		if got := p.match(tt.s); got != tt.want {
			t.Errorf("%q ~ %q: %v", tt.pat, tt.s, got)
		}
	}
	// Long patterns run in linear time (no backtracking blow-up).
	p, _ := compileGlob(strings.Repeat("a*", 40)+"b", false, false)
	if p.match(strings.Repeat("a", 5000)) {
		t.Error("matched")
	}
}

func TestSatisfiable(t *testing.T) {
	glob := func(s string) pattern { p, _ := compileGlob(s, true, true); return p }
	bucket := formatPattern("arn:${Partition}:s3:::${BucketName}", "aws")
	object := formatPattern("arn:${Partition}:s3:::${BucketName}/${ObjectName}", "aws")
	for _, tt := range []struct {
		name string
		cs   []constraint
		want bool
	}{
		{"bucket under b/*", []constraint{{union: []pattern{bucket}}, {union: []pattern{glob("arn:aws:s3:::b/*")}}}, false},
		{"object under b/*", []constraint{{union: []pattern{object}}, {union: []pattern{glob("arn:aws:s3:::b/*")}}}, true},
		{"object outside b/*", []constraint{{union: []pattern{object}}, {union: []pattern{glob("arn:aws:s3:::b/*")}, not: true}}, true},
		{"object outside */*", []constraint{{union: []pattern{object}}, {union: []pattern{glob("arn:aws:s3:::*/*")}, not: true}}, false},
		{"object outside a union", []constraint{{union: []pattern{object}}, {union: []pattern{glob("arn:aws:s3:::a*/*"), glob("arn:aws:s3:::?*/*")}, not: true}}, false},
		{"bucket b* minus b", []constraint{{union: []pattern{bucket}}, {union: []pattern{glob("arn:aws:s3:::b*")}}, {union: []pattern{glob("arn:aws:s3:::b")}, not: true}}, true},
		{"bucket b? minus b?", []constraint{{union: []pattern{bucket}}, {union: []pattern{glob("arn:aws:s3:::b?")}}, {union: []pattern{glob("arn:aws:s3:::b?")}, not: true}}, false},
	} {
		if got := satisfiable(tt.cs); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}

func TestEscapeLiteral(t *testing.T) {
	const raw = "arn:aws:s3:::b/a*b?c$d"
	esc := EscapeLiteral(raw)
	if esc != "arn:aws:s3:::b/a${*}b${?}c${$}d" {
		t.Fatal(esc)
	}
	p, _ := compileGlob(esc, true, true)
	if !p.match(raw) || p.match("arn:aws:s3:::b/aXbYc$d") {
		t.Error("an escaped ARN does not match exactly itself")
	}
}

func TestUnmatched(t *testing.T) {
	e := newEval(t, []string{stmts(`{"Effect":"Allow","Action":["s3:GetObjekt","s3:Get*","nosuchsvc:*"],"Resource":"*"}`,
		`{"Effect":"Allow","NotAction":"typo:*","Resource":"*"}`)}, nil)
	got := e.Unmatched()
	if len(got) != 2 || got[0].Action != "s3:GetObjekt" || got[1].Action != "nosuchsvc:*" || got[0].Statement.Index != 0 {
		t.Errorf("%+v", got)
	}
}

// TestConcurrentUse runs Evaluate and Actions of one evaluator from
// several goroutines (go test -race holds it to the doc's promise).
func TestConcurrentUse(t *testing.T) {
	e := newEval(t, []string{stmts(`{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"}`)}, nil)
	done := make(chan int)
	for g := 0; g < 4; g++ {
		go func(g int) {
			n := 0
			if g%2 == 0 {
				n = len(e.Actions())
			} else if e.Evaluate(Request{Action: "s3:GetObject"}).Decision == Allowed {
				n = 1
			}
			done <- n
		}(g)
	}
	for g := 0; g < 4; g++ {
		if <-done == 0 {
			t.Error("a goroutine saw nothing allowed")
		}
	}
}
