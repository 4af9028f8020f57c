package review_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/review"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/ingesttest/dataset"
	"github.com/iamlens/iamlens/ingest/store"
)

func ingestDir(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, _ := dataset.Ingest(t, dir, ingest.Options{Workers: 2})
	return st
}

// writeLogs writes records as one CloudTrail log file of a new folder.
func writeLogs(t *testing.T, recs ...ingesttest.Record) string {
	t.Helper()
	dir := t.TempDir()
	ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/03/01", 1), ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
	return dir
}

// TestDeniedCallsAreUse: a key whose only recent calls were denied is not
// unused (IAM's last-used date counts them), it is failing-only.
func TestDeniedCallsAreUse(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ok := ingesttest.NewRecord("e1", at.Add(-200*day).Format(time.RFC3339), "u", "s3.amazonaws.com", "ListBuckets")
	denied := ingesttest.NewRecord("e2", at.Add(-5*day).Format(time.RFC3339), "u", "s3.amazonaws.com", "ListBuckets")
	denied["errorCode"], denied["errorMessage"] = "AccessDenied", "not authorized"
	st := ingestDir(t, writeLogs(t, ok, denied))
	act, err := (&review.RollupUsage{Store: st}).Activity(context.Background(), review.Query{})
	if err != nil {
		t.Fatal(err)
	}
	k := act.Keys["AKIAEXAMPLE"]
	if k == nil || !k.Last.Equal(at.Add(-5*day)) || !k.LastOK.Equal(at.Add(-200*day)) || k.Denied != 1 || k.OK != 1 ||
		!slices.Equal(k.ErrorCodes, []review.Count{{Value: "AccessDenied", Count: 1}}) {
		t.Fatalf("key activity %+v", k)
	}
	rep := runReview(t, at, act, nil)
	if got := kindsOf(rep, "AKIAEXAMPLE"); !slices.Equal(got, []string{review.FailingOnlyKey}) {
		t.Errorf("findings %v", got)
	}
}

