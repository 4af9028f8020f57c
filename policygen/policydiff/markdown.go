package policydiff

import (
	"fmt"
	"strings"
)

// GitHubCommentLimit is the largest body GitHub accepts for a pull-request
// comment, in characters.
const GitHubCommentLimit = 65536

// Bounds of one principal's section, so that one principal with a wide
// grant (AdministratorAccess: 22,000 unused actions) does not fill the
// comment; the JSON report lists everything.
const (
	mdRows         = 100   // rows of a table
	mdServiceNames = 25    // action names shown per service
	mdUnusedChars  = 12000 // characters of the unused list
	mdDiffLines    = 300   // lines of the unified diff
)

// Markdown renders the report as a pull-request comment: the hidden
// Marker first (a CI job finds and updates its comment by it), the
// summary counts per principal, then each principal's details in
// <details> blocks. It stays within RenderOptions.MaxChars (GitHub's
// limit by default): principals that do not fit are shown as counts
// only, then left out, and a note says so.
func Markdown(rep *Report, o RenderOptions) string {
	limit := o.MaxChars
	if limit <= 0 {
		limit = GitHubCommentLimit
	}
	var b strings.Builder
	b.WriteString(Marker + "\n")
	b.WriteString("### iamlens diff: granted vs used\n\n")
	fmt.Fprintf(&b, "**Source:** %s · **window:** %s", text(rep.Source.Name), window(rep.From, rep.To))
	if rep.Dataset != "" {
		fmt.Fprintf(&b, " · **dataset:** %s", text(rep.Dataset))
	}
	b.WriteString("\n\n")
	if len(rep.Principals) == 0 {
		b.WriteString("No principal is both in the source and in the dataset's window.\n")
	} else {
		b.WriteString("| principal | granted | used | unused | not observable | missing | granted elsewhere |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|\n")
		for _, p := range rep.Principals {
			n := p.Counts
			unused := fmt.Sprint(n.Unused)
			if n.ConditionalUnused > 0 {
				unused += fmt.Sprintf(" (%d conditional)", n.ConditionalUnused)
			}
			missing := fmt.Sprint(n.Missing)
			if n.Missing > 0 {
				missing = "**" + missing + "**"
			}
			flag := ""
			if len(p.Unknown) > 0 {
				flag = " ⚠"
			}
			fmt.Fprintf(&b, "| %s%s | %d | %d | %s | %d | %s | %d |\n", code(p.Principal), flag, n.Granted, n.Used, unused, n.NotObservable, missing, n.GrantedElsewhere)
		}
		b.WriteString("\n")
	}
	if len(rep.SourceOnly) > 0 {
		var names []string
		for i, s := range rep.SourceOnly {
			if i == mdRows {
				names = append(names, fmt.Sprintf("and %d more", len(rep.SourceOnly)-mdRows))
				break
			}
			names = append(names, code(s))
		}
		fmt.Fprintf(&b, "No events in the window, not compared: %s.\n\n", strings.Join(names, ", "))
	}
	const reserve = 600 // the truncation note
	compact, omitted := 0, 0
	for i, p := range rep.Principals {
		full := principalMarkdown(p, false)
		if b.Len()+len(full)+reserve <= limit {
			b.WriteString(full)
			continue
		}
		short := principalMarkdown(p, true)
		if b.Len()+len(short)+reserve <= limit {
			b.WriteString(short)
			compact++
			continue
		}
		omitted = len(rep.Principals) - i
		break
	}
	if compact > 0 || omitted > 0 {
		fmt.Fprintf(&b, "> **Truncated** to fit GitHub's %d-character comment limit: ", limit)
		var parts []string
		if compact > 0 {
			parts = append(parts, fmt.Sprintf("the details of %d principal(s) are left out", compact))
		}
		if omitted > 0 {
			parts = append(parts, fmt.Sprintf("%d principal(s) are not shown beyond the table", omitted))
		}
		b.WriteString(strings.Join(parts, ", and "))
		b.WriteString(". Run `iamlens diff --format json` (or `--format table`) for the whole report.\n")
	}
	b.WriteString("\n<sub>iamlens compares the identity policies with the CloudTrail calls of the window; actions CloudTrail cannot show are never suggested for removal.</sub>\n")
	return b.String()
}

