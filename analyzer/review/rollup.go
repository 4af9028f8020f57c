package review

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

// RollupUsage is Usage over the dataset's usage rollup (docs/rollup.md),
// the table ingest writes beside the events: the review reads what the
// rollup already sums instead of aggregating the events a second time.
//
//   - per principal and per access key, the calls by outcome and UTC day,
//     their first and last times, error codes, MFA calls, and the source
//     IPs, user agents and VPC endpoints (for a key: a long-term key's):
//     analyzer.Activity, over the call, origin and access_key facets;
//   - console sign-ins (successful ConsoleLogin calls) and the actions
//     used in the window (the unused permissions): the call facet, whose
//     rows hold the fields the action mapper reads;
//   - who created a user, role or key and the last human-looking caller
//     naming one: the rollup keeps neither a call's source IP and user
//     agent nor the caller's session name, so these are read from the
//     events, for just the (day, principal) pairs whose successful IAM
//     calls the call facet shows could name a user or role (a narrow
//     store.Scan of iamCallRow, its row groups pruned by principal).
//
// The rollup of events files written without one is built first (Notice
// says so).
type RollupUsage struct {
	Store *store.Store
	// TopN caps the source IPs, user agents and VPC endpoints kept per
	// subject (default 10).
	TopN int
	// Notice, when set, is told when the rollup is built before it is read.
	Notice func(analyzer.RollupNotice)
	// Reader, when set, reads the rollup in place of the store's files
	// (an engine such as Athena's); the IAM calls' single events are still
	// read from the store.
	Reader analyzer.RollupReader
}

// Activity implements Usage.
func (u *RollupUsage) Activity(ctx context.Context, q Query) (*Activity, error) {
	topN := u.TopN
	if topN <= 0 {
		topN = 10
	}
	rq := analyzer.RollupQuery{Accounts: q.Accounts, Notice: u.Notice, Reader: u.Reader}
	rep, err := analyzer.Activity(ctx, u.Store, rq)
	if err != nil {
		return nil, err
	}
	f := &callFold{console: map[string]*consoleUse{}, iam: map[int64]map[string]bool{}}
	// A rollup row sums calls of one UTC day, and every one of its first
	// and last times is a call's: for a window of a day or more, a row
	// that meets the window holds a call inside it, so the actions used
	// in the window come from the rollup exactly. A shorter window reads
	// its events.
	if q.Mapper != nil && (q.From.IsZero() || q.To.IsZero() || q.To.Sub(q.From) >= 24*time.Hour) {
		f.used = analyzer.NewAggregator(q.Mapper, nil, q.Accounts, q.From, q.To, 1)
	}
	if _, err := analyzer.ReadRollup(ctx, u.Store, rq, []string{columns.FacetCall}, func(rows []columns.RollupRow) error {
		f.add(rows)
		return nil
	}); err != nil {
		return nil, err
	}
	act := &Activity{Principals: map[string]*Subject{}, Keys: map[string]*Subject{}, Touches: map[string]Caller{}}
	var first, last time.Time
	for _, p := range rep.Principals {
		act.Events += p.Calls()
		for _, t := range []analyzer.Tally{p.Allowed, p.Denied, p.Failed} {
			if t.Calls > 0 {
				if first.IsZero() || t.First.Before(first) {
					first = t.First
				}
				last = maxTime(last, t.Last)
			}
		}
		if p.ID == "" {
			continue // events that name no principal
		}
		s := subjectOf(p, topN)
		if c := f.console[p.ID]; c != nil {
			s.Console, s.LastConsole = c.calls, c.last
		}
		if prev := act.Principals[p.ID]; prev != nil {
			s = mergeSubjects(prev, s, topN)
		}
		act.Principals[p.ID] = s
	}
	act.From, act.To = first, last
	for _, k := range rep.Keys {
		if cloudtrail.IsLongTermKey(k.ID) {
			act.Keys[k.ID] = subjectOf(k, topN)
		}
	}
	if err := u.iamCalls(ctx, q.Accounts, f.iam, act); err != nil {
		return nil, err
	}
	if q.Mapper != nil {
		used := f.used
		if used == nil {
			if used, err = u.usedFromEvents(ctx, q); err != nil {
				return nil, err
			}
		}
		act.Used = map[string][]string{}
		for _, us := range used.Usages(q.From, q.To) {
			acts := make([]string, 0, len(us.Allowed))
			for _, a := range us.Allowed {
				acts = append(acts, a.Action)
			}
			act.Used[us.Principal] = acts
		}
		act.UsedFrom, act.UsedTo = q.From, q.To
	}
	return act, nil
}

