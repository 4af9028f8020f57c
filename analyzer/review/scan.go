package review

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/store"
)

// ActivityRow is one event as the review needs it: analyzer.UsageRow's
// columns (the calls' actions, for the unused permissions) and the session
// name. Its parquet tags name dataset columns, so store.Scan[ActivityRow]
// reads these columns and no others; they match the columns' types and
// optionality in the files.
type ActivityRow struct {
	EventType       string                 `parquet:"event_type,optional"`
	EventCategory   string                 `parquet:"event_category,optional"`
	AWSRegion       string                 `parquet:"aws_region,optional"`
	UserIdentityARN string                 `parquet:"user_identity_arn,optional"`
	ErrorMessage    string                 `parquet:"error_message,optional"`
	Resources       []analyzer.RowResource `parquet:"resources,optional,list"`

	PrincipalARN      string `parquet:"principal_arn,optional"`
	PrincipalKind     string `parquet:"principal_kind,optional"`
	EventTime         int64  `parquet:"event_time,timestamp(millisecond)"` // Unix milliseconds, UTC
	EventSource       string `parquet:"event_source,optional"`
	EventName         string `parquet:"event_name,optional"`
	SourceIP          string `parquet:"source_ip,optional"`
	UserAgent         string `parquet:"user_agent,optional"`
	AccessKeyID       string `parquet:"access_key_id,optional"`
	SessionName       string `parquet:"session_name,optional"`
	PrincipalAccount  string `parquet:"principal_account,optional"`
	RecipientAccount  string `parquet:"recipient_account,optional"`
	MFAAuthenticated  *bool  `parquet:"mfa_authenticated,optional"`
	ErrorCode         string `parquet:"error_code,optional"`
	VPCEndpointID     string `parquet:"vpc_endpoint_id,optional"`
	RequestParameters string `parquet:"request_parameters,optional"`
}

// DatasetUsage is Usage over the events of a dataset: one store.Scan of
// ActivityRow over every partition. Memory is O(principals × active days +
// distinct profile values + distinct calls), not O(events).
type DatasetUsage struct {
	Store *store.Store
	// TopN caps the source IPs, user agents and VPC endpoints kept per
	// subject (default 10).
	TopN int
}

