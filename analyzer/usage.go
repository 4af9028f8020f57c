package analyzer

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/store"
)

// Mapper turns one call into the IAM actions it exercised
// (*actionmap.Mapper). It is declared here, where it is consumed, so that
// tests can use a func-typed fake. Aggregator.Usages calls it from several
// goroutines at once: it must be safe for concurrent use.
type Mapper interface {
	Map(c *actionmap.Call) actionmap.Result
}

// MapperFunc adapts a function to Mapper.
type MapperFunc func(c *actionmap.Call) actionmap.Result

// Map calls f.
func (f MapperFunc) Map(c *actionmap.Call) actionmap.Result { return f(c) }

// UsageRow is one event as Analyze needs it (store.UsageRow: the store
// declares the columns it reads).
type UsageRow = store.UsageRow

// RowResource is one element of the resources column.
type RowResource = store.RowResource

// CallOf builds the actionmap.Call of a stored row; it equals
// actionmap.CallFromRecord of the record the row came from.
func CallOf(r *UsageRow) actionmap.Call {
	c := actionmap.Call{
		EventSource:       r.EventSource,
		EventName:         r.EventName,
		EventType:         r.EventType,
		EventCategory:     r.EventCategory,
		AWSRegion:         r.AWSRegion,
		RecipientAccount:  r.RecipientAccount,
		PrincipalAccount:  r.PrincipalAccount,
		UserIdentityARN:   r.UserIdentityARN,
		RequestParameters: r.RequestParameters,
		ErrorCode:         r.ErrorCode,
		ErrorMessage:      r.ErrorMessage,
	}
	if !strings.HasPrefix(strings.TrimSpace(c.RequestParameters), "{") {
		c.RequestParameters = ""
	}
	for _, res := range r.Resources {
		c.Resources = append(c.Resources, actionmap.Resource{ARN: res.ARN, Type: res.Type, AccountID: res.AccountID})
	}
	return c
}

// Outcome says how a call ended.
type Outcome string

const (
	// Allowed calls succeeded (no error code); only they enter a policy.
	Allowed Outcome = cloudtrail.OutcomeAllowed
	// Denied calls failed authorization (AccessDenied and its kin): a
	// permission the principal needed but was not granted, or an attack.
	Denied Outcome = cloudtrail.OutcomeDenied
	// Failed calls failed for another reason (NoSuchKey, throttling,
	// validation); they do not prove the permission, so they stay out of the
	// policy.
	Failed Outcome = cloudtrail.OutcomeFailed
)

// OutcomeOf classifies an error code (cloudtrail.OutcomeOf, which the
// usage rollup's outcome column holds).
func OutcomeOf(errorCode string) Outcome { return Outcome(cloudtrail.OutcomeOf(errorCode)) }

// IsDenied reports whether errorCode is an authorization failure
// (AccessDenied, AccessDeniedException, UnauthorizedOperation,
// Client.UnauthorizedOperation, AuthorizationError, Forbidden, ...): every
// code actionmap.IsDenied knows, in any case (cloudtrail.IsDenied).
func IsDenied(errorCode string) bool { return cloudtrail.IsDenied(errorCode) }

// Usage is what one principal did in the window: the evidence behind its
// policy, and its profile.
type Usage struct {
	Principal string    `json:"principal"`
	Kind      string    `json:"kind"`
	Accounts  []string  `json:"accounts"` // the principal's own accounts
	From      time.Time `json:"window_from"`
	To        time.Time `json:"window_to"` // zero: open
	Events    int64     `json:"events"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`

	// Allowed are the actions of successful calls: what the policy grants.
	Allowed []*ActionUsage `json:"allowed"`
	// Denied are actions refused by IAM: needed but not granted.
	Denied []*ActionUsage `json:"denied"`
	// Failed are actions of calls that failed for other reasons.
	Failed []*ActionUsage `json:"failed"`

	// NoPermission lists calls that need no IAM permission.
	NoPermission []CallCount `json:"no_permission"`
	// NotAPICalls lists records that are not the principal's API calls
	// (service events, console sign-ins).
	NotAPICalls []CallCount `json:"not_api_calls"`
	// Unmapped lists calls iamlens cannot map to an action, with the reason.
	Unmapped []CallCount `json:"unmapped"`
	// NotObservable lists actions the principal probably needs that
	// CloudTrail does not show.
	NotObservable []NotObservable `json:"not_observable"`

	Profile Profile `json:"profile"`
	// Origins describe where the successful calls came from, for conditions.
	Origins Origins `json:"origins"`
}

