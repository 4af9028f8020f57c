package cis

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats lists the names Render accepts.
var Formats = []string{"table", "json", "markdown", "sarif", "asff", "notify", "slack"}

// RenderOptions tune Render. The zero value works.
type RenderOptions struct {
	// Version is the iamlens version written in SARIF.
	Version string
	// ArtifactURI is the SARIF location of every result (code scanning
	// needs one); default "aws/<account>".
	ArtifactURI string
	// Region is the Security Hub region in the ASFF ProductArn; default
	// us-east-1.
	Region string
	// Policy gives notify and slack their due times and actions.
	Policy *Policy
}

// Render writes rep in format: table, json, markdown, sarif or asff.
func Render(w io.Writer, rep *Report, format string, o RenderOptions) error {
	switch format {
	case "table", "":
		return renderTable(w, rep)
	case "json":
		return writeJSON(w, rep)
	case "markdown", "md":
		return renderMarkdown(w, rep)
	case "sarif":
		return writeJSON(w, sarifLog([]*Report{rep}, o))
	case "asff":
		return writeJSON(w, map[string]any{"Findings": asffOf(rep, o)})
	case "notify":
		return renderNotify(w, Notifications(rep, o.Policy))
	case "slack":
		return renderSlack(w, Combine([]*Report{rep}, nil), Notifications(rep, o.Policy))
	}
	return fmt.Errorf("format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// RenderCombined writes the report of several accounts in format.
func RenderCombined(w io.Writer, c *Combined, format string, o RenderOptions) error {
	switch format {
	case "table", "":
		return c.renderTable(w)
	case "json":
		return writeJSON(w, c)
	case "markdown", "md":
		return c.renderMarkdown(w)
	case "sarif":
		return writeJSON(w, sarifLog(c.Reports, o))
	case "asff":
		var all []any
		for _, r := range c.Reports {
			all = append(all, asffOf(r, o)...)
		}
		return writeJSON(w, map[string]any{"Findings": all})
	case "notify", "slack":
		var ns []Notification
		for _, r := range c.Reports {
			ns = append(ns, Notifications(r, o.Policy)...)
		}
		if format == "notify" {
			return renderNotify(w, ns)
		}
		return renderSlack(w, c, ns)
	}
	return fmt.Errorf("format %q: want one of %s", format, strings.Join(Formats, ", "))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (s Summary) countsText() string {
	t := fmt.Sprintf("%d pass, %d fail, %d manual, %d not assessable, %d suppressed", s.Pass, s.Fail, s.Manual, s.NotAssessable, s.Suppressed)
	if s.Ignored > 0 {
		t += fmt.Sprintf(", %d ignored by policy", s.Ignored)
	}
	return t
}

func (r *Report) scoreText() string {
	if r.Summary.Score == nil {
		return "no control passed or failed"
	}
	return fmt.Sprintf("%.1f%% (%d of %d scored controls pass)", *r.Summary.Score, r.Summary.Pass, r.Summary.Pass+r.Summary.Fail)
}

// TimeText says when the snapshot was judged and why that time.
func (r *Report) TimeText() string {
	at := r.EvaluatedAt.UTC().Format(time.RFC3339)
	switch r.TimeBasis {
	case TimeCollectedAt:
		return "judged at " + at + ", the snapshot's collectedAt"
	case TimeAt:
		if !r.CollectedAt.IsZero() {
			return "judged at " + at + " (--at; collected " + r.CollectedAt.UTC().Format(time.RFC3339) + ")"
		}
		return "judged at " + at + " (--at)"
	}
	return "judged at " + at + ", the wall clock (live read)"
}

func (r *Report) accountText() string {
	if r.AccountName != "" {
		return r.AccountID + " (" + r.AccountName + ")"
	}
	return r.AccountID
}

func statusText(c ControlResult) string {
	if c.Action == ActionTrack && c.Status == Fail {
		return string(c.Status) + " (track)"
	}
	return string(c.Status)
}

func levelText(l int) string {
	if l == 1 {
		return "level 1"
	}
	return "levels 1 and 2"
}

func findingCounts(c ControlResult) string {
	var parts []string
	for _, p := range []struct {
		n    int
		name string
	}{{c.Fail, "fail"}, {c.NotAssessable, "n/a"}, {c.Suppressed, "suppressed"}, {c.Pass, "pass"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.name))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func (e *EventEvidence) text() string {
	if e == nil {
		return ""
	}
	if e.Count == 0 {
		return "no such event in the dataset"
	}
	var who []string
	for i, p := range e.Principals {
		if i == 5 {
			who = append(who, fmt.Sprintf("and %d more", len(e.Principals)-5))
			break
		}
		who = append(who, fmt.Sprintf("%s (%d)", p.Principal, p.Count))
	}
	noun := "events"
	if e.Count == 1 {
		noun = "event"
	}
	return fmt.Sprintf("%d %s from %s to %s by %s", e.Count, noun, e.First.Format(time.RFC3339), e.Last.Format(time.RFC3339), strings.Join(who, ", "))
}

func renderTable(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "CIS AWS Foundations Benchmark %s, %s, account %s\n", r.Benchmark, levelText(r.Level), r.accountText())
	fmt.Fprintf(w, "%s\n", capitalize(r.TimeText()))
	s := r.Summary
	fmt.Fprintf(w, "Score %s; %d controls: %s\n\n", r.scoreText(), s.Controls, s.countsText())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tCHECK\tLEVEL\tSEVERITY\tSTATUS\tFINDINGS\tTITLE")
	for _, c := range r.Controls {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", c.Control, c.CheckID, c.Level, c.Severity, statusText(c), findingCounts(c), c.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	section := func(title string, keep func(f *Finding) bool) {
		first := true
		for i := range r.Findings {
			f := &r.Findings[i]
			if !keep(f) {
				continue
			}
			if first {
				fmt.Fprintf(w, "\n%s:\n", title)
				first = false
			}
			where := f.Resource
			if f.Region != "" {
				where += " (" + f.Region + ")"
			}
			fmt.Fprintf(w, "\n[%s] %s %s  %s\n", f.Severity, f.Control, f.CheckID, where)
			fmt.Fprintf(w, "  evidence: %s\n", f.Evidence)
			if f.Suppressed != nil {
				fmt.Fprintf(w, "  suppressed: %s%s\n", f.Suppressed.Reason, expiresText(f.Suppressed))
			} else if f.Fix != "" {
				for j, line := range strings.Split(f.Fix, "\n") {
					label := "  fix:      "
					if j > 0 {
						label = "            "
					}
					fmt.Fprintf(w, "%s%s\n", label, line)
				}
			}
		}
	}
	section("Failures", func(f *Finding) bool { return f.Status == Fail && f.Suppressed == nil })
	section("Not assessable", func(f *Finding) bool { return f.Status == NotAssessable && f.Suppressed == nil })
	section("Suppressed", func(f *Finding) bool { return f.Suppressed != nil })
	first := true
	for _, c := range r.Controls {
		if c.Events == nil {
			continue
		}
		if first {
			fmt.Fprintf(w, "\nCloudTrail evidence (what the dataset shows happened):\n")
			first = false
		}
		fmt.Fprintf(w, "  %-6s %-32s %s\n", c.Control, c.CheckID, c.Events.text())
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
	}
	return nil
}

func expiresText(s *Suppression) string {
	if s.Expires == "" {
		return ""
	}
	return " (until " + s.Expires + ")"
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", "<br>").Replace(s)
}

func renderMarkdown(w io.Writer, r *Report) error {
	s := r.Summary
	fmt.Fprintf(w, "# CIS AWS Foundations Benchmark %s\n\n", r.Benchmark)
	fmt.Fprintf(w, "Account `%s`, %s, %s.\n\n", r.accountText(), levelText(r.Level), r.TimeText())
	fmt.Fprintf(w, "**Score %s**: %s.\n\n", r.scoreText(), s.countsText())
	fmt.Fprintln(w, "| Control | Check | Level | Severity | Status | Findings | Title |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, c := range r.Controls {
		fmt.Fprintf(w, "| %s | `%s` | %d | %s | %s | %s | %s |\n", c.Control, c.CheckID, c.Level, c.Severity, statusText(c), findingCounts(c), mdEscape(c.Title))
	}
	var fails []Finding
	for _, f := range r.Findings {
		if f.Status == Fail || f.Status == NotAssessable || f.Suppressed != nil {
			fails = append(fails, f)
		}
	}
	if len(fails) > 0 {
		fmt.Fprintf(w, "\n## Findings\n")
		for _, f := range fails {
			status := string(f.Status)
			if f.Suppressed != nil {
				status = "SUPPRESSED " + status
			}
			fmt.Fprintf(w, "\n### %s %s: %s\n\n", f.Control, f.CheckID, status)
			fmt.Fprintf(w, "- Severity: %s\n- Resource: `%s`\n", f.Severity, f.Resource)
			if f.Region != "" {
				fmt.Fprintf(w, "- Region: %s\n", f.Region)
			}
			fmt.Fprintf(w, "- Evidence: %s\n", f.Evidence)
			if f.Suppressed != nil {
				fmt.Fprintf(w, "- Suppressed: %s%s\n", f.Suppressed.Reason, expiresText(f.Suppressed))
			} else if f.Fix != "" {
				fmt.Fprintf(w, "\n```sh\n%s\n```\n", f.Fix)
			}
		}
	}
	first := true
	for _, c := range r.Controls {
		if c.Events == nil {
			continue
		}
		if first {
			fmt.Fprintf(w, "\n## CloudTrail evidence\n\n| Control | Check | Events |\n|---|---|---|\n")
			first = false
		}
		fmt.Fprintf(w, "| %s | `%s` | %s |\n", c.Control, c.CheckID, mdEscape(c.Events.text()))
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "> %s\n", n)
		}
	}
	return nil
}

// findingID is a stable identifier of a finding across runs.
func findingID(r *Report, f *Finding) string {
	sum := sha256.Sum256([]byte(r.AccountID + "\x00" + f.CheckID + "\x00" + f.Region + "\x00" + f.Resource + "\x00" + f.Part))
	return hex.EncodeToString(sum[:12])
}

var securitySeverity = map[Severity]string{Low: "3.0", Medium: "5.5", High: "8.0", Critical: "9.5"}

func sarifLevel(s Severity) string {
	if s >= High {
		return "error"
	}
	if s == Medium {
		return "warning"
	}
	return "note"
}

// sarifLog builds a SARIF 2.1.0 log with one run per account.
func sarifLog(reports []*Report, o RenderOptions) map[string]any {
	var runs []any
	for _, r := range reports {
		runs = append(runs, sarifRun(r, o))
	}
	return map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs":    runs,
	}
}

