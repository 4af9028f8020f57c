package cis

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func loadPolicy(t *testing.T) *Policy {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "cis", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ReadPolicy(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadSuppressions(t *testing.T) []Suppression {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "cis", "suppressions.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ReadSuppressions(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// goldenReport is the fail snapshot with the sample suppressions and a bit
// of dataset evidence.
func goldenReport(t *testing.T) *Report {
	t.Helper()
	first, last := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), time.Date(2026, 11, 19, 8, 0, 0, 0, time.UTC)
	ev := map[string]*EventEvidence{
		"monitor-root-usage":  {Count: 3, First: &first, Last: &last, Principals: []PrincipalCount{{"arn:aws:iam::111122223333:root", 3}}},
		"monitor-vpc-changes": {},
	}
	r, err := Evaluate(loadSnapshot(t, "fail"), Options{Benchmark: V300, Now: func() time.Time { return testNow }, Suppressions: loadSuppressions(t), Policy: loadPolicy(t), Evidence: ev})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRenderGolden(t *testing.T) {
	r := goldenReport(t)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, r, format, RenderOptions{Version: "test", Policy: loadPolicy(t)}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "..", "testdata", "cis", "golden", "fail."+format)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from %s (run with -update and review the diff)", format, path)
			}
		})
	}
}

func TestSuppressionsAndScore(t *testing.T) {
	plain := evaluate(t, loadSnapshot(t, "fail"), V300)
	r := goldenReport(t)
	st := controlStatus(r)
	if st["iam-support-role"] != Suppressed {
		t.Errorf("iam-support-role: got %s, want SUPPRESSED", st["iam-support-role"])
	}
	// Only eu-west-1's group is suppressed: us-east-1's still fails.
	if st["ec2-sg-no-world-admin-ports-ipv4"] != Fail {
		t.Errorf("sg: got %s", st["ec2-sg-no-world-admin-ports-ipv4"])
	}
	var supp, still int
	for _, f := range findings(r, "ec2-sg-no-world-admin-ports-ipv4") {
		if f.Suppressed != nil {
			supp++
			if f.Region != "eu-west-1" {
				t.Errorf("suppressed in %s", f.Region)
			}
		} else {
			still++
		}
	}
	if supp != 1 || still != 1 {
		t.Errorf("sg: %d suppressed, %d not", supp, still)
	}
	// The expired suppression does not apply and is reported.
	if st["kms-key-rotation"] != Fail {
		t.Errorf("kms-key-rotation: got %s, want FAIL", st["kms-key-rotation"])
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "kms-key-rotation") || r.AccountName != "payments-prod" {
		t.Errorf("notes: %v", r.Notes)
	}
	// Suppressed and ignored controls leave the score: the fail count drops
	// by two (iam-support-role suppressed, monitor-vpc-changes ignored by
	// policy) and the denominator with it.
	if st["monitor-vpc-changes"] != Ignored || st["iam-root-usage"] != Fail {
		t.Errorf("policy: vpc changes %s, root usage %s", st["monitor-vpc-changes"], st["iam-root-usage"])
	}
	if r.Summary.Fail != plain.Summary.Fail-2 || r.Summary.Suppressed != 1 || r.Summary.Ignored != 1 {
		t.Errorf("summary %+v vs plain %+v", r.Summary, plain.Summary)
	}
	want := float64(int(float64(r.Summary.Pass)*1000/float64(r.Summary.Pass+r.Summary.Fail)+0.5)) / 10
	if r.Summary.Score == nil || *r.Summary.Score != want {
		t.Errorf("score %v, want %v", r.Summary.Score, want)
	}
	pass := evaluate(t, loadSnapshot(t, "pass"), V300)
	if pass.Summary.Score == nil || *pass.Summary.Score != 100 || pass.Summary.Fail != 0 {
		t.Errorf("pass snapshot: %+v", pass.Summary)
	}
}