// TestCreationsFromEvents: who created a user and a key, and the last
// human-looking caller naming a user, come from the events of the days
// the rollup shows IAM calls on (the rollup keeps no caller's user agent
// or session); failed calls and calls naming nobody are not clues.
func TestCreationsFromEvents(t *testing.T) {
	admin := func(id, when, name string, req map[string]any) ingesttest.Record {
		r := ingesttest.NewRecord(id, when, "admin", "iam.amazonaws.com", name)
		r["requestParameters"], r["userAgent"] = req, "Mozilla/5.0 (X11; Linux x86_64)"
		return r
	}
	failed := admin("e3", "2026-02-03T10:00:00Z", "CreateUser", map[string]any{"userName": "mallory"})
	failed["errorCode"] = "EntityAlreadyExists"
	st := ingestDir(t, writeLogs(t,
		admin("e1", "2026-02-01T09:00:00Z", "CreateUser", map[string]any{"userName": "ci"}),
		admin("e2", "2026-02-02T09:30:00Z", "CreateAccessKey", map[string]any{"userName": "ci"}),
		failed,
		admin("e4", "2026-02-04T11:00:00Z", "ListUsers", map[string]any{}),
		admin("e5", "2026-02-05T12:00:00Z", "TagUser", map[string]any{"userName": "ci"}),
		ingesttest.NewRecord("e6", "2026-02-05T13:00:00Z", "ci", "s3.amazonaws.com", "ListBuckets"),
	))
	act, err := (&review.RollupUsage{Store: st}).Activity(context.Background(), review.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range act.Creations {
		got = append(got, c.Target+" "+c.At.Format(time.RFC3339)+" "+c.By.Principal+" "+c.By.Event)
	}
	want := []string{
		"user/ci 2026-02-01T09:00:00Z arn:aws:iam::111122223333:user/admin iam:CreateUser",
		"access-key/ci 2026-02-02T09:30:00Z arn:aws:iam::111122223333:user/admin iam:CreateAccessKey",
	}
	if !slices.Equal(got, want) {
		t.Errorf("creations\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c := act.Touches["user/ci"]; c.Event != "iam:TagUser" || !c.Human || c.SourceIP != "198.51.100.7" || len(act.Touches) != 1 {
		t.Errorf("touches %+v", act.Touches)
	}
	if act.Events != 6 || !act.From.Equal(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)) || !act.To.Equal(time.Date(2026, 2, 5, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("events %d from %s to %s", act.Events, act.From, act.To)
	}
}

// TestSucceededSince: the first success with a key after a time, from the
// rollup, including a success on the same day as the time, summed in a row
// that began before it.
func TestSucceededSince(t *testing.T) {
	rec := func(id, when, code string) ingesttest.Record {
		r := ingesttest.NewRecord(id, when, "u", "s3.amazonaws.com", "ListBuckets")
		if code != "" {
			r["errorCode"] = code
		}
		return r
	}
	st := ingestDir(t, writeLogs(t,
		rec("e1", "2026-02-01T08:00:00Z", ""),
		rec("e2", "2026-02-01T10:00:00Z", "AccessDenied"),
		rec("e3", "2026-02-01T11:00:00Z", ""),
		rec("e4", "2026-02-01T12:00:00Z", ""),
		rec("e5", "2026-02-03T07:00:00Z", ""),
		rec("e6", "2026-02-04T07:00:00Z", "AccessDenied"),
	))
	u := &review.RollupUsage{Store: st}
	ts := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for _, c := range []struct{ since, first, covered string }{
		{"2026-02-01T09:00:00Z", "2026-02-01T11:00:00Z", "2026-02-04T07:00:00Z"},
		{"2026-02-01T12:00:00Z", "2026-02-03T07:00:00Z", "2026-02-04T07:00:00Z"},
		{"2026-02-03T07:00:00Z", "", "2026-02-04T07:00:00Z"},
		{"2026-02-05T00:00:00Z", "", ""},
	} {
		first, covered, err := u.SucceededSince(context.Background(), "AKIAEXAMPLE", ts(c.since))
		if err != nil {
			t.Fatal(err)
		}
		if !first.Equal(ts(c.first)) || !covered.Equal(ts(c.covered)) {
			t.Errorf("since %s: first %s covered %s, want %s and %s", c.since, first, covered, c.first, c.covered)
		}
	}
	if first, _, _ := u.SucceededSince(context.Background(), "AKIAOTHER", ts("2026-01-01T00:00:00Z")); !first.IsZero() {
		t.Errorf("another key: %s", first)
	}
}

// The review's facts of every principal and long-term key, read from the
// rollup, equal those counted here straight from the raw records: the
// bundled sample always, the real dev logs when ../shared is present.
func TestRollupFactsMatchRecordsSample(t *testing.T) {
	checkFactsMatchRecords(t, ingesttest.Sample(t))
}

func TestRollupFactsMatchRecordsDev(t *testing.T) {
	dev := ingesttest.DevRecords(t) // skips without ../shared
	dir := t.TempDir()
	recs := make([]ingesttest.Record, 0, len(dev))
	seen := map[string]bool{}
	for _, d := range dev {
		var r ingesttest.Record
		if err := json.Unmarshal([]byte(d.Rec.Raw), &r); err != nil {
			t.Fatal(err)
		}
		// one copy of each event (the store keeps one per eventID) in a
		// file of its own day, as CloudTrail delivers them
		id := d.Rec.Get("eventID").Str
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		recs = append(recs, r)
	}
	for i := 0; i < len(recs); i += 500 {
		part := recs[i:min(i+500, len(recs))]
		ingesttest.WriteFile(t, dir, ingesttest.Key("000000000000", "us-east-1", "2020/01/01", i/500), ingesttest.Gzip(t, ingesttest.LogJSON(t, part...)))
	}
	checkFactsMatchRecords(t, dir)
}

// facts is a subject's activity as this test counts it.
type facts struct {
	Kind, Principal           string
	Calls, OK, Denied, Failed int64
	First, Last               int64
	FirstOK, LastOK           int64
	Days                      map[int64][4]int64 // day → ok, denied, failed, and the day's last call
	Codes, IPs, Agents, VPCEs map[string]int64
	MFA                       int64
	firstAt                   int64
}

func checkFactsMatchRecords(t *testing.T, dir string) {
	st := ingestDir(t, dir)
	act, err := (&review.RollupUsage{Store: st, TopN: 1 << 30}).Activity(context.Background(), review.Query{})
	if err != nil {
		t.Fatal(err)
	}
	// Straight from the records: one count per distinct eventID.
	principals, keys := map[string]*facts{}, map[string]*facts{}
	seen := map[string]bool{}
	var events int64
	ingesttest.LogRecords(t, dir, func(_ string, rec gjson.Result) {
		id := rec.Get("eventID").Str
		when, err := time.Parse(time.RFC3339, rec.Get("eventTime").Str)
		if id == "" || seen[id] || err != nil {
			return
		}
		seen[id] = true
		events++
		p := cloudtrail.ResolveRecord(rec)
		ms := when.UnixMilli()
		code := rec.Get("errorCode").Str
		key := rec.Get("userIdentity.accessKeyId").Str
		mfa := rec.Get("userIdentity.sessionContext.attributes.mfaAuthenticated").Str == "true"
		count := func(m map[string]*facts, id, principal string) {
			f := m[id]
			if f == nil {
				f = &facts{Kind: p.Kind, Principal: principal, First: ms, Last: ms, firstAt: ms, Days: map[int64][4]int64{},
					Codes: map[string]int64{}, IPs: map[string]int64{}, Agents: map[string]int64{}, VPCEs: map[string]int64{}}
				m[id] = f
			}
			if ms < f.firstAt || ms == f.firstAt && principal < f.Principal {
				f.firstAt, f.Principal, f.Kind = ms, principal, p.Kind
			}
			f.Calls++
			f.First, f.Last = min(f.First, ms), max(f.Last, ms)
			d := f.Days[ms/86_400_000]
			switch cloudtrail.OutcomeOf(code) {
			case cloudtrail.OutcomeAllowed:
				f.OK++
				d[0]++
				if f.FirstOK == 0 || ms < f.FirstOK {
					f.FirstOK = ms
				}
				f.LastOK = max(f.LastOK, ms)
			case cloudtrail.OutcomeDenied:
				f.Denied++
				d[1]++
			default:
				f.Failed++
				d[2]++
			}
			d[3] = max(d[3], ms)
			f.Days[ms/86_400_000] = d
			for m, v := range map[*map[string]int64]string{&f.Codes: code, &f.IPs: rec.Get("sourceIPAddress").Str,
				&f.Agents: rec.Get("userAgent").Str, &f.VPCEs: rec.Get("vpcEndpointId").Str} {
				if v != "" {
					(*m)[v]++
				}
			}
			if mfa {
				f.MFA++
			}
		}
		if p.ARN != "" {
			count(principals, p.ARN, "")
		}
		if strings.HasPrefix(key, "AKIA") {
			count(keys, key, p.ARN)
		}
	})
	if act.Events != events {
		t.Errorf("events: rollup %d, records %d", act.Events, events)
	}
	compare := func(what string, want map[string]*facts, got map[string]*review.Subject) {
		if len(got) != len(want) {
			t.Errorf("%s: rollup %d, records %d", what, len(got), len(want))
		}
		for id, w := range want {
			g := got[id]
			if g == nil {
				t.Errorf("%s %s: missing", what, id)
				continue
			}
			if a, b := factsOf(g), w.String(); a != b {
				t.Errorf("%s %s:\nrollup  %s\nrecords %s", what, id, a, b)
			}
		}
	}
	compare("principal", principals, act.Principals)
	compare("key", keys, act.Keys)
	if len(principals) < 5 {
		t.Fatalf("only %d principals compared", len(principals))
	}
	t.Logf("%d events, %d principals and %d long-term keys compared", events, len(principals), len(keys))
}

func (f *facts) String() string {
	var days []string
	for d, v := range f.Days {
		days = append(days, fmt.Sprintf("%d:%d/%d/%d@%d", d, v[0], v[1], v[2], v[3]))
	}
	sort.Strings(days)
	return fmt.Sprintf("%s %s calls=%d ok=%d denied=%d failed=%d %d..%d ok %d..%d mfa=%d days=%v codes=%v ips=%v agents=%v vpces=%v",
		f.Kind, f.Principal, f.Calls, f.OK, f.Denied, f.Failed, f.First, f.Last, f.FirstOK, f.LastOK, f.MFA, days,
		sortedCounts(f.Codes), sortedCounts(f.IPs), sortedCounts(f.Agents), sortedCounts(f.VPCEs))
}

func sortedCounts(m map[string]int64) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}

func factsOf(s *review.Subject) string {
	ms := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixMilli()
	}
	f := facts{Kind: s.Kind, Principal: s.Principal, Calls: s.Calls, OK: s.OK, Denied: s.Denied, Failed: s.Failed,
		First: ms(s.First), Last: ms(s.Last), FirstOK: ms(s.FirstOK), LastOK: ms(s.LastOK), MFA: s.MFA, Days: map[int64][4]int64{}}
	for _, d := range s.Days {
		f.Days[d.Date.UnixMilli()/86_400_000] = [4]int64{d.OK, d.Denied, d.Failed, max(ms(d.LastOK), ms(d.LastFail))}
	}
	m := func(cs []review.Count) map[string]int64 {
		out := map[string]int64{}
		for _, c := range cs {
			out[c.Value] = c.Count
		}
		return out
	}
	f.Codes, f.IPs, f.Agents, f.VPCEs = m(s.ErrorCodes), m(s.SourceIPs), m(s.UserAgents), m(s.VPCEndpoints)
	return f.String()
}