// Activity implements Usage.
func (d *DatasetUsage) Activity(ctx context.Context, q Query) (*Activity, error) {
	agg := NewActivityAggregator(q.Accounts, d.TopN)
	var used *analyzer.Aggregator
	if q.Mapper != nil {
		// The same rows, in the window, give each principal's actions.
		used = analyzer.NewAggregator(q.Mapper, nil, q.Accounts, q.From, q.To, 1)
	}
	var buf []analyzer.UsageRow
	if _, err := store.Scan(ctx, d.Store, store.Query{Accounts: q.Accounts}, func(rows []ActivityRow) error {
		agg.Add(rows)
		if used != nil {
			buf = buf[:0]
			for i := range rows {
				buf = append(buf, rows[i].usageRow())
			}
			used.Add(buf)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	act := agg.Activity()
	if used != nil {
		act.Used = map[string][]string{}
		for _, u := range used.Usages(q.From, q.To) {
			acts := make([]string, 0, len(u.Allowed))
			for _, a := range u.Allowed {
				acts = append(acts, a.Action)
			}
			act.Used[u.Principal] = acts
		}
		act.UsedFrom, act.UsedTo = q.From, q.To
	}
	return act, nil
}

func (r *ActivityRow) usageRow() analyzer.UsageRow {
	return analyzer.UsageRow{PrincipalARN: r.PrincipalARN, PrincipalKind: r.PrincipalKind, EventTime: r.EventTime,
		EventSource: r.EventSource, EventName: r.EventName, EventType: r.EventType, EventCategory: r.EventCategory,
		AWSRegion: r.AWSRegion, SourceIP: r.SourceIP, UserAgent: r.UserAgent, AccessKeyID: r.AccessKeyID,
		PrincipalAccount: r.PrincipalAccount, RecipientAccount: r.RecipientAccount, UserIdentityARN: r.UserIdentityARN,
		MFAAuthenticated: r.MFAAuthenticated, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
		VPCEndpointID: r.VPCEndpointID, RequestParameters: r.RequestParameters, Resources: r.Resources}
}

// ActivityAggregator folds ActivityRows into an Activity. It is not safe
// for concurrent use.
type ActivityAggregator struct {
	accounts   []string
	topN       int
	events     int64
	first      int64
	last       int64
	principals map[string]*subjectAgg
	keys       map[string]*subjectAgg
	creations  []Creation
	touches    map[string]Caller
}

type subjectAgg struct {
	id, kind, principal       string
	calls, ok, denied, failed int64
	first, last               int64
	firstOK, lastOK           int64 // 0: none
	days                      map[int64]*dayAgg
	codes, ips, agents, vpces map[string]int64
	mfa, console, lastConsole int64
}

type dayAgg struct {
	ok, denied, failed                   int64
	firstOK, lastOK, firstFail, lastFail int64
}

// NewActivityAggregator returns an empty aggregator that keeps the events
// of the accounts (all when empty): an event's recipient account, or its
// principal's account when the record has none.
func NewActivityAggregator(accounts []string, topN int) *ActivityAggregator {
	if topN <= 0 {
		topN = 10
	}
	return &ActivityAggregator{accounts: accounts, topN: topN, first: maxInt64, last: minInt64,
		principals: map[string]*subjectAgg{}, keys: map[string]*subjectAgg{}, touches: map[string]Caller{}}
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
	dayMS    = 86_400_000
)

// Add folds rows in. It copies what it keeps, so the caller may reuse rows.
func (a *ActivityAggregator) Add(rows []ActivityRow) {
	for i := range rows {
		r := &rows[i]
		if len(a.accounts) > 0 {
			acct := r.RecipientAccount
			if acct == "" {
				acct = r.PrincipalAccount
			}
			if !slices.Contains(a.accounts, acct) {
				continue
			}
		}
		a.events++
		a.first, a.last = min(a.first, r.EventTime), max(a.last, r.EventTime)
		if r.PrincipalARN != "" {
			a.subject(a.principals, r.PrincipalARN, r.PrincipalKind, "").add(r)
		}
		if strings.HasPrefix(r.AccessKeyID, "AKIA") {
			a.subject(a.keys, r.AccessKeyID, r.PrincipalKind, r.PrincipalARN).add(r)
		}
		if r.EventSource == "iam.amazonaws.com" && r.ErrorCode == "" {
			a.iamCall(r)
		}
	}
}

func (a *ActivityAggregator) subject(m map[string]*subjectAgg, id, kind, principal string) *subjectAgg {
	s := m[id]
	if s == nil {
		s = &subjectAgg{id: strings.Clone(id), kind: strings.Clone(kind), principal: strings.Clone(principal),
			first: maxInt64, last: minInt64, days: map[int64]*dayAgg{},
			codes: map[string]int64{}, ips: map[string]int64{}, agents: map[string]int64{}, vpces: map[string]int64{}}
		m[s.id] = s
	}
	return s
}

func (s *subjectAgg) add(r *ActivityRow) {
	t := r.EventTime
	s.calls++
	s.first, s.last = min(s.first, t), max(s.last, t)
	d := s.days[floorDiv(t, dayMS)]
	if d == nil {
		d = &dayAgg{}
		s.days[floorDiv(t, dayMS)] = d
	}
	switch analyzer.OutcomeOf(r.ErrorCode) {
	case analyzer.Allowed:
		s.ok++
		d.ok++
		if s.firstOK == 0 || t < s.firstOK {
			s.firstOK = t
		}
		s.lastOK = max(s.lastOK, t)
		d.firstOK, d.lastOK = minNonZero(d.firstOK, t), max(d.lastOK, t)
	case analyzer.Denied:
		s.denied++
		d.denied++
		d.firstFail, d.lastFail = minNonZero(d.firstFail, t), max(d.lastFail, t)
	default:
		s.failed++
		d.failed++
		d.firstFail, d.lastFail = minNonZero(d.firstFail, t), max(d.lastFail, t)
	}
	inc(s.codes, r.ErrorCode)
	inc(s.ips, r.SourceIP)
	inc(s.agents, r.UserAgent)
	inc(s.vpces, r.VPCEndpointID)
	if r.MFAAuthenticated != nil && *r.MFAAuthenticated {
		s.mfa++
	}
	if r.EventName == "ConsoleLogin" && r.EventSource == "signin.amazonaws.com" && r.ErrorCode == "" {
		s.console++
		s.lastConsole = max(s.lastConsole, t)
	}
}

func minNonZero(a, b int64) int64 {
	if a == 0 {
		return b
	}
	return min(a, b)
}

func inc(m map[string]int64, k string) {
	if k == "" {
		return
	}
	if _, ok := m[k]; ok {
		m[k]++
		return
	}
	m[strings.Clone(k)] = 1
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// iamCall records the creations and the human touches of a successful IAM
// call.
func (a *ActivityAggregator) iamCall(r *ActivityRow) {
	req := r.RequestParameters
	if !strings.HasPrefix(strings.TrimSpace(req), "{") {
		req = "{}"
	}
	params := gjson.GetMany(req, "userName", "roleName")
	user, role := params[0].String(), params[1].String()
	c := Caller{
		Principal: strings.Clone(r.PrincipalARN), Kind: strings.Clone(r.PrincipalKind),
		At: msTime(r.EventTime), Event: "iam:" + r.EventName,
		SourceIP: strings.Clone(r.SourceIP), UserAgent: strings.Clone(r.UserAgent),
		Human: HumanLooking(r.PrincipalKind, r.UserAgent, r.SessionName, r.MFAAuthenticated != nil && *r.MFAAuthenticated),
	}
	switch r.EventName {
	case "CreateUser":
		if user != "" {
			a.creations = append(a.creations, Creation{Target: "user/" + user, At: c.At, By: c})
		}
	case "CreateAccessKey":
		if user == "" && r.PrincipalKind == cloudtrail.KindIAMUser {
			user = analyzer.PrincipalName(r.PrincipalARN) // a user creating its own key
		}
		if user != "" {
			a.creations = append(a.creations, Creation{Target: "access-key/" + user, At: c.At, By: c})
		}
	case "CreateRole":
		if role != "" {
			a.creations = append(a.creations, Creation{Target: "role/" + role, At: c.At, By: c})
		}
	}
	if !c.Human {
		return
	}
	for _, target := range []string{prefixed("user/", user), prefixed("role/", role)} {
		if target != "" && c.At.After(a.touches[target].At) {
			a.touches[target] = c
		}
	}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// HumanLooking reports whether a call looks made by a person: an Identity
// Center session or user, the root user, a call signed with MFA, the
// console (a browser's user agent), or a role session named like an e-mail
// address. Tools (the CLI, SDKs, Terraform) may be people too; they are not
// counted, so the caller named is one a person certainly was.
func HumanLooking(kind, userAgent, session string, mfa bool) bool {
	switch kind {
	case cloudtrail.KindSSORole, cloudtrail.KindIdentityCenter, cloudtrail.KindRoot:
		return true
	}
	if mfa || strings.Contains(session, "@") {
		return true
	}
	ua := strings.ToLower(userAgent)
	return strings.HasPrefix(ua, "mozilla/") || strings.Contains(ua, "console.amazonaws.com") ||
		strings.Contains(ua, "console.aws.amazon.com") || strings.Contains(ua, "signin.amazonaws.com")
}

// Activity returns what was folded in.
func (a *ActivityAggregator) Activity() *Activity {
	out := &Activity{Events: a.events, Principals: map[string]*Subject{}, Keys: map[string]*Subject{},
		Touches: a.touches}
	if a.events > 0 {
		out.From, out.To = msTime(a.first), msTime(a.last)
	}
	for id, s := range a.principals {
		out.Principals[id] = s.subject(a.topN)
	}
	for id, s := range a.keys {
		out.Keys[id] = s.subject(a.topN)
	}
	out.Creations = slices.Clone(a.creations)
	sort.SliceStable(out.Creations, func(i, j int) bool {
		if !out.Creations[i].At.Equal(out.Creations[j].At) {
			return out.Creations[i].At.Before(out.Creations[j].At)
		}
		return out.Creations[i].Target < out.Creations[j].Target
	})
	return out
}

func (s *subjectAgg) subject(topN int) *Subject {
	out := &Subject{ID: s.id, Kind: s.kind, Principal: s.principal,
		Calls: s.calls, OK: s.ok, Denied: s.denied, Failed: s.failed,
		First: msTime(s.first), Last: msTime(s.last),
		ErrorCodes: topCounts(s.codes, 0), SourceIPs: topCounts(s.ips, topN),
		UserAgents: topCounts(s.agents, topN), VPCEndpoints: topCounts(s.vpces, topN),
		MFA: s.mfa, Console: s.console}
	if s.lastOK != 0 {
		out.FirstOK, out.LastOK = msTime(s.firstOK), msTime(s.lastOK)
	}
	if s.lastConsole != 0 {
		out.LastConsole = msTime(s.lastConsole)
	}
	days := make([]int64, 0, len(s.days))
	for d := range s.days {
		days = append(days, d)
	}
	slices.Sort(days)
	out.Days = make([]Day, len(days))
	for i, d := range days {
		a := s.days[d]
		out.Days[i] = Day{Date: msTime(d * dayMS), OK: a.ok, Denied: a.denied, Failed: a.failed,
			FirstOK: msTimeOrZero(a.firstOK), LastOK: msTimeOrZero(a.lastOK),
			FirstFail: msTimeOrZero(a.firstFail), LastFail: msTimeOrZero(a.lastFail)}
	}
	return out
}

func msTime(t int64) time.Time { return time.UnixMilli(t).UTC() }

func msTimeOrZero(t int64) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return msTime(t)
}

// topCounts returns the n most frequent values (all when n <= 0), most
// frequent first, ties by value.
func topCounts(m map[string]int64, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Value: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// SucceededSince returns the first successful call made with the access key
// after since (zero: none), and the last event of the dataset's days from
// since on (zero: none), which says how far the answer reaches. It reads
// only the partitions from since's day.
func (d *DatasetUsage) SucceededSince(ctx context.Context, keyID string, since time.Time) (first, covered time.Time, err error) {
	lo := since.UnixMilli()
	var firstMS, lastMS int64
	_, err = store.Scan(ctx, d.Store, store.Query{From: since}, func(rows []ActivityRow) error {
		for i := range rows {
			r := &rows[i]
			lastMS = max(lastMS, r.EventTime)
			if r.EventTime > lo && r.AccessKeyID == keyID && r.ErrorCode == "" && (firstMS == 0 || r.EventTime < firstMS) {
				firstMS = r.EventTime
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return msTimeOrZero(firstMS), msTimeOrZero(lastMS), nil
}
