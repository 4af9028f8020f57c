package policygen

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"gopkg.in/yaml.v3"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// nasty are values a log could hold: template introducers of Terraform
// (${…}, %{…}, and their escapes), quotes, backslashes, line breaks of
// every kind, control characters and non-ASCII text.
var nasty = []string{
	"arn:aws:s3:::b/${var.secret}/%{if true}x%{endif}",
	"arn:aws:s3:::b/$${already}/%%{escaped}/$/%/{}",
	"arn:aws:s3:::b/\"quoted\"/back\\slash\\\\/\\n-literal",
	"arn:aws:s3:::b/line\nbreak\r\nwindows\ttab",
	"arn:aws:s3:::b/\u2028ls\u2029ps\u0085nel\u0000nul\u007fdel\u001besc[31m",
	"arn:aws:s3:::b/é/日本/😀/\ufeffbom",
	"arn:aws:s3:::b/#not-a-comment // /* nor this */ \" ] } {",
}

// nastyResult is a generated policy whose every log-derived field holds
// nasty values.
func nastyResult() *Result {
	principal := "arn:aws:iam::111122223333:user/eve\n}\nresource \"aws_iam_user\" \"x\" {"
	st := Statement{Sid: "S3", Effect: iampolicy.Allow, Action: iampolicy.Values{"s3:GetObject"}, Resource: iampolicy.Values(nasty),
		Condition: iampolicy.Conditions{{Operator: "StringEquals", Key: "aws:RequestedRegion", Values: nasty[:2]}}}
	u := &analyzer.Usage{Principal: principal, Kind: "iam-user", FirstSeen: t0, LastSeen: t0,
		Denied: []*analyzer.ActionUsage{{Action: "s3:PutObject\n# injected"}}}
	r := &Result{Principal: principal, Kind: "iam-user", Mode: ResourcesExact, Usage: u,
		Policies: []*Document{{Version: PolicyVersion, Statement: []Statement{st}}}, SizeNote: "fits\nin one",
		Conditions: []ConditionNote{{Key: "aws:RequestedRegion", Why: "why\n}\nx = 1"}},
		Evidence: []StatementEvidence{{Sid: "S3", Actions: []ActionEvidence{{Action: "s3:GetObject", Calls: 1, Examples: nasty}},
			Resources: []ResourceEvidence{{Resource: nasty[3], Why: "pattern\nwhy"}}}}}
	return r
}

// TestTerraformQuoting renders nasty values and parses the output back
// with HCL's own parser: the values come back exactly, nothing is
// interpolated, and no block or attribute was added.
func TestTerraformQuoting(t *testing.T) {
	var b strings.Builder
	if err := WriteTerraform(&b, []*Result{nastyResult()}); err != nil {
		t.Fatal(err)
	}
	src := b.String()
	f, diags := hclsyntax.ParseConfig([]byte(src), "policy.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags, src)
	}
	body := f.Body.(*hclsyntax.Body)
	if len(body.Blocks) != 1 || len(body.Attributes) != 0 || body.Blocks[0].Type != "data" {
		t.Fatalf("top level: %d blocks, %d attributes\n%s", len(body.Blocks), len(body.Attributes), src)
	}
	data := body.Blocks[0].Body
	if len(data.Blocks) != 1 || len(data.Attributes) != 0 {
		t.Fatalf("data block: %d blocks, %d attributes", len(data.Blocks), len(data.Attributes))
	}
	stmt := data.Blocks[0].Body
	if len(stmt.Attributes) != 4 || len(stmt.Blocks) != 1 {
		t.Fatalf("statement: %d attributes, %d blocks", len(stmt.Attributes), len(stmt.Blocks))
	}
	strs := func(a *hclsyntax.Attribute) []string {
		v, diags := a.Expr.Value(nil) // no variables or functions: any interpolation fails
		if diags.HasErrors() {
			t.Fatalf("%s: %v", a.Name, diags)
		}
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, e.AsString())
		}
		return out
	}
	if got := strs(stmt.Attributes["resources"]); !equal(got, nasty) {
		t.Errorf("resources:\n got %q\nwant %q", got, nasty)
	}
	if got := strs(stmt.Blocks[0].Body.Attributes["values"]); !equal(got, nasty[:2]) {
		t.Errorf("condition values: %q", got)
	}
	if strings.Contains(src, "\n# injected") || strings.Contains(src, "\nresource \"aws_iam_user\"") {
		t.Errorf("a log value broke out of a comment:\n%s", src)
	}
}