// TestUsedMatchesEvents: the actions each principal used in a window, from
// the rollup (a window of a day or more, its ends inside days) or from the
// events (a window shorter than a day), equal analyze's from the events.
func TestUsedMatchesEvents(t *testing.T) {
	st := ingestDir(t, ingesttest.Sample(t))
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := actionmap.New(cat)
	noon := time.Date(2023, 7, 10, 12, 10, 0, 0, time.UTC)
	for _, w := range [][2]time.Time{{noon.Add(-24 * time.Hour), noon}, {noon, noon.Add(40 * time.Hour)}, {noon.Add(-10 * time.Minute), noon}} {
		act, err := (&review.RollupUsage{Store: st}).Activity(context.Background(), review.Query{Mapper: m, From: w[0], To: w[1]})
		if err != nil {
			t.Fatal(err)
		}
		usages, _, err := analyzer.Analyze(context.Background(), st, analyzer.Query{All: true, From: w[0], To: w[1]}, m, analyzer.Options{Source: analyzer.SourceEvents})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{}
		for _, u := range usages {
			for _, a := range u.Allowed {
				want[u.Principal] = append(want[u.Principal], a.Action)
			}
		}
		n := 0
		for p, acts := range want {
			n += len(acts)
			if !slices.Equal(act.Used[p], acts) {
				t.Errorf("window %s..%s, %s: used %v, the events say %v", w[0], w[1], p, act.Used[p], acts)
			}
		}
		if n == 0 {
			t.Errorf("window %s..%s: no action used", w[0], w[1])
		}
		t.Logf("window %s..%s: %d principals, %d actions", w[0].Format(time.RFC3339), w[1].Format(time.RFC3339), len(want), n)
	}
}
