package cis

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// Checks returns every check, in a fixed order.
func Checks() []Check {
	var out []Check
	out = append(out, iamChecks()...)
	out = append(out, loggingChecks()...)
	out = append(out, monitorChecks()...)
	out = append(out, networkChecks()...)
	return out
}

// Options tune Evaluate. The zero value evaluates CIS v3.0.0, both levels,
// at time.Now.
type Options struct {
	Benchmark Benchmark
	// Level 1 keeps level-1 controls only; 0 or 2 keeps all (level 2
	// includes level 1).
	Level int
	// Now is the clock for credential ages and suppression expiry.
	Now func() time.Time
	// Suppressions hide matching findings from the score.
	Suppressions []Suppression
	// Evidence is what the CloudTrail dataset shows, by check ID.
	Evidence map[string]*EventEvidence
	// Notes are added to the report as they are (e.g. evidence unavailable).
	Notes []string
}

// Report is the result of Evaluate.
type Report struct {
	AccountID   string          `json:"accountId"`
	Benchmark   Benchmark       `json:"benchmark"`
	Level       int             `json:"level"`
	GeneratedAt time.Time       `json:"generatedAt"`
	Summary     Summary         `json:"summary"`
	Controls    []ControlResult `json:"controls"`
	Findings    []Finding       `json:"findings"`
	Notes       []string        `json:"notes,omitempty"`
}

// Summary counts controls by status. Score is the share of passing
// controls among those that passed or failed, in percent, as Security Hub
// computes it (manual, not assessable and fully suppressed controls are
// left out); nil when no control passed or failed.
type Summary struct {
	Controls      int      `json:"controls"`
	Pass          int      `json:"pass"`
	Fail          int      `json:"fail"`
	Manual        int      `json:"manual"`
	NotAssessable int      `json:"notAssessable"`
	Suppressed    int      `json:"suppressed"`
	Score         *float64 `json:"score"`
}

// ControlResult is one check's overall status and finding counts.
type ControlResult struct {
	CheckID       string         `json:"checkId"`
	Control       string         `json:"control"`
	Title         string         `json:"title"`
	Section       string         `json:"section"`
	Level         int            `json:"level"`
	Severity      Severity       `json:"severity"`
	Status        Status         `json:"status"`
	Pass          int            `json:"pass"`
	Fail          int            `json:"fail"`
	NotAssessable int            `json:"notAssessable"`
	Suppressed    int            `json:"suppressed"`
	Guidance      string         `json:"guidance,omitempty"`
	Events        *EventEvidence `json:"events,omitempty"`
}

// Evaluate runs the checks of opts.Benchmark over s.
func Evaluate(s *Snapshot, opts Options) (*Report, error) {
	if s == nil {
		return nil, errors.New("no snapshot")
	}
	bench := opts.Benchmark
	if bench == "" {
		bench = V300
	}
	if _, err := ParseBenchmark(string(bench)); err != nil {
		return nil, err
	}
	if opts.Level < 0 || opts.Level > 2 {
		return nil, fmt.Errorf("level %d: want 1 or 2", opts.Level)
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	e := newEnv(s, bench, now)
	rep := &Report{AccountID: s.AccountID, Benchmark: bench, Level: max(opts.Level, 2), GeneratedAt: now.UTC(), Notes: opts.Notes}
	if opts.Level == 1 {
		rep.Level = 1
	}
	for _, sup := range opts.Suppressions {
		if sup.expired(now) {
			rep.Notes = append(rep.Notes, fmt.Sprintf("suppression of %s (%s) expired on %s and no longer applies", sup.CheckID, sup.scope(), sup.Expires))
		}
	}
	for _, c := range Checks() {
		ctl, ok := c.Controls[bench]
		if !ok || (opts.Level == 1 && c.Level > 1) {
			continue
		}
		var fs []Finding
		if c.Manual {
			fs = []Finding{{Status: Manual, Resource: e.rootARN(), Evidence: c.Guidance}}
		} else {
			fs = c.eval(e)
		}
		cr := ControlResult{CheckID: c.ID, Control: ctl, Title: c.Title, Section: c.Section, Level: c.Level, Severity: c.Severity, Guidance: c.Guidance}
		if ev := opts.Evidence[c.ID]; ev != nil {
			cr.Events = ev
		}
		for _, f := range fs {
			f.CheckID, f.Control, f.Title, f.Section, f.Level, f.Severity = c.ID, ctl, c.Title, c.Section, c.Level, c.Severity
			f.Events = cr.Events
			if f.Status == Fail || f.Status == NotAssessable {
				for i := range opts.Suppressions {
					if sup := &opts.Suppressions[i]; sup.matches(&f, s.AccountID, now) {
						cp := *sup
						f.Suppressed = &cp
						break
					}
				}
			}
			switch {
			case f.Suppressed != nil:
				cr.Suppressed++
			case f.Status == Pass:
				cr.Pass++
			case f.Status == Fail:
				cr.Fail++
			case f.Status == NotAssessable:
				cr.NotAssessable++
			}
			rep.Findings = append(rep.Findings, f)
		}
		switch {
		case c.Manual:
			cr.Status = Manual
		case cr.Fail > 0:
			cr.Status = Fail
		case cr.NotAssessable > 0:
			cr.Status = NotAssessable
		case cr.Pass > 0:
			cr.Status = Pass
		default:
			cr.Status = Suppressed
		}
		rep.Controls = append(rep.Controls, cr)
	}
	sort.SliceStable(rep.Controls, func(i, j int) bool {
		if c := compareControls(rep.Controls[i].Control, rep.Controls[j].Control); c != 0 {
			return c < 0
		}
		return rep.Controls[i].CheckID < rep.Controls[j].CheckID
	})
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if c := compareControls(a.Control, b.Control); c != 0 {
			return c < 0
		}
		if a.CheckID != b.CheckID {
			return a.CheckID < b.CheckID
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return a.Part < b.Part
	})
	for _, c := range rep.Controls {
		rep.Summary.Controls++
		switch c.Status {
		case Pass:
			rep.Summary.Pass++
		case Fail:
			rep.Summary.Fail++
		case Manual:
			rep.Summary.Manual++
		case NotAssessable:
			rep.Summary.NotAssessable++
		case Suppressed:
			rep.Summary.Suppressed++
		}
	}
	if n := rep.Summary.Pass + rep.Summary.Fail; n > 0 {
		score := float64(int(float64(rep.Summary.Pass)*1000/float64(n)+0.5)) / 10
		rep.Summary.Score = &score
	}
	return rep, nil
}

