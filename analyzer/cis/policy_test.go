package cis

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReadPolicy(t *testing.T) {
	p := loadPolicy(t)
	if p.action("iam-root-usage", testNow) != ActionTrack || p.action("iam-root-mfa", testNow) != ActionNotify || p.action("monitor-vpc-changes", testNow) != ActionIgnore {
		t.Errorf("actions: %+v", p.Controls)
	}
	// The ignore expires at the end of 2027-03-31.
	if p.action("monitor-vpc-changes", time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)) != ActionNotify {
		t.Error("an expired ignore falls back to the default")
	}
	if got := p.Due(High, testNow); !got.Equal(testNow.Add(7 * 24 * time.Hour)) {
		t.Errorf("high due %v", got)
	}
	// The same policy as JSON reads the same.
	js, err := ReadPolicy(strings.NewReader(`{"default":"notify","dueIn":{"critical":"12h","low":"2w"},"accounts":{"111122223333":"payments-prod"},
	  "controls":{"iam-root-usage":{"action":"track"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if js.Due(Critical, testNow) != testNow.Add(12*time.Hour) || js.Due(Low, testNow) != testNow.Add(14*24*time.Hour) || js.Due(Medium, testNow) != testNow.Add(30*24*time.Hour) {
		t.Errorf("due: %v %v %v", js.Due(Critical, testNow), js.Due(Low, testNow), js.Due(Medium, testNow))
	}
	// The old suppressions file, both forms, is a policy with suppressions.
	for _, old := range []string{`[{"checkId":"iam-root-mfa","reason":"x"}]`, `{"suppressions":[{"checkId":"iam-root-mfa","reason":"x"}]}`} {
		p, err := ReadPolicy(strings.NewReader(old))
		if err != nil || len(p.Suppressions) != 1 {
			t.Errorf("%s: %+v %v", old, p, err)
		}
	}
	for name, in := range map[string]string{
		"unknown check":       `controls: {iam-root-mfaa: {action: track}}`,
		"unknown action":      `controls: {iam-root-mfa: {action: mute}}`,
		"ignore no reason":    `controls: {iam-root-mfa: {action: ignore, expires: 2027-01-01}}`,
		"ignore no expiry":    `controls: {iam-root-mfa: {action: ignore, reason: later}}`,
		"bad due":             `dueIn: {high: soon}`,
		"bad severity":        `dueIn: {urgent: 1d}`,
		"typo in a key":       `control: {iam-root-mfa: {action: track}}`,
		"bad default":         `default: ignore`,
		"suppression reason":  `suppressions: [{checkId: iam-root-mfa}]`,
		"empty":               ``,
		"bad expiry":          `controls: {iam-root-mfa: {action: ignore, reason: x, expires: soon}}`,
		"suppression unknown": `suppressions: [{checkId: nope, reason: x}]`,
	} {
		if _, err := ReadPolicy(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestNotifications: one line per unsuppressed failure of a notify
// control, with the due date its severity gives, and an accept line that,
// added to the policy, suppresses exactly that finding.
func TestNotifications(t *testing.T) {
	r := goldenReport(t)
	p := loadPolicy(t)
	ns := Notifications(r, p)
	var fails int
	for _, f := range r.Findings {
		if f.Status == Fail && f.Suppressed == nil && f.CheckID != "iam-root-usage" {
			fails++
		}
	}
	if len(ns) != fails || fails == 0 {
		t.Fatalf("%d notifications, want %d", len(ns), fails)
	}
	for _, n := range ns {
		if n.CheckID == "iam-root-usage" || n.CheckID == "monitor-vpc-changes" {
			t.Errorf("%s is track/ignore: not notified", n.CheckID)
		}
		due, err := time.Parse(time.RFC3339, n.Due)
		if err != nil || !due.Equal(r.EvaluatedAt.Add(DefaultDueIn[n.Severity])) {
			t.Errorf("%s %s due %s", n.CheckID, n.Severity, n.Due)
		}
		if n.AccountName != "payments-prod" || n.Decide == "" || n.Fix == "" || n.AccountScore == nil || !strings.Contains(n.Text, n.Evidence) {
			t.Errorf("incomplete: %+v", n)
		}
	}
	// Accepting the first one suppresses it, and only it.
	acc := ns[0].Accept
	acc.Reason = "accepted in the test"
	p.Suppressions = append(p.Suppressions, acc)
	r2, err := Evaluate(loadSnapshot(t, "fail"), Options{Benchmark: V300, Policy: p, Suppressions: loadSuppressions(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(Notifications(r2, p)); got != len(ns)-1 {
		t.Errorf("after accepting one: %d notifications, want %d", got, len(ns)-1)
	}
	// The JSON lines decode back, one object a line.
	var buf bytes.Buffer
	if err := Render(&buf, r, "notify", RenderOptions{Policy: p}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(ns) {
		t.Fatalf("%d lines", len(lines))
	}
	var back Notification
	if err := json.Unmarshal([]byte(lines[0]), &back); err != nil || back.CheckID != ns[0].CheckID || back.Text == "" {
		t.Errorf("line 1: %v %+v", err, back)
	}
}

// TestCombined: several accounts give one report, ranked best first, with
// the overall score and the controls across accounts.
func TestCombined(t *testing.T) {
	pass := evaluate(t, loadSnapshot(t, "pass"), V300)
	fail := evaluate(t, loadSnapshot(t, "fail"), V300)
	fail.AccountID, fail.AccountName = "444455556666", "legacy"
	c := Combine([]*Report{fail, pass}, []AccountError{{AccountID: "777788889999", Error: "AccessDenied"}})
	if len(c.Accounts) != 2 || c.Accounts[0].AccountID != "111122223333" || c.Accounts[0].Rank != 1 || c.Accounts[1].AccountID != "444455556666" {
		t.Fatalf("ranking: %+v", c.Accounts)
	}
	if c.Passed != pass.Summary.Pass+fail.Summary.Pass || c.Scored != pass.Summary.Pass+pass.Summary.Fail+fail.Summary.Pass+fail.Summary.Fail || c.Score == nil {
		t.Errorf("overall: %d/%d %v", c.Passed, c.Scored, c.Score)
	}
	var root ControlAcross
	for _, x := range c.Controls {
		if x.CheckID == "iam-root-mfa" {
			root = x
		}
	}
	if root.Pass != 1 || root.Fail != 1 || len(root.Failing) != 1 || root.Failing[0] != "444455556666 (legacy)" {
		t.Errorf("iam-root-mfa across: %+v", root)
	}
	var buf bytes.Buffer
	if err := RenderCombined(&buf, c, "table", RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"1. 111122223333: 100.0%", "every scored control passes. Well done!", "2. legacy (444455556666): 0.0%", "777788889999: not read: AccessDenied", "iam-root-mfa"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	for _, f := range []string{"json", "markdown", "sarif", "asff", "notify", "slack"} {
		buf.Reset()
		if err := RenderCombined(&buf, c, f, RenderOptions{}); err != nil || buf.Len() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	buf.Reset()
	RenderCombined(&buf, c, "sarif", RenderOptions{})
	var log struct {
		Runs []struct {
			Properties struct {
				AccountID string   `json:"accountId"`
				Score     *float64 `json:"score"`
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil || len(log.Runs) != 2 || log.Runs[0].Properties.AccountID != "111122223333" || log.Runs[0].Properties.Score == nil || *log.Runs[0].Properties.Score != 100 {
		t.Errorf("sarif runs: %+v %v", log, err)
	}
}