func TestFailuresAtOrAbove(t *testing.T) {
	r := goldenReport(t)
	counts := map[Severity]int{}
	for _, f := range r.Findings {
		if f.Status == Fail && f.Suppressed == nil {
			counts[f.Severity]++
		}
	}
	for _, sev := range []Severity{Low, Medium, High, Critical} {
		want := 0
		for s, n := range counts {
			if s >= sev {
				want += n
			}
		}
		if got := r.FailuresAtOrAbove(sev); got != want || got == 0 {
			t.Errorf("%s: got %d, want %d (non-zero)", sev, got, want)
		}
	}
	if n := evaluate(t, loadSnapshot(t, "pass"), V300).FailuresAtOrAbove(Low); n != 0 {
		t.Errorf("pass snapshot: %d failures", n)
	}
}

func TestReadSuppressionsErrors(t *testing.T) {
	for name, in := range map[string]string{
		"unknown check": `[{"checkId":"nope","reason":"x"}]`,
		"no reason":     `{"suppressions":[{"checkId":"iam-root-mfa"}]}`,
		"bad expiry":    `[{"checkId":"iam-root-mfa","reason":"x","expires":"next week"}]`,
		"bad glob":      `[{"checkId":"iam-root-mfa","reason":"x","resource":"arn:["}]`,
	} {
		if _, err := ReadSuppressions(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSARIFShape(t *testing.T) {
	var buf bytes.Buffer
	r := goldenReport(t)
	if err := Render(&buf, r, "sarif", RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string }
				}
			}
			Results []struct {
				RuleID       string
				RuleIndex    int
				Level        string
				Locations    []json.RawMessage
				Suppressions []json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	fails := 0
	for _, f := range r.Findings {
		if f.Status == Fail {
			fails++
		}
	}
	if len(run.Results) != fails {
		t.Errorf("%d results, want %d FAIL findings", len(run.Results), fails)
	}
	suppressed := 0
	for _, res := range run.Results {
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("ruleIndex %d is not %s", res.RuleIndex, res.RuleID)
		}
		if len(res.Locations) == 0 {
			t.Errorf("%s: no location (code scanning needs one)", res.RuleID)
		}
		suppressed += len(res.Suppressions)
	}
	want := 0
	for _, f := range r.Findings {
		if f.Status == Fail && f.Suppressed != nil {
			want++
		}
	}
	if suppressed != want || want != 4 { // sg-admin in eu-west-1, support role, MFA delete on public-data, the ignored VPC monitor
		t.Errorf("%d suppressed results, want %d (4)", suppressed, want)
	}
}

func TestASFFShape(t *testing.T) {
	var buf bytes.Buffer
	r := goldenReport(t)
	if err := Render(&buf, r, "asff", RenderOptions{Region: "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	var in struct {
		Findings []map[string]any
	}
	if err := json.Unmarshal(buf.Bytes(), &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Findings) != len(r.Findings) {
		t.Fatalf("%d findings, want %d", len(in.Findings), len(r.Findings))
	}
	ids := map[string]bool{}
	required := []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources", "Types"}
	for _, f := range in.Findings {
		for _, k := range required {
			if _, ok := f[k]; !ok {
				t.Errorf("finding %v lacks %s", f["Id"], k)
			}
		}
		id := f["Id"].(string)
		if ids[id] {
			t.Errorf("duplicate Id %s", id)
		}
		ids[id] = true
		if !strings.HasPrefix(f["ProductArn"].(string), "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default") {
			t.Errorf("ProductArn %v", f["ProductArn"])
		}
		if d := f["Description"].(string); len(d) > 1024 {
			t.Errorf("description %d chars", len(d))
		}
	}
}

// TestMonitorPatternsFile keeps testdata/cis/monitor-patterns.json (read by
// gen_fixtures.py to build the pass snapshot's metric filters) in step
// with the checks.
func TestMonitorPatternsFile(t *testing.T) {
	got, _ := json.MarshalIndent(MonitorPatterns(), "", "  ")
	got = append(got, '\n')
	path := filepath.Join("..", "..", "testdata", "cis", "monitor-patterns.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("monitor-patterns.json is stale: run go test -update, then python3 testdata/cis/gen_fixtures.py")
	}
}