// sarifRun builds a run with one rule per control and one result per FAIL
// finding (suppressed ones carry a SARIF suppression); its properties hold
// the account and its score.
func sarifRun(r *Report, o RenderOptions) map[string]any {
	uri := o.ArtifactURI
	if uri == "" {
		uri = "aws/" + r.AccountID
	}
	version := o.Version
	if version == "" {
		version = "dev"
	}
	var rules []any
	index := map[string]int{}
	for _, c := range r.Controls {
		index[c.CheckID] = len(rules)
		rules = append(rules, map[string]any{
			"id":                   c.CheckID,
			"name":                 c.CheckID,
			"shortDescription":     map[string]any{"text": fmt.Sprintf("CIS %s %s: %s", r.Benchmark, c.Control, c.Title)},
			"fullDescription":      map[string]any{"text": c.Title},
			"help":                 map[string]any{"text": orPlaceholder(c.Guidance, c.Title)},
			"defaultConfiguration": map[string]any{"level": sarifLevel(c.Severity)},
			"properties": map[string]any{
				"tags":              []string{"security", "cis-aws-foundations", "cis-" + string(r.Benchmark), fmt.Sprintf("level-%d", c.Level), strings.ToLower(c.Section)},
				"security-severity": securitySeverity[c.Severity],
				"control":           c.Control,
			},
		})
	}
	results := []any{}
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Status != Fail {
			continue
		}
		text := f.Evidence
		if f.Fix != "" {
			text += "\nFix:\n" + f.Fix
		}
		res := map[string]any{
			"ruleId":    f.CheckID,
			"ruleIndex": index[f.CheckID],
			"level":     sarifLevel(f.Severity),
			"message":   map[string]any{"text": text},
			"locations": []any{map[string]any{
				"physicalLocation": map[string]any{"artifactLocation": map[string]any{"uri": uri}, "region": map[string]any{"startLine": 1}},
				"logicalLocations": []any{map[string]any{"fullyQualifiedName": f.Resource, "kind": "resource"}},
			}},
			"partialFingerprints": map[string]any{"iamlensFinding/v1": findingID(r, f)},
			"properties":          map[string]any{"region": f.Region, "resource": f.Resource, "control": f.Control},
		}
		if f.Suppressed != nil {
			res["suppressions"] = []any{map[string]any{"kind": "external", "status": "accepted", "justification": f.Suppressed.Reason}}
		}
		results = append(results, res)
	}
	return map[string]any{
		"tool": map[string]any{"driver": map[string]any{
			"name": "iamlens", "informationUri": "https://github.com/iamlens/iamlens", "version": version, "rules": rules,
		}},
		"results": results,
		"properties": map[string]any{
			"accountId": r.AccountID, "accountName": r.AccountName, "benchmark": r.Benchmark,
			"evaluatedAt": r.EvaluatedAt, "timeBasis": r.TimeBasis,
			"score": r.Summary.Score, "passed": r.Summary.Pass, "scored": r.Summary.Pass + r.Summary.Fail,
		},
	}
}

