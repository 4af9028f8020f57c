package analyzer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

// This file is the analyzer's API over the usage rollup for whole-dataset
// questions (the quarterly review, diff --all, and what comes after them):
//
//   - Activity: per principal and per access key, per UTC day, how many
//     calls succeeded, were denied or failed otherwise, when the first and
//     the last of each were made, the error codes, and the source IPs, user
//     agents and VPC endpoints they came from. "Days with successful
//     calls, days with only failures, first and last success, first and
//     last failure" of every key over a year are SubjectActivity's
//     DaysAllowed, DaysOnlyFailed, Allowed.First/Last and Failures().
//   - ScanCalls: every (principal, day, call) of the rollup, its calls by
//     outcome and the IAM actions and resources it needed (each distinct
//     call mapped once): questions per action and resource, per day.
//   - Analyze with Query.All: one Usage per principal, whose Allowed
//     actions hold calls and first and last use: "for each principal, the
//     actions it used" (diff --all).
//
// All three read the rollup of whole UTC days only (a window's From at
// midnight, its To at a day's last millisecond, or open), build what is
// missing of it first (Notice says so), and cost the rollup's rows in the
// window, not the events'. Single events (who created what, from where)
// stay in the events: store.Scan.

// RollupQuery selects the whole days, accounts and principals that
// Activity and ScanCalls read.
type RollupQuery struct {
	// Accounts keeps calls into these accounts (all when empty).
	Accounts []string
	// From and To bound the days read, inclusive: From at midnight UTC, To
	// at 23:59:59.999 UTC of its day; zero is open.
	From, To time.Time
	// Principals keeps these principal ARNs (exact; all when empty).
	Principals []string
	// Notice, when set, is told when the rollup of events files written
	// without one is built before it is read.
	Notice func(RollupNotice)
	// Reader, when set, reads the rollup in place of the store's files
	// (an engine such as Athena's).
	Reader RollupReader
}

// ReadRollup reads the rollup rows of q's window (and of the facets given;
// all when none), building what is missing of the rollup first, and passes
// them to fn in batches, from one goroutine at a time. The rows and their
// strings are reused after fn returns: fn copies what it keeps. Sums of
// one facet's rows count each event once; rows of different facets must
// not be added up (columns.RollupRow).
func ReadRollup(ctx context.Context, st *store.Store, q RollupQuery, facets []string, fn func([]columns.RollupRow) error) (store.ScanStats, error) {
	if !wholeDays(q.From, q.To) {
		return store.ScanStats{}, errNotWholeDays
	}
	if q.Reader != nil {
		return store.ScanStats{}, q.Reader.ReadRollup(ctx, q, facets, fn)
	}
	files, ok, err := rollupFiles(ctx, st, q.Accounts, q.From, q.To, q.Notice)
	if err != nil {
		return store.ScanStats{}, err
	}
	if !ok {
		return store.ScanStats{}, fmt.Errorf("the usage rollup could not be built")
	}
	var ferr error
	ss, err := scanRollup(ctx, st, files, store.RollupQuery{Facets: facets, Principals: q.Principals}, 0, func(rows []columns.RollupRow) {
		if ferr == nil {
			ferr = fn(rows)
		}
	})
	if err == nil {
		err = ferr
	}
	return ss, err
}

var errNotWholeDays = fmt.Errorf("the usage rollup sums whole days: the window must start and end at a day's bounds (UTC)")

// Tally counts the calls of one outcome and bounds when they were made.
type Tally struct {
	Calls int64     `json:"calls"`
	First time.Time `json:"first,omitzero"` // zero when Calls is 0
	Last  time.Time `json:"last,omitzero"`
}

func (t *Tally) add(calls, first, last int64) {
	if calls == 0 {
		return
	}
	f, l := msTime(first), msTime(last)
	if t.Calls == 0 || f.Before(t.First) {
		t.First = f
	}
	if t.Calls == 0 || l.After(t.Last) {
		t.Last = l
	}
	t.Calls += calls
}

func (t *Tally) merge(o Tally) {
	if o.Calls > 0 {
		t.add(o.Calls, o.First.UnixMilli(), o.Last.UnixMilli())
	}
}