// ActionUsage is one IAM action with its evidence.
type ActionUsage struct {
	Action    string          `json:"action"`
	Calls     int64           `json:"calls"`
	FirstSeen time.Time       `json:"first_seen"`
	LastSeen  time.Time       `json:"last_seen"`
	Resources []ResourceUsage `json:"resources"`
	// UnknownResourceCalls counts calls whose resource the log does not
	// reveal; a policy must then grant the action on "*".
	UnknownResourceCalls int64    `json:"unknown_resource_calls,omitempty"`
	Notes                []string `json:"notes,omitempty"`
	// Events are the CloudTrail calls ("s3.amazonaws.com:GetObject") that
	// needed the action.
	Events     []string `json:"events"`
	Regions    []string `json:"regions"`
	ErrorCodes []Count  `json:"error_codes,omitempty"`
}

// ResourceUsage is one resource an action touched ("*" for actions that
// allow no resource-level restriction), as an IAM Resource pattern: values
// from the log are escaped (actionmap), and a wildcard appears only in a
// pattern the mapping wrote, which Why explains (a resource the call
// creates, an IAM name whose path is unknown).
type ResourceUsage struct {
	ARN       string    `json:"arn"`
	Calls     int64     `json:"calls"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Why       string    `json:"why,omitempty"`
}

// CallCount counts one CloudTrail call kind.
type CallCount struct {
	EventSource string `json:"event_source"`
	EventName   string `json:"event_name"`
	Calls       int64  `json:"calls"`
	Reason      string `json:"reason,omitempty"`
}

// NotObservable is an action CloudTrail cannot show.
type NotObservable struct {
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// Count is a value with how often it was seen.
type Count struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// KeyUsage is one access key the principal used.
type KeyUsage struct {
	AccessKeyID string    `json:"access_key_id"`
	Calls       int64     `json:"calls"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// SessionKeys sums the temporary keys (ASIA…) a principal's calls were
// signed with: one a session, so a role that runs hourly has thousands;
// listed one by one they would be most of a report and say little that
// the count does not. `explain` shows a session's calls.
type SessionKeys struct {
	Keys      int64     `json:"keys"`
	Calls     int64     `json:"calls"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
}

// Profile describes the principal beyond its permissions: how people find
// who owns an old IAM user.
type Profile struct {
	Services           []Count     `json:"services"` // event source → events
	Regions            []Count     `json:"regions"`
	SourceIPs          []Count     `json:"source_ips"` // top N
	DistinctSourceIPs  int         `json:"distinct_source_ips"`
	UserAgents         []Count     `json:"user_agents"` // top N
	DistinctUserAgents int         `json:"distinct_user_agents"`
	VPCEndpoints       []Count     `json:"vpc_endpoints"`
	AccessKeys         []KeyUsage  `json:"access_keys"` // long-term keys (AKIA…)
	SessionKeys        SessionKeys `json:"session_keys"`
	ActiveDays         []string    `json:"active_days"` // YYYY-MM-DD, UTC
	ErrorCodes         []Count     `json:"error_codes"`
	MFAEvents          int64       `json:"mfa_events"`
}

// Origins describe the successful calls' origins, from which policygen
// writes aws:SourceIp, aws:SourceVpce and aws:MultiFactorAuthPresent.
type Origins struct {
	Calls int64 `json:"calls"`
	// SourceIPs are the IP addresses of successful calls; ViaService counts
	// those whose source is an AWS service name instead of an address.
	SourceIPs  []Count `json:"source_ips"`
	ViaService int64   `json:"via_service"`
	// VPCEndpoints of successful calls; NoVPCE counts calls made without one.
	VPCEndpoints []Count `json:"vpc_endpoints"`
	NoVPCE       int64   `json:"no_vpce"`
	// MFA counts successful calls made with MFA.
	MFA int64 `json:"mfa"`
}

// dataSources are the services whose object- or item-level calls are data
// events, and the actions a principal of that service probably used unseen
// when the dataset has none of them.
var dataSources = map[string][]string{
	"s3.amazonaws.com":       {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
	"lambda.amazonaws.com":   {"lambda:InvokeFunction"},
	"dynamodb.amazonaws.com": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"},
}

// Aggregator folds UsageRows into one Usage per principal. Its memory is
// O(distinct calls + distinct profile values), not O(events): rows that
// differ only in time, IP or agent share one call entry, and Map runs once
// per distinct call. It is not safe for concurrent use.
type Aggregator struct {
	m        Mapper
	keep     func(arn, kind string) bool
	accounts []string
	from, to int64
	topN     int
	by       map[string]*usageAgg
	key      []byte
	// dataSeen holds the event sources with data events in the window
	// among the kept principals' rows, or among all rows (dataAll).
	dataSeen map[string]bool
	dataAll  bool
	// AddRollup's scratch: a call row as the events row it stands for
	rollupRow UsageRow
	rollupRes []RowResource
}

type usageAgg struct {
	arn, kind   string
	own         map[string]struct{}
	events      int64
	first, last int64
	// calls by call key; the profile's services, regions and error codes
	// are summed from them (every event is in one call, whose key holds
	// all three)
	calls    map[string]*callAgg
	ips      map[string]int64
	agents   map[string]int64
	vpces    map[string]int64
	keys     map[string]*KeyUsage // long-term keys
	sessions map[string]struct{}  // temporary keys
	session  Tally                // their calls
	days     map[int64]struct{}
	mfa      int64
	origins  Origins
	okIPs    map[string]int64
	okVPCEs  map[string]int64
}

// callAgg is one distinct call (everything Map looks at), with its count.
type callAgg struct {
	call        actionmap.Call
	outcome     Outcome
	calls       int64
	first, last int64
}

// NewAggregator returns an empty aggregator. keep selects principals
// (nil: all); rows outside [from, to] (zero: open) or, when accounts is
// set, of another recipient account are dropped.
func NewAggregator(m Mapper, keep func(arn, kind string) bool, accounts []string, from, to time.Time, topN int) *Aggregator {
	a := &Aggregator{m: m, keep: keep, accounts: accounts, from: minInt64, to: maxInt64, topN: topN,
		by: map[string]*usageAgg{}, dataSeen: map[string]bool{}}
	if !from.IsZero() {
		a.from = from.UnixMilli()
	}
	if !to.IsZero() {
		a.to = to.UnixMilli()
	}
	if a.topN <= 0 {
		a.topN = 10
	}
	return a
}

// Add folds rows in. It copies what it keeps, so the caller may reuse rows.
func (a *Aggregator) Add(rows []UsageRow) {
	for i := range rows {
		r := &rows[i]
		if r.EventTime < a.from || r.EventTime > a.to || !a.inAccounts(r.RecipientAccount, r.PrincipalAccount) {
			continue
		}
		kept := r.PrincipalARN != "" && (a.keep == nil || a.keep(r.PrincipalARN, r.PrincipalKind))
		if r.EventCategory == "Data" && (kept || a.dataAll || a.keep == nil) {
			a.seeData(r.EventSource)
		}
		if kept {
			a.add(r)
		}
	}
}

// SeeAllData makes every row in the window count when the aggregator
// tells whether the dataset holds a service's data events, not only the
// rows of the principals it keeps: for --all, whose reads cover them all.
func (a *Aggregator) SeeAllData() { a.dataAll = true }

func (a *Aggregator) seeData(source string) {
	if !a.dataSeen[source] {
		a.dataSeen[strings.Clone(source)] = true
	}
}

// inAccounts reports whether a call into recipient (by principal, when the
// record names no recipient) is in the selected accounts.
func (a *Aggregator) inAccounts(recipient, principal string) bool {
	if len(a.accounts) == 0 {
		return true
	}
	if recipient == "" {
		recipient = principal
	}
	return contains(a.accounts, recipient)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (a *Aggregator) principal(r *UsageRow) *usageAgg {
	return a.principalOf(r.PrincipalARN, r.PrincipalKind, r.EventTime)
}

// principalOf returns the principal's aggregate, making it (first seen at
// t) when it is new.
func (a *Aggregator) principalOf(arn, kind string, t int64) *usageAgg {
	p := a.by[arn]
	if p == nil {
		p = &usageAgg{
			arn: strings.Clone(arn), kind: strings.Clone(kind),
			own: map[string]struct{}{}, first: t, last: t,
			calls: map[string]*callAgg{},
			ips:   map[string]int64{}, agents: map[string]int64{}, vpces: map[string]int64{},
			keys: map[string]*KeyUsage{}, sessions: map[string]struct{}{}, days: map[int64]struct{}{},
			okIPs: map[string]int64{}, okVPCEs: map[string]int64{},
		}
		a.by[p.arn] = p
	}
	return p
}

func inc(m map[string]int64, k string) { incBy(m, k, 1) }

// incBy adds n to m[k], copying k when it is new; an empty k is not
// counted.
func incBy(m map[string]int64, k string, n int64) {
	if k == "" {
		return
	}
	if _, ok := m[k]; ok {
		m[k] += n
		return
	}
	m[strings.Clone(k)] = n
}

func (a *Aggregator) add(r *UsageRow) {
	p := a.principal(r)
	t := r.EventTime
	p.events++
	p.first, p.last = min(p.first, t), max(p.last, t)
	if r.PrincipalAccount != "" {
		if _, ok := p.own[r.PrincipalAccount]; !ok {
			p.own[strings.Clone(r.PrincipalAccount)] = struct{}{}
		}
	}
	inc(p.ips, r.SourceIP)
	inc(p.agents, r.UserAgent)
	inc(p.vpces, r.VPCEndpointID)
	p.days[floorDiv(t, 86_400_000)] = struct{}{}
	mfa := r.MFAAuthenticated != nil && *r.MFAAuthenticated
	if mfa {
		p.mfa++
	}
	if r.AccessKeyID != "" {
		p.addKey(r.AccessKeyID, 1, t, t)
	}
	outcome := OutcomeOf(r.ErrorCode)
	if outcome == Allowed {
		// ViaService and NoVPCE are what is left of Calls (usage).
		o := &p.origins
		o.Calls++
		if isIP(r.SourceIP) {
			inc(p.okIPs, r.SourceIP)
		}
		inc(p.okVPCEs, r.VPCEndpointID)
		if mfa {
			o.MFA++
		}
	}
	c := a.call(p, r, outcome, t)
	c.calls++
	c.first, c.last = min(c.first, t), max(c.last, t)
}

// callKey returns the key of row r's call: every field Map looks at,
// except the error message of calls that were not denied (it carries
// request IDs and would defeat the sharing). The bytes are reused by the
// next call.
func (a *Aggregator) callKey(r *UsageRow, outcome Outcome) []byte {
	// Each value after its length: JSON can carry any byte in a string
	// (\u0000), so no separator would keep two calls' keys apart.
	k := a.key[:0]
	for _, s := range [...]string{r.EventSource, r.EventName, r.EventType, r.EventCategory, r.AWSRegion,
		r.RecipientAccount, r.PrincipalAccount, r.UserIdentityARN, r.ErrorCode, r.RequestParameters} {
		k = binary.AppendUvarint(k, uint64(len(s)))
		k = append(k, s...)
	}
	if outcome == Denied {
		k = binary.AppendUvarint(k, uint64(len(r.ErrorMessage)))
		k = append(k, r.ErrorMessage...)
	}
	for _, res := range r.Resources {
		for _, s := range [...]string{res.ARN, res.Type, res.AccountID} {
			k = binary.AppendUvarint(k, uint64(len(s)))
			k = append(k, s...)
		}
	}
	a.key = k
	return k
}

// call returns p's entry for row r's call, making it (first seen at t)
// when it is new.
func (a *Aggregator) call(p *usageAgg, r *UsageRow, outcome Outcome, t int64) *callAgg {
	k := a.callKey(r, outcome)
	c := p.calls[string(k)]
	if c == nil {
		c = &callAgg{call: cloneCall(CallOf(r)), outcome: outcome, first: t, last: t}
		if outcome != Denied {
			c.call.ErrorMessage = ""
		}
		p.calls[string(bytes.Clone(k))] = c
	}
	return c
}

// addKey counts calls signed with access key id between first and last
// (Unix milliseconds): a long-term key by itself, a temporary one (ASIA…)
// in the principal's session keys.
func (p *usageAgg) addKey(id string, calls, first, last int64) {
	if strings.HasPrefix(id, "ASIA") {
		if _, ok := p.sessions[id]; !ok {
			p.sessions[strings.Clone(id)] = struct{}{}
		}
		p.session.add(calls, first, last)
		return
	}
	k := p.keys[id]
	f, l := msTime(first), msTime(last)
	if k == nil {
		k = &KeyUsage{AccessKeyID: strings.Clone(id), FirstSeen: f, LastSeen: l}
		p.keys[k.AccessKeyID] = k
	}
	k.Calls += calls
	if f.Before(k.FirstSeen) {
		k.FirstSeen = f
	}
	if l.After(k.LastSeen) {
		k.LastSeen = l
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// isIP reports whether s looks like an IPv4 or IPv6 address (CloudTrail puts
// a service name, "AWS Internal" or a console host there otherwise).
func isIP(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == ':' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return strings.Count(s, ".") == 3 || strings.Contains(s, ":")
}

func cloneCall(c actionmap.Call) actionmap.Call {
	c.EventSource = strings.Clone(c.EventSource)
	c.EventName = strings.Clone(c.EventName)
	c.EventType = strings.Clone(c.EventType)
	c.EventCategory = strings.Clone(c.EventCategory)
	c.AWSRegion = strings.Clone(c.AWSRegion)
	c.RecipientAccount = strings.Clone(c.RecipientAccount)
	c.PrincipalAccount = strings.Clone(c.PrincipalAccount)
	c.UserIdentityARN = strings.Clone(c.UserIdentityARN)
	c.RequestParameters = strings.Clone(c.RequestParameters)
	c.ErrorCode = strings.Clone(c.ErrorCode)
	c.ErrorMessage = strings.Clone(c.ErrorMessage)
	res := make([]actionmap.Resource, len(c.Resources))
	for i, r := range c.Resources {
		res[i] = actionmap.Resource{ARN: strings.Clone(r.ARN), Type: strings.Clone(r.Type), AccountID: strings.Clone(r.AccountID)}
	}
	c.Resources = res
	return c
}

// DistinctCalls is how many distinct calls were mapped (for Stats).
func (a *Aggregator) DistinctCalls() int {
	n := 0
	for _, p := range a.by {
		n += len(p.calls)
	}
	return n
}

// Usages maps every distinct call and returns one Usage per principal,
// sorted by ARN. from and to are the window reported in each Usage.
//
// The principals are mapped on every core (the Mapper must be safe for
// concurrent use, as actionmap.Mapper is).
func (a *Aggregator) Usages(from, to time.Time) []*Usage {
	ps := make([]*usageAgg, 0, len(a.by))
	for _, p := range a.by {
		ps = append(ps, p)
	}
	out := make([]*Usage, len(ps))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(ps)/8, 1)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(ps); i = int(next.Add(1) - 1) {
				out[i] = a.usage(ps[i], from, to)
			}
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Principal < out[j].Principal })
	return out
}

type actionAgg struct {
	u         *ActionUsage
	first     int64
	last      int64
	resources map[string]*ResourceUsage
	notes     map[string]struct{}
	events    map[string]struct{}
	regions   map[string]struct{}
	codes     map[string]int64
}

func (a *Aggregator) usage(p *usageAgg, from, to time.Time) *Usage {
	u := &Usage{
		Principal: p.arn, Kind: p.kind, Accounts: sortedSet(p.own), From: from, To: to,
		Events: p.events, FirstSeen: msTime(p.first), LastSeen: msTime(p.last),
		NoPermission: []CallCount{}, NotAPICalls: []CallCount{}, Unmapped: []CallCount{},
		NotObservable: []NotObservable{},
	}
	byOutcome := map[Outcome]map[string]*actionAgg{Allowed: {}, Denied: {}, Failed: {}}
	noPerm, notAPI, unmapped := map[CallCount]int64{}, map[CallCount]int64{}, map[CallCount]int64{}
	hidden := map[NotObservable]struct{}{}
	services, regions, errCodes := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, c := range p.calls {
		incBy(services, c.call.EventSource, c.calls)
		incBy(regions, c.call.AWSRegion, c.calls)
		incBy(errCodes, c.call.ErrorCode, c.calls)
		res := a.m.Map(&c.call)
		cc := CallCount{EventSource: c.call.EventSource, EventName: c.call.EventName, Reason: res.Reason}
		switch res.Status {
		case actionmap.NoPermission:
			noPerm[cc] += c.calls
			continue
		case actionmap.NotAPICall:
			notAPI[cc] += c.calls
			continue
		case actionmap.Mapped:
		default:
			unmapped[cc] += c.calls
			continue
		}
		if c.outcome == Allowed {
			for _, n := range res.NotObservable {
				hidden[NotObservable{Action: n, Reason: "needed alongside " + c.call.EventName + " but not shown by CloudTrail"}] = struct{}{}
			}
		}
		for _, act := range res.Actions {
			m := byOutcome[c.outcome]
			ag := m[act.Name]
			if ag == nil {
				ag = &actionAgg{u: &ActionUsage{Action: act.Name}, first: c.first, last: c.last,
					resources: map[string]*ResourceUsage{}, notes: map[string]struct{}{},
					events: map[string]struct{}{}, regions: map[string]struct{}{}, codes: map[string]int64{}}
				m[act.Name] = ag
			}
			ag.u.Calls += c.calls
			ag.first, ag.last = min(ag.first, c.first), max(ag.last, c.last)
			ag.events[c.call.EventSource+":"+c.call.EventName] = struct{}{}
			if c.call.AWSRegion != "" {
				ag.regions[c.call.AWSRegion] = struct{}{}
			}
			if c.call.ErrorCode != "" {
				ag.codes[c.call.ErrorCode] += c.calls
			}
			if act.ResourceNote != "" {
				ag.notes[act.ResourceNote] = struct{}{}
			}
			if len(act.Resources) == 0 {
				ag.u.UnknownResourceCalls += c.calls
			}
			for _, arn := range act.Resources {
				r := ag.resources[arn]
				if r == nil {
					r = &ResourceUsage{ARN: arn, FirstSeen: msTime(c.first), LastSeen: msTime(c.last)}
					ag.resources[arn] = r
				}
				// calls are mapped in no set order: keep the least reason
				if w := act.Why[arn]; w != "" && (r.Why == "" || w < r.Why) {
					r.Why = w
				}
				r.Calls += c.calls
				if f := msTime(c.first); f.Before(r.FirstSeen) {
					r.FirstSeen = f
				}
				if l := msTime(c.last); l.After(r.LastSeen) {
					r.LastSeen = l
				}
			}
		}
	}
	u.Allowed = finishActions(byOutcome[Allowed])
	u.Denied = finishActions(byOutcome[Denied])
	u.Failed = finishActions(byOutcome[Failed])
	u.NoPermission = finishCalls(noPerm)
	u.NotAPICalls = finishCalls(notAPI)
	u.Unmapped = finishCalls(unmapped)

	// Object-level S3, Lambda Invoke and DynamoDB item calls are data
	// events: when none were read, the principal's use of them is unknown.
	granted := map[string]bool{}
	for _, au := range u.Allowed {
		granted[strings.ToLower(au.Action)] = true
	}
	for src, acts := range dataSources {
		if services[src] == 0 || a.dataSeen[src] {
			continue
		}
		for _, act := range acts {
			if !granted[strings.ToLower(act)] {
				hidden[NotObservable{Action: act, Reason: "the dataset holds no " + src + " data events in the window"}] = struct{}{}
			}
		}
	}
	for h := range hidden {
		if !granted[strings.ToLower(h.Action)] {
			u.NotObservable = append(u.NotObservable, h)
		}
	}
	sort.Slice(u.NotObservable, func(i, j int) bool {
		x, y := u.NotObservable[i], u.NotObservable[j]
		if x.Action != y.Action {
			return x.Action < y.Action
		}
		return x.Reason < y.Reason
	})

	days := make([]int64, 0, len(p.days))
	for d := range p.days {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	pr := &u.Profile
	for _, d := range days {
		pr.ActiveDays = append(pr.ActiveDays, time.UnixMilli(d*86_400_000).UTC().Format("2006-01-02"))
	}
	pr.Services = TopCounts(services, 0)
	pr.Regions = TopCounts(regions, 0)
	pr.SourceIPs, pr.DistinctSourceIPs = TopCounts(p.ips, a.topN), len(p.ips)
	pr.UserAgents, pr.DistinctUserAgents = TopCounts(p.agents, a.topN), len(p.agents)
	pr.VPCEndpoints = TopCounts(p.vpces, 0)
	pr.ErrorCodes = TopCounts(errCodes, 0)
	pr.MFAEvents = p.mfa
	pr.AccessKeys = []KeyUsage{}
	for _, k := range p.keys {
		pr.AccessKeys = append(pr.AccessKeys, *k)
	}
	pr.SessionKeys = SessionKeys{Keys: int64(len(p.sessions)), Calls: p.session.Calls, FirstSeen: p.session.First, LastSeen: p.session.Last}
	sort.Slice(pr.AccessKeys, func(i, j int) bool { return pr.AccessKeys[i].AccessKeyID < pr.AccessKeys[j].AccessKeyID })
	if pr.ActiveDays == nil {
		pr.ActiveDays = []string{}
	}
	u.Origins = p.origins
	u.Origins.SourceIPs = TopCounts(p.okIPs, 0)
	u.Origins.VPCEndpoints = TopCounts(p.okVPCEs, 0)
	// Successful calls from a non-address are via a service; those with
	// no endpoint, outside one.
	u.Origins.ViaService, u.Origins.NoVPCE = u.Origins.Calls, u.Origins.Calls
	for _, c := range u.Origins.SourceIPs {
		u.Origins.ViaService -= c.Count
	}
	for _, c := range u.Origins.VPCEndpoints {
		u.Origins.NoVPCE -= c.Count
	}
	return u
}

func msTime(t int64) time.Time { return time.UnixMilli(t).UTC() }

func finishActions(m map[string]*actionAgg) []*ActionUsage {
	out := make([]*ActionUsage, 0, len(m))
	for _, ag := range m {
		u := ag.u
		u.FirstSeen, u.LastSeen = msTime(ag.first), msTime(ag.last)
		u.Resources = make([]ResourceUsage, 0, len(ag.resources))
		for _, r := range ag.resources {
			u.Resources = append(u.Resources, *r)
		}
		sort.Slice(u.Resources, func(i, j int) bool { return u.Resources[i].ARN < u.Resources[j].ARN })
		u.Notes = sortedSet(ag.notes)
		if len(u.Notes) == 0 {
			u.Notes = nil
		}
		u.Events = sortedSet(ag.events)
		u.Regions = sortedSet(ag.regions)
		u.ErrorCodes = TopCounts(ag.codes, 0)
		if len(u.ErrorCodes) == 0 {
			u.ErrorCodes = nil
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Action < out[j].Action })
	return out
}

func finishCalls(m map[CallCount]int64) []CallCount {
	out := make([]CallCount, 0, len(m))
	for c, n := range m {
		c.Calls = n
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.EventSource != y.EventSource {
			return x.EventSource < y.EventSource
		}
		if x.EventName != y.EventName {
			return x.EventName < y.EventName
		}
		return x.Reason < y.Reason
	})
	return out
}

// TopCounts returns the n most frequent values (all when n <= 0), most
// frequent first, ties by value.
func TopCounts(m map[string]int64, n int) []Count {
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

// PolicyKinds are the principal kinds a least-privilege policy can be
// attached to; `--all` analyses these.
var PolicyKinds = []string{cloudtrail.KindIAMUser, cloudtrail.KindRole, cloudtrail.KindSSORole, cloudtrail.KindFederatedUser}
