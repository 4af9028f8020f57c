package iampolicy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestCovers(t *testing.T) {
	const mfa = `"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`
	mfaConds := Conditions{{Operator: "Bool", Key: "aws:MultiFactorAuthPresent", Values: []string{"true"}}}
	for _, tt := range []struct {
		name             string
		stmts            []string
		action, resource string
		conds            Conditions
		want             bool
	}{
		{"inside the allowed prefix", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`}, "s3:GetObject", "arn:aws:s3:::b/logs/*", nil, true},
		{"one object", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`}, "s3:GetObject", "arn:aws:s3:::b/k", nil, true},
		{"wider than the allowed prefix", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`}, "s3:GetObject", "arn:aws:s3:::*", nil, false},
		{"another bucket", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`}, "s3:GetObject", "arn:aws:s3:::c/k", nil, false},
		{"star on everything", []string{`{"Effect":"Allow","Action":"*","Resource":"*"}`}, "s3:GetObject", "*", nil, true},
		{"action not allowed", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`}, "s3:PutObject", "arn:aws:s3:::b/k", nil, false},
		{"NotAction covers the rest", []string{`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`}, "s3:PutObject", "arn:aws:s3:::b/*", nil, true},
		{"NotAction excludes", []string{`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`}, "iam:GetRole", "arn:aws:iam::1:role/r", nil, false},
		{"NotResource: outside the exclusion", []string{`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}`}, "s3:GetObject", "arn:aws:s3:::b/*", nil, true},
		{"NotResource: the pattern reaches the exclusion", []string{`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}`}, "s3:GetObject", "arn:aws:s3:::*", nil, false},
		{"two prefixes do not cover their parent", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/a/*","arn:aws:s3:::b/b/*"]}`}, "s3:GetObject", "arn:aws:s3:::b/*", nil, false},
		{"two statements together cover a union", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a*"}`, `{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/a*"}`}, "s3:GetObject", "arn:aws:s3:::*", nil, true},
		{"? is one character, * any", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/?"}`}, "s3:GetObject", "arn:aws:s3:::b/*", nil, false},
		{"an object named * is a literal", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/x"}`}, "s3:GetObject", "arn:aws:s3:::b/${*}", nil, false},
		{"an escaped literal inside a prefix", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`}, "s3:GetObject", "arn:aws:s3:::b/a${*}b", nil, true},
		{"a * inside a segment stays in it", []string{`{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::1:role/app*"}`}, "iam:GetRole", "arn:aws:iam::*", nil, false},
		{"the resource types bound the question", []string{`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}`}, "s3:ListBucket", "arn:aws:s3:::b*", nil, false},
		{"only the bucket of the pattern", []string{`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}`}, "s3:ListBucket", "arn:aws:s3:::b", nil, true},
		{"no resource type: needs *", []string{`{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"arn:aws:s3:::*"}`}, "s3:ListAllMyBuckets", "*", nil, false},
		{"no resource type: *", []string{`{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}`}, "s3:ListAllMyBuckets", "*", nil, true},
		{"conditional allow, no conditions asked", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",` + mfa + `}`}, "s3:GetObject", "arn:aws:s3:::b/k", nil, false},
		{"conditional allow, the same conditions", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",` + mfa + `}`}, "s3:GetObject", "arn:aws:s3:::b/k", mfaConds, true},
		{"conditional allow, other conditions", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",` + mfa + `}`}, "s3:GetObject", "arn:aws:s3:::b/k",
			Conditions{{Operator: "StringEquals", Key: "aws:RequestedRegion", Values: []string{"eu-west-1"}}}, false},
		{"an unconditional allow covers a conditional ask", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`}, "s3:GetObject", "arn:aws:s3:::b/k", mfaConds, true},
		{"denies are the caller's", []string{`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`, `{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`}, "s3:GetObject", "arn:aws:s3:::b/k", nil, true},
		{"a policy variable entry never counts", []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}`}, "s3:GetObject", "arn:aws:s3:::b/alice/k", nil, false},
		{"a pattern with a variable is never covered", []string{`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`}, "s3:GetObject", "arn:aws:s3:::b/${aws:username}", nil, false},
		{"unknown action", []string{`{"Effect":"Allow","Action":"*","Resource":"*"}`}, "s3:GetObjekt", "*", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEval(t, []string{stmts(tt.stmts...)}, nil)
			if got := e.Covers(tt.action, tt.resource, tt.conds); got != tt.want {
				t.Errorf("Covers(%s, %s) = %v, want %v", tt.action, tt.resource, got, tt.want)
			}
		})
	}
}

// TestCoversAgreesWithEvaluate draws random policies and patterns over a
// small alphabet and checks, on every object ARN up to three characters
// long, that a covered pattern names only allowed objects; both answers
// must come up often.
func TestCoversAgreesWithEvaluate(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 1))
	alphabet := []string{"a", "b", "/", "*", "?"}
	randGlob := func() string {
		var b strings.Builder
		for n := 1 + rng.IntN(3); n > 0; n-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return "arn:aws:s3:::k/" + b.String()
	}
	var keys []string
	var walk func(prefix string, n int)
	walk = func(prefix string, n int) {
		keys = append(keys, "arn:aws:s3:::k/"+prefix)
		if n == 0 {
			return
		}
		for _, c := range []string{"a", "b", "/", "c"} {
			walk(prefix+c, n-1)
		}
	}
	walk("", 3)
	counts := map[bool]int{}
	for round := 0; round < 300; round++ {
		var ss []string
		for n := 1 + rng.IntN(3); n > 0; n-- {
			elem := "Resource"
			if rng.IntN(4) == 0 {
				elem = "NotResource"
			}
			ss = append(ss, fmt.Sprintf(`{"Effect":"Allow","Action":"s3:GetObject",%q:[%q,%q]}`, elem, randGlob(), randGlob()))
		}
		e := newEval(t, []string{stmts(ss...)}, nil)
		pat := randGlob()
		p, _ := compileGlob(pat, true, true)
		covered := e.Covers("s3:GetObject", pat, nil)
		counts[covered]++
		for _, k := range keys {
			if !p.match(k) {
				continue
			}
			if covered && e.Evaluate(Request{Action: "s3:GetObject", Resource: k}).Decision != Allowed {
				t.Fatalf("Covers(%s) over %v, yet %s is not allowed", pat, ss, k)
			}
		}
	}
	if counts[true] < 20 || counts[false] < 20 {
		t.Errorf("covered %d times, not covered %d times: the draw does not test both", counts[true], counts[false])
	}
}

