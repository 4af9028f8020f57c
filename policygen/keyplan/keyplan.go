// Package keyplan turns the review's key findings into a staged
// key-disable plan: deactivate a key for 10 minutes and turn it back on,
// days later for a day, then for 30 days, then delete it, unless somebody
// complained (or the key was used) in between. It writes the plan as JSON
// (the contract `keys apply` reads), CSV, iCalendar and markdown; package
// keyplan/apply carries it out.
package keyplan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/iamlens/iamlens/analyzer/review"
)

// Format names the layout of a plan's JSON.
const Format = "iamlens-key-plan/1"

// Actions of a step.
const (
	Deactivate = "deactivate"
	Reactivate = "reactivate"
	Delete     = "delete"
)

// Use checks: what stops a key's plan.
const (
	// StopOnAnyUse: any use of the key after the plan was made (IAM's
	// last-used date moving past LastUsed) stops its plan.
	StopOnAnyUse = "any-use"
	// StopOnSuccess: the key's calls already fail, so its last-used date
	// keeps moving; only a successful call since the plan was made stops
	// it (the dataset tells, IAM cannot).
	StopOnSuccess = "successful-use"
)

// Plan is a staged key-disable plan.
type Plan struct {
	Format    string    `json:"format"`
	Account   string    `json:"account,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Timezone is where weekends and the default start are reckoned.
	Timezone string `json:"timezone"`
	// Schedule has one entry per key to retire, sorted by start then key.
	Schedule []KeySchedule `json:"schedule"`
	// Skipped lists keys with findings that are not planned, and why.
	Skipped []Skipped `json:"skipped,omitempty"`
	// Findings are the review's findings of the keys planned and skipped.
	Findings []review.Finding `json:"findings"`
}

// KeySchedule is one key's stages.
type KeySchedule struct {
	AccessKeyID string `json:"access_key_id"`
	User        string `json:"user"`
	Principal   string `json:"principal,omitempty"`
	Account     string `json:"account,omitempty"`
	// Reason is the finding kind that retires the key; Summary its
	// summary.
	Reason  string `json:"reason"`
	Summary string `json:"summary"`
	// LastUsed is the key's last use when the plan was made (zero: never
	// used); StopOn says which later use stops the plan.
	LastUsed time.Time `json:"last_used,omitzero"`
	StopOn   string    `json:"stop_on"`
	Stages   []Step    `json:"stages"`
}

// Step is one action of a stage.
type Step struct {
	Stage  int       `json:"stage"`
	Action string    `json:"action"`
	At     time.Time `json:"at"`
	// Command is the exact AWS CLI command; Rollback undoes it.
	Command  string `json:"command"`
	Rollback string `json:"rollback,omitempty"`
	// Title says what the step is for; Watch what to look at until the
	// next step.
	Title string `json:"title"`
	Watch string `json:"watch,omitempty"`
}

// Skipped is a key with a finding that the plan leaves alone.
type Skipped struct {
	AccessKeyID string `json:"access_key_id,omitempty"`
	User        string `json:"user"`
	Kind        string `json:"kind"`
	Reason      string `json:"reason"`
}

// Options shape the plan.
type Options struct {
	// Now is when the plan is made (CreatedAt).
	Now time.Time
	// Start is when stage 1 starts; zero: 10:00 of the next working day
	// after Now, in Location.
	Start time.Time
	// Location reckons weekends and the default start (default UTC).
	Location *time.Location
	// Stage2After is the wait from stage 1 to stage 2 (default 3 days);
	// Stage3After the wait from the end of stage 2 to stage 3 (default 7
	// days).
	Stage2After, Stage3After time.Duration
	// FirstOff, SecondOff and ThirdOff are how long each stage keeps the
	// key off (defaults 10 minutes, 1 day, 30 days); the key is deleted
	// at the end of the third.
	FirstOff, SecondOff, ThirdOff time.Duration
	// Weekends lets stages start on Saturdays and Sundays; by default a
	// stage due then starts on the Monday after, at the same time.
	Weekends bool
	// Kinds are the finding kinds whose keys are retired (default
	// never-used-key, unused-key, failing-only-key).
	Kinds []string
}

// DefaultKinds are the findings whose keys the plan retires.
var DefaultKinds = []string{review.NeverUsedKey, review.UnusedKey, review.FailingOnlyKey}

func (o *Options) defaults() {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Stage2After <= 0 {
		o.Stage2After = 3 * 24 * time.Hour
	}
	if o.Stage3After <= 0 {
		o.Stage3After = 7 * 24 * time.Hour
	}
	if o.FirstOff <= 0 {
		o.FirstOff = 10 * time.Minute
	}
	if o.SecondOff <= 0 {
		o.SecondOff = 24 * time.Hour
	}
	if o.ThirdOff <= 0 {
		o.ThirdOff = 30 * 24 * time.Hour
	}
	if len(o.Kinds) == 0 {
		o.Kinds = DefaultKinds
	}
}

// ErrNoTime means Options.Now is zero.
var ErrNoTime = errors.New("key plan: no time the plan is made at (Options.Now)")

// Build makes the plan of the report's findings. Periodic keys are never
// planned, nor keys without an ID (the credential report alone has none),
// nor inactive keys.
func Build(rep *review.Report, o Options) (*Plan, error) {
	if o.Now.IsZero() {
		return nil, ErrNoTime
	}
	o.defaults()
	p := &Plan{Format: Format, Account: rep.Account, CreatedAt: o.Now.UTC(), Timezone: o.Location.String(), Schedule: []KeySchedule{}}
	periodic := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Kind == review.PeriodicKey && f.AccessKeyID != "" {
			periodic[f.AccessKeyID] = true
		}
	}
	start := o.Start
	if start.IsZero() {
		start = nextWorkingMorning(o.Now, o.Location)
	}
	planned := map[string]bool{}
	p.Findings = []review.Finding{}
	for _, f := range rep.Findings {
		if f.AccessKeyID != "" && (f.Kind == review.PeriodicKey || slices.Contains(o.Kinds, f.Kind)) || f.KeySlot > 0 && slices.Contains(o.Kinds, f.Kind) {
			p.Findings = append(p.Findings, f)
		}
		switch {
		case f.Kind == review.PeriodicKey:
			p.Skipped = append(p.Skipped, Skipped{AccessKeyID: f.AccessKeyID, User: f.User, Kind: f.Kind,
				Reason: "periodic: used " + periodName(f) + "; periodic keys are never planned"})
			continue
		case !slices.Contains(o.Kinds, f.Kind):
			continue
		case f.AccessKeyID == "":
			p.Skipped = append(p.Skipped, Skipped{User: f.User, Kind: f.Kind,
				Reason: fmt.Sprintf("access key %d has no ID in the input (the credential report alone has none): read the state with --live or a snapshot with the users' keys", f.KeySlot)})
			continue
		case periodic[f.AccessKeyID]:
			continue // listed once, as periodic
		case planned[f.AccessKeyID]:
			continue
		}
		planned[f.AccessKeyID] = true
		ks := KeySchedule{AccessKeyID: f.AccessKeyID, User: f.User, Principal: f.Principal, Account: f.Account,
			Reason: f.Kind, Summary: f.Summary, LastUsed: f.Evidence.LastUsed, StopOn: StopOnAnyUse}
		if f.Kind == review.FailingOnlyKey {
			ks.StopOn = StopOnSuccess
		}
		ks.Stages = stages(f.User, f.AccessKeyID, start, o)
		p.Schedule = append(p.Schedule, ks)
	}
	sort.SliceStable(p.Schedule, func(i, j int) bool {
		a, b := p.Schedule[i], p.Schedule[j]
		if !a.Stages[0].At.Equal(b.Stages[0].At) {
			return a.Stages[0].At.Before(b.Stages[0].At)
		}
		return a.AccessKeyID < b.AccessKeyID
	})
	sort.SliceStable(p.Skipped, func(i, j int) bool {
		if p.Skipped[i].User != p.Skipped[j].User {
			return p.Skipped[i].User < p.Skipped[j].User
		}
		return p.Skipped[i].AccessKeyID < p.Skipped[j].AccessKeyID
	})
	return p, nil
}

func periodName(f review.Finding) string {
	if f.Evidence.Period != nil {
		return f.Evidence.Period.Name
	}
	return "periodically"
}

// nextWorkingMorning is 10:00 of the first Monday-to-Friday day after now,
// in loc.
func nextWorkingMorning(now time.Time, loc *time.Location) time.Time {
	t := now.In(loc)
	d := time.Date(t.Year(), t.Month(), t.Day()+1, 10, 0, 0, 0, loc)
	for isWeekend(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func isWeekend(t time.Time) bool {
	wd := t.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// offWeekend moves a start on a Saturday or Sunday (in loc) to the Monday
// after, at the same wall-clock time.
func offWeekend(t time.Time, loc *time.Location, allowed bool) time.Time {
	if allowed {
		return t
	}
	l := t.In(loc)
	for isWeekend(l) {
		l = time.Date(l.Year(), l.Month(), l.Day()+1, l.Hour(), l.Minute(), l.Second(), 0, loc)
	}
	return l
}

// stages lays out a key's steps from start.
func stages(user, key string, start time.Time, o Options) []Step {
	loc := o.Location
	t1 := offWeekend(start, loc, o.Weekends)
	t2 := offWeekend(t1.Add(o.Stage2After), loc, o.Weekends)
	t3 := offWeekend(t2.Add(o.SecondOff).Add(o.Stage3After), loc, o.Weekends)
	t4 := offWeekend(t3.Add(o.ThirdOff), loc, o.Weekends)
	off, on, del := Command(Deactivate, user, key), Command(Reactivate, user, key), Command(Delete, user, key)
	watch := "the key's users' errors (InvalidClientTokenId, \"The security token included in the request is invalid\"), failed CI jobs, alarms, and the team channel; if anything breaks, run the rollback and the plan stops"
	return []Step{
		{Stage: 1, Action: Deactivate, At: t1.UTC(), Command: off, Rollback: on, Title: "stage 1: deactivate for " + human(o.FirstOff), Watch: watch},
		{Stage: 1, Action: Reactivate, At: t1.Add(o.FirstOff).UTC(), Command: on, Title: "stage 1: reactivate"},
		{Stage: 2, Action: Deactivate, At: t2.UTC(), Command: off, Rollback: on, Title: "stage 2: deactivate for " + human(o.SecondOff), Watch: watch},
		{Stage: 2, Action: Reactivate, At: t2.Add(o.SecondOff).UTC(), Command: on, Title: "stage 2: reactivate"},
		{Stage: 3, Action: Deactivate, At: t3.UTC(), Command: off, Rollback: on, Title: "stage 3: deactivate for " + human(o.ThirdOff) + ", then delete", Watch: watch},
		{Stage: 4, Action: Delete, At: t4.UTC(), Command: del,
			Rollback: "none: a deleted key cannot be restored; create a new one with aws iam create-access-key --user-name " + shellQuote(user),
			Title:    "stage 4: delete", Watch: "nothing used the key while it was off for " + human(o.ThirdOff) + ": check once more before deleting"},
	}
}

func human(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
	return d.String()
}

// Command is the AWS CLI command of an action on a user's key.
func Command(action, user, key string) string {
	u, k := shellQuote(user), shellQuote(key)
	switch action {
	case Deactivate:
		return "aws iam update-access-key --user-name " + u + " --access-key-id " + k + " --status Inactive"
	case Reactivate:
		return "aws iam update-access-key --user-name " + u + " --access-key-id " + k + " --status Active"
	case Delete:
		return "aws iam delete-access-key --user-name " + u + " --access-key-id " + k
	}
	return ""
}

// shellQuote quotes names for the commands (review.ShellQuote).
func shellQuote(s string) string { return review.ShellQuote(s) }

// Read reads a plan's JSON (as WriteJSON writes it) and checks it.
func Read(r io.Reader) (*Plan, error) {
	var p Plan
	dec := json.NewDecoder(r)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	if p.Format != Format {
		return nil, fmt.Errorf("plan format %q: this iamlens reads %q", p.Format, Format)
	}
	for i, ks := range p.Schedule {
		if ks.AccessKeyID == "" || ks.User == "" {
			return nil, fmt.Errorf("schedule entry %d: no access key ID or user", i+1)
		}
		if ks.StopOn != StopOnAnyUse && ks.StopOn != StopOnSuccess {
			return nil, fmt.Errorf("%s: stop_on %q (want %s or %s)", ks.AccessKeyID, ks.StopOn, StopOnAnyUse, StopOnSuccess)
		}
		for j, s := range ks.Stages {
			if s.Action != Deactivate && s.Action != Reactivate && s.Action != Delete {
				return nil, fmt.Errorf("%s: step %d: unknown action %q", ks.AccessKeyID, j+1, s.Action)
			}
			if s.At.IsZero() {
				return nil, fmt.Errorf("%s: step %d: no time", ks.AccessKeyID, j+1)
			}
			if j > 0 && s.At.Before(ks.Stages[j-1].At) {
				return nil, fmt.Errorf("%s: step %d is before step %d", ks.AccessKeyID, j+1, j)
			}
		}
	}
	return &p, nil
}

// Due returns the last step of ks at or before now, of stage (any when
// 0); ok is false when none is due.
func (ks *KeySchedule) Due(now time.Time, stage int) (Step, bool) {
	var due Step
	ok := false
	for _, s := range ks.Stages {
		if s.At.After(now) {
			break
		}
		if stage == 0 || s.Stage == stage {
			due, ok = s, true
		}
	}
	return due, ok
}

// Next returns the first step after now.
func (ks *KeySchedule) Next(now time.Time) (Step, bool) {
	for _, s := range ks.Stages {
		if s.At.After(now) {
			return s, true
		}
	}
	return Step{}, false
}
