package policydiff

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats are the renderers' names.
var Formats = []string{"markdown", "json", "sarif", "unified", "table"}

// RenderOptions tune the renderers.
type RenderOptions struct {
	// Version is iamlens's version, for SARIF's tool (default "dev").
	Version string
	// MaxChars bounds the markdown comment (default 65,536, GitHub's limit
	// for a comment body).
	MaxChars int
}

// Write renders the report in one of Formats.
func Write(w io.Writer, rep *Report, format string, o RenderOptions) error {
	switch format {
	case "json":
		return WriteJSON(w, rep)
	case "markdown":
		_, err := io.WriteString(w, Markdown(rep, o))
		return err
	case "sarif":
		return WriteSARIF(w, rep, o)
	case "unified":
		return WriteUnified(w, rep)
	case "table":
		return WriteTable(w, rep)
	}
	return fmt.Errorf("format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// WriteJSON writes the report as JSON (the contract of Principal's field
// names): the report's own fields indented, then each principal on one
// line, so that a report of a thousand principals with AdministratorAccess
// (twenty thousand unused grants each) is written as it is encoded,
// without an indented copy of the whole.
func WriteJSON(w io.Writer, rep *Report) error {
	head := *rep
	head.Principals = nil
	var hb strings.Builder
	enc := json.NewEncoder(&hb)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		*Report
		Principals *struct{} `json:"principals,omitempty"`
	}{Report: &head}); err != nil {
		return err
	}
	text := strings.TrimRight(hb.String(), "\n")
	text = strings.TrimSuffix(text, "}")
	text = strings.TrimRight(text, "\n ")
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(text)
	bw.WriteString(",\n  \"principals\": [")
	var pb bytes.Buffer
	pe := json.NewEncoder(&pb)
	pe.SetEscapeHTML(false)
	for i, p := range rep.Principals {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		pb.Reset()
		if err := pe.Encode(p); err != nil {
			return err
		}
		bw.Write(bytes.TrimSuffix(pb.Bytes(), []byte("\n")))
	}
	if len(rep.Principals) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// WriteUnified writes each principal's unified diff of its normalised
// current policies against the proposal.
func WriteUnified(w io.Writer, rep *Report) error {
	var b strings.Builder
	for i, p := range rep.Principals {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# %s\n", oneLine(p.Principal))
		for _, n := range p.ProposedNotes {
			fmt.Fprintf(&b, "# %s\n", oneLine(n))
		}
		if p.UnifiedDiff == "" {
			b.WriteString("# no difference: the proposal equals the current policies\n")
			continue
		}
		b.WriteString(p.UnifiedDiff)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine keeps a value from a log or a policy on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// window says the report's window in words.
func window(from, to time.Time) string {
	if to.IsZero() {
		return day(from) + " to the end of the dataset"
	}
	return day(from) + " to " + day(to)
}

// countsLine says a principal's numbers in one line.
func countsLine(n Counts) string {
	s := fmt.Sprintf("%d granted: %d used, %d unused", n.Granted, n.Used, n.Unused)
	if n.ConditionalUnused > 0 {
		s += fmt.Sprintf(" (%d only under a condition)", n.ConditionalUnused)
	}
	s += fmt.Sprintf(", %d not observable; %d missing, %d granted elsewhere", n.NotObservable, n.Missing, n.GrantedElsewhere)
	if n.DeniedDespiteGrant > 0 {
		s += fmt.Sprintf(", %d denied despite a grant", n.DeniedDespiteGrant)
	}
	return s
}

// byService groups unused grants by service, services in order.
func byService(gs []GrantedUnused) (services []string, by map[string][]GrantedUnused) {
	by = map[string][]GrantedUnused{}
	for _, g := range gs {
		if by[g.Service] == nil {
			services = append(services, g.Service)
		}
		by[g.Service] = append(by[g.Service], g)
	}
	sort.Strings(services)
	return services, by
}

// WriteTable writes the report for people.
func WriteTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "source   %s\n", oneLine(rep.Source.Name))
	fmt.Fprintf(w, "window   %s\n", window(rep.From, rep.To))
	fmt.Fprintf(w, "summary  %d principal(s); %s\n", len(rep.Principals), countsLine(rep.Summary))
	if len(rep.SourceOnly) > 0 {
		fmt.Fprintf(w, "no events in the window (not compared): %s\n", oneLine(strings.Join(rep.SourceOnly, ", ")))
	}
	for _, p := range rep.Principals {
		fmt.Fprintln(w)
		if err := writeTable(w, p); err != nil {
			return err
		}
	}
	return nil
}

func writeTable(w io.Writer, p *Principal) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", k, oneLine(fmt.Sprintf(format, args...)))
	}
	row("principal", "%s (%s)", p.Principal, p.Kind)
	if p.Address != "" {
		row("resource", "%s", p.Address)
	}
	row("window", "%s, %d events", window(p.From, p.To), p.Events)
	for _, pol := range p.Policies {
		row("policy", "%s", pol.Label)
	}
	if p.Boundary != nil {
		row("boundary", "%s", p.Boundary.Label)
	}
	for _, u := range p.Unknown {
		row("unknown", "%s", u)
	}
	for _, n := range p.Notes {
		row("note", "%s", n)
	}
	row("counts", "%s", countsLine(p.Counts))
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, k := range kindsOf(p.UsedNotGranted) {
		fmt.Fprintf(w, "\n%s:\n", k.title)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ACTION\tRESOURCE\tCALLS\tFIRST SEEN\tLAST SEEN")
		for _, u := range k.items {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", u.Action, oneLine(u.Resource), u.Calls, stamp(u.FirstSeen), stamp(u.LastSeen))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(p.GrantedUsed) > 0 {
		fmt.Fprintf(w, "\nGranted and used:\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ACTION\tRESOURCE\tCALLS\tFIRST SEEN\tLAST SEEN\tGRANTED BY")
		for _, g := range p.GrantedUsed {
			calls := fmt.Sprint(g.Calls)
			if g.FailedCalls > 0 {
				calls += fmt.Sprintf(" (%d failed after authorisation)", g.FailedCalls)
			}
			by := strings.Join(g.GrantedBy, "; ")
			if g.Conditional {
				by = "conditionally: " + by
			}
			res := oneLine(g.Resource)
			if g.OmittedResources > 0 {
				res += fmt.Sprintf(" (+%d more resources)", g.OmittedResources)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", g.Action, res, calls, stamp(g.FirstSeen), stamp(g.LastSeen), oneLine(by))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(p.GrantedUnused) > 0 {
		fmt.Fprintf(w, "\nGranted but unused in the window (%d; * only under a condition):\n", len(p.GrantedUnused))
		services, by := byService(p.GrantedUnused)
		for _, svc := range services {
			var names []string
			for _, g := range by[svc] {
				n := strings.TrimPrefix(g.Action, svc+":")
				if g.Conditional {
					n += "*"
				}
				names = append(names, n)
			}
			fmt.Fprintf(w, "  %s (%d): %s\n", svc, len(names), strings.Join(names, ", "))
		}
	}
	if len(p.NotObservable) > 0 {
		fmt.Fprintf(w, "\nNot observable in CloudTrail (never suggested for removal):\n")
		for _, n := range p.NotObservable {
			what := n.Standing()
			res := ""
			if n.Resource != "" {
				res = " on " + n.Resource
			}
			fmt.Fprintf(w, "  %s%s (%s): %s\n", n.Action, oneLine(res), what, oneLine(n.Reason))
		}
	}
	if len(p.ResourceLevel) > 0 {
		fmt.Fprintf(w, "\nGranted on wildcards, used on a few resources:\n")
		for _, rl := range p.ResourceLevel {
			more := ""
			if rl.UsedCount > len(rl.Used) {
				more = fmt.Sprintf(" and %d more", rl.UsedCount-len(rl.Used))
			}
			fmt.Fprintf(w, "  %s: granted on %s; used on %s%s\n", strings.Join(rl.Actions, ", "), oneLine(strings.Join(rl.Granted, ", ")), oneLine(strings.Join(rl.Used, ", ")), more)
		}
	}
	fmt.Fprintf(w, "\nProposed policy (%d statements, %d characters; never grants more than the current policies):\n", len(p.Proposed.Statement), p.ProposedChars)
	for _, n := range p.ProposedNotes {
		fmt.Fprintf(w, "  note: %s\n", oneLine(n))
	}
	b, err := json.MarshalIndent(p.Proposed, "  ", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s\n", b)
	return nil
}

// kindGroup is the used-but-not-granted entries of one kind.
type kindGroup struct {
	kind, title string
	items       []UsedNotGranted
}

// kindsOf groups used-but-not-granted entries by kind, in a fixed order,
// each with a title that says the reason once.
func kindsOf(us []UsedNotGranted) []kindGroup {
	var out []kindGroup
	for _, k := range []struct{ kind, title string }{
		{KindMissing, "Used but not granted: missing (denied, and the policies do not grant it; a missing permission, or something to investigate)"},
		{KindGrantedElsewhere, "Used but not granted: granted elsewhere (authorised, yet the identity policies do not allow it: a resource policy or a session policy granted it, or these policies take the permission away)"},
		{KindDeniedDespiteGrant, "Denied despite a grant (the identity policies allow it: the denial came from a service control policy, a resource or session policy, or the policies changed since)"},
	} {
		g := kindGroup{kind: k.kind, title: k.title}
		for _, u := range us {
			if u.Kind == k.kind {
				g.items = append(g.items, u)
			}
		}
		if len(g.items) > 0 {
			out = append(out, g)
		}
	}
	return out
}