// FailuresAtOrAbove counts the unsuppressed FAIL findings of at least sev.
func (r *Report) FailuresAtOrAbove(sev Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Status == Fail && f.Suppressed == nil && f.Severity >= sev {
			n++
		}
	}
	return n
}

// Suppression accepts a finding: a check ID, a scope (account, region and
// resource; empty means any, and resource may be a path.Match glob), the
// reason, and the day it expires (inclusive; empty never expires).
type Suppression struct {
	CheckID  string `json:"checkId"`
	Account  string `json:"account,omitempty"`
	Region   string `json:"region,omitempty"`
	Resource string `json:"resource,omitempty"`
	Reason   string `json:"reason"`
	Expires  string `json:"expires,omitempty"`
	until    time.Time
}

func (s *Suppression) scope() string {
	var parts []string
	for _, kv := range [][2]string{{"account", s.Account}, {"region", s.Region}, {"resource", s.Resource}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(parts) == 0 {
		return "everywhere"
	}
	return strings.Join(parts, " ")
}

func (s *Suppression) expired(now time.Time) bool {
	return !s.until.IsZero() && now.After(s.until)
}

func (s *Suppression) matches(f *Finding, account string, now time.Time) bool {
	if s.CheckID != f.CheckID || s.expired(now) {
		return false
	}
	if s.Account != "" && s.Account != account {
		return false
	}
	if s.Region != "" && s.Region != f.Region {
		return false
	}
	if s.Resource != "" && s.Resource != f.Resource {
		if ok, _ := path.Match(s.Resource, f.Resource); !ok {
			return false
		}
	}
	return true
}

// ReadSuppressions reads a JSON suppression file: {"suppressions": [...]}
// or a bare list. Each entry needs a known checkId and a reason; expires is
// YYYY-MM-DD (valid through that day, UTC) or RFC 3339.
func ReadSuppressions(r io.Reader) ([]Suppression, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var list []Suppression
	trim := strings.TrimSpace(string(b))
	if strings.HasPrefix(trim, "[") {
		err = json.Unmarshal(b, &list)
	} else {
		var doc struct {
			Suppressions []Suppression `json:"suppressions"`
		}
		err = json.Unmarshal(b, &doc)
		list = doc.Suppressions
	}
	if err != nil {
		return nil, fmt.Errorf("decode suppressions: %w", err)
	}
	known := map[string]bool{}
	for _, c := range Checks() {
		known[c.ID] = true
	}
	for i := range list {
		s := &list[i]
		switch {
		case !known[s.CheckID]:
			return nil, fmt.Errorf("suppression %d: unknown checkId %q", i+1, s.CheckID)
		case strings.TrimSpace(s.Reason) == "":
			return nil, fmt.Errorf("suppression %d (%s): a reason is required", i+1, s.CheckID)
		case s.Resource != "":
			if _, err := path.Match(s.Resource, ""); err != nil {
				return nil, fmt.Errorf("suppression %d (%s): resource pattern: %w", i+1, s.CheckID, err)
			}
		}
		if s.Expires != "" {
			if t, err := time.Parse("2006-01-02", s.Expires); err == nil {
				s.until = t.Add(24*time.Hour - time.Nanosecond)
			} else if t, err := time.Parse(time.RFC3339, s.Expires); err == nil {
				s.until = t
			} else {
				return nil, fmt.Errorf("suppression %d (%s): expires %q: want YYYY-MM-DD", i+1, s.CheckID, s.Expires)
			}
		}
	}
	return list, nil
}