// DayActivity is one UTC day's calls of a principal or an access key.
type DayActivity struct {
	Date    time.Time `json:"date"` // midnight UTC
	Allowed Tally     `json:"allowed"`
	Denied  Tally     `json:"denied"`
	Failed  Tally     `json:"failed"`
}

// Failures are the day's denied and failed calls together.
func (d DayActivity) Failures() Tally {
	t := d.Denied
	t.merge(d.Failed)
	return t
}

// SubjectActivity is what a principal or an access key did in the window.
type SubjectActivity struct {
	// ID is the principal's ARN, or the access key ID.
	ID string `json:"id"`
	// Principal and Kind are the principal's (for a key: the one that
	// made its earliest call, the smaller ARN on a tie; "" and the kind
	// for events that name nobody).
	Principal string `json:"principal"`
	Kind      string `json:"kind"`
	// Allowed, Denied and Failed are the calls over the window by outcome
	// (Outcome: no error code, refused by IAM, failed otherwise).
	Allowed Tally `json:"allowed"`
	Denied  Tally `json:"denied"`
	Failed  Tally `json:"failed"`
	// Days are the days with calls, oldest first.
	Days []DayActivity `json:"days"`
	// ErrorCodes are the failed and denied calls' codes, most frequent
	// first.
	ErrorCodes []Count `json:"error_codes"`
	// SourceIPs, UserAgents and VPCEndpoints are every value the calls came
	// with, most frequent first (for a key: a long-term key's only; the
	// rollup does not keep them per temporary key).
	SourceIPs    []Count `json:"source_ips"`
	UserAgents   []Count `json:"user_agents"`
	VPCEndpoints []Count `json:"vpc_endpoints"`
	// MFACalls counts the calls made with MFA; Console the console
	// sign-ins (principals only).
	MFACalls int64 `json:"mfa_calls,omitempty"`
	Console  Tally `json:"console"`
}

// Calls is every call of the window.
func (s *SubjectActivity) Calls() int64 { return s.Allowed.Calls + s.Denied.Calls + s.Failed.Calls }

// Failures are the denied and failed calls together.
func (s *SubjectActivity) Failures() Tally {
	t := s.Denied
	t.merge(s.Failed)
	return t
}

// DaysAllowed counts the days with a successful call.
func (s *SubjectActivity) DaysAllowed() int {
	n := 0
	for _, d := range s.Days {
		if d.Allowed.Calls > 0 {
			n++
		}
	}
	return n
}

// DaysOnlyFailed counts the days with calls and none successful.
func (s *SubjectActivity) DaysOnlyFailed() int {
	n := 0
	for _, d := range s.Days {
		if d.Allowed.Calls == 0 {
			n++
		}
	}
	return n
}

// ActivityReport is Activity's answer.
type ActivityReport struct {
	// Principals are sorted by ARN, then kind; events that name no
	// principal are grouped by kind under the ID "".
	Principals []*SubjectActivity `json:"principals"`
	// Keys are every access key ID seen, sorted.
	Keys []*SubjectActivity `json:"keys"`
}

// Activity reads the rollup of q's window once and returns, for every
// principal and every access key, its calls by outcome and day, error
// codes and origins (see SubjectActivity). Memory is O(subjects × active
// days + distinct values), not O(events).
func Activity(ctx context.Context, st *store.Store, q RollupQuery) (*ActivityReport, error) {
	a := &activityAgg{principals: map[[2]string]*subjectAgg{}, keys: map[string]*subjectAgg{}}
	facets := []string{columns.FacetCall, columns.FacetOrigin, columns.FacetAccessKey}
	if _, err := ReadRollup(ctx, st, q, facets, func(rows []columns.RollupRow) error {
		a.add(rows, q.Accounts)
		return nil
	}); err != nil {
		return nil, err
	}
	return a.report(), nil
}

type activityAgg struct {
	principals map[[2]string]*subjectAgg // by ARN and kind
	keys       map[string]*subjectAgg
}