// TestCloudFormationQuoting renders nasty values and reads the template
// back with a YAML parser: every value comes back exactly.
func TestCloudFormationQuoting(t *testing.T) {
	r := nastyResult()
	var b strings.Builder
	if err := WriteCloudFormation(&b, []*Result{r}); err != nil {
		t.Fatal(err)
	}
	src := b.String()
	var tpl struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Description    string `yaml:"Description"`
				PolicyDocument struct {
					Version   string `yaml:"Version"`
					Statement []struct {
						Sid       string                         `yaml:"Sid"`
						Resource  []string                       `yaml:"Resource"`
						Condition map[string]map[string][]string `yaml:"Condition"`
					} `yaml:"Statement"`
				} `yaml:"PolicyDocument"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal([]byte(src), &tpl); err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if len(tpl.Resources) != 1 {
		t.Fatalf("%d resources\n%s", len(tpl.Resources), src)
	}
	for _, res := range tpl.Resources {
		p := res.Properties
		if res.Type != "AWS::IAM::ManagedPolicy" || p.Description != "Least privilege for "+r.Principal+" (iamlens)" {
			t.Errorf("type %q, description %q", res.Type, p.Description)
		}
		st := p.PolicyDocument.Statement[0]
		if !equal(st.Resource, nasty) {
			t.Errorf("resources:\n got %q\nwant %q", st.Resource, nasty)
		}
		if got := st.Condition["StringEquals"]["aws:RequestedRegion"]; !equal(got, nasty[:2]) {
			t.Errorf("condition values %q", got)
		}
	}
	if strings.Contains(src, "\n}") || strings.Contains(src, "\nresource") {
		t.Errorf("a log value broke out of a comment:\n%s", src)
	}
	if strings.Contains(src, "Fn::Sub") || strings.Contains(src, "!Sub") {
		t.Error("the template uses Fn::Sub")
	}
}

// TestLogValuesStayLiteralInIAM: an S3 key holding *, ? or ${…} is written
// with IAM's escapes, so the policy grants exactly that key.
func TestLogValuesStayLiteralInIAM(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	raw := []string{"arn:aws:s3:::b/reports/${aws:username}/q?.csv", "arn:aws:s3:::b/star*", "arn:aws:s3:::b/plain-1", "arn:aws:s3:::b/plain-2"}
	for _, mode := range []string{ResourcesExact, ResourcesPrefix, ResourcesService} {
		res, err := Generate(usage(au("s3:GetObject", 4, raw...)), cat, Options{Resources: mode, CollapseAt: 1})
		if err != nil {
			t.Fatal(err)
		}
		ev := parseDocs(t, res.Policies)
		for _, r := range raw {
			if !ev.allows("s3:GetObject", r, nil) {
				t.Errorf("%s: %s not allowed", mode, r)
			}
		}
		for _, other := range []string{"arn:aws:s3:::b/reports/alice/q1.csv", "arn:aws:s3:::b/starry"} {
			// (prefix and service modes widen the plain ARNs to b/* on purpose)
			if mode == ResourcesExact && ev.allows("s3:GetObject", other, nil) {
				t.Errorf("%s: %s allowed through a value from the log", mode, other)
			}
		}
		found := false
		for _, s := range res.Policies[0].Statement {
			for _, r := range s.Resource {
				if r == "arn:aws:s3:::b/reports/${$}{aws:username}/q${?}.csv" {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s: escaped ARN not written: %+v", mode, res.Policies[0].Statement)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMapperPatterns: a pattern the mapping wrote, with its reason
// (ResourceUsage.Why), is written as it is in exact and prefix modes and
// widened only in service mode; an ARN the mapping escaped (a log value
// holding '*') keeps its escapes, never doubled.
func TestMapperPatterns(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	run := au("ec2:RunInstances", 2,
		"arn:aws:ec2:us-east-1:111122223333:instance/*", "arn:aws:ec2:us-east-1:111122223333:subnet/subnet-1",
		"arn:aws:ec2:us-east-1:111122223333:subnet/subnet-2", "arn:aws:ec2:us-east-1::image/ami-1")
	run.Resources[0].Why = "created by the call"
	get := au("s3:GetObject", 1, "arn:aws:s3:::b/a${*}b")
	user := au("iam:GetUser", 1, "arn:aws:iam::111122223333:user/*/bob", "arn:aws:iam::111122223333:user/bob")
	user.Resources[0].Why, user.Resources[1].Why = "its path is unknown", "its path is unknown"
	for _, tt := range []struct {
		mode    string
		want    map[string][]string // action → resources written
		allowed map[string][]string // action → ARNs the policy must allow
	}{
		{ResourcesExact,
			map[string][]string{
				"ec2:RunInstances": {"arn:aws:ec2:us-east-1:111122223333:instance/*", "arn:aws:ec2:us-east-1:111122223333:subnet/subnet-1",
					"arn:aws:ec2:us-east-1:111122223333:subnet/subnet-2", "arn:aws:ec2:us-east-1::image/ami-1"},
				"s3:GetObject": {"arn:aws:s3:::b/a${*}b"},
				"iam:GetUser":  {"arn:aws:iam::111122223333:user/*/bob", "arn:aws:iam::111122223333:user/bob"}},
			map[string][]string{"ec2:RunInstances": {"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"},
				"iam:GetUser": {"arn:aws:iam::111122223333:user/bob", "arn:aws:iam::111122223333:user/eng/bob"}}},
		{ResourcesService,
			map[string][]string{
				"ec2:RunInstances": {"arn:aws:ec2:us-east-1:111122223333:instance/*", "arn:aws:ec2:us-east-1:111122223333:subnet/*", "arn:aws:ec2:us-east-1::image/*"},
				"iam:GetUser":      {"arn:aws:iam::111122223333:user/*"}},
			map[string][]string{"ec2:RunInstances": {"arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"}}},
	} {
		res, err := Generate(usage(run, get, user), cat, Options{Resources: tt.mode})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, s := range res.Policies[0].Statement {
			for _, a := range s.Action {
				got[a] = append(got[a], s.Resource...)
			}
		}
		for a, want := range tt.want {
			if !equal(got[a], want) {
				t.Errorf("%s %s: %q, want %q", tt.mode, a, got[a], want)
			}
		}
		ev := parseDocs(t, res.Policies)
		for a, arns := range tt.allowed {
			for _, arn := range arns {
				if !ev.allows(a, arn, nil) {
					t.Errorf("%s: %s on %s not allowed", tt.mode, a, arn)
				}
			}
		}
		if ev.allows("s3:GetObject", "arn:aws:s3:::b/axb", nil) && tt.mode == ResourcesExact {
			t.Errorf("%s: the escaped key widened to a wildcard", tt.mode)
		}
		for _, e := range res.Evidence {
			for _, r := range e.Resources {
				if r.Resource == "arn:aws:ec2:us-east-1:111122223333:instance/*" && r.Why != "created by the call" {
					t.Errorf("%s: the pattern's evidence says %q", tt.mode, r.Why)
				}
			}
		}
	}
}
