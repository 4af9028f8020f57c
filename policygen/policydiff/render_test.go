package policydiff

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/iamstate"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/diff/golden")

// goldenReport is a small report with every section: two principals of
// a GAAD-like source, one with a boundary, unknown policies and notes.
func goldenReport(t *testing.T) *Report {
	t.Helper()
	cat := realCatalog(t)
	app := current(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:GetBucketPolicy"],"Resource":"*"},
		{"Sid":"Queue","Effect":"Allow","Action":["sqs:SendMessage","sqs:DeleteQueue"],"Resource":"arn:aws:sqs:us-east-1:111122223333:jobs","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
		{"Sid":"Pass","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/worker"},
		{"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}`)
	app.Unknown = []string{"role app: managed Legacy (arn:aws:iam::111122223333:policy/Legacy): not in the authorization details"}
	u := usageOf("arn:aws:iam::111122223333:role/app",
		act("s3:GetObject", "arn:aws:s3:::data/a.csv", "arn:aws:s3:::data/b.csv", "arn:aws:s3:::data/b.csv"),
		act("s3:ListBucket", "arn:aws:s3:::data"),
		act("sns:Publish", "arn:aws:sns:us-east-1:111122223333:alerts"),
	)
	failed := act("s3:GetBucketPolicy", "arn:aws:s3:::data")
	failed.ErrorCodes = []analyzer.Count{{Value: "NoSuchBucketPolicy", Count: 1}}
	u.Failed = []*analyzer.ActionUsage{failed}
	u.Denied = []*analyzer.ActionUsage{act("s3:PutObject", "arn:aws:s3:::data/c.csv")}
	u.NotObservable = []analyzer.NotObservable{{Action: "iam:PassRole on arn:aws:iam::111122223333:role/worker", Reason: "needed alongside RunTask but not shown by CloudTrail"}}

	ci := &iamstate.Effective{Kind: iamstate.KindUser, Name: "ci-bot", Policies: []iamstate.AppliedPolicy{
		{Label: "user ci-bot: inline deploy", Kind: iamstate.PolicyInline, Name: "deploy", Document: mustDoc(t, `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:PutImage","ecr:BatchGetImage"],"Resource":"*"}]}`)}},
		Boundary: &iamstate.AppliedPolicy{Label: "user ci-bot: boundary ci-boundary", Kind: iamstate.PolicyBoundary, Name: "ci-boundary",
			Document: mustDoc(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`)}}
	cu := usageOf("arn:aws:iam::111122223333:user/ci/ci-bot", act("ecr:GetAuthorizationToken", "*"), act("ecr:PutImage", "arn:aws:ecr:us-east-1:111122223333:repository/app"))
	cu.Kind = "iam-user"
	inputs := []Input{{Usage: u, Current: app}, {Usage: cu, Current: ci, Notes: []string{"attached policies made outside this configuration are not in the plan"}}}
	rep, err := Run(inputs, []string{"arn:aws:iam::111122223333:role/idle"}, Options{Catalog: cat,
		Source: Source{Kind: SourceGAAD, Name: "GAAD gaad.json", File: "gaad.json"}, Dataset: "./store"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestGolden(t *testing.T) {
	rep := goldenReport(t)
	for _, f := range []struct{ format, ext string }{{"markdown", "md"}, {"json", "json"}, {"sarif", "sarif"}, {"unified", "diff"}, {"table", "txt"}} {
		var b bytes.Buffer
		if err := Write(&b, rep, f.format, RenderOptions{Version: "test"}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("..", "..", "testdata", "diff", "golden", "report."+f.ext)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./policygen/policydiff -run TestGolden -update)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from %s; if the change is intended, run go test ./policygen/policydiff -run TestGolden -update\ngot:\n%s", f.format, path, b.String())
		}
	}
}

// TestJSONContract keeps the field names the issue promises.
func TestJSONContract(t *testing.T) {
	rep := goldenReport(t)
	var b bytes.Buffer
	if err := WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Principals []map[string]json.RawMessage `json:"principals"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	p := doc.Principals[0]
	for _, k := range []string{"principal", "granted_used", "used_not_granted", "granted_unused", "not_observable", "proposed"} {
		if _, ok := p[k]; !ok {
			t.Errorf("principal lacks %q", k)
		}
	}
	fields := func(k string) map[string]json.RawMessage {
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(p[k], &list); err != nil || len(list) == 0 {
			t.Fatalf("%s: %v (%d)", k, err, len(list))
		}
		return list[0]
	}
	for k, want := range map[string][]string{
		"granted_used":     {"action", "resource"},
		"used_not_granted": {"action", "resource", "reason"},
		"granted_unused":   {"action", "conditional"},
		"not_observable":   {"action"},
	} {
		got := fields(k)
		for _, f := range want {
			if _, ok := got[f]; !ok {
				t.Errorf("%s lacks %q", k, f)
			}
		}
	}
	var proposed struct{ Version string }
	if err := json.Unmarshal(p["proposed"], &proposed); err != nil || proposed.Version != "2012-10-17" {
		t.Errorf("proposed is not a policy document: %v %s", err, p["proposed"])
	}
}

// TestSARIFRequired checks the properties SARIF 2.1.0's schema requires,
// and one result per unused grant and per missing permission.
func TestSARIFRequired(t *testing.T) {
	rep := goldenReport(t)
	var b bytes.Buffer
	if err := WriteSARIF(&b, rep, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	need := func(obj any, where string, keys ...string) map[string]any {
		m, ok := obj.(map[string]any)
		if !ok {
			t.Fatalf("%s is not an object", where)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks the required %q", where, k)
			}
		}
		return m
	}
	need(log, "sarifLog", "version", "runs")
	if log["version"] != "2.1.0" {
		t.Errorf("version %v", log["version"])
	}
	runs := log["runs"].([]any)
	run := need(runs[0], "run", "tool")
	driver := need(need(run["tool"], "tool", "driver")["driver"], "toolComponent", "name")
	rules := driver["rules"].([]any)
	ids := map[string]int{}
	for i, r := range rules {
		ids[need(r, "reportingDescriptor", "id")["id"].(string)] = i
	}
	results := run["results"].([]any)
	want := 0
	for _, p := range rep.Principals {
		want += p.Counts.Unused + p.Counts.Missing
	}
	if len(results) != want || want == 0 {
		t.Errorf("%d results, want %d (one per unused grant and per missing permission)", len(results), want)
	}
	for i, r := range results {
		res := need(r, fmt.Sprintf("result %d", i), "message", "ruleId", "locations")
		if need(res["message"], "message", "text")["text"] == "" {
			t.Errorf("result %d: empty message", i)
		}
		if idx, ok := ids[res["ruleId"].(string)]; !ok || int(res["ruleIndex"].(float64)) != idx {
			t.Errorf("result %d: rule %v index %v", i, res["ruleId"], res["ruleIndex"])
		}
		loc := need(res["locations"].([]any)[0], "location", "physicalLocation")
		art := need(need(loc["physicalLocation"], "physicalLocation", "artifactLocation")["artifactLocation"], "artifactLocation", "uri")
		if art["uri"] != "gaad.json" {
			t.Errorf("result %d: located at %v, want the GAAD file", i, art["uri"])
		}
	}
}

// TestMarkdownLimit: a report far over GitHub's limit keeps the marker,
// the summary of every principal, and a note; it never exceeds the limit.
func TestMarkdownLimit(t *testing.T) {
	cat := realCatalog(t)
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	var inputs []Input
	for i := 0; i < 40; i++ {
		arn := fmt.Sprintf("arn:aws:iam::111122223333:role/admin-%02d", i)
		inputs = append(inputs, Input{Usage: usageOf(arn, act("s3:ListAllMyBuckets", "*")), Current: current(t, admin)})
	}
	rep, err := Run(inputs, nil, Options{Catalog: cat, Source: Source{Kind: SourceGAAD, Name: "GAAD big.json"}})
	if err != nil {
		t.Fatal(err)
	}
	md := Markdown(rep, RenderOptions{})
	if len(md) > GitHubCommentLimit {
		t.Errorf("%d characters, over %d", len(md), GitHubCommentLimit)
	}
	if !strings.HasPrefix(md, Marker+"\n") || !strings.Contains(md, "**Truncated** to fit GitHub's 65536-character comment limit") {
		t.Errorf("no marker or truncation note:\n%s", md[:min(len(md), 2000)])
	}
	for _, p := range rep.Principals {
		if !strings.Contains(md, "| `"+p.Principal+"` |") {
			t.Errorf("the summary lacks %s", p.Principal)
		}
	}
	// A small limit still holds.
	if md := Markdown(rep, RenderOptions{MaxChars: 8000}); len(md) > 8000 || !strings.Contains(md, "Truncated") {
		t.Errorf("MaxChars 8000: %d characters", len(md))
	}
}

// TestMarkdownEscapes: values from logs cannot break the comment.
func TestMarkdownEscapes(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"arn:aws:s3:::b/a|b", "`arn:aws:s3:::b/a\\|b`"},
		{"arn:aws:s3:::b/`x`", "`` arn:aws:s3:::b/`x` ``"},
		{"a\nb", "`a b`"},
	} {
		if got := code(c.in); got != c.want {
			t.Errorf("code(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := text("</details><img src=x>|*a*"); got != `&lt;/details&gt;&lt;img src=x&gt;\|\*a\*` {
		t.Errorf("text: %q", got)
	}
	if got := fenceFor("a ```` b"); got != "`````" {
		t.Errorf("fence %q", got)
	}
}