type subjectAgg struct {
	s                         SubjectActivity
	days                      map[int64]*DayActivity
	codes, ips, agents, vpces map[string]int64
	// at is, for a key, the time of the row whose principal it names.
	at int64
}

func newSubject(id, principal, kind string) *subjectAgg {
	return &subjectAgg{s: SubjectActivity{ID: strings.Clone(id), Principal: strings.Clone(principal), Kind: strings.Clone(kind)},
		days: map[int64]*DayActivity{}, codes: map[string]int64{}, ips: map[string]int64{}, agents: map[string]int64{}, vpces: map[string]int64{}}
}

// count adds calls of an outcome (and error code) to the subject and its
// day.
func (g *subjectAgg) count(r *columns.RollupRow, outcome, code string) {
	day := floorDiv(r.FirstSeen, 86_400_000)
	d := g.days[day]
	if d == nil {
		d = &DayActivity{Date: msTime(day * 86_400_000)}
		g.days[day] = d
	}
	switch outcome {
	case cloudtrail.OutcomeAllowed:
		g.s.Allowed.add(r.Calls, r.FirstSeen, r.LastSeen)
		d.Allowed.add(r.Calls, r.FirstSeen, r.LastSeen)
	case cloudtrail.OutcomeDenied:
		g.s.Denied.add(r.Calls, r.FirstSeen, r.LastSeen)
		d.Denied.add(r.Calls, r.FirstSeen, r.LastSeen)
	default:
		g.s.Failed.add(r.Calls, r.FirstSeen, r.LastSeen)
		d.Failed.add(r.Calls, r.FirstSeen, r.LastSeen)
	}
	incBy(g.codes, code, r.Calls)
}

func (g *subjectAgg) profile(r *columns.RollupRow) {
	incBy(g.ips, r.SourceIP, r.Calls)
	incBy(g.agents, r.UserAgent, r.Calls)
	incBy(g.vpces, r.VPCEndpointID, r.Calls)
}

func (a *activityAgg) add(rows []columns.RollupRow, accounts []string) {
	for i := range rows {
		r := &rows[i]
		switch r.Facet {
		case columns.FacetCall:
			if len(accounts) > 0 {
				acct := r.RecipientAccount
				if acct == "" {
					acct = r.PrincipalAccount
				}
				if !slices.Contains(accounts, acct) {
					continue
				}
			}
			p := a.principal(r)
			out := cloudtrail.OutcomeOf(r.ErrorCode)
			p.count(r, out, r.ErrorCode)
			p.s.MFACalls += r.MFACalls
			if r.EventType == "AwsConsoleSignIn" {
				p.s.Console.add(r.Calls, r.FirstSeen, r.LastSeen)
			}
		case columns.FacetOrigin:
			a.principal(r).profile(r)
			if r.AccessKeyID != "" { // a long-term key
				a.key(r).profile(r)
			}
		case columns.FacetAccessKey:
			k := a.key(r)
			k.count(r, r.Outcome, r.ErrorCode)
			k.s.MFACalls += r.MFACalls
		}
	}
}

// key returns the key's subject. A key names the principal (and kind) of
// its earliest call, ties broken by the smaller ARN, whatever order the
// rollup files are read in.
func (a *activityAgg) key(r *columns.RollupRow) *subjectAgg {
	k := a.keys[r.AccessKeyID]
	if k == nil {
		k = newSubject(r.AccessKeyID, r.PrincipalARN, r.PrincipalKind)
		k.at = r.FirstSeen
		a.keys[k.s.ID] = k
		return k
	}
	if r.FirstSeen < k.at || r.FirstSeen == k.at && (r.PrincipalARN < k.s.Principal || r.PrincipalARN == k.s.Principal && r.PrincipalKind < k.s.Kind) {
		k.at = r.FirstSeen
		if r.PrincipalARN != k.s.Principal {
			k.s.Principal = strings.Clone(r.PrincipalARN)
		}
		if r.PrincipalKind != k.s.Kind {
			k.s.Kind = strings.Clone(r.PrincipalKind)
		}
	}
	return k
}

