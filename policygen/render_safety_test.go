package policygen

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"gopkg.in/yaml.v3"

	"github.com/iamlens/iamlens/analyzer"
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