var asffCompliance = map[Status]string{Pass: "PASSED", Fail: "FAILED", NotAssessable: "NOT_AVAILABLE", Manual: "WARNING"}

func asffResourceType(arn string) string {
	switch {
	case strings.Contains(arn, ":iam::") && strings.HasSuffix(arn, ":root"):
		return "AwsAccount"
	case strings.Contains(arn, ":iam::") && strings.Contains(arn, ":user/"):
		return "AwsIamUser"
	case strings.Contains(arn, ":iam::") && strings.Contains(arn, ":policy/"):
		return "AwsIamPolicy"
	case strings.Contains(arn, ":cloudtrail:"):
		return "AwsCloudTrailTrail"
	case strings.HasPrefix(arn, "arn:aws:s3:::") || strings.Contains(arn, ":s3:::"):
		return "AwsS3Bucket"
	case strings.Contains(arn, ":kms:"):
		return "AwsKmsKey"
	case strings.Contains(arn, ":security-group/"):
		return "AwsEc2SecurityGroup"
	case strings.Contains(arn, ":vpc/"):
		return "AwsEc2Vpc"
	}
	return "Other"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// asffOf builds the findings of securityhub BatchImportFindings: one ASFF
// finding per result, PASS ones included (Security Hub computes control
// status from both); ProductFields carry the account's score.
func asffOf(r *Report, o RenderOptions) []any {
	region := o.Region
	if region == "" {
		region = "us-east-1"
	}
	partition := "aws"
	ts := r.EvaluatedAt.UTC().Format(time.RFC3339)
	score := "n/a"
	if r.Summary.Score != nil {
		score = fmt.Sprintf("%.1f%% (%d of %d)", *r.Summary.Score, r.Summary.Pass, r.Summary.Pass+r.Summary.Fail)
	}
	var out []any
	for i := range r.Findings {
		f := &r.Findings[i]
		res := map[string]any{"Type": asffResourceType(f.Resource), "Id": f.Resource, "Partition": partition}
		if f.Region != "" {
			res["Region"] = f.Region
		}
		workflow := "NEW"
		if f.Status != Fail {
			workflow = "RESOLVED"
		}
		if f.Suppressed != nil {
			workflow = "SUPPRESSED"
		}
		label := f.Severity.String()
		if f.Status == Pass {
			label = "INFORMATIONAL"
		}
		item := map[string]any{
			"SchemaVersion": "2018-10-08",
			"Id":            fmt.Sprintf("iamlens/cis/%s/%s", f.CheckID, findingID(r, f)),
			"ProductArn":    fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, region, r.AccountID, r.AccountID),
			"GeneratorId":   "iamlens-cis/" + f.CheckID,
			"AwsAccountId":  r.AccountID,
			"Types":         []string{"Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"},
			"CreatedAt":     ts,
			"UpdatedAt":     ts,
			"Severity":      map[string]any{"Label": label},
			"Title":         truncate(fmt.Sprintf("%s %s", f.Control, f.Title), 256),
			"Description":   truncate(f.Evidence, 1024),
			"Resources":     []any{res},
			"Compliance": map[string]any{
				"Status":              asffCompliance[f.Status],
				"RelatedRequirements": []string{fmt.Sprintf("CIS AWS Foundations Benchmark %s/%s", r.Benchmark, f.Control)},
			},
			"Workflow":      map[string]any{"Status": workflow},
			"RecordState":   "ACTIVE",
			"ProductFields": map[string]string{"iamlens/CheckId": f.CheckID, "iamlens/Level": fmt.Sprint(f.Level), "iamlens/Status": string(f.Status), "iamlens/AccountScore": score},
		}
		if f.Fix != "" {
			item["Remediation"] = map[string]any{"Recommendation": map[string]any{"Text": truncate(f.Fix, 512)}}
		}
		if f.Suppressed != nil {
			item["Note"] = map[string]any{"Text": truncate(f.Suppressed.Reason, 512), "UpdatedBy": "iamlens", "UpdatedAt": ts}
		}
		out = append(out, item)
	}
	return out
}
