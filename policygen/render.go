package policygen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/analyzer"
)

// WritePolicy writes the policy documents as JSON, always in the same
// shape: an object keyed by principal ARN whose values are arrays of
// policy documents (one, or several when the policy was split), keys
// sorted. A principal with nothing to grant (no policies) is left out.
func WritePolicy(w io.Writer, rs []*Result) error {
	out := map[string][]*Document{}
	for _, r := range rs {
		if len(r.Policies) > 0 {
			out[r.Principal] = r.Policies
		}
	}
	return writeJSON(w, out)
}

func writeJSON(w io.Writer, v any) error {
	b, err := marshal(v, true)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteReport writes the results with all their evidence as JSON, always
// an array of results (one per principal, in the order given), those with
// nothing to grant included.
//
// It writes the same bytes as one indented encoding of the array, but
// encodes the results a batch at a time, on every core, and writes each
// batch as it is done: the report of analyze --all is hundreds of MB, which
// one encoding holds twice in memory (compact, then indented) and makes on
// one core.
func WriteReport(w io.Writer, rs []*Result) error {
	if len(rs) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	batch := make([][]byte, min(len(rs), 16*workers))
	if _, err := io.WriteString(w, "[\n  "); err != nil {
		return err
	}
	for start := 0; start < len(rs); start += len(batch) {
		part := rs[start:min(start+len(batch), len(rs))]
		var g errgroup.Group
		g.SetLimit(workers)
		for i, r := range part {
			g.Go(func() error {
				var b bytes.Buffer
				enc := json.NewEncoder(&b)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(r); err != nil {
					return err
				}
				compact := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
				batch[i] = appendIndented(make([]byte, 0, len(compact)*2), compact, "  ", "  ")
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for i, b := range batch[:len(part)] {
			sep := ",\n  "
			if start+i == len(rs)-1 {
				sep = "\n]\n"
			}
			if _, err := w.Write(append(b, sep...)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Identifier turns a principal ARN into a Terraform or CloudFormation name:
// its last name, with every other character than letters and digits
// replaced by '_' (Terraform) and dropped (CloudFormation, camel case).
func Identifier(arn string, camel bool) string {
	name := analyzer.PrincipalName(arn)
	var b strings.Builder
	up := true
	for _, c := range name {
		ok := c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c))
		switch {
		case ok && camel && up:
			b.WriteRune(unicode.ToUpper(c))
			up = false
		case ok:
			b.WriteRune(c)
			up = false
		case camel:
			up = true
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || unicode.IsDigit(rune(s[0])) {
		s = "p" + s
	}
	return s
}

// Values from logs (ARNs, S3 keys, principal names) reach the Terraform
// and CloudFormation output only through the quoting below, never as code:
//   - hclQuote writes an HCL string with hclwrite, which escapes quotes,
//     backslashes and control characters and doubles the template
//     introducers ($${ and %%{), so Terraform interpolates nothing;
//   - yamlQuote writes a YAML double-quoted scalar that escapes every
//     character YAML 1.1 or 1.2 could read as a line break or control;
//     CloudFormation interpolates ${…} only inside Fn::Sub, which iamlens
//     never writes;
//   - comment keeps a comment on its line (line breaks and controls are
//     written escaped).
// For ordinary ARNs all three write what JSON quoting writes.

// hclQuote writes s as an HCL quoted string.
func hclQuote(s string) string {
	return string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes())
}

func hclList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = hclQuote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// yamlQuote writes s as a YAML double-quoted scalar.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 || r == 0xfeff ||
			r == unicode.ReplacementChar || !unicode.IsPrint(r):
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// comment makes s safe inside a one-line # comment of HCL or YAML: line
// breaks and other control characters are written escaped.
func comment(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func day(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// WriteTerraform writes one `data "aws_iam_policy_document"` per policy,
// each statement preceded by a comment saying why it is there. A principal
// with nothing to grant is left out.
func WriteTerraform(w io.Writer, rs []*Result) error {
	var b strings.Builder
	note := func(indent, format string, args ...any) {
		b.WriteString(indent + "# " + comment(fmt.Sprintf(format, args...)) + "\n")
	}
	names := map[string]int{}
	for _, r := range rs {
		if len(r.Policies) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		u := r.Usage
		note("", "Least-privilege policy for %s (%s), generated by iamlens", r.Principal, r.Kind)
		note("", "from %s, %s to %s; resources: %s mode; %s.", count(int(u.Events), "event"), day(u.FirstSeen), day(u.LastSeen), r.Mode, r.SizeNote)
		for _, c := range r.Conditions {
			note("", "Condition %s: %s.", c.Key, c.Why)
		}
		if n := len(u.Denied); n > 0 {
			note("", "%s denied and NOT granted: %s.", count(n, "action was", "actions were"), actionNames(u.Denied, 8))
		}
		base := Identifier(r.Principal, false)
		for pi, doc := range r.Policies {
			name := base
			if len(r.Policies) > 1 {
				name = fmt.Sprintf("%s_%d", base, pi+1)
			}
			if names[name]++; names[name] > 1 {
				name = fmt.Sprintf("%s_%d", name, names[name])
			}
			fmt.Fprintf(&b, "data \"aws_iam_policy_document\" %s {\n", hclQuote(name))
			for si, st := range doc.Statement {
				if si > 0 {
					b.WriteString("\n")
				}
				if ev := r.evidence(pi, st.Sid); ev != nil {
					for _, a := range ev.Actions {
						line := fmt.Sprintf("%s: %d call(s), first %s, last %s", a.Action, a.Calls, day(a.FirstSeen), day(a.LastSeen))
						if len(a.Examples) > 0 {
							line += ", e.g. " + strings.Join(a.Examples, ", ")
						}
						if a.Wildcard != "" {
							line += "; on * because " + a.Wildcard
						}
						if a.FailedCalls > 0 {
							line += fmt.Sprintf("; %d of them authorised, then failed (%s)", a.FailedCalls, codes(a.ErrorCodes))
						}
						note("  ", "%s", line)
					}
					for _, re := range ev.Resources {
						if re.Why != "seen" && re.Resource != "*" {
							note("  ", "%s: %s", re.Resource, re.Why)
						}
					}
				}
				b.WriteString("  statement {\n")
				fmt.Fprintf(&b, "    sid       = %s\n", hclQuote(st.Sid))
				fmt.Fprintf(&b, "    effect    = %s\n", hclQuote(st.Effect))
				fmt.Fprintf(&b, "    actions   = %s\n", hclList(st.Action))
				fmt.Fprintf(&b, "    resources = %s\n", hclList(st.Resource))
				for _, c := range st.Condition {
					b.WriteString("\n    condition {\n")
					fmt.Fprintf(&b, "      test     = %s\n", hclQuote(c.Operator))
					fmt.Fprintf(&b, "      variable = %s\n", hclQuote(c.Key))
					fmt.Fprintf(&b, "      values   = %s\n", hclList(c.Values))
					b.WriteString("    }\n")
				}
				b.WriteString("  }\n")
			}
			b.WriteString("}\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedOps[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func actionNames(as []*analyzer.ActionUsage, n int) string {
	var names []string
	for i, a := range as {
		if i == n {
			names = append(names, fmt.Sprintf("and %d more", len(as)-n))
			break
		}
		names = append(names, a.Action)
	}
	return strings.Join(names, ", ")
}

func (r *Result) evidence(policy int, sid string) *StatementEvidence {
	for i := range r.Evidence {
		if r.Evidence[i].Policy == policy && r.Evidence[i].Sid == sid {
			return &r.Evidence[i]
		}
	}
	return nil
}

// WriteCloudFormation writes a CloudFormation template (YAML) with one
// AWS::IAM::ManagedPolicy per policy. Every scalar is a YAML double-quoted
// string (yamlQuote), which YAML reads unchanged; no Fn::Sub is written, so
// CloudFormation reads ${…} literally. A principal with nothing to grant is
// left out (IAM rejects a policy without statements).
func WriteCloudFormation(w io.Writer, rs []*Result) error {
	var b strings.Builder
	b.WriteString("AWSTemplateFormatVersion: \"2010-09-09\"\n")
	b.WriteString("Description: \"Least-privilege policies generated by iamlens from CloudTrail\"\n")
	b.WriteString("Resources:\n")
	names := map[string]int{}
	for _, r := range rs {
		base := Identifier(r.Principal, true) + "Policy"
		for pi, doc := range r.Policies {
			name := base
			if len(r.Policies) > 1 {
				name = fmt.Sprintf("%s%d", base, pi+1)
			}
			if names[name]++; names[name] > 1 {
				name = fmt.Sprintf("%s%d", name, names[name])
			}
			b.WriteString("  # " + comment(fmt.Sprintf("%s (%s): %s, %s to %s; %s.", r.Principal, r.Kind, count(int(r.Usage.Events), "event"), day(r.Usage.FirstSeen), day(r.Usage.LastSeen), r.SizeNote)) + "\n")
			fmt.Fprintf(&b, "  %s:\n", name)
			b.WriteString("    Type: \"AWS::IAM::ManagedPolicy\"\n")
			b.WriteString("    Properties:\n")
			fmt.Fprintf(&b, "      Description: %s\n", yamlQuote("Least privilege for "+r.Principal+" (iamlens)"))
			b.WriteString("      PolicyDocument:\n")
			fmt.Fprintf(&b, "        Version: %s\n", yamlQuote(doc.Version))
			b.WriteString("        Statement:\n")
			for _, st := range doc.Statement {
				fmt.Fprintf(&b, "          - Sid: %s\n", yamlQuote(st.Sid))
				fmt.Fprintf(&b, "            Effect: %s\n", yamlQuote(st.Effect))
				yamlList(&b, "            ", "Action", st.Action)
				yamlList(&b, "            ", "Resource", st.Resource)
				if len(st.Condition) > 0 {
					b.WriteString("            Condition:\n")
					op := ""
					for _, c := range st.Condition {
						if c.Operator != op {
							op = c.Operator
							fmt.Fprintf(&b, "              %s:\n", yamlQuote(op))
						}
						yamlList(&b, "                ", yamlQuote(c.Key), c.Values)
					}
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func yamlList(b *strings.Builder, indent, key string, vals []string) {
	fmt.Fprintf(b, "%s%s:\n", indent, key)
	for _, v := range vals {
		fmt.Fprintf(b, "%s  - %s\n", indent, yamlQuote(v))
	}
}

// WriteTable writes a summary for people: the profile, the statements with
// their evidence, and what is not in the policy. Nothing is shortened.
func WriteTable(w io.Writer, rs []*Result) error { return WriteTableWidth(w, rs, 0) }

// WriteTableWidth writes the table of WriteTable to fit a terminal width
// columns wide (0: no limit): long lists of resources, services or user
// agents are cut short, saying how many were left out (the JSON report
// holds them all).
func WriteTableWidth(w io.Writer, rs []*Result, width int) error {
	for i, r := range rs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := writeTable(w, r, width); err != nil {
			return err
		}
	}
	return nil
}

// profileKeyWidth is the widest key of a table's profile rows with its
// padding ("condition skipped  ").
const profileKeyWidth = len("condition skipped") + 2

func writeTable(w io.Writer, r *Result, width int) error {
	u := r.Usage
	p := &u.Profile
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", k, clip(fmt.Sprintf(format, args...), width-profileKeyWidth, width, minCell))
	}
	row("principal", "%s (%s)", r.Principal, r.Kind)
	row("seen", "%s to %s, %s on %s", day(u.FirstSeen), day(u.LastSeen), count(int(u.Events), "event"), count(len(p.ActiveDays), "day"))
	row("services", "%s", counts(p.Services, 8))
	row("regions", "%s", counts(p.Regions, 8))
	row("source IPs", "%s (%d distinct)", counts(p.SourceIPs, 5), p.DistinctSourceIPs)
	row("user agents", "%s (%d distinct)", counts(p.UserAgents, 3), p.DistinctUserAgents)
	if len(p.VPCEndpoints) > 0 {
		row("VPC endpoints", "%s", counts(p.VPCEndpoints, 5))
	}
	// Long-term keys (AKIA…) one by one: they name who owns a user;
	// session keys (ASIA…) as one line.
	for _, k := range p.AccessKeys {
		row("access key", "%s: %s, %s to %s", k.AccessKeyID, count(int(k.Calls), "call"), day(k.FirstSeen), day(k.LastSeen))
	}
	if s := p.SessionKeys; s.Keys > 0 {
		row("session keys", "%s, %s, %s to %s", count(int(s.Keys), "temporary (ASIA…) key"), count(int(s.Calls), "call"), day(s.FirstSeen), day(s.LastSeen))
	}
	if p.MFAEvents > 0 {
		row("MFA", "%d of %d events", p.MFAEvents, u.Events)
	}
	if len(r.Policies) == 0 {
		row("policy", "none: %s", r.SizeNote)
	} else {
		row("policy", "%s in %s of %s characters; %s mode; %s", count(len(r.Evidence), "statement"), count(len(r.Policies), "policy", "policies"),
			charCounts(r.Chars), r.Mode, r.SizeNote)
	}
	for _, c := range r.Conditions {
		row("condition", "%s = %s: %s", c.Key, strings.Join(c.Values, ", "), c.Why)
	}
	for _, c := range r.ConditionsSkipped {
		row("condition skipped", "%s: %s", c.Key, c.Why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	if width > 0 {
		if err := writeEvidenceFit(w, r, width); err != nil {
			return err
		}
	} else {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SID\tACTION\tCALLS\tFIRST SEEN\tLAST SEEN\tRESOURCES")
		for _, ev := range r.Evidence {
			res := make([]string, len(ev.Resources))
			for i, re := range ev.Resources {
				res[i] = re.Resource
				if re.Why != "seen" && re.Resource != "*" {
					res[i] += " (" + re.Why + ")"
				}
			}
			for i, a := range ev.Actions {
				sid, rs := ev.Sid, strings.Join(res, ", ")
				if i > 0 {
					sid, rs = "", "〃"
				}
				if a.Wildcard != "" {
					rs += " (" + a.Wildcard + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", sid, a.Action, a.Calls, day(a.FirstSeen), day(a.LastSeen), rs)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", clip(l, width-2, width, minCell))
		}
	}
	var lines []string
	for _, a := range u.Denied {
		lines = append(lines, fmt.Sprintf("%s  %s, %s  %s", a.Action, count(int(a.Calls), "call"), codes(a.ErrorCodes), resourcesOf(a)))
	}
	section("needed but not granted (denied; a missing permission or an attack)", lines)
	lines = nil
	if r.FailedExcluded {
		for _, a := range u.Failed {
			lines = append(lines, fmt.Sprintf("%s  %s, %s", a.Action, count(int(a.Calls), "call"), codes(a.ErrorCodes)))
		}
		section("authorised, then failed for another reason (left out: --exclude-failed)", lines)
	} else {
		for _, ev := range r.Evidence {
			for _, a := range ev.Actions {
				if a.FailedCalls > 0 {
					lines = append(lines, fmt.Sprintf("%s  %d of %s, %s", a.Action, a.FailedCalls, count(int(a.Calls), "call"), codes(a.ErrorCodes)))
				}
			}
		}
		sort.Strings(lines)
		section("granted: these calls were authorised, then failed for another reason (--exclude-failed leaves them out)", lines)
	}
	lines = nil
	for _, n := range u.NotObservable {
		lines = append(lines, fmt.Sprintf("%s  %s", n.Action, n.Reason))
	}
	section("not observable in CloudTrail (review by hand)", lines)
	lines = nil
	for _, c := range u.Unmapped {
		lines = append(lines, fmt.Sprintf("%s:%s  %s  %s", c.EventSource, c.EventName, count(int(c.Calls), "call"), c.Reason))
	}
	section("unmapped calls (not in the policy)", lines)
	lines = nil
	for _, x := range r.Rejected {
		lines = append(lines, strings.TrimSpace(x.Action+" "+x.Resource)+"  "+x.Reason)
	}
	section("rejected", lines)
	return nil
}

func counts(cs []analyzer.Count, n int) string {
	if len(cs) == 0 {
		return "-"
	}
	var parts []string
	for i, c := range cs {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(cs)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", c.Value, c.Count))
	}
	return strings.Join(parts, ", ")
}

func codes(cs []analyzer.Count) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s×%d", c.Value, c.Count))
	}
	return strings.Join(parts, " ")
}

func resourcesOf(a *analyzer.ActionUsage) string {
	var arns []string
	for _, r := range a.Resources {
		arns = append(arns, r.ARN)
	}
	return strings.Join(first(arns, 3), ", ")
}

// count says n of a noun: "1 call", "3 calls"; an irregular plural is
// given after the singular ("policy", "policies").
func count(n int, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// charCounts lists policy sizes: "1,681", "6,100 and 3,200".
func charCounts(cs []int) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = thousands(c)
	}
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// minCell is the narrowest a shortened cell gets, whatever the width.
const minCell = 30

// clip shortens s to n characters, ending in "…", when the table has a
// width (> 0); a cell is never cut below floor.
func clip(s string, n, width, floor int) string {
	if width <= 0 {
		return s
	}
	n = max(n, floor)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// maxResourceLines caps the resources a statement shows at a terminal's
// width.
const maxResourceLines = 5

// ClipMiddle shortens s to n characters by cutting out its middle, so an
// ARN keeps its service and the end of its name.
func ClipMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := (n - 1) * 2 / 5
	return string(r[:head]) + "…" + string(r[len(r)-(n-1-head):])
}

// wrapList lists items one a line, at most maxResourceLines, the last
// saying how many were left out; why, when set, follows the first.
func wrapList(items []string, why string) []string {
	if len(items) == 0 {
		items = []string{""}
	}
	var out []string
	for i, it := range items {
		if i == maxResourceLines-1 && len(items) > maxResourceLines {
			out = append(out, fmt.Sprintf("… +%d more (--format json lists all)", len(items)-i))
			break
		}
		out = append(out, it)
	}
	if why != "" && len(out) > 0 {
		out[0] += " (" + why + ")"
	}
	return out
}

// writeEvidenceFit writes the statements' table to fit width columns:
// days without the time, Sids cut to maxSid, each statement's resources
// one a line (at most maxResourceLines, the last saying how many more), and
// the reasons for "*" as numbered notes under the table.
func writeEvidenceFit(w io.Writer, r *Result, width int) error {
	const maxSid = 20
	const dayW = len("2006-01-02")
	sidW, actW, callsW := len("SID"), len("ACTION"), len("CALLS")
	for _, ev := range r.Evidence {
		sidW = max(sidW, min(maxSid, len([]rune(ev.Sid))))
		for _, a := range ev.Actions {
			actW, callsW = max(actW, len(a.Action)), max(callsW, len(fmt.Sprint(a.Calls)))
		}
	}
	resW := width - (sidW + actW + callsW + 2*dayW + 5*2)
	var notes []string
	note := func(why string) string {
		for i, n := range notes {
			if n == why {
				return fmt.Sprintf("[%d]", i+1)
			}
		}
		notes = append(notes, why)
		return fmt.Sprintf("[%d]", len(notes))
	}
	shortDay := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SID\tACTION\tCALLS\tFIRST\tLAST\tRESOURCES")
	for _, ev := range r.Evidence {
		var res []string
		for _, re := range ev.Resources {
			s := re.Resource
			if re.Why != "seen" && re.Resource != "*" {
				s += " " + note(re.Why)
			}
			res = append(res, s)
		}
		for i, a := range ev.Actions {
			lines := []string{"〃"}
			if i == 0 {
				lines = wrapList(res, "")
			}
			if a.Wildcard != "" {
				lines[0] += " " + note(a.Wildcard)
			}
			sid := ""
			if i == 0 {
				sid = clip(ev.Sid, maxSid, width, maxSid)
			}
			for j, l := range lines {
				if !strings.HasPrefix(l, "…") {
					l = ClipMiddle(l, max(resW, minCell))
				}
				if j == 0 {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", sid, a.Action, a.Calls, shortDay(a.FirstSeen), shortDay(a.LastSeen), l)
				} else {
					fmt.Fprintf(tw, "\t\t\t\t\t%s\n", l)
				}
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i, n := range notes {
		fmt.Fprintf(w, "%s\n", clip(fmt.Sprintf("[%d] %s", i+1, n), width, width, minCell))
	}
	return nil
}
