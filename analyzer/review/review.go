package review

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
)

// Finding kinds. The first eight are the JSON contract's; the others are
// added.
const (
	NeverUsedKey          = "never-used-key"
	UnusedKey             = "unused-key"
	StaleKey              = "stale-key"
	FailingOnlyKey        = "failing-only-key"
	PeriodicKey           = "periodic-key"
	UnusedUser            = "unused-user"
	UnusedPassword        = "unused-password"
	UnusedRole            = "unused-role"
	FailingOnlyPrincipal  = "failing-only-principal"
	PeriodicPrincipal     = "periodic-principal"
	UnusedPermissionsKind = "unused-permissions"
)

// Kinds lists the finding kinds in the order reports show them.
var Kinds = []string{NeverUsedKey, UnusedKey, FailingOnlyKey, UnusedPassword, UnusedUser, UnusedRole,
	FailingOnlyPrincipal, StaleKey, UnusedPermissionsKind, PeriodicKey, PeriodicPrincipal}

// Severities, most severe first.
const (
	High   = "high"
	Medium = "medium"
	Low    = "low"
	Info   = "info"
)

// SeverityRank orders severities: high 3, medium 2, low 1, info 0; -1 for
// an unknown name.
func SeverityRank(s string) int {
	switch s {
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	case Info:
		return 0
	}
	return -1
}

// Labels of roles the review never calls unused people.
const (
	LabelServiceLinked  = "service-linked"
	LabelIdentityCenter = "identity-center"
)

// Rules are the numbers behind the findings; DefaultRules gives the
// documented defaults (docs/review.md).
type Rules struct {
	// Window: a key, password, user or role unused for longer is unused.
	Window time.Duration
	// NeverUsedAge: an active key never used is flagged once older.
	NeverUsedAge time.Duration
	// StaleAge: an active key in use and older is stale (CIS 1.2: 90 days).
	StaleAge time.Duration
	// FailingWindow: a key or principal with calls in this span before
	// "now" but no successful one is failing-only.
	FailingWindow time.Duration
	// PeriodicMinDays, PeriodicMinGap and PeriodicGrace: successful calls
	// on at least PeriodicMinDays distinct days, every gap between them at
	// least PeriodicMinGap, and the last no longer ago than the largest
	// gap plus PeriodicGrace make a periodic key or principal.
	PeriodicMinDays int
	PeriodicMinGap  time.Duration
	PeriodicGrace   time.Duration
}

// Day is 24 hours.
const day = 24 * time.Hour

// DefaultRules returns the default rules.
func DefaultRules() Rules {
	return Rules{Window: 90 * day, NeverUsedAge: 30 * day, StaleAge: 90 * day, FailingWindow: 30 * day,
		PeriodicMinDays: 4, PeriodicMinGap: 21 * day, PeriodicGrace: 14 * day}
}

// Validate reports a rule that cannot work.
func (r Rules) Validate() error {
	for name, d := range map[string]time.Duration{"window": r.Window, "never-used age": r.NeverUsedAge,
		"stale age": r.StaleAge, "failing window": r.FailingWindow, "periodic gap": r.PeriodicMinGap} {
		if d <= 0 {
			return fmt.Errorf("the %s must be positive, not %s", name, d)
		}
	}
	if r.PeriodicGrace < 0 {
		return fmt.Errorf("the periodic grace must not be negative")
	}
	if r.PeriodicMinDays < 2 {
		return fmt.Errorf("a period needs at least 2 days of use, not %d", r.PeriodicMinDays)
	}
	return nil
}

// Permissions answers, per principal, the actions its policies grant that
// it did not use: `iamlens diff`'s granted-but-unused answer, so the review
// and the diff agree by construction. It is declared here, where it is
// consumed.
type Permissions interface {
	Unused(ctx context.Context, principalARN string) (*UnusedPermissions, error)
}

// UnusedPermissions is what a principal may do but did not do.
type UnusedPermissions struct {
	// Granted and Used count the catalogue actions granted and used;
	// UnusedCount the others.
	Granted     int `json:"granted"`
	Used        int `json:"used"`
	UnusedCount int `json:"unused"`
	// Actions are the granted actions not used (the first 200, sorted);
	// Services the services of which no granted action was used.
	Actions  []string `json:"actions"`
	Services []string `json:"services"`
	// Unknown lists policies that apply but could not be read: the
	// answer is then not exact.
	Unknown []string `json:"unknown_policies,omitempty"`
}

