package analyzer

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/store"
)

// PrincipalRow is one event as the principal listing needs it
// (store.PrincipalRow: six columns and nothing else).
type PrincipalRow = store.PrincipalRow

// PrincipalSummary is what the dataset says of one principal.
type PrincipalSummary struct {
	// ARN is the principal's stable name (cloudtrail.Principal.ARN); "" for
	// events that name nobody, which are grouped by kind.
	ARN  string `json:"arn"`
	Kind string `json:"kind"`
	// PermissionSet is the Identity Center permission set of an sso-role.
	PermissionSet string    `json:"permission_set,omitempty"`
	Events        int64     `json:"events"`
	Errors        int64     `json:"errors"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
	// PrincipalAccounts are the principal's own accounts (one, except for
	// unnamed groups); Accounts are the accounts it called into.
	PrincipalAccounts []string `json:"principal_accounts"`
	Accounts          []string `json:"accounts"`
	// CrossAccountEvents counts events whose recipient account is not the
	// principal's own (cloudtrail.IsCrossAccount).
	CrossAccountEvents int64 `json:"cross_account_events"`
}

// CrossAccount reports whether the principal called into another account.
func (s *PrincipalSummary) CrossAccount() bool { return s.CrossAccountEvents > 0 }

// PrincipalOptions select the events a PrincipalLister counts. Zero values
// mean "all".
type PrincipalOptions struct {
	// Accounts keeps events whose recipient account (or, when a record has
	// none, principal account) is one of these.
	Accounts []string
	// From and To bound the event time, inclusive.
	From, To time.Time
	// Kinds keeps principals of these kinds (cloudtrail.Kind* values).
	Kinds []string

	// Source is what ListPrincipals reads (default: the rollup for whole
	// days, the events otherwise).
	Source Source
	// Notice, when set, is told when ListPrincipals builds the rollup of
	// events files written without one, before it reads it.
	Notice func(RollupNotice)
	// Reader, when set, reads the rollup's principal rows in place of the
	// store's files (an engine such as Athena's): the window must be
	// whole days.
	Reader RollupReader
}

// Validate reports an unknown kind.
func (o PrincipalOptions) Validate() error {
	for _, k := range o.Kinds {
		if !slices.Contains(cloudtrail.Kinds, k) {
			return fmt.Errorf("unknown principal kind %q (want one of %s)", k, strings.Join(cloudtrail.Kinds, ", "))
		}
	}
	return nil
}

// PrincipalLister aggregates PrincipalRows into one PrincipalSummary per
// principal. Memory is O(principals × accounts), not O(events). It is not
// safe for concurrent use.
type PrincipalLister struct {
	opts PrincipalOptions
	from int64
	to   int64
	by   map[principalKey]*principalAgg
}

type principalKey struct{ arn, kind string }

type principalAgg struct {
	sum        PrincipalSummary
	first      int64
	last       int64
	own, calls map[string]struct{}
}

// NewPrincipalLister returns an empty lister.
func NewPrincipalLister(opts PrincipalOptions) *PrincipalLister {
	l := &PrincipalLister{opts: opts, from: minInt64, to: maxInt64, by: map[principalKey]*principalAgg{}}
	if !opts.From.IsZero() {
		l.from = opts.From.UnixMilli()
	}
	if !opts.To.IsZero() {
		l.to = opts.To.UnixMilli()
	}
	return l
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

// Add counts rows that the options select. It copies what it keeps, so the
// caller may reuse rows (store.Scan does).
func (l *PrincipalLister) Add(rows []PrincipalRow) {
	for i := range rows {
		r := &rows[i]
		if r.EventTime < l.from || r.EventTime > l.to || !l.selects(r.PrincipalKind, r.RecipientAccount, r.PrincipalAccount) {
			continue
		}
		a := l.agg(r.PrincipalARN, r.PrincipalKind, r.EventTime)
		a.sum.Events++
		if r.ErrorCode != "" {
			a.sum.Errors++
		}
		a.first = min(a.first, r.EventTime)
		a.last = max(a.last, r.EventTime)
		if r.PrincipalAccount != "" {
			addKey(a.own, r.PrincipalAccount)
		}
		if r.RecipientAccount != "" {
			addKey(a.calls, r.RecipientAccount)
		}
		if cloudtrail.IsCrossAccount(r.PrincipalAccount, r.RecipientAccount) {
			a.sum.CrossAccountEvents++
		}
	}
}

// selects reports whether the options keep a call of a principal of kind
// into recipient (by principal, when the record names no recipient).
func (l *PrincipalLister) selects(kind, recipient, principal string) bool {
	if len(l.opts.Kinds) > 0 && !slices.Contains(l.opts.Kinds, kind) {
		return false
	}
	if recipient == "" {
		recipient = principal
	}
	return len(l.opts.Accounts) == 0 || slices.Contains(l.opts.Accounts, recipient)
}

// agg returns the principal's aggregate, making it (first seen at t) when
// it is new.
func (l *PrincipalLister) agg(arn, kind string, t int64) *principalAgg {
	a := l.by[principalKey{arn, kind}]
	if a == nil {
		a = &principalAgg{
			sum:   PrincipalSummary{ARN: strings.Clone(arn), Kind: strings.Clone(kind)},
			first: t, last: t,
			own: map[string]struct{}{}, calls: map[string]struct{}{},
		}
		if a.sum.Kind == cloudtrail.KindSSORole {
			a.sum.PermissionSet = cloudtrail.PermissionSetName(a.sum.ARN)
		}
		l.by[principalKey{a.sum.ARN, a.sum.Kind}] = a
	}
	return a
}

func addKey(m map[string]struct{}, k string) {
	if _, ok := m[k]; !ok {
		m[strings.Clone(k)] = struct{}{}
	}
}

// Summaries returns one summary per principal, sorted by ARN then kind.
func (l *PrincipalLister) Summaries() []PrincipalSummary {
	out := make([]PrincipalSummary, 0, len(l.by))
	for _, a := range l.by {
		s := a.sum
		s.FirstSeen = time.UnixMilli(a.first).UTC()
		s.LastSeen = time.UnixMilli(a.last).UTC()
		s.PrincipalAccounts = sortedSet(a.own)
		s.Accounts = sortedSet(a.calls)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ARN != out[j].ARN {
			return out[i].ARN < out[j].ARN
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

func sortedSet(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Principal sort orders for SortPrincipals.
const (
	SortPrincipalsByARN      = "arn"
	SortPrincipalsByEvents   = "events"    // most events first
	SortPrincipalsByLastSeen = "last-seen" // most recent first
)

// SortPrincipals orders summaries in place; ties keep ARN order.
func SortPrincipals(s []PrincipalSummary, by string) error {
	var less func(a, b *PrincipalSummary) int
	switch by {
	case SortPrincipalsByARN, "":
		less = func(a, b *PrincipalSummary) int { return 0 }
	case SortPrincipalsByEvents:
		less = func(a, b *PrincipalSummary) int { return -cmpInt64(a.Events, b.Events) }
	case SortPrincipalsByLastSeen:
		less = func(a, b *PrincipalSummary) int { return -a.LastSeen.Compare(b.LastSeen) }
	default:
		return fmt.Errorf("unknown sort order %q (want arn, events or last-seen)", by)
	}
	slices.SortStableFunc(s, func(a, b PrincipalSummary) int {
		if c := less(&a, &b); c != 0 {
			return c
		}
		if c := strings.Compare(a.ARN, b.ARN); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
