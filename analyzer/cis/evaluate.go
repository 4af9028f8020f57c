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

// Checks returns every check, in a fixed order, with its controls.
func Checks() []Check {
	var out []Check
	out = append(out, iamChecks()...)
	out = append(out, storageChecks()...)
	out = append(out, loggingChecks()...)
	out = append(out, monitorChecks()...)
	out = append(out, networkChecks()...)
	for i := range out {
		out[i].Controls = crosswalk[out[i].ID]
	}
	return out
}

// Options tune Evaluate. The zero value evaluates CIS v3.0.0, both levels,
// at the snapshot's collectedAt.
type Options struct {
	Benchmark Benchmark
	// Level 1 keeps level-1 controls only; 0 or 2 keeps all (level 2
	// includes level 1). The level is the one the benchmark version gives
	// the control.
	Level int
	// At is the time the snapshot is judged at: every age (key rotation,
	// unused credentials, root use, log delivery, certificate expiry) and
	// the expiry of suppressions and policies are measured against it.
	// Zero means the snapshot's collectedAt, so a snapshot gives the same
	// report whenever it is evaluated; a snapshot without collectedAt is
	// judged at Now() and the report says so.
	At time.Time
	// AtSource says where At came from, for the report: TimeAt (a user's
	// --at, the default when At is set) or TimeNow (a live read, judged at
	// the wall clock).
	AtSource string
	// Now is the wall clock, read only when neither At nor the snapshot's
	// collectedAt gives a time. Default time.Now.
	Now func() time.Time
	// Suppressions hide matching findings from the score.
	Suppressions []Suppression
	// Policy sets, per control, track / notify / ignore; its suppressions
	// are added to Suppressions.
	Policy *Policy
	// Evidence is what the CloudTrail dataset shows, by check ID.
	Evidence map[string]*EventEvidence
	// Notes are added to the report as they are (e.g. evidence unavailable).
	Notes []string
}

// Where the evaluation time of a report came from (Report.TimeBasis).
const (
	TimeCollectedAt = "collectedAt"
	TimeAt          = "at"
	TimeNow         = "now"
)

// Report is the result of Evaluate.
type Report struct {
	AccountID   string    `json:"accountId"`
	AccountName string    `json:"accountName,omitempty"`
	Benchmark   Benchmark `json:"benchmark"`
	Level       int       `json:"level"`
	// EvaluatedAt is the time the snapshot was judged at, and TimeBasis
	// where it came from: "collectedAt" (the snapshot's), "at" (--at) or
	// "now" (a live read, or a snapshot without collectedAt).
	EvaluatedAt time.Time       `json:"evaluatedAt"`
	TimeBasis   string          `json:"timeBasis"`
	CollectedAt time.Time       `json:"collectedAt,omitzero"`
	Summary     Summary         `json:"summary"`
	Controls    []ControlResult `json:"controls"`
	Findings    []Finding       `json:"findings"`
	Notes       []string        `json:"notes,omitempty"`
}

// Summary counts controls by status. Score is the share of passing
// controls among those that passed or failed, in percent, as Security Hub
// computes it (manual, not assessable, fully suppressed and ignored
// controls are left out); nil when no control passed or failed.
type Summary struct {
	Controls      int      `json:"controls"`
	Pass          int      `json:"pass"`
	Fail          int      `json:"fail"`
	Manual        int      `json:"manual"`
	NotAssessable int      `json:"notAssessable"`
	Suppressed    int      `json:"suppressed"`
	Ignored       int      `json:"ignored"`
	Score         *float64 `json:"score"`
}