// Options say what to review.
type Options struct {
	Rules Rules
	// At is "now": the time the state is judged at. The caller picks it:
	// the state's own time (Account.CollectedAt) unless the user says.
	At time.Time
	// Account is the IAM state (nil: the dataset alone, which finds
	// failing-only and periodic keys and principals only).
	Account *iamstate.Account
	// Activity is the dataset's activity (nil: the state alone).
	Activity *Activity
	// Permissions, when set, adds the unused-permissions findings.
	Permissions Permissions
}

// ErrNothingToReview means neither an account state nor a dataset was
// given.
var ErrNothingToReview = errors.New("nothing to review: give the account's IAM state and/or a dataset")

// Review judges the account's users, keys and roles at opts.At.
func Review(ctx context.Context, opts Options) (*Report, error) {
	if opts.Account == nil && opts.Activity == nil {
		return nil, ErrNothingToReview
	}
	if opts.At.IsZero() {
		return nil, errors.New("review: no time to judge at (Options.At)")
	}
	if err := opts.Rules.Validate(); err != nil {
		return nil, err
	}
	rv := &reviewer{opts: opts, at: opts.At.UTC(), act: opts.Activity}
	if rv.act == nil {
		rv.act = &Activity{Principals: map[string]*Subject{}, Keys: map[string]*Subject{}, Touches: map[string]Caller{}}
	}
	rv.index()
	rep := &Report{Format: ReportFormat, At: rv.at, Rules: rulesJSON(opts.Rules), Findings: []Finding{}}
	if a := opts.Account; a != nil {
		rep.Account = a.ID
		rep.Inputs.State = stateInputs(a)
		for _, p := range a.Problems {
			rep.Problems = append(rep.Problems, p.String())
		}
	}
	if opts.Activity != nil {
		rep.Inputs.Dataset = &DatasetInputs{From: opts.Activity.From, To: opts.Activity.To, Events: opts.Activity.Events}
	}
	if opts.Account != nil {
		for _, u := range opts.Account.Users {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			rv.user(u)
		}
		for _, r := range opts.Account.Roles {
			rv.role(r)
		}
	} else {
		rv.logsOnly()
	}
	perms := opts.Permissions
	if perms == nil && opts.Account != nil && opts.Account.Read.AuthorizationDetails && opts.Activity != nil && opts.Activity.Used != nil {
		perms = &StatePermissions{Account: opts.Account, Used: opts.Activity.Used}
	}
	if perms != nil {
		if err := rv.permissions(ctx, perms); err != nil {
			return nil, err
		}
	} else if opts.Account != nil {
		rv.notes = append(rv.notes, "unused permissions: not computed (they need the authorization details and a dataset read with the action mapper)")
	}
	if opts.Activity == nil {
		rv.notes = append(rv.notes, "no dataset: failing-only and periodic use cannot be seen, and owner clues come from the IAM state alone")
	} else if opts.Activity.Events == 0 {
		rv.notes = append(rv.notes, "the dataset holds no event of the account: failing-only and periodic use cannot be seen")
	} else if span := opts.Activity.From; span.After(rv.at.Add(-opts.Rules.Window)) {
		rv.notes = append(rv.notes, fmt.Sprintf("the dataset starts %s, after the window's start %s: the logs cannot confirm non-use before then (IAM's last-used dates still can)",
			span.Format(time.DateOnly), rv.at.Add(-opts.Rules.Window).Format(time.DateOnly)))
	}
	rep.Findings = rv.findings
	rep.Timelines = rv.timelines()
	rep.Notes = rv.notes
	sortFindings(rep.Findings)
	rep.Summary = summarize(rv, rep.Findings)
	return rep, nil
}

type reviewer struct {
	opts     Options
	at       time.Time
	act      *Activity
	findings []Finding
	notes    []string
	// byName finds a principal's activity when the logs name it with
	// another path: "user/NAME" and "role/NAME" of the account.
	byName   map[string]*Subject
	reviewed map[string]timelineRef
}

type timelineRef struct {
	label string
	s     *Subject
}

func (rv *reviewer) index() {
	rv.byName = map[string]*Subject{}
	rv.reviewed = map[string]timelineRef{}
	for arn, s := range rv.act.Principals {
		if k := nameKey(arn); k != "" {
			rv.byName[k] = s
		}
	}
}