// usedFromEvents maps the successful calls of a window shorter than a day,
// which the rollup's day rows cannot bound, from its events.
func (u *RollupUsage) usedFromEvents(ctx context.Context, q Query) (*analyzer.Aggregator, error) {
	used := analyzer.NewAggregator(q.Mapper, nil, q.Accounts, q.From, q.To, 1)
	_, err := store.Scan(ctx, u.Store, store.Query{Accounts: q.Accounts, From: q.From, To: q.To}, func(rows []analyzer.UsageRow) error {
		used.Add(rows)
		return nil
	})
	return used, err
}

// callFold reads the rollup's call rows for what analyzer.Activity does not
// say: console sign-ins, the actions used, and where the IAM calls that
// may create or name a user or role are.
type callFold struct {
	console map[string]*consoleUse
	// iam holds, by UTC day, the principals with successful IAM calls
	// that name a user or role or create a key.
	iam  map[int64]map[string]bool
	used *analyzer.Aggregator
}

type consoleUse struct {
	calls int64
	last  time.Time
}

func (f *callFold) add(rows []columns.RollupRow) {
	if f.used != nil {
		f.used.AddRollup(rows)
	}
	for i := range rows {
		r := &rows[i]
		if r.ErrorCode != "" {
			continue
		}
		if r.PrincipalARN != "" && r.EventName == "ConsoleLogin" && r.EventSource == "signin.amazonaws.com" {
			c := f.console[r.PrincipalARN]
			if c == nil {
				c = &consoleUse{}
				f.console[strings.Clone(r.PrincipalARN)] = c
			}
			c.calls += r.Calls
			c.last = maxTime(c.last, time.UnixMilli(r.LastSeen).UTC())
		}
		if r.EventSource == "iam.amazonaws.com" && namesTarget(r.EventName, r.RequestParameters) {
			day := floorDiv(r.FirstSeen, dayMS)
			ps := f.iam[day]
			if ps == nil {
				ps = map[string]bool{}
				f.iam[day] = ps
			}
			if !ps[r.PrincipalARN] {
				ps[strings.Clone(r.PrincipalARN)] = true
			}
		}
	}
}

// namesTarget reports whether a successful IAM call may create, or name, a
// user or role (iamCall decides on the event itself).
func namesTarget(event, req string) bool {
	if event == "CreateAccessKey" {
		return true // a user creating its own key names nobody
	}
	if !strings.HasPrefix(strings.TrimSpace(req), "{") {
		return false
	}
	p := gjson.GetMany(req, "userName", "roleName")
	return p[0].String() != "" || p[1].String() != ""
}

// iamCallRow is what iamCall needs of an event: the narrow question the
// rollup cannot answer (a call's own source IP, user agent, session name
// and time); store.CallerRow declares the columns it reads.
type iamCallRow = store.CallerRow