func (a *activityAgg) principal(r *columns.RollupRow) *subjectAgg {
	p := a.principals[[2]string{r.PrincipalARN, r.PrincipalKind}]
	if p == nil {
		p = newSubject(r.PrincipalARN, r.PrincipalARN, r.PrincipalKind)
		a.principals[[2]string{p.s.ID, p.s.Kind}] = p
	}
	return p
}

func (g *subjectAgg) finish() *SubjectActivity {
	s := &g.s
	for _, d := range g.days {
		s.Days = append(s.Days, *d)
	}
	slices.SortFunc(s.Days, func(x, y DayActivity) int { return x.Date.Compare(y.Date) })
	s.ErrorCodes = TopCounts(g.codes, 0)
	s.SourceIPs = TopCounts(g.ips, 0)
	s.UserAgents = TopCounts(g.agents, 0)
	s.VPCEndpoints = TopCounts(g.vpces, 0)
	return s
}

func (a *activityAgg) report() *ActivityReport {
	out := &ActivityReport{Principals: []*SubjectActivity{}, Keys: []*SubjectActivity{}}
	for _, p := range a.principals {
		if p.s.Calls() > 0 { // profile rows alone: calls outside the accounts asked for
			out.Principals = append(out.Principals, p.finish())
		}
	}
	for _, k := range a.keys {
		if k.s.Calls() > 0 {
			out.Keys = append(out.Keys, k.finish())
		}
	}
	slices.SortFunc(out.Principals, func(x, y *SubjectActivity) int {
		if c := strings.Compare(x.ID, y.ID); c != 0 {
			return c
		}
		return strings.Compare(x.Kind, y.Kind)
	})
	slices.SortFunc(out.Keys, func(x, y *SubjectActivity) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// CallActivity is one principal's calls of one kind on one UTC day, as the
// rollup sums them, and the IAM actions they needed.
type CallActivity struct {
	Principal, Kind string
	Date            time.Time // midnight UTC
	// Call is the call, as the mapper took it (Call.ErrorMessage is kept
	// for denied calls only).
	Call    actionmap.Call
	Outcome Outcome
	// Calls were made between First and Last; MFACalls of them with MFA.
	Calls, MFACalls int64
	First, Last     time.Time
	// Mapping is what the call needed: Status Mapped with Actions (and
	// their Resources), or why not.
	Mapping actionmap.Result
}

// ScanCalls reads the rollup's call rows of q's window and passes each to
// fn with its mapping, from one goroutine at a time. Rows are in no
// particular order, and one principal's call may come in several rows of
// a day (one per events file that holds it): sum them. Each distinct call
// is mapped once. fn must not keep the CallActivity's slices past its
// return.
func ScanCalls(ctx context.Context, st *store.Store, q RollupQuery, m Mapper, fn func(*CallActivity) error) error {
	var mu sync.Mutex
	mapped := map[string]actionmap.Result{}
	agg := NewAggregator(m, nil, nil, time.Time{}, time.Time{}, 0)
	var ca CallActivity
	_, err := ReadRollup(ctx, st, q, []string{columns.FacetCall}, func(rows []columns.RollupRow) error {
		mu.Lock()
		defer mu.Unlock()
		for i := range rows {
			r := &rows[i]
			if len(q.Accounts) > 0 && !agg.inAccounts(r.RecipientAccount, r.PrincipalAccount) {
				continue
			}
			u := agg.usageRow(r)
			outcome := OutcomeOf(r.ErrorCode)
			key := string(agg.callKey(u, outcome))
			res, ok := mapped[key]
			c := CallOf(u)
			if outcome != Denied {
				c.ErrorMessage = ""
			}
			if !ok {
				res = m.Map(&c)
				mapped[key] = res
			}
			ca = CallActivity{Principal: r.PrincipalARN, Kind: r.PrincipalKind, Date: msTime(floorDiv(r.FirstSeen, 86_400_000) * 86_400_000),
				Call: c, Outcome: outcome, Calls: r.Calls, MFACalls: r.MFACalls, First: msTime(r.FirstSeen), Last: msTime(r.LastSeen), Mapping: res}
			if err := fn(&ca); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}
