package cis

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Notification is one failing resource, as --format notify writes it (one
// JSON object a line): what failed, how urgent it is, what to check and
// decide, the fix, and the line that accepts it as an exception.
type Notification struct {
	Severity    Severity `json:"severity"`
	Due         string   `json:"due"`
	Account     string   `json:"account"`
	AccountName string   `json:"accountName,omitempty"`
	Region      string   `json:"region,omitempty"`
	Resource    string   `json:"resource"`
	Benchmark   string   `json:"benchmark"`
	Control     string   `json:"control"`
	CheckID     string   `json:"checkId"`
	Title       string   `json:"title"`
	Evidence    string   `json:"evidence"`
	Decide      string   `json:"decide"`
	Fix         string   `json:"fix,omitempty"`
	// Accept is the suppression entry to add to the policy file's
	// "suppressions" list to accept this finding (fill in the reason).
	Accept Suppression `json:"accept"`
	// AccountScore is the account's Security Hub style score, in percent.
	AccountScore *float64 `json:"accountScore"`
	// Text is the Slack-ready rendering (mrkdwn), so a line can be posted
	// to an incoming webhook as it is.
	Text string `json:"text"`
}

// decideBySection is what to weigh for a failure, by section; a few checks
// say more (decideByCheck).
var decideBySection = map[string]string{
	"IAM":        "Who relies on this credential or permission today? Fix it, or accept it for a named reason until a date.",
	"Storage":    "Does anything depend on the current setting (public readers, clients without TLS, an unencrypted copy)? Fix it, or accept it for a named reason until a date.",
	"Logging":    "Without this record an incident cannot be reconstructed. Fix it, or accept it if another account or tool already records the same.",
	"Monitoring": "Would anyone be told if this happened tonight? Add the filter, alarm and a confirmed subscriber, or accept it if a SIEM already alerts on it.",
	"Networking": "Is this path needed from anywhere? Narrow it to known sources (or use SSM Session Manager), or accept it for a named reason until a date.",
}

var decideByCheck = map[string]string{
	"iam-root-no-access-keys":          "A root access key cannot be limited by any policy. Is anything still using it (see its last use in the credential report)? Delete it.",
	"iam-root-mfa":                     "Root without MFA is one password from full control of the account. Enable MFA now; there is no good reason to accept this.",
	"iam-root-usage":                   "Who signed in as root, and for which task? Give that person an identity of their own; keep root for the few tasks that need it.",
	"iam-unused-credentials":           "Is this user or key still needed? Disable it now (it can be re-enabled), delete it once nobody complains.",
	"iam-key-rotation":                 "Where is this key deployed? Create a new one, deploy it, then deactivate the old one.",
	"iam-no-admin-policies":            "Who needs full admin through this policy? Replace it with the permissions they use (iamlens policy), or keep admin on a break-glass role.",
	"s3-block-public-access":           "Must anything in this bucket be public? If not, block public access; if so, serve it through CloudFront and block the bucket.",
	"rds-no-public-access":             "Does any client reach this database over the internet? Move it to private subnets or a VPN; accept only for a named reason.",
	"ec2-imdsv2":                       "Do the instance's tools use IMDSv2 (AWS SDKs since 2019 do)? Require tokens; test first on one instance.",
	"cloudtrail-multi-region":          "Without a multi-region trail, activity in an unused region goes unrecorded. Turn it on, or accept it if an organization trail covers the account.",
	"ec2-sg-no-world-admin-ports-ipv4": "Who connects to 22/3389 from the internet? Allow only their addresses, or use SSM Session Manager.",
}

func (c *Check) decide() string {
	if d := decideByCheck[c.ID]; d != "" {
		return d
	}
	return decideBySection[c.Section]
}

// Notifications lists the failures to send: unsuppressed FAIL findings of
// controls whose policy action is notify (track and ignore are not sent).
func Notifications(r *Report, p *Policy) []Notification {
	checks := map[string]*Check{}
	for _, c := range Checks() {
		c := c
		checks[c.ID] = &c
	}
	action := map[string]string{}
	for _, c := range r.Controls {
		action[c.CheckID] = c.Action
	}
	var out []Notification
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Status != Fail || f.Suppressed != nil || action[f.CheckID] != ActionNotify {
			continue
		}
		n := Notification{
			Severity: f.Severity, Due: p.Due(f.Severity, r.EvaluatedAt).UTC().Format(time.RFC3339),
			Account: r.AccountID, AccountName: r.AccountName, Region: f.Region, Resource: f.Resource,
			Benchmark: string(r.Benchmark), Control: f.Control, CheckID: f.CheckID, Title: f.Title,
			Evidence: f.Evidence, Decide: checks[f.CheckID].decide(), Fix: f.Fix,
			Accept:       Suppression{CheckID: f.CheckID, Account: r.AccountID, Region: f.Region, Resource: f.Resource, Reason: "<WHY THIS IS ACCEPTED>", Expires: r.EvaluatedAt.AddDate(0, 3, 0).Format("2006-01-02")},
			AccountScore: r.Summary.Score,
		}
		n.Text = n.slack()
		out = append(out, n)
	}
	return out
}

func (n *Notification) slack() string {
	acct := n.Account
	if n.AccountName != "" {
		acct = n.AccountName + " (" + n.Account + ")"
	}
	where := n.Resource
	if n.Region != "" {
		where += " in " + n.Region
	}
	var ab strings.Builder
	enc := json.NewEncoder(&ab)
	enc.SetEscapeHTML(false)
	enc.Encode(n.Accept)
	accept := strings.TrimSpace(ab.String())
	var b strings.Builder
	fmt.Fprintf(&b, "*[%s] CIS %s %s: %s*\n", n.Severity, n.Benchmark, n.Control, n.Title)
	fmt.Fprintf(&b, "*Account:* %s   *Due:* %s\n", acct, n.Due)
	fmt.Fprintf(&b, "*Resource:* `%s`\n", where)
	fmt.Fprintf(&b, "*Found:* %s\n", n.Evidence)
	fmt.Fprintf(&b, "*Decide:* %s\n", n.Decide)
	if n.Fix != "" {
		fmt.Fprintf(&b, "*Fix:*\n```\n%s\n```\n", n.Fix)
	}
	fmt.Fprintf(&b, "*Accept instead:* add to the policy file's suppressions (with the reason):\n```\n%s\n```", accept)
	return b.String()
}

// renderNotify writes one JSON object a line.
func renderNotify(w io.Writer, ns []Notification) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range ns {
		if err := enc.Encode(&ns[i]); err != nil {
			return err
		}
	}
	return nil
}

// renderSlack writes a header with the scores, then each notification's
// text, separated by a line of dashes.
func renderSlack(w io.Writer, c *Combined, ns []Notification) error {
	fmt.Fprintf(w, "*CIS AWS Foundations Benchmark %s*: %s\n", c.Benchmark, c.scoreLine())
	for _, a := range c.Accounts {
		fmt.Fprintf(w, "• %s\n", a.rankText())
	}
	if len(ns) == 0 {
		fmt.Fprintln(w, "\nNothing to act on: no failure to notify.")
		return nil
	}
	fmt.Fprintf(w, "\n%d failures to act on:\n", len(ns))
	for i := range ns {
		fmt.Fprintf(w, "\n---\n%s\n", ns[i].Text)
	}
	return nil
}
