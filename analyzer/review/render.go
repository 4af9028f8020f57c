package review

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats are the report formats Render writes.
var Formats = []string{"table", "markdown", "json", "html", "csv"}

// Render writes the report in format (one of Formats).
func Render(w io.Writer, rep *Report, format string) error {
	switch format {
	case "table", "":
		return WriteTable(w, rep)
	case "markdown":
		return WriteMarkdown(w, rep)
	case "json":
		return WriteJSON(w, rep)
	case "html":
		return WriteHTML(w, rep)
	case "csv":
		return WriteCSV(w, rep)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Headline says in one line what was reviewed and found.
func (r *Report) Headline() string {
	var b strings.Builder
	if r.Account != "" {
		fmt.Fprintf(&b, "account %s, ", r.Account)
	}
	fmt.Fprintf(&b, "judged at %s: %d findings (%d high, %d medium, %d low, %d info) over %d principals and %d keys",
		stamp(r.At), r.Summary.Findings, r.Summary.BySeverity[High], r.Summary.BySeverity[Medium], r.Summary.BySeverity[Low],
		r.Summary.BySeverity[Info], r.Summary.PrincipalsReviewed, r.Summary.KeysReviewed)
	return b.String()
}

// Inputs line: what was read.
func (r *Report) inputsLine() string {
	var parts []string
	if s := r.Inputs.State; s != nil {
		var read []string
		if s.AuthorizationDetails {
			read = append(read, "authorization details")
		}
		if s.CredentialReport {
			read = append(read, "credential report")
		}
		if s.UserCredentials {
			read = append(read, "access keys")
		}
		p := fmt.Sprintf("IAM state (%s) with %d users, %d roles, %d access keys (%d active)", strings.Join(read, ", "), s.Users, s.Roles, s.AccessKeys, s.ActiveKeys)
		if !s.CollectedAt.IsZero() {
			p += ", read " + stamp(s.CollectedAt)
		}
		parts = append(parts, p)
	}
	if d := r.Inputs.Dataset; d != nil {
		if d.Events == 0 {
			parts = append(parts, "dataset: no events")
		} else {
			parts = append(parts, fmt.Sprintf("dataset: %d events from %s to %s", d.Events, date(d.From), date(d.To)))
		}
	}
	return strings.Join(parts, "; ")
}

// EvidenceLines renders a finding's evidence for people, one fact a line.
func EvidenceLines(f *Finding) []string {
	e := &f.Evidence
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if e.Status != "" {
		add("status: %s", e.Status)
	}
	if !e.Created.IsZero() {
		add("created: %s (%d days before the review)", date(e.Created), e.AgeDays)
	}
	if e.NeverUsed {
		add("last used: never (IAM says N/A and the dataset has no call)")
	}
	if !e.LastUsed.IsZero() {
		add("last used: %s, %d days before the review (%s)", stamp(e.LastUsed), e.DaysSinceUse, e.LastUsedSource)
	}
	if !e.IAMLastUsed.IsZero() && !e.IAMLastUsed.Equal(e.LastUsed) {
		add("IAM's last-used date: %s", stamp(e.IAMLastUsed))
	}
	if e.LastUsedService != "" {
		add("last used with: %s in %s", e.LastUsedService, e.LastUsedRegion)
	}
	if !e.UserCreated.IsZero() {
		add("user created: %s", date(e.UserCreated))
	}
	if e.PasswordEnabled {
		if e.PasswordLastUsed.IsZero() {
			add("console password: enabled, never used")
		} else {
			add("console password: last used %s", stamp(e.PasswordLastUsed))
		}
	}
	if e.MFAActive != nil {
		add("MFA: %v", *e.MFAActive)
	}
	if !e.KeyLastUsed.IsZero() {
		add("keys last used: %s", stamp(e.KeyLastUsed))
	}
	if e.ActiveKeys > 0 {
		add("active keys: %d", e.ActiveKeys)
	}
	if len(e.Groups) > 0 {
		add("groups: %s", strings.Join(e.Groups, ", "))
	}
	if !e.RoleLastUsed.IsZero() {
		add("IAM RoleLastUsed: %s (%s)", stamp(e.RoleLastUsed), e.RoleLastUsedRegion)
	} else if f.Kind == UnusedRole {
		add("IAM RoleLastUsed: none in the last 400 days")
	}
	if e.LogsCalls > 0 {
		add("dataset: %d calls (%d successful), first %s, last %s", e.LogsCalls, e.LogsSuccessful, stamp(e.LogsFirstCall), stamp(e.LogsLastCall))
	} else if !e.LogsLastCall.IsZero() {
		add("dataset: last call %s", stamp(e.LogsLastCall))
	}
	if !e.LogsLastSuccess.IsZero() {
		add("dataset: last successful call %s", stamp(e.LogsLastSuccess))
	}
	if x := e.Failing; x != nil {
		add("last %d days: %d calls, all failed (%d denied, %d other errors), %s", x.WindowDays, x.Calls, x.Denied, x.Failed, x.Rate)
		add("failing since: %s; last call %s", stamp(x.FirstFailure), stamp(x.LastCall))
		if x.LastSuccess.IsZero() {
			add("no successful call in the whole dataset")
		} else {
			add("last successful call: %s", stamp(x.LastSuccess))
		}
		if len(x.ErrorCodes) > 0 {
			add("error codes: %s", counts(x.ErrorCodes, 5))
		}
	}
	if p := e.Period; p != nil {
		add("period: %s (typical gap %d days, gaps %d to %d days, %d days used)", p.Name, p.Days, p.SmallestGapDays, p.LargestGapDays, p.DaysUsed)
		add("last use %s; next expected about %s", date(p.LastUse), date(p.NextExpected))
		add("days used: %s", strings.Join(p.Dates, ", "))
	}
	if u := e.Unused; u != nil {
		add("%d of %d granted actions used", u.Used, u.Granted)
		if len(u.Services) > 0 {
			add("services never used: %s", strings.Join(head(u.Services, 30), ", "))
		}
		add("unused actions (%d): %s", u.UnusedCount, strings.Join(head(u.Actions, 20), ", "))
		if len(u.Unknown) > 0 {
			add("not exact: policies that could not be read: %s", strings.Join(u.Unknown, "; "))
		}
	}
	for _, n := range e.Notes {
		add("note: %s", n)
	}
	return out
}

// ClueLines renders a finding's owner clues for people.
func ClueLines(f *Finding) []string {
	c := &f.Clues
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if len(c.Tags) > 0 {
		add("tags: %s", strings.Join(c.Tags, ", "))
	}
	if c.CreatedBy != nil {
		add("created by: %s", callerLine(c.CreatedBy))
	}
	if c.LastHumanCaller != nil {
		add("last human caller: %s", callerLine(c.LastHumanCaller))
	}
	if len(c.Tools) > 0 {
		add("tools: %s", strings.Join(c.Tools, ", "))
	}
	if len(c.SourceIPs) > 0 {
		add("source IPs: %s", counts(c.SourceIPs, 5))
	}
	if len(c.Networks) > 0 {
		add("networks: %s", counts(c.Networks, 5))
	}
	if len(c.UserAgents) > 0 {
		add("user agents: %s", counts(c.UserAgents, 3))
	}
	if len(c.VPCEndpoints) > 0 {
		add("VPC endpoints: %s", counts(c.VPCEndpoints, 5))
	}
	return out
}

func callerLine(c *Caller) string {
	s := fmt.Sprintf("%s (%s, %s", c.Principal, c.Event, stamp(c.At))
	if c.SourceIP != "" {
		s += ", from " + c.SourceIP
	}
	if c.UserAgent != "" {
		s += ", " + truncate(c.UserAgent, 60)
	}
	return s + ")"
}

func counts(cs []Count, n int) string {
	parts := make([]string, 0, n)
	for i, c := range cs {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(cs)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", c.Value, c.Count))
	}
	return strings.Join(parts, ", ")
}

func head(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	return append(append([]string{}, xs[:n]...), fmt.Sprintf("and %d more", len(xs)-n))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// WriteTable writes the findings as a table for people.
func WriteTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "IAM review: %s\n", rep.Headline())
	if l := rep.inputsLine(); l != "" {
		fmt.Fprintf(w, "read: %s\n", l)
	}
	fmt.Fprintln(w)
	if len(rep.Findings) == 0 {
		fmt.Fprintln(w, "No findings.")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tKIND\tSUBJECT\tFINDING")
		for i := range rep.Findings {
			f := &rep.Findings[i]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Severity, f.Kind, labelled(f), f.Summary)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "\nnote: %s", n)
	}
	if len(rep.Notes) > 0 {
		fmt.Fprintln(w)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "\n%d problems reading the IAM state (see --format json)\n", len(rep.Problems))
	}
	_, err := fmt.Fprintln(w, "\nEvidence and owner clues: --format markdown, json or html.")
	return err
}