// nameKey is "ACCOUNT:user/NAME" or "ACCOUNT:role/NAME" for an IAM user or
// role ARN, with the path dropped; "" otherwise.
func nameKey(s string) string {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "iam" {
		return ""
	}
	res := a.Resource
	kind, _, ok := strings.Cut(res, "/")
	if !ok || (kind != "user" && kind != "role") {
		return ""
	}
	return a.AccountID + ":" + kind + "/" + res[strings.LastIndexByte(res, '/')+1:]
}

func (rv *reviewer) principal(arn string) *Subject {
	if s := rv.act.Principals[arn]; s != nil {
		return s
	}
	if k := nameKey(arn); k != "" {
		return rv.byName[k]
	}
	return nil
}

func (rv *reviewer) add(f Finding) { rv.findings = append(rv.findings, f) }

func (rv *reviewer) since(d time.Duration) time.Time { return rv.at.Add(-d) }

func ageDays(at, t time.Time) int {
	if t.IsZero() {
		return 0
	}
	return int(at.Sub(t) / day)
}

// user reviews a user: its keys, password, and the user as a whole.
func (rv *reviewer) user(u *iamstate.User) {
	a, rules := rv.opts.Account, rv.opts.Rules
	ps := rv.principal(u.ARN)
	base := Finding{Account: a.ID, Principal: u.ARN, PrincipalName: u.Name, User: u.Name}
	rv.reviewed["principal "+u.ARN] = timelineRef{label: "user " + u.Name, s: ps}

	lastKeyUse := time.Time{}
	keyUsedUnknown := false
	failingKeys, periodicKeys, activeKeys := 0, 0, 0
	for i := range u.AccessKeys {
		k := &u.AccessKeys[i]
		ks := (*Subject)(nil)
		if k.ID != "" {
			ks = rv.act.Keys[k.ID]
			rv.reviewed["key "+k.ID] = timelineRef{label: "key " + k.ID + " (" + u.Name + ")", s: ks}
		}
		use := keyUse(a, u, k, ks)
		if use.last.After(lastKeyUse) {
			lastKeyUse = use.last
		}
		if !use.never && use.last.IsZero() {
			keyUsedUnknown = true
		}
		if !k.Active() {
			continue
		}
		activeKeys++
		f := base
		f.AccessKeyID = k.ID
		f.KeySlot = k.ReportSlot
		ev := keyEvidence(rv.at, k, use, ks)
		f.Clues = rv.clues(u.Name, "user/"+u.Name, u.Tags, ks, ps, k)
		per, isPeriodic := rv.periodic(ks)
		fail, isFailing := rv.failing(ks)
		inUse := false
		switch {
		case isPeriodic:
			periodicKeys++
			ev.Period = per
			inUse = true
			f.Kind, f.Severity = PeriodicKey, Info
			f.Summary = fmt.Sprintf("used %s (%d days with successful calls); %s", per.Name, per.DaysUsed, per.next(rv.at))
			f.Action = "keep: never disable a periodic key because its last use is old; confirm its owner"
		case isFailing:
			failingKeys++
			ev.Failing = fail
			f.Kind, f.Severity = FailingOnlyKey, High
			f.Summary = fmt.Sprintf("%s in the last %d days, none successful (%s); \"last used\" says %s", nCalls(fail.Calls), fail.WindowDays, fail.Rate, use.last.Format(time.DateOnly))
			f.Action = "retire with the staged plan: whatever uses it already fails"
		case use.never:
			created := k.Created
			if created.IsZero() {
				created = u.CreateDate
				ev.Notes = append(ev.Notes, "the key's creation date is not in the input; the user's is used")
			}
			if created.IsZero() || rv.at.Sub(created) < rules.NeverUsedAge {
				continue
			}
			f.Kind, f.Severity = NeverUsedKey, High
			f.Summary = fmt.Sprintf("active for %d days and never used", ageDays(rv.at, created))
			f.Action = "retire with the staged plan (prowler and most checks pass a key that was never used)"
		case use.last.IsZero():
			ev.Notes = append(ev.Notes, "the key's last use is unknown (no credential report row, no GetAccessKeyLastUsed, no call in the dataset)")
			inUse = true // unknown: not judged unused
		case rv.at.Sub(use.last) > rules.Window:
			f.Kind, f.Severity = UnusedKey, High
			f.Summary = fmt.Sprintf("last used %s, %d days ago (window %d days)", use.last.Format(time.DateOnly), ageDays(rv.at, use.last), int(rules.Window/day))
			f.Action = "retire with the staged plan"
		default:
			inUse = true
		}
		if f.Kind != "" {
			f.Evidence = ev
			rv.add(f)
		}
		if inUse && !k.Created.IsZero() && rv.at.Sub(k.Created) > rules.StaleAge {
			s := base
			s.AccessKeyID, s.KeySlot = k.ID, k.ReportSlot
			s.Kind, s.Severity = StaleKey, Medium
			s.Summary = fmt.Sprintf("in use and not rotated for %d days (limit %d)", ageDays(rv.at, k.Created), int(rules.StaleAge/day))
			s.Action = "rotate: create a second key, move its users to it, then retire this one"
			s.Evidence = keyEvidence(rv.at, k, use, ks)
			s.Clues = rv.clues(u.Name, "user/"+u.Name, u.Tags, ks, ps, k)
			rv.add(s)
		}
	}

	// The password.
	pwLast := u.PasswordLastUsed
	if ps != nil && ps.LastConsole.After(pwLast) {
		pwLast = ps.LastConsole
	}
	if u.PasswordEnabled {
		pwNever := pwLast.IsZero() && u.Credentials != nil && u.Credentials.PasswordLastUsed.Is(iamstate.NoInformation)
		f := base
		f.Evidence = Evidence{PasswordEnabled: true, PasswordLastUsed: pwLast, UserCreated: u.CreateDate, MFAActive: &u.MFAActive}
		if !pwLast.IsZero() {
			f.Evidence.DaysSinceUse = ageDays(rv.at, pwLast)
		}
		f.Clues = rv.clues(u.Name, "user/"+u.Name, u.Tags, nil, ps, nil)
		switch {
		case pwNever && !u.CreateDate.IsZero() && rv.at.Sub(u.CreateDate) > rules.Window:
			f.Kind, f.Severity = UnusedPassword, High
			f.Summary = fmt.Sprintf("console password never used; user created %s", u.CreateDate.Format(time.DateOnly))
		case !pwLast.IsZero() && rv.at.Sub(pwLast) > rules.Window:
			f.Kind, f.Severity = UnusedPassword, High
			f.Summary = fmt.Sprintf("console password last used %s, %d days ago", pwLast.Format(time.DateOnly), ageDays(rv.at, pwLast))
		}
		if f.Kind != "" {
			f.Action = "remove the console password: aws iam delete-login-profile --user-name " + ShellQuote(u.Name)
			rv.add(f)
		}
	}

	// The user as a whole: no password use and no key use in the window,
	// and nothing in the logs either.
	known := a.Read.CredentialReport || a.Read.UserCredentials
	last := maxTime(pwLast, lastKeyUse)
	if ps != nil {
		last = maxTime(last, ps.Last)
	}
	per, isPeriodic := rv.periodic(ps)
	fail, isFailing := rv.failing(ps)
	switch {
	case isPeriodic && periodicKeys == 0:
		f := base
		f.Kind, f.Severity = PeriodicPrincipal, Info
		f.Evidence = Evidence{Period: per, LogsLastCall: ps.Last}
		f.Summary = fmt.Sprintf("used %s (%d days with successful calls); %s", per.Name, per.DaysUsed, per.next(rv.at))
		f.Action = "keep: never remove a periodic user because its last use is old; confirm its owner"
		f.Clues = rv.clues(u.Name, "user/"+u.Name, u.Tags, nil, ps, nil)
		rv.add(f)
	case isFailing && (failingKeys == 0 || failingKeys < activeKeys):
		f := base
		f.Kind, f.Severity = FailingOnlyPrincipal, Medium
		f.Evidence = Evidence{Failing: fail, LogsLastCall: ps.Last, LogsLastSuccess: ps.LastOK}
		f.Summary = fmt.Sprintf("%s in the last %d days, none successful (%s)", nCalls(fail.Calls), fail.WindowDays, fail.Rate)
		f.Action = "find the caller (clues below) and stop it, or remove the user"
		f.Clues = rv.clues(u.Name, "user/"+u.Name, u.Tags, nil, ps, nil)
		rv.add(f)
	}
	if known && !keyUsedUnknown && !isPeriodic && periodicKeys == 0 && !u.CreateDate.IsZero() &&
		rv.at.Sub(u.CreateDate) > rules.Window && (last.IsZero() || rv.at.Sub(last) > rules.Window) {
		f := base
		f.Kind, f.Severity = UnusedUser, Medium
		f.Evidence = Evidence{UserCreated: u.CreateDate, PasswordEnabled: u.PasswordEnabled, PasswordLastUsed: pwLast,
			KeyLastUsed: lastKeyUse, ActiveKeys: activeKeys, Groups: u.Groups}
		if ps != nil {
			f.Evidence.LogsLastCall = ps.Last
		}
		if last.IsZero() {
			f.Summary = fmt.Sprintf("never used: no sign-in and no key use since it was created %s", u.CreateDate.Format(time.DateOnly))
		} else {
			f.Summary = fmt.Sprintf("no sign-in, no key use and no call for %d days (last %s)", ageDays(rv.at, last), last.Format(time.DateOnly))
			f.Evidence.DaysSinceUse = ageDays(rv.at, last)
		}
		f.Action = "confirm with the owner, then remove the user (after its keys' staged plan)"
		f.Clues = rv.clues(u.Name, "user/"+u.Name, u.Tags, nil, ps, nil)
		rv.add(f)
	}
}