// iamCalls reads, day by day, the successful IAM calls of the principals
// the call facet named, and records the creations and human touches.
func (u *RollupUsage) iamCalls(ctx context.Context, accounts []string, days map[int64]map[string]bool, act *Activity) error {
	if len(days) == 0 {
		return nil
	}
	order := make([]int64, 0, len(days))
	for d := range days {
		order = append(order, d)
	}
	slices.Sort(order)
	// The events files, listed once, by the day of their partition.
	all, err := u.Store.Files(accounts, time.UnixMilli(order[0]*dayMS), time.UnixMilli(order[len(order)-1]*dayMS))
	if err != nil {
		return err
	}
	byDay := map[string][]string{}
	for _, f := range all {
		date, _ := strings.CutPrefix(filepath.Base(filepath.Dir(f)), "date=")
		byDay[date] = append(byDay[date], f)
	}
	for _, d := range order {
		from := time.UnixMilli(d * dayMS).UTC()
		files := byDay[from.Format(time.DateOnly)]
		if len(files) == 0 {
			continue
		}
		sq := store.Query{Accounts: accounts, From: from, To: from.Add(24*time.Hour - time.Millisecond)}
		if !days[d][""] { // an ARN-less caller: no pruning by principal
			for p := range days[d] {
				sq.Principals = append(sq.Principals, p)
			}
			slices.Sort(sq.Principals)
		}
		lo, hi := sq.From.UnixMilli(), sq.To.UnixMilli()
		if _, err := store.ScanFiles(ctx, u.Store, files, sq, func(rows []iamCallRow) error {
			for i := range rows {
				r := &rows[i]
				if r.EventTime >= lo && r.EventTime <= hi && r.EventSource == "iam.amazonaws.com" && r.ErrorCode == "" &&
					days[d][r.PrincipalARN] {
					iamCall(act, r)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	sort.SliceStable(act.Creations, func(i, j int) bool {
		if !act.Creations[i].At.Equal(act.Creations[j].At) {
			return act.Creations[i].At.Before(act.Creations[j].At)
		}
		return act.Creations[i].Target < act.Creations[j].Target
	})
	return nil
}

// iamCall records the creations and the human touches of a successful IAM
// call.
func iamCall(act *Activity, r *iamCallRow) {
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
			act.Creations = append(act.Creations, Creation{Target: "user/" + user, At: c.At, By: c})
		}
	case "CreateAccessKey":
		if user == "" && r.PrincipalKind == cloudtrail.KindIAMUser {
			user = analyzer.PrincipalName(r.PrincipalARN) // a user creating its own key
		}
		if user != "" {
			act.Creations = append(act.Creations, Creation{Target: "access-key/" + user, At: c.At, By: c})
		}
	case "CreateRole":
		if role != "" {
			act.Creations = append(act.Creations, Creation{Target: "role/" + role, At: c.At, By: c})
		}
	}
	if !c.Human {
		return
	}
	for _, target := range []string{prefixed("user/", user), prefixed("role/", role)} {
		if target != "" && c.At.After(act.Touches[target].At) {
			act.Touches[target] = c
		}
	}
}

// subjectOf is the review's view of a principal's or key's activity.
func subjectOf(a *analyzer.SubjectActivity, topN int) *Subject {
	s := &Subject{ID: a.ID, Kind: a.Kind, Calls: a.Calls(), OK: a.Allowed.Calls, Denied: a.Denied.Calls, Failed: a.Failed.Calls,
		FirstOK: a.Allowed.First, LastOK: a.Allowed.Last, MFA: a.MFACalls,
		ErrorCodes: topOf(a.ErrorCodes, 0), SourceIPs: topOf(a.SourceIPs, topN),
		UserAgents: topOf(a.UserAgents, topN), VPCEndpoints: topOf(a.VPCEndpoints, topN)}
	if a.ID != a.Principal {
		s.Principal = a.Principal // a key's
	}
	for _, t := range []analyzer.Tally{a.Allowed, a.Denied, a.Failed} {
		if t.Calls > 0 {
			if s.First.IsZero() || t.First.Before(s.First) {
				s.First = t.First
			}
			s.Last = maxTime(s.Last, t.Last)
		}
	}
	s.Days = make([]Day, len(a.Days))
	for i, d := range a.Days {
		fail := d.Failures()
		s.Days[i] = Day{Date: d.Date, OK: d.Allowed.Calls, Denied: d.Denied.Calls, Failed: d.Failed.Calls,
			FirstOK: d.Allowed.First, LastOK: d.Allowed.Last, FirstFail: fail.First, LastFail: fail.Last}
	}
	return s
}

// mergeSubjects merges the activity of one principal ARN seen with two
// kinds: sums, days and counts together, the kind of the earliest call.
func mergeSubjects(a, b *Subject, topN int) *Subject {
	out := *a
	if b.First.Before(a.First) || b.First.Equal(a.First) && b.Kind < a.Kind {
		out.Kind = b.Kind
	}
	out.Calls, out.OK, out.Denied, out.Failed = a.Calls+b.Calls, a.OK+b.OK, a.Denied+b.Denied, a.Failed+b.Failed
	out.MFA = a.MFA + b.MFA // Console and LastConsole are counted by ARN: a's
	out.First, out.Last = minTime(a.First, b.First), maxTime(a.Last, b.Last)
	out.FirstOK, out.LastOK = minTime(a.FirstOK, b.FirstOK), maxTime(a.LastOK, b.LastOK)
	days := map[time.Time]Day{}
	for _, d := range slices.Concat(a.Days, b.Days) {
		x, ok := days[d.Date]
		if !ok {
			days[d.Date] = d
			continue
		}
		x.OK, x.Denied, x.Failed = x.OK+d.OK, x.Denied+d.Denied, x.Failed+d.Failed
		x.FirstOK, x.LastOK = minTime(x.FirstOK, d.FirstOK), maxTime(x.LastOK, d.LastOK)
		x.FirstFail, x.LastFail = minTime(x.FirstFail, d.FirstFail), maxTime(x.LastFail, d.LastFail)
		days[d.Date] = x
	}
	out.Days = out.Days[:0:0]
	for _, d := range days {
		out.Days = append(out.Days, d)
	}
	slices.SortFunc(out.Days, func(x, y Day) int { return x.Date.Compare(y.Date) })
	sum := func(x, y []Count, n int) []Count {
		m := map[string]int64{}
		for _, c := range slices.Concat(x, y) {
			m[c.Value] += c.Count
		}
		return analyzer.TopCounts(m, n)
	}
	// a's and b's lists may be cut to topN: the merged top N is exact
	// for the error codes (never cut) and an approximation otherwise.
	out.ErrorCodes = sum(a.ErrorCodes, b.ErrorCodes, 0)
	out.SourceIPs = sum(a.SourceIPs, b.SourceIPs, topN)
	out.UserAgents = sum(a.UserAgents, b.UserAgents, topN)
	out.VPCEndpoints = sum(a.VPCEndpoints, b.VPCEndpoints, topN)
	return &out
}

func topOf(cs []analyzer.Count, n int) []Count {
	if n > 0 && len(cs) > n {
		cs = cs[:n]
	}
	out := make([]Count, len(cs))
	for i, c := range cs {
		out[i] = Count{Value: c.Value, Count: c.Count}
	}
	return out
}

// SucceededSince returns the first successful call made with the access key
// after since (zero: none), and the last call of the dataset's days from
// since's on (zero: none), which says how far the answer reaches. It reads
// the rollup's access_key and principal rows of those days; a success
// summed in a row of since's own day that began before since is placed by
// reading that day's events of the key's principal.
func (u *RollupUsage) SucceededSince(ctx context.Context, keyID string, since time.Time) (first, covered time.Time, err error) {
	lo := since.UnixMilli()
	day := time.UnixMilli(floorDiv(lo, dayMS) * dayMS).UTC()
	var firstMS, lastMS int64
	var straddle []string // principals of rows that began before since
	_, err = analyzer.ReadRollup(ctx, u.Store, analyzer.RollupQuery{From: day, Notice: u.Notice, Reader: u.Reader},
		[]string{columns.FacetPrincipal, columns.FacetAccessKey}, func(rows []columns.RollupRow) error {
			for i := range rows {
				r := &rows[i]
				if r.Facet == columns.FacetPrincipal {
					lastMS = max(lastMS, r.LastSeen)
					continue
				}
				if r.AccessKeyID != keyID || r.ErrorCode != "" || r.LastSeen <= lo {
					continue
				}
				if r.FirstSeen > lo {
					if firstMS == 0 || r.FirstSeen < firstMS {
						firstMS = r.FirstSeen
					}
				} else if !slices.Contains(straddle, r.PrincipalARN) {
					straddle = append(straddle, strings.Clone(r.PrincipalARN))
				}
			}
			return nil
		})
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if len(straddle) > 0 {
		sq := store.Query{From: since, To: day.Add(24*time.Hour - time.Millisecond)}
		if !slices.Contains(straddle, "") {
			sq.Principals = straddle
		}
		if _, err := store.Scan(ctx, u.Store, sq, func(rows []store.UsageRow) error {
			for i := range rows {
				r := &rows[i]
				if r.EventTime > lo && r.AccessKeyID == keyID && r.ErrorCode == "" && (firstMS == 0 || r.EventTime < firstMS) {
					firstMS = r.EventTime
				}
			}
			return nil
		}); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	return msTimeOrZero(firstMS), msTimeOrZero(lastMS), nil
}

const dayMS = 86_400_000

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func msTime(t int64) time.Time { return time.UnixMilli(t).UTC() }

func msTimeOrZero(t int64) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return msTime(t)
}

func minTime(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
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
