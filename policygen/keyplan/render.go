package keyplan

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iamlens/iamlens/analyzer/review"
)

// Formats are the plan formats Render writes.
var Formats = []string{"json", "csv", "ics", "markdown"}

// Render writes the plan in format (one of Formats). now stamps the
// calendar's DTSTAMP.
func Render(w io.Writer, p *Plan, format string, now time.Time) error {
	switch format {
	case "json", "":
		return WriteJSON(w, p)
	case "csv":
		return WriteCSV(w, p)
	case "ics":
		return WriteICS(w, p, now)
	case "markdown":
		return WriteMarkdown(w, p)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteJSON writes the plan: the contract `keys apply` reads.
func WriteJSON(w io.Writer, p *Plan) error { return writeJSON(w, p) }

// ReviewDocument is the review's JSON: the report and the schedule its
// findings lead to, in one document.
type ReviewDocument struct {
	*review.Report
	Schedule []KeySchedule `json:"schedule"`
	Skipped  []Skipped     `json:"skipped,omitempty"`
}

// WriteReviewJSON writes the review with its schedule.
func WriteReviewJSON(w io.Writer, rep *review.Report, p *Plan) error {
	d := ReviewDocument{Report: rep, Schedule: []KeySchedule{}}
	if p != nil {
		d.Schedule, d.Skipped = p.Schedule, p.Skipped
	}
	return writeJSON(w, d)
}

// CSVColumns is the CSV header: one row per step.
var CSVColumns = []string{"access_key_id", "user", "reason", "stage", "action", "at", "command", "rollback", "title"}

// WriteCSV writes one row per step.
func WriteCSV(w io.Writer, p *Plan) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	for _, ks := range p.Schedule {
		for _, s := range ks.Stages {
			if err := cw.Write([]string{ks.AccessKeyID, csvSafe(ks.User), ks.Reason, fmt.Sprint(s.Stage), s.Action,
				s.At.UTC().Format(time.RFC3339), s.Command, s.Rollback, s.Title}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteMarkdown writes the plan for a ticket.
func WriteMarkdown(w io.Writer, p *Plan) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "# Staged access-key retirement")
	if p.Account != "" {
		fmt.Fprintf(b, ": account %s", p.Account)
	}
	fmt.Fprintf(b, "\n\nPlan made %s; times in UTC (weekends reckoned in %s). %d keys to retire.\n\n", p.CreatedAt.UTC().Format(time.RFC3339), p.Timezone, len(p.Schedule))
	fmt.Fprintf(b, "Each key is deactivated for 10 minutes, then for a day, then for 30 days, and deleted if nobody complained. "+
		"A key used since the plan was made stops its plan (`iamlens keys apply` checks before every step). "+
		"If anything breaks while a key is off, run the step's rollback.\n")
	for _, ks := range p.Schedule {
		fmt.Fprintf(b, "\n## %s (user %s)\n\n", ks.AccessKeyID, mdText(ks.User))
		fmt.Fprintf(b, "Why: %s: %s.\n\n", ks.Reason, mdText(ks.Summary))
		fmt.Fprintf(b, "Stops if: %s.\n\n", StopReason(ks))
		fmt.Fprintf(b, "| Stage | When (UTC) | Action | Command | Rollback |\n|---:|---|---|---|---|\n")
		for _, s := range ks.Stages {
			rb := s.Rollback
			if rb != "" && !strings.HasPrefix(rb, "none") {
				rb = "`" + rb + "`"
			}
			fmt.Fprintf(b, "| %d | %s | %s | `%s` | %s |\n", s.Stage, s.At.UTC().Format("2006-01-02 15:04 Mon"), s.Action, s.Command, rb)
		}
		fmt.Fprintf(b, "\nWhile the key is off, watch: %s.\n", ks.Stages[0].Watch)
	}
	if len(p.Skipped) > 0 {
		fmt.Fprintf(b, "\n## Not planned\n\n")
		for _, s := range p.Skipped {
			id := s.AccessKeyID
			if id == "" {
				id = "(no ID)"
			}
			fmt.Fprintf(b, "- %s of %s (%s): %s\n", id, mdText(s.User), s.Kind, mdText(s.Reason))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// StopReason says what stops the key's plan.
func StopReason(ks KeySchedule) string {
	if ks.StopOn == StopOnSuccess {
		return "a successful call of the key after the plan was made (its calls already fail, so its last-used date keeps moving)"
	}
	if ks.LastUsed.IsZero() {
		return "any use of the key (it was never used)"
	}
	return "any use of the key after " + ks.LastUsed.UTC().Format(time.RFC3339) + " (IAM's last-used date)"
}

func mdText(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]", "|", "\\|", "\n", " ")
	return r.Replace(s)
}

// WriteICS writes an iCalendar file (RFC 5545) with one event per stage
// of each key: stage 1 to 3 last while the key is off, stage 4 (delete)
// half an hour. now stamps DTSTAMP; UIDs are stable, so importing a newer
// plan updates the events.
func WriteICS(w io.Writer, p *Plan, now time.Time) error {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//iamlens//key plan//EN")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + icsText("iamlens key retirement "+p.Account))
	stamp := icsTime(now)
	for _, ks := range p.Schedule {
		for _, st := range stageEvents(ks) {
			line("BEGIN:VEVENT")
			line("UID:" + fmt.Sprintf("%s-stage%d@iamlens", ks.AccessKeyID, st.stage))
			line("DTSTAMP:" + stamp)
			line("DTSTART:" + icsTime(st.start))
			line("DTEND:" + icsTime(st.end))
			line("SUMMARY:" + icsText(st.summary))
			line("DESCRIPTION:" + icsText(st.description))
			line("CATEGORIES:IAMLENS,ACCESS-KEY")
			line("TRANSP:TRANSPARENT")
			line("END:VEVENT")
		}
	}
	line("END:VCALENDAR")
	_, err := io.WriteString(w, b.String())
	return err
}

type stageEvent struct {
	stage                int
	start, end           time.Time
	summary, description string
}

// stageEvents groups a key's steps into one event per stage.
func stageEvents(ks KeySchedule) []stageEvent {
	var out []stageEvent
	for i, s := range ks.Stages {
		if s.Action == Reactivate {
			continue
		}
		ev := stageEvent{stage: s.Stage, start: s.At, end: s.At.Add(30 * time.Minute)}
		var d strings.Builder
		fmt.Fprintf(&d, "Key %s of user %s (%s: %s).\n", ks.AccessKeyID, ks.User, ks.Reason, ks.Summary)
		fmt.Fprintf(&d, "%s at %s UTC:\n%s\n", upperFirst(s.Action), s.At.UTC().Format("2006-01-02 15:04"), s.Command)
		if i+1 < len(ks.Stages) && ks.Stages[i+1].Action == Reactivate && ks.Stages[i+1].Stage == s.Stage {
			on := ks.Stages[i+1]
			ev.end = on.At
			fmt.Fprintf(&d, "Reactivate at %s UTC:\n%s\n", on.At.UTC().Format("2006-01-02 15:04"), on.Command)
		} else if s.Action == Deactivate {
			for _, n := range ks.Stages[i+1:] {
				if n.Action == Delete {
					ev.end = n.At
					break
				}
			}
		}
		if s.Rollback != "" {
			fmt.Fprintf(&d, "Rollback: %s\n", s.Rollback)
		}
		if s.Watch != "" {
			fmt.Fprintf(&d, "Watch: %s\n", s.Watch)
		}
		fmt.Fprintf(&d, "Or run: iamlens keys apply PLAN.json --stage %d --yes", s.Stage)
		ev.summary = fmt.Sprintf("%s (%s): %s", ks.AccessKeyID, ks.User, s.Title)
		ev.description = d.String()
		out = append(out, ev)
	}
	return out
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsText escapes a TEXT value (RFC 5545 3.3.11).
func icsText(s string) string {
	r := strings.NewReplacer("\\", "\\\\", ";", "\\;", ",", "\\,", "\r\n", "\\n", "\n", "\\n", "\r", "\\n")
	return r.Replace(s)
}

// fold ends a content line with CRLF, folding it so that no line is longer
// than 75 octets (RFC 5545 3.1): a fold is CRLF and a space, never inside
// a UTF-8 sequence.
func fold(s string) string {
	var b strings.Builder
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}