// use is a key's last use as IAM and the logs see it.
type use struct {
	last   time.Time // IAM's date or the last call in the logs, the later
	source string    // where last comes from
	iam    time.Time
	logs   time.Time
	// never: IAM says the key was never used and the logs agree.
	never bool
}

func keyUse(a *iamstate.Account, u *iamstate.User, k *iamstate.AccessKey, ks *Subject) use {
	var x use
	x.iam = k.LastUsed
	if ks != nil {
		x.logs = ks.Last
	}
	switch {
	case x.iam.IsZero() && x.logs.IsZero():
	case x.logs.After(x.iam):
		x.last, x.source = x.logs, "the dataset's last call (denied and failed calls count, as IAM's date does)"
	default:
		x.last, x.source = x.iam, "IAM's last-used date"
	}
	if x.last.IsZero() {
		iamNever := false
		if k.ReportSlot > 0 && u.Credentials != nil && u.Credentials.AccessKeys[k.ReportSlot-1].LastUsedDate.Is(iamstate.NA) {
			iamNever = true // the credential report's N/A: never used
		}
		if k.ID != "" && a.Read.UserCredentials && k.ReportSlot == 0 {
			iamNever = true // GetAccessKeyLastUsed without a date
		}
		x.never = iamNever
	}
	return x
}