func labelled(f *Finding) string {
	s := f.Subject()
	if len(f.Labels) > 0 {
		s += " [" + strings.Join(f.Labels, ", ") + "]"
	}
	return s
}

// WriteMarkdown writes the report for a ticket or a wiki page.
func WriteMarkdown(w io.Writer, rep *Report) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "# IAM review")
	if rep.Account != "" {
		fmt.Fprintf(b, ": account %s", rep.Account)
	}
	fmt.Fprintf(b, "\n\n%s.\n\n", upperFirst(rep.Headline()))
	if l := rep.inputsLine(); l != "" {
		fmt.Fprintf(b, "Read: %s.\n\n", l)
	}
	r := rep.Rules
	fmt.Fprintf(b, "Rules: unused after %d days; never-used keys flagged after %d days; stale keys after %d days; failing-only: no successful call in %d days; periodic: successful calls on at least %d days, every gap at least %d days, the last within the largest gap plus %d days.\n\n",
		r.WindowDays, r.NeverUsedAgeDays, r.StaleAgeDays, r.FailingWindowDays, r.PeriodicMinDays, r.PeriodicMinGap, r.PeriodicGraceDays)
	if len(rep.Findings) > 0 {
		fmt.Fprintf(b, "| Kind | Findings |\n|---|---:|\n")
		for _, k := range Kinds {
			if n := rep.Summary.ByKind[k]; n > 0 {
				fmt.Fprintf(b, "| %s | %d |\n", k, n)
			}
		}
		fmt.Fprintf(b, "\n## Findings\n\n| # | Severity | Kind | Subject | Finding | Action |\n|---:|---|---|---|---|---|\n")
		for i := range rep.Findings {
			f := &rep.Findings[i]
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s |\n", i+1, f.Severity, f.Kind, mdCell(labelled(f)), mdCell(f.Summary), mdCell(f.Action))
		}
		fmt.Fprintf(b, "\n## Evidence and owner clues\n")
		for i := range rep.Findings {
			f := &rep.Findings[i]
			fmt.Fprintf(b, "\n### %d. %s: %s\n\n", i+1, f.Kind, mdText(labelled(f)))
			fmt.Fprintf(b, "Principal: `%s`\n\n", f.Principal)
			for _, l := range EvidenceLines(f) {
				fmt.Fprintf(b, "- %s\n", mdText(l))
			}
			if cl := ClueLines(f); len(cl) > 0 {
				fmt.Fprintf(b, "\nOwner clues:\n\n")
				for _, l := range cl {
					fmt.Fprintf(b, "- %s\n", mdText(l))
				}
			}
		}
	} else {
		fmt.Fprintf(b, "No findings.\n")
	}
	if len(rep.Notes) > 0 {
		fmt.Fprintf(b, "\n## Notes\n\n")
		for _, n := range rep.Notes {
			fmt.Fprintf(b, "- %s\n", mdText(n))
		}
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(b, "\n## Problems reading the IAM state\n\n")
		for _, p := range rep.Problems {
			fmt.Fprintf(b, "- %s\n", mdText(p))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdText escapes what markdown would read as markup in values from logs.
func mdText(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]", "|", "\\|", "\n", " ")
	return r.Replace(s)
}

func mdCell(s string) string { return mdText(s) }

// CSVColumns is the CSV header.
var CSVColumns = []string{"severity", "kind", "account", "principal", "user", "access_key_id", "labels", "summary", "action",
	"status", "created", "last_used", "days_since_use", "logs_last_call", "logs_last_success", "failing_calls", "period",
	"next_expected", "source_ips", "tools", "user_agents", "created_by", "last_human_caller", "tags"}

// WriteCSV writes one row per finding.
func WriteCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		e, c := &f.Evidence, &f.Clues
		var failing, period, next, createdBy, human string
		if e.Failing != nil {
			failing = strconv.FormatInt(e.Failing.Calls, 10)
		}
		if e.Period != nil {
			period, next = e.Period.Name, date(e.Period.NextExpected)
		}
		if c.CreatedBy != nil {
			createdBy = c.CreatedBy.Principal
		}
		if c.LastHumanCaller != nil {
			human = c.LastHumanCaller.Principal
		}
		days := ""
		if e.DaysSinceUse > 0 {
			days = strconv.Itoa(e.DaysSinceUse)
		}
		row := []string{f.Severity, f.Kind, f.Account, f.Principal, f.User, f.AccessKeyID, strings.Join(f.Labels, " "), f.Summary, f.Action,
			e.Status, stamp(e.Created), stamp(e.LastUsed), days, stamp(e.LogsLastCall), stamp(e.LogsLastSuccess), failing, period, next,
			values(c.SourceIPs), strings.Join(c.Tools, "; "), values(c.UserAgents), createdBy, human, strings.Join(c.Tags, "; ")}
		for j, v := range row {
			row[j] = csvSafe(v)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func values(cs []Count) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Value
	}
	return strings.Join(out, "; ")
}

// csvSafe keeps a spreadsheet from reading a value from the logs as a
// formula (CSV injection): a leading =, +, - or @ gets a quote before it.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