// principalMarkdown renders one principal; compact keeps its heading,
// counts, unknowns and notes.
func principalMarkdown(p *Principal, compact bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#### %s\n\n", code(p.Principal))
	var facts []string
	if p.Address != "" {
		facts = append(facts, "resource "+code(p.Address))
	}
	facts = append(facts, fmt.Sprintf("%d events, %s", p.Events, window(p.From, p.To)))
	facts = append(facts, countsLine(p.Counts))
	b.WriteString(strings.Join(facts, " · ") + "\n\n")
	for _, u := range p.Unknown {
		fmt.Fprintf(&b, "> ⚠ Unknown: %s\n", text(u))
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "> Note: %s\n", text(n))
	}
	if len(p.Unknown)+len(p.Notes) > 0 {
		b.WriteString("\n")
	}
	if compact {
		return b.String()
	}
	details := func(summary string, body string) {
		fmt.Fprintf(&b, "<details><summary><b>%s</b></summary>\n\n%s\n</details>\n\n", summary, body)
	}
	for _, k := range kindsOf(p.UsedNotGranted) {
		var t strings.Builder
		t.WriteString("| action | resource | calls | first seen | last seen |\n|---|---|--:|---|---|\n")
		for i, u := range k.items {
			if i == mdRows {
				fmt.Fprintf(&t, "| … | %d more | | | |\n", len(k.items)-mdRows)
				break
			}
			fmt.Fprintf(&t, "| %s | %s | %d | %s | %s |\n", code(u.Action), code(u.Resource), u.Calls, day(u.FirstSeen), day(u.LastSeen))
		}
		title, why, _ := strings.Cut(k.title, " (")
		details(fmt.Sprintf("%s (%d)", title, len(k.items)), "_("+strings.TrimSuffix(why, ")")+")_\n\n"+t.String())
	}
	if len(p.GrantedUnused) > 0 {
		var t strings.Builder
		t.WriteString("Granted, and not seen in the window. *Italic*: granted only under a condition.\n\n")
		services, by := byService(p.GrantedUnused)
		for i, svc := range services {
			if t.Len() > mdUnusedChars {
				rest := 0
				for _, s := range services[i:] {
					rest += len(by[s])
				}
				fmt.Fprintf(&t, "- and %d more actions of %d more services\n", rest, len(services)-i)
				break
			}
			var names []string
			for j, g := range by[svc] {
				if j == mdServiceNames {
					names = append(names, fmt.Sprintf("and %d more", len(by[svc])-mdServiceNames))
					break
				}
				n := code(g.Action)
				if g.Conditional {
					n = "*" + n + "*"
				}
				names = append(names, n)
			}
			fmt.Fprintf(&t, "- **%s** (%d): %s\n", text(svc), len(by[svc]), strings.Join(names, ", "))
		}
		details(fmt.Sprintf("Granted but unused (%d), by service", len(p.GrantedUnused)), t.String())
	}
	if len(p.GrantedUsed) > 0 {
		var t strings.Builder
		t.WriteString("| action | resource | calls | first seen | last seen |\n|---|---|--:|---|---|\n")
		for i, g := range p.GrantedUsed {
			if i == mdRows {
				fmt.Fprintf(&t, "| … | %d more | | | |\n", len(p.GrantedUsed)-mdRows)
				break
			}
			calls := fmt.Sprint(g.Calls)
			if g.FailedCalls > 0 {
				calls += fmt.Sprintf(" (%d failed after authorisation)", g.FailedCalls)
			}
			res := code(g.Resource)
			if g.OmittedResources > 0 {
				res += fmt.Sprintf(" +%d more", g.OmittedResources)
			}
			act := code(g.Action)
			if g.Conditional {
				act += " (conditional)"
			}
			fmt.Fprintf(&t, "| %s | %s | %s | %s | %s |\n", act, res, calls, day(g.FirstSeen), day(g.LastSeen))
		}
		details(fmt.Sprintf("Granted and used (%d actions)", p.Counts.Used), t.String())
	}
	if len(p.ResourceLevel) > 0 {
		var t strings.Builder
		for _, rl := range p.ResourceLevel {
			var acts, granted, used []string
			for _, a := range rl.Actions {
				acts = append(acts, code(a))
			}
			for _, g := range rl.Granted {
				granted = append(granted, code(g))
			}
			for _, u := range rl.Used {
				used = append(used, code(u))
			}
			more := ""
			if rl.UsedCount > len(rl.Used) {
				more = fmt.Sprintf(" and %d more", rl.UsedCount-len(rl.Used))
			}
			fmt.Fprintf(&t, "- %s: granted on %s, used on %s%s\n", strings.Join(acts, ", "), strings.Join(granted, ", "), strings.Join(used, ", "), more)
		}
		details(fmt.Sprintf("Resource level: granted on wildcards, used on a few (%d actions)", p.Counts.ResourceLevel), t.String())
	}
	if len(p.NotObservable) > 0 {
		var t strings.Builder
		for i, n := range p.NotObservable {
			if i == mdRows {
				fmt.Fprintf(&t, "- and %d more\n", len(p.NotObservable)-mdRows)
				break
			}
			what := n.Standing()
			res := ""
			if n.Resource != "" {
				res = " on " + code(n.Resource)
			}
			fmt.Fprintf(&t, "- %s%s (%s): %s\n", code(n.Action), res, what, text(n.Reason))
		}
		details(fmt.Sprintf("Not observable in CloudTrail (%d): review by hand, never suggested for removal", len(p.NotObservable)), t.String())
	}
	var t strings.Builder
	for _, n := range p.ProposedNotes {
		fmt.Fprintf(&t, "- %s\n", text(n))
	}
	if len(p.ProposedNotes) > 0 {
		t.WriteString("\n")
	}
	if p.UnifiedDiff == "" {
		t.WriteString("The proposal equals the current policies.\n")
	} else {
		lines := strings.SplitAfter(p.UnifiedDiff, "\n")
		cut := ""
		if len(lines) > mdDiffLines {
			cut = fmt.Sprintf("… %d more lines: `iamlens diff --format unified`\n", len(lines)-mdDiffLines)
			lines = lines[:mdDiffLines]
		}
		body := strings.Join(lines, "")
		fence := fenceFor(body)
		fmt.Fprintf(&t, "%sdiff\n%s", fence, body)
		if !strings.HasSuffix(body, "\n") {
			t.WriteString("\n")
		}
		t.WriteString(fence + "\n" + cut)
	}
	details(fmt.Sprintf("Proposed policy: %d statements, %d characters, never wider than the current policies", len(p.Proposed.Statement), p.ProposedChars), t.String())
	return b.String()
}

// code writes a value as inline code, safely inside a table cell: a value
// holding backticks gets a longer delimiter, line breaks become spaces and
// '|' is escaped (GitHub unescapes it inside code in tables).
func code(s string) string {
	s = strings.ReplaceAll(oneLine(s), "|", `\|`)
	if !strings.Contains(s, "`") {
		return "`" + s + "`"
	}
	delim := "`"
	for strings.Contains(s, delim) {
		delim += "`"
	}
	return delim + " " + s + " " + delim
}

// text writes a value as plain text: HTML and the markdown characters that
// could change the comment's layout are escaped, line breaks become
// spaces.
func text(s string) string {
	var b strings.Builder
	for _, r := range oneLine(s) {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '|', '\\', '`', '*', '_', '[', ']', '#', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fenceFor returns a code fence longer than any run of backticks in body.
func fenceFor(body string) string {
	longest, run := 0, 0
	for _, r := range body {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