func keyEvidence(at time.Time, k *iamstate.AccessKey, u use, ks *Subject) Evidence {
	ev := Evidence{Status: k.Status, Created: k.Created, LastUsed: u.last, LastUsedSource: u.source,
		IAMLastUsed: u.iam, LastUsedService: k.LastUsedService, LastUsedRegion: k.LastUsedRegion}
	if !k.Created.IsZero() {
		ev.AgeDays = ageDays(at, k.Created)
	}
	if !u.last.IsZero() {
		ev.DaysSinceUse = ageDays(at, u.last)
	}
	if u.never {
		ev.NeverUsed = true
	}
	if ks != nil {
		ev.LogsFirstCall, ev.LogsLastCall, ev.LogsLastSuccess = ks.First, ks.Last, ks.LastOK
		ev.LogsCalls, ev.LogsSuccessful = ks.Calls, ks.OK
	}
	return ev
}

// role reviews a role.
func (rv *reviewer) role(r *iamstate.Role) {
	rules := rv.opts.Rules
	rs := rv.principal(r.ARN)
	rv.reviewed["principal "+r.ARN] = timelineRef{label: "role " + r.Name, s: rs}
	f := Finding{Account: rv.opts.Account.ID, Principal: r.ARN, PrincipalName: r.Name}
	if r.ServiceLinked {
		f.Labels = append(f.Labels, LabelServiceLinked)
	}
	if r.IdentityCenter {
		f.Labels = append(f.Labels, LabelIdentityCenter)
	}
	f.Clues = rv.clues(r.Name, "role/"+r.Name, r.Tags, nil, rs, nil)
	iamLast := r.LastUsed.LastUsedDate.Time
	ev := Evidence{Created: r.CreateDate, RoleLastUsed: iamLast, RoleLastUsedRegion: r.LastUsed.Region}
	if rs != nil {
		ev.LogsFirstCall, ev.LogsLastCall, ev.LogsLastSuccess = rs.First, rs.Last, rs.LastOK
		ev.LogsCalls, ev.LogsSuccessful = rs.Calls, rs.OK
	}
	if per, ok := rv.periodic(rs); ok {
		f.Kind, f.Severity = PeriodicPrincipal, Info
		ev.Period = per
		f.Summary = fmt.Sprintf("assumed %s (%d days with successful calls); %s", per.Name, per.DaysUsed, per.next(rv.at))
		f.Action = "keep: never remove a periodic role because its last use is old"
		f.Evidence = ev
		rv.add(f)
		return
	}
	if fail, ok := rv.failing(rs); ok {
		f.Kind, f.Severity = FailingOnlyPrincipal, Medium
		ev.Failing = fail
		f.Summary = fmt.Sprintf("%s in the last %d days, none successful (%s)", nCalls(fail.Calls), fail.WindowDays, fail.Rate)
		f.Action = "find the caller (clues below) and fix or stop it"
		if len(f.Labels) > 0 {
			f.Severity = Info
		}
		f.Evidence = ev
		rv.add(f)
		return
	}
	// Unused: IAM's RoleLastUsed (400 days of memory) and the logs agree.
	last := maxTime(iamLast, ev.LogsLastCall)
	if r.CreateDate.IsZero() || rv.at.Sub(r.CreateDate) <= rules.Window {
		return
	}
	if !last.IsZero() && rv.at.Sub(last) <= rules.Window {
		return
	}
	if !rv.opts.Account.Read.AuthorizationDetails {
		return
	}
	f.Kind, f.Severity = UnusedRole, Medium
	if last.IsZero() {
		f.Summary = fmt.Sprintf("not assumed in the last 400 days (IAM) nor in the dataset; created %s", r.CreateDate.Format(time.DateOnly))
	} else {
		f.Summary = fmt.Sprintf("last used %s, %d days ago; IAM and the logs agree", last.Format(time.DateOnly), ageDays(rv.at, last))
		ev.DaysSinceUse = ageDays(rv.at, last)
	}
	f.Action = "confirm with the owner, then delete the role"
	switch {
	case r.ServiceLinked:
		f.Severity = Info
		f.Summary = "service-linked role: " + f.Summary
		f.Action = "none: AWS owns service-linked roles; delete it from the service that created it if that service is no longer used"
	case r.IdentityCenter:
		f.Severity = Info
		f.Summary = "IAM Identity Center role: " + f.Summary
		f.Action = "none here: Identity Center manages this role; review the permission set's assignments there"
	}
	f.Evidence = ev
	rv.add(f)
}