// ControlResult is one check's overall status and finding counts.
type ControlResult struct {
	CheckID       string   `json:"checkId"`
	Control       string   `json:"control"`
	Title         string   `json:"title"`
	Section       string   `json:"section"`
	Level         int      `json:"level"`
	Severity      Severity `json:"severity"`
	Status        Status   `json:"status"`
	Pass          int      `json:"pass"`
	Fail          int      `json:"fail"`
	NotAssessable int      `json:"notAssessable"`
	Suppressed    int      `json:"suppressed"`
	// Action is the policy's word for the control: notify (the default),
	// track (counted, never notified) or ignore (left out of the score).
	Action   string         `json:"action"`
	Guidance string         `json:"guidance,omitempty"`
	Events   *EventEvidence `json:"events,omitempty"`
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
	now, basis := opts.At, opts.AtSource
	switch {
	case !now.IsZero():
		if basis == "" {
			basis = TimeAt
		}
	case !s.CollectedAt.IsZero():
		now, basis = s.CollectedAt.Time, TimeCollectedAt
	default:
		now, basis = time.Now(), TimeNow
		if opts.Now != nil {
			now = opts.Now()
		}
	}
	now = now.UTC()
	e := newEnv(s, bench, now)
	rep := &Report{AccountID: s.AccountID, AccountName: s.AccountName, Benchmark: bench, Level: max(opts.Level, 2), EvaluatedAt: now, TimeBasis: basis,
		CollectedAt: s.CollectedAt.UTC(), Notes: append([]string(nil), opts.Notes...)}
	if opts.Level == 1 {
		rep.Level = 1
	}
	if basis == TimeNow && s.CollectedAt.IsZero() {
		rep.Notes = append(rep.Notes, "the snapshot has no collectedAt: judged at the wall clock, "+now.Format(time.RFC3339))
	}
	sups := opts.Suppressions
	if opts.Policy != nil {
		if opts.Policy.Accounts[s.AccountID] != "" && rep.AccountName == "" {
			rep.AccountName = opts.Policy.Accounts[s.AccountID]
		}
		sups = append(append([]Suppression(nil), sups...), opts.Policy.suppressions()...)
		rep.Notes = append(rep.Notes, opts.Policy.expiredNotes(now)...)
	}
	for _, sup := range sups {
		if sup.expired(now) {
			rep.Notes = append(rep.Notes, fmt.Sprintf("suppression of %s (%s) expired on %s and no longer applies", sup.CheckID, sup.scope(), sup.Expires))
		}
	}
	for _, c := range Checks() {
		ctl, ok := c.Controls[bench]
		if !ok || (opts.Level == 1 && ctl.Level > 1) {
			continue
		}
		e.ctl = ctl
		var fs []Finding
		if c.Manual {
			fs = []Finding{{Status: Manual, Resource: e.rootARN(), Evidence: c.Guidance}}
		} else {
			fs = c.eval(e)
		}
		cr := ControlResult{CheckID: c.ID, Control: ctl.ID, Title: ctl.Title, Section: c.Section, Level: ctl.Level, Severity: c.Severity, Guidance: c.Guidance,
			Action: opts.Policy.action(c.ID, now)}
		if ev := opts.Evidence[c.ID]; ev != nil {
			cr.Events = ev
		}
		for _, f := range fs {
			f.CheckID, f.Control, f.Title, f.Section, f.Level, f.Severity = c.ID, ctl.ID, ctl.Title, c.Section, ctl.Level, c.Severity
			f.Events = cr.Events
			if (f.Status == Fail || f.Status == NotAssessable) && cr.Action == ActionIgnore {
				reason, until := opts.Policy.ignoreReason(c.ID)
				f.Suppressed = &Suppression{CheckID: c.ID, Reason: "ignored by policy: " + reason, Expires: until}
			}
			if (f.Status == Fail || f.Status == NotAssessable) && f.Suppressed == nil {
				for i := range sups {
					if sup := &sups[i]; sup.matches(&f, s.AccountID, now) {
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
		case cr.Action == ActionIgnore:
			cr.Status = Ignored
			reason, until := opts.Policy.ignoreReason(c.ID)
			cr.Guidance = strings.TrimSpace(fmt.Sprintf("ignored by policy until %s: %s. %s", until, reason, cr.Guidance))
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
		case Ignored:
			rep.Summary.Ignored++
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