func TestMatchesAction(t *testing.T) {
	for _, c := range []struct {
		st     string
		action string
		want   bool
	}{
		{`{"Effect":"Deny","Action":"s3:Delete*","Resource":"*"}`, "s3:DeleteObject", true},
		{`{"Effect":"Deny","Action":"S3:DELETEOBJECT","Resource":"*"}`, "s3:deleteobject", true},
		{`{"Effect":"Deny","Action":["s3:Get?bject"],"Resource":"*"}`, "s3:GetObject", true},
		{`{"Effect":"Deny","Action":"s3:Get?bject","Resource":"*"}`, "s3:GetObjectAcl", false},
		{`{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}`, "s3:GetObject", true},
		{`{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}`, "iam:GetRole", false},
	} {
		var s Statement
		if err := s.UnmarshalJSON([]byte(c.st)); err != nil {
			t.Fatal(err)
		}
		if got := s.MatchesAction(c.action); got != c.want {
			t.Errorf("%s MatchesAction(%s) = %v", c.st, c.action, got)
		}
	}
}

func TestMatchResource(t *testing.T) {
	for _, c := range []struct {
		pattern, arn string
		want         bool
	}{
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::c/x", false},
		{"arn:aws:s3:::b/a${*}b", "arn:aws:s3:::b/a*b", true},
		{"arn:aws:s3:::b/a${*}b", "arn:aws:s3:::b/axb", false},
		{"arn:aws:iam::*:role/x*", "arn:aws:iam::1:role/x1", true},
		{"arn:aws:s3:::b/*.txt", "arn:aws:s3:::b/a:b.txt", false},
	} {
		if got := MatchResource(c.pattern, c.arn); got != c.want {
			t.Errorf("MatchResource(%s, %s) = %v", c.pattern, c.arn, got)
		}
	}
}
