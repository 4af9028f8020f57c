package review

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

//go:embed assets/report.html
var reportHTML string

var htmlTemplate = template.Must(template.New("report").Parse(reportHTML))

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
	return htmlTemplate.Execute(w, v)
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