// logsOnly reviews the dataset's IAM users, roles and long-term keys when
// no account state is given: only failing-only and periodic use can be seen.
func (rv *reviewer) logsOnly() {
	ids := make([]string, 0, len(rv.act.Principals))
	for id, s := range rv.act.Principals {
		if s.Kind == cloudtrail.KindIAMUser || s.Kind == cloudtrail.KindRole {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := rv.act.Principals[id]
		name := analyzer.PrincipalName(id)
		rv.reviewed["principal "+id] = timelineRef{label: s.Kind + " " + name, s: s}
		f := Finding{Account: accountOf(id), Principal: id, PrincipalName: name, Clues: rv.clues(name, "", nil, nil, s, nil)}
		if s.Kind == cloudtrail.KindIAMUser {
			f.User = name
		}
		if per, ok := rv.periodic(s); ok {
			f.Kind, f.Severity, f.Evidence = PeriodicPrincipal, Info, Evidence{Period: per, LogsLastCall: s.Last}
			f.Summary = fmt.Sprintf("used %s; %s", per.Name, per.next(rv.at))
			f.Action = "keep"
			rv.add(f)
		} else if fail, ok := rv.failing(s); ok {
			f.Kind, f.Severity, f.Evidence = FailingOnlyPrincipal, Medium, Evidence{Failing: fail, LogsLastCall: s.Last, LogsLastSuccess: s.LastOK}
			f.Summary = fmt.Sprintf("%s in the last %d days, none successful (%s)", nCalls(fail.Calls), fail.WindowDays, fail.Rate)
			f.Action = "find the caller (clues below) and stop it"
			rv.add(f)
		}
	}
	keys := make([]string, 0, len(rv.act.Keys))
	for id := range rv.act.Keys {
		keys = append(keys, id)
	}
	sort.Strings(keys)
	for _, id := range keys {
		ks := rv.act.Keys[id]
		name := analyzer.PrincipalName(ks.Principal)
		rv.reviewed["key "+id] = timelineRef{label: "key " + id + " (" + name + ")", s: ks}
		f := Finding{Account: accountOf(ks.Principal), Principal: ks.Principal, PrincipalName: name, User: name, AccessKeyID: id,
			Clues: rv.clues(name, "", nil, ks, nil, nil)}
		ev := Evidence{LogsFirstCall: ks.First, LogsLastCall: ks.Last, LogsLastSuccess: ks.LastOK, LogsCalls: ks.Calls, LogsSuccessful: ks.OK}
		if per, ok := rv.periodic(ks); ok {
			ev.Period = per
			f.Kind, f.Severity, f.Evidence = PeriodicKey, Info, ev
			f.Summary = fmt.Sprintf("used %s; %s", per.Name, per.next(rv.at))
			f.Action = "keep: never disable a periodic key because its last use is old"
			rv.add(f)
		} else if fail, ok := rv.failing(ks); ok {
			ev.Failing = fail
			f.Kind, f.Severity, f.Evidence = FailingOnlyKey, High, ev
			f.Summary = fmt.Sprintf("%s in the last %d days, none successful (%s)", nCalls(fail.Calls), fail.WindowDays, fail.Rate)
			f.Action = "retire with the staged plan: whatever uses it already fails"
			rv.add(f)
		}
	}
}

func accountOf(s string) string {
	a, _ := arn.Parse(s)
	return a.AccountID
}

// permissions adds the unused-permissions findings of the users and roles
// reviewed.
func (rv *reviewer) permissions(ctx context.Context, perms Permissions) error {
	if rv.opts.Account == nil {
		return nil
	}
	// A principal unused as a whole is a finding already.
	whole := map[string]bool{}
	for _, f := range rv.findings {
		if f.Kind == UnusedUser || f.Kind == UnusedRole {
			whole[f.Principal] = true
		}
	}
	var arns []string
	for _, u := range rv.opts.Account.Users {
		if !whole[u.ARN] {
			arns = append(arns, u.ARN)
		}
	}
	for _, r := range rv.opts.Account.Roles {
		if !r.ServiceLinked && !r.IdentityCenter && !whole[r.ARN] {
			arns = append(arns, r.ARN)
		}
	}
	for _, arn := range arns {
		if err := ctx.Err(); err != nil {
			return err
		}
		up, err := perms.Unused(ctx, arn)
		if err != nil {
			return fmt.Errorf("unused permissions of %s: %w", arn, err)
		}
		if up == nil || up.UnusedCount == 0 {
			continue
		}
		name := analyzer.PrincipalName(arn)
		f := Finding{Kind: UnusedPermissionsKind, Severity: Low, Account: rv.opts.Account.ID, Principal: arn, PrincipalName: name,
			Evidence: Evidence{Unused: up}}
		if rv.opts.Account.UserByARN(arn) != nil {
			f.User = name
		}
		if a := rv.opts.Activity; a != nil && !a.UsedFrom.IsZero() {
			f.Evidence.Notes = append(f.Evidence.Notes, fmt.Sprintf("used: the successful calls from %s to %s", a.UsedFrom.Format(time.DateOnly), a.UsedTo.Format(time.DateOnly)))
		}
		f.Summary = fmt.Sprintf("%d of %d granted actions unused; untouched services: %d", up.UnusedCount, up.Granted, len(up.Services))
		f.Action = "narrow the policies: iamlens diff shows the lines"
		rv.add(f)
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func sortFindings(fs []Finding) {
	order := map[string]int{}
	for i, k := range Kinds {
		order[k] = i
	}
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if ra, rb := SeverityRank(a.Severity), SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if order[a.Kind] != order[b.Kind] {
			return order[a.Kind] < order[b.Kind]
		}
		if a.Principal != b.Principal {
			return a.Principal < b.Principal
		}
		return a.AccessKeyID < b.AccessKeyID
	})
}

// ShellQuote returns s as one shell word: as it is when it holds only
// characters no shell treats specially, else in single quotes. Names come
// from input files: they never become code.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_@%+=:,./-", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

func nCalls(n int64) string {
	if n == 1 {
		return "1 call"
	}
	return fmt.Sprintf("%d calls", n)
}
