package review

import (
	"bufio"
	_ "embed"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// reportHTML is the page's fixed parts, its style and script, with the
// places of the title and the body marked.
//
//go:embed assets/report.html
var reportHTML string

// The page is written by htmlPage, not with html/template: executing any
// text/template switches off the linker's dead-method elimination (its
// evaluator calls methods by name), which made the iamlens binary 113 MiB
// instead of 38 (cmd/iamlens TestBinarySize). Every value goes through
// html.EscapeString, which escapes & < > " and ', so it is safe in element
// text and in quoted attribute values, the only two places values go.

type htmlView struct {
	Title, Headline, Inputs, Rules string
	Total, High, Medium, Low, Info int
	Principals, Keys               int
	ByKind                         []kindCount
	Rows                           []htmlRow
	Timelines                      []*htmlTimeline
	From, To                       string
	Notes, Problems                []string
}

type kindCount struct {
	Kind  string
	Count int
}

type htmlRow struct {
	N                                       int
	Severity                                string
	SevRank                                 int
	Kind, Subject, Principal, Summary       string
	Action, LastUse, LastUseSort, FirstClue string
	Labels, Evidence, Clues                 []string
	Timeline                                *htmlTimeline
}

type htmlTimeline struct {
	Anchor, Label    string
	Width            int
	OKDays, FailDays int
	Rects            []htmlRect
}

type htmlRect struct {
	X, W         string
	Class, Title string
}

// timelineWidth is the width of a timeline in pixels.
const timelineWidth = 360

// WriteHTML writes the report as one self-contained HTML page: inline CSS
// and script, no request to anything; the tables sort on a click of their
// headers.
func WriteHTML(w io.Writer, rep *Report) error {
	v := htmlView{Title: "IAM review", Headline: upperFirst(rep.Headline()), Inputs: rep.inputsLine(),
		Total: rep.Summary.Findings, High: rep.Summary.BySeverity[High], Medium: rep.Summary.BySeverity[Medium],
		Low: rep.Summary.BySeverity[Low], Info: rep.Summary.BySeverity[Info],
		Principals: rep.Summary.PrincipalsReviewed, Keys: rep.Summary.KeysReviewed,
		Notes: rep.Notes, Problems: rep.Problems}
	if rep.Account != "" {
		v.Title += ": account " + rep.Account
	}
	r := rep.Rules
	v.Rules = fmt.Sprintf("unused after %d days; never-used keys after %d days; stale keys after %d days; failing-only: no successful call in %d days; periodic: at least %d days of use, gaps of at least %d days, last use within the largest gap plus %d days",
		r.WindowDays, r.NeverUsedAgeDays, r.StaleAgeDays, r.FailingWindowDays, r.PeriodicMinDays, r.PeriodicMinGap, r.PeriodicGraceDays)
	for _, k := range Kinds {
		if n := rep.Summary.ByKind[k]; n > 0 {
			v.ByKind = append(v.ByKind, kindCount{k, n})
		}
	}
	byID := map[string]*htmlTimeline{}
	if d := rep.Inputs.Dataset; d != nil && d.Events > 0 {
		from := d.From.UTC().Truncate(day)
		to := d.To.UTC().Truncate(day)
		v.From, v.To = date(from), date(to)
		for i, t := range rep.Timelines {
			ht := timeline(t, from, to)
			ht.Anchor = fmt.Sprintf("t%d", i+1)
			v.Timelines = append(v.Timelines, ht)
			byID[t.ID] = ht
		}
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		row := htmlRow{N: i + 1, Severity: f.Severity, SevRank: SeverityRank(f.Severity), Kind: f.Kind, Subject: f.Subject(),
			Principal: f.Principal, Summary: f.Summary, Action: f.Action, Labels: f.Labels,
			Evidence: EvidenceLines(f), Clues: ClueLines(f)}
		if last := lastUse(f); !last.IsZero() {
			row.LastUse, row.LastUseSort = date(last), stamp(last)
		} else {
			row.LastUse = "never or unknown"
		}
		if len(row.Clues) > 0 {
			row.FirstClue = row.Clues[0]
		}
		id := f.Principal
		if f.AccessKeyID != "" {
			id = f.AccessKeyID
		}
		row.Timeline = byID[id]
		v.Rows = append(v.Rows, row)
	}
	return v.write(w)
}

// write writes the page.
func (v *htmlView) write(w io.Writer) error {
	head, rest, ok1 := strings.Cut(reportHTML, "<!--TITLE-->")
	mid, tail, ok2 := strings.Cut(rest, "<!--BODY-->\n")
	if !ok1 || !ok2 {
		return fmt.Errorf("review: the report page lacks its markers")
	}
	p := &htmlPage{w: bufio.NewWriter(w)}
	p.raw(head)
	p.text(v.Title)
	p.raw(mid)
	v.body(p)
	p.raw(tail)
	if p.err != nil {
		return p.err
	}
	return p.w.Flush()
}

// htmlPage writes raw markup and escaped values, keeping the first error.
type htmlPage struct {
	w   *bufio.Writer
	err error
}

func (p *htmlPage) raw(s ...string) {
	for _, x := range s {
		if p.err == nil {
			_, p.err = p.w.WriteString(x)
		}
	}
}

// text writes a value, escaped for element text or a quoted attribute.
func (p *htmlPage) text(s string) { p.raw(html.EscapeString(s)) }

func (p *htmlPage) int(n int) { p.raw(strconv.Itoa(n)) }

// body writes everything between <body> and the script.
func (v *htmlView) body(p *htmlPage) {
	p.raw("<header>\n<h1>")
	p.text(v.Title)
	p.raw("</h1>\n<p>")
	p.text(v.Headline)
	p.raw("</p>\n</header>\n<main>\n<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n")
	for _, c := range []struct {
		class, id string
		n         int
		label     string
		counted   bool
	}{
		{"card", "count-total", v.Total, "findings", true}, {"card high", "count-high", v.High, "high", true},
		{"card medium", "count-medium", v.Medium, "medium", true}, {"card low", "count-low", v.Low, "low", true},
		{"card info", "count-info", v.Info, "info", true}, {"card", "count-principals", v.Principals, "principals reviewed", false},
		{"card", "count-keys", v.Keys, "keys reviewed", false},
	} {
		p.raw(`<div class="`, c.class, `"><b id="`, c.id, `"`)
		if c.counted {
			p.raw(` data-count="`)
			p.int(c.n)
			p.raw(`"`)
		}
		p.raw(">")
		p.int(c.n)
		p.raw("</b>", c.label, "</div>\n")
	}
	p.raw("</div>\n")
	if len(v.ByKind) > 0 {
		p.raw(`<table id="by-kind" style="width:auto"><thead><tr><th>Kind</th><th>Findings</th></tr></thead><tbody>` + "\n")
		for _, k := range v.ByKind {
			p.raw("<tr><td>")
			p.text(k.Kind)
			p.raw(`</td><td class="kind-count" data-kind="`)
			p.text(k.Kind)
			p.raw(`">`)
			p.int(k.Count)
			p.raw("</td></tr>\n")
		}
		p.raw("</tbody></table>")
	}
	p.raw("\n<p class=\"muted\">Read: ")
	p.text(v.Inputs)
	p.raw("</p>\n<p class=\"muted\">Rules: ")
	p.text(v.Rules)
	p.raw("</p>\n</section>\n<section>\n<h2>Findings</h2>\n")
	if len(v.Rows) > 0 {
		p.raw(`<table id="findings" class="sortable">
<thead><tr>
<th data-type="number">#</th><th data-type="number">Severity</th><th data-type="text">Kind</th><th data-type="text">Subject</th>
<th data-type="text">Finding and evidence</th><th data-type="text">Last use</th><th data-type="text">Owner clues</th><th data-type="none">Activity</th>
</tr></thead>
<tbody>
`)
		for _, r := range v.Rows {
			v.row(p, r)
		}
		p.raw("</tbody></table>")
	} else {
		p.raw(`<p id="no-findings">No findings.</p>`)
	}
	p.raw("\n</section>\n")
	if len(v.Timelines) > 0 {
		p.raw("<section id=\"activity\">\n<h2>Activity over the whole dataset (")
		p.text(v.From)
		p.raw(" to ")
		p.text(v.To)
		p.raw(`)</h2>
<p class="legend muted">Each mark is a day:<span style="background:#2e7d32"></span>successful calls<span style="background:#c62828"></span>only failed or denied calls</p>
<table id="timelines" class="sortable">
<thead><tr><th data-type="text">Key or principal</th><th data-type="number">Days with successful calls</th><th data-type="number">Days with only failures</th><th data-type="none">Timeline</th></tr></thead>
<tbody>
`)
		for _, t := range v.Timelines {
			p.raw(`<tr id="`)
			p.text(t.Anchor)
			p.raw(`"><td data-sort="`)
			p.text(t.Label)
			p.raw(`">`)
			p.text(t.Label)
			p.raw(`</td><td data-sort="`)
			p.int(t.OKDays)
			p.raw(`">`)
			p.int(t.OKDays)
			p.raw(`</td><td data-sort="`)
			p.int(t.FailDays)
			p.raw(`">`)
			p.int(t.FailDays)
			p.raw("</td><td>")
			t.svg(p)
			p.raw("</td></tr>\n")
		}
		p.raw("</tbody></table>\n</section>")
	}
	p.raw("\n")
	if len(v.Notes) > 0 || len(v.Problems) > 0 {
		p.raw("<section id=\"notes\"><h2>Notes</h2><ul>\n")
		for _, n := range v.Notes {
			p.raw("<li>")
			p.text(n)
			p.raw("</li>")
		}
		for _, n := range v.Problems {
			p.raw("<li>problem: ")
			p.text(n)
			p.raw("</li>")
		}
		p.raw("\n</ul></section>")
	}
	p.raw("\n<p class=\"muted\">Generated by iamlens review. This file is self-contained: it loads nothing.</p>\n</main>\n")
}

// row writes one finding's row.
func (v *htmlView) row(p *htmlPage, r htmlRow) {
	p.raw(`<tr class="finding" data-kind="`)
	p.text(r.Kind)
	p.raw("\">\n<td data-sort=\"")
	p.int(r.N)
	p.raw(`">`)
	p.int(r.N)
	p.raw("</td>\n<td data-sort=\"")
	p.int(r.SevRank)
	p.raw(`"><span class="sev `)
	p.text(r.Severity)
	p.raw(`">`)
	p.text(r.Severity)
	p.raw("</span></td>\n<td>")
	p.text(r.Kind)
	p.raw("</td>\n<td data-sort=\"")
	p.text(r.Subject)
	p.raw(`"><b>`)
	p.text(r.Subject)
	p.raw("</b>")
	for _, l := range r.Labels {
		p.raw(`<span class="label">`)
		p.text(l)
		p.raw("</span>")
	}
	p.raw("<br><code>")
	p.text(r.Principal)
	p.raw("</code></td>\n<td data-sort=\"")
	p.text(r.Summary)
	p.raw(`">`)
	p.text(r.Summary)
	p.raw("<br><i>")
	p.text(r.Action)
	p.raw("</i>\n<details><summary>evidence</summary><ul>")
	for _, e := range r.Evidence {
		p.raw("<li>")
		p.text(e)
		p.raw("</li>")
	}
	p.raw("</ul></details></td>\n<td data-sort=\"")
	p.text(r.LastUseSort)
	p.raw(`">`)
	p.text(r.LastUse)
	p.raw("</td>\n<td data-sort=\"")
	p.text(r.FirstClue)
	p.raw(`">`)
	if len(r.Clues) > 0 {
		p.raw("<details><summary>")
		p.text(r.FirstClue)
		p.raw("</summary><ul>")
		for _, c := range r.Clues {
			p.raw("<li>")
			p.text(c)
			p.raw("</li>")
		}
		p.raw("</ul></details>")
	} else {
		p.raw(`<span class="muted">none</span>`)
	}
	p.raw("</td>\n<td>")
	if t := r.Timeline; t != nil {
		p.raw(`<a href="#`)
		p.text(t.Anchor)
		p.raw(`">`)
		t.svg(p)
		p.raw("</a>")
	}
	p.raw("</td>\n</tr>\n")
}

// svg writes the timeline's picture.
func (t *htmlTimeline) svg(p *htmlPage) {
	p.raw(`<svg class="tl" width="`)
	p.int(t.Width)
	p.raw(`" height="14" viewBox="0 0 `)
	p.int(t.Width)
	p.raw(` 14" role="img" aria-label="`)
	p.text(t.Label)
	p.raw(": ")
	p.int(t.OKDays)
	p.raw(" days with successful calls, ")
	p.int(t.FailDays)
	p.raw(` with only failures">`)
	for _, r := range t.Rects {
		p.raw(`<rect class="`)
		p.text(r.Class)
		p.raw(`" x="`)
		p.text(r.X)
		p.raw(`" y="0" width="`)
		p.text(r.W)
		p.raw(`" height="14"><title>`)
		p.text(r.Title)
		p.raw("</title></rect>")
	}
	p.raw("</svg>")
}

// lastUse is the finding's best last-use date.
func lastUse(f *Finding) time.Time {
	e := &f.Evidence
	t := e.LastUsed
	for _, x := range []time.Time{e.PasswordLastUsed, e.KeyLastUsed, e.RoleLastUsed, e.LogsLastCall} {
		t = maxTime(t, x)
	}
	return t
}

// timeline draws a subject's days between from and to (midnights, UTC).
func timeline(t Timeline, from, to time.Time) *htmlTimeline {
	ht := &htmlTimeline{Label: t.Label, Width: timelineWidth}
	total := to.Sub(from)/day + 1
	w := float64(timelineWidth) / float64(total)
	for _, d := range t.Days {
		dt, err := time.Parse(time.DateOnly, d.Date)
		if err != nil || dt.Before(from) || dt.After(to) {
			continue
		}
		class, title := "ok", fmt.Sprintf("%s: %d successful, %d failed or denied", d.Date, d.OK, d.Failures)
		if d.OK > 0 {
			ht.OKDays++
		} else if d.Failures > 0 {
			class = "fail"
			ht.FailDays++
		} else {
			continue
		}
		x := float64(dt.Sub(from)/day) * w
		ht.Rects = append(ht.Rects, htmlRect{X: num(x), W: num(math.Max(w, 1)), Class: class, Title: title})
	}
	return ht
}

func num(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-0" {
		return "0"
	}
	return s
}
