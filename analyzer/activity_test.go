package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// keyStore is a small account over five days: users with one or two
// long-term keys, a role whose sessions each have a temporary key, calls
// that succeed, are denied or fail, a key with a day of failures only, a
// console sign-in, MFA, a VPC endpoint; files of several events each, in
// batches of one file, so a day's calls of one principal and key lie in
// several events files (and rollup files).
func keyStore(t *testing.T) *store.Store {
	t.Helper()
	dir := t.TempDir()
	n := 0
	for day := 1; day <= 5; day++ {
		for f := 0; f < 3; f++ {
			var recs []ingesttest.Record
			for i := 0; i < 12; i++ {
				n++
				when := fmt.Sprintf("2026-11-%02dT%02d:%02d:00Z", day, 2+f*6+i%6, i*4)
				user := fmt.Sprintf("user%d", i%3)
				r := ingesttest.NewRecord(fmt.Sprintf("00000000-0000-4000-8000-%012d", n), when, user, "s3.amazonaws.com", "GetBucketAcl")
				ui := r["userIdentity"].(map[string]any)
				ui["accessKeyId"] = fmt.Sprintf("AKIAUSER%d", i%3)
				if i%3 == 2 && i%2 == 0 {
					ui["accessKeyId"] = "AKIAUSER2SECOND" // user2's second key
				}
				r["sourceIPAddress"] = fmt.Sprintf("198.51.100.%d", (i+day)%4)
				switch {
				case i%3 == 1 && day == 3: // user1's key fails all day
					r["errorCode"], r["errorMessage"] = "NoSuchBucket", fmt.Sprintf("request %d", n)
				case i == 5:
					r["errorCode"], r["errorMessage"] = "AccessDenied", "User is not authorized to perform: s3:GetBucketAcl"
				case i == 9:
					r["eventSource"], r["eventName"], r["eventType"] = "signin.amazonaws.com", "ConsoleLogin", "AwsConsoleSignIn"
					delete(ui, "accessKeyId")
				case i == 10:
					r["vpcEndpointId"] = "vpce-0abc"
				case i == 11 || i == 8:
					hour := 2 + f*6 + i%6
					ui["type"] = "AssumedRole"
					ui["arn"] = fmt.Sprintf("arn:aws:sts::111122223333:assumed-role/deploy/s%d", hour)
					ui["accessKeyId"] = fmt.Sprintf("ASIASESSION%02d%02d", day, hour)
					ui["sessionContext"] = map[string]any{
						"sessionIssuer": map[string]any{"type": "Role", "arn": "arn:aws:iam::111122223333:role/deploy", "accountId": "111122223333", "userName": "deploy"},
						"attributes":    map[string]any{"mfaAuthenticated": fmt.Sprint(i == 8)},
					}
					delete(ui, "userName")
				}
				recs = append(recs, r)
			}
			ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", fmt.Sprintf("2026/11/%02d", day), f),
				ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
		}
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, _ := source.NewDir(dir)
	if _, err := ingest.Run(context.Background(), src, st, ingest.Options{Workers: 2, BatchBytes: 1}); err != nil {
		t.Fatal(err)
	}
	return st
}

// referenceActivity computes Activity's answer from the events, one by one.
func referenceActivity(t *testing.T, st *store.Store) *ActivityReport {
	t.Helper()
	principals := map[[2]string]*subjectAgg{}
	keys := map[string]*subjectAgg{}
	_, err := store.Scan(context.Background(), st, store.Query{}, func(rows []store.UsageRow) error {
		for _, e := range rows {
			r := &struct{ FirstSeen, LastSeen, Calls int64 }{e.EventTime, e.EventTime, 1}
			out := cloudtrail.OutcomeOf(e.ErrorCode)
			p := principals[[2]string{e.PrincipalARN, e.PrincipalKind}]
			if p == nil {
				p = newSubject(e.PrincipalARN, e.PrincipalARN, e.PrincipalKind)
				principals[[2]string{e.PrincipalARN, e.PrincipalKind}] = p
			}
			subjects := []*subjectAgg{p}
			if e.AccessKeyID != "" {
				k := keys[e.AccessKeyID]
				if k == nil {
					k = newSubject(e.AccessKeyID, e.PrincipalARN, e.PrincipalKind)
					keys[e.AccessKeyID] = k
				}
				subjects = append(subjects, k)
			}
			for i, s := range subjects {
				day := floorDiv(r.FirstSeen, 86_400_000)
				d := s.days[day]
				if d == nil {
					d = &DayActivity{Date: msTime(day * 86_400_000)}
					s.days[day] = d
				}
				tl := map[string][2]*Tally{cloudtrail.OutcomeAllowed: {&s.s.Allowed, &d.Allowed},
					cloudtrail.OutcomeDenied: {&s.s.Denied, &d.Denied}, cloudtrail.OutcomeFailed: {&s.s.Failed, &d.Failed}}[out]
				tl[0].add(1, e.EventTime, e.EventTime)
				tl[1].add(1, e.EventTime, e.EventTime)
				incBy(s.codes, e.ErrorCode, 1)
				if i == 0 || strings.HasPrefix(e.AccessKeyID, "AKIA") {
					incBy(s.ips, e.SourceIP, 1)
					incBy(s.agents, e.UserAgent, 1)
					incBy(s.vpces, e.VPCEndpointID, 1)
				}
				if e.MFAAuthenticated != nil && *e.MFAAuthenticated {
					s.s.MFACalls++
				}
				if i == 0 {
					if e.EventType == "AwsConsoleSignIn" {
						s.s.Console.add(1, e.EventTime, e.EventTime)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &activityAgg{principals: principals, keys: keys}
	return a.report()
}

// Activity from the rollup equals the same questions answered event by
// event: per principal and per access key, calls by outcome and by day
// with their first and last, error codes, origins (per long-term key
// too), MFA and console sign-ins; and a narrower window and account select
// what they should.
func TestActivity(t *testing.T) {
	st := keyStore(t)
	ctx := context.Background()
	got, err := Activity(ctx, st, RollupQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := referenceActivity(t, st)
	a, _ := json.MarshalIndent(got, "", " ")
	b, _ := json.MarshalIndent(want, "", " ")
	if string(a) != string(b) {
		t.Fatalf("Activity from the rollup differs from the events':\n%s\n---\n%s", a, b)
	}
	byID := map[string]*SubjectActivity{}
	for _, k := range got.Keys {
		byID[k.ID] = k
	}
	k1 := byID["AKIAUSER1"]
	if k1 == nil || k1.DaysAllowed() != 4 || k1.DaysOnlyFailed() != 1 || k1.Failures().Calls == 0 {
		t.Fatalf("user1's key: %+v", k1)
	}
	if k2 := byID["AKIAUSER2SECOND"]; k2 == nil || k2.Principal != "arn:aws:iam::111122223333:user/user2" || len(k2.SourceIPs) == 0 {
		t.Fatalf("user2's second key: %+v", k2)
	}
	if s := byID["ASIASESSION0104"]; s == nil || len(s.SourceIPs) != 0 || s.Kind != cloudtrail.KindRole || s.MFACalls != 1 {
		t.Fatalf("a session key: %+v (temporary keys keep no origins)", s)
	}
	if s := byID["ASIASESSION0107"]; s == nil || s.MFACalls != 0 {
		t.Fatalf("a session key without MFA: %+v", s)
	}
	sessions := 0
	for id := range byID {
		if strings.HasPrefix(id, "ASIA") {
			sessions++
		}
	}
	if sessions < 10 || len(got.Principals) != 4 {
		t.Fatalf("%d session keys, %d principals", sessions, len(got.Principals))
	}

	// One day: the day's activity only.
	d3 := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	day, err := Activity(ctx, st, RollupQuery{From: d3, To: d3.Add(24*time.Hour - time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range day.Keys {
		if len(k.Days) != 1 || !k.Days[0].Date.Equal(d3) {
			t.Fatalf("one day: %s has days %+v", k.ID, k.Days)
		}
	}
	if _, err := Activity(ctx, st, RollupQuery{From: d3.Add(time.Hour)}); err == nil {
		t.Error("a window that starts within a day was answered")
	}
	other, err := Activity(ctx, st, RollupQuery{Accounts: []string{"444455556666"}})
	if err != nil || len(other.Principals) != 0 || len(other.Keys) != 0 {
		t.Fatalf("another account: %+v %v", other, err)
	}
}

// ScanCalls's calls, summed, are analyze's: each action's successful calls
// per principal; each distinct call is mapped once.
func TestScanCalls(t *testing.T) {
	st := keyStore(t)
	ctx := context.Background()
	var maps atomic.Int64
	m := fakeMapper(&maps)
	type key struct{ principal, action string }
	calls := map[key]int64{}
	days := map[string]bool{}
	rows := 0
	err := ScanCalls(ctx, st, RollupQuery{}, m, func(c *CallActivity) error {
		rows++
		days[c.Date.Format(time.DateOnly)] = true
		if c.Outcome == Allowed && c.Mapping.Status == actionmap.Mapped {
			for _, a := range c.Mapping.Actions {
				calls[key{c.Principal, a.Name}] += c.Calls
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	us, _, err := Analyze(ctx, st, Query{All: true, From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, m, Options{Source: SourceEvents})
	if err != nil {
		t.Fatal(err)
	}
	want := map[key]int64{}
	for _, u := range us {
		for _, a := range u.Allowed {
			want[key{u.Principal, a.Action}] = a.Calls
		}
	}
	if len(want) == 0 || fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("ScanCalls sums %v, analyze %v", calls, want)
	}
	if len(days) != 5 || int(maps.Load()) >= rows {
		t.Errorf("%d days, %d mappings for %d rows", len(days), maps.Load(), rows)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for d := range days {
			if !yield(d) {
				return
			}
		}
	})
	if keys[0] != "2026-11-01" {
		t.Errorf("days %v", keys)
	}
}

// BenchmarkSource reads the same synthetic store (400 users, 100,000
// events over three days, each user's calls a few distinct ones) from the
// events and from the usage rollup, side by side: the principals listing,
// analyze --all, one principal, and Activity (the rollup only).
//
//	go test ./analyzer -run '^$' -bench Source
func BenchmarkSource(b *testing.B) {
	s := synth{users: 400, perUser: 250, rowGroupRows: 16384}
	st := s.build(b)
	var n atomic.Int64
	m := fakeMapper(&n)
	ctx := context.Background()
	for _, src := range []Source{SourceEvents, SourceRollup} {
		b.Run("principals/"+string(src), func(b *testing.B) {
			for b.Loop() {
				if _, got, err := ListPrincipals(ctx, st, PrincipalOptions{Source: src}); err != nil || got != src {
					b.Fatal(err, got)
				}
			}
		})
		b.Run("all/"+string(src), func(b *testing.B) {
			for b.Loop() {
				if us, _, err := Analyze(ctx, st, Query{All: true}, m, Options{Source: src}); err != nil || len(us) != s.users {
					b.Fatal(err)
				}
			}
		})
		b.Run("principal/"+string(src), func(b *testing.B) {
			for b.Loop() {
				if us, _, err := Analyze(ctx, st, Query{Principals: []string{s.user(123)}}, m, Options{Source: src}); err != nil || len(us) != 1 {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("activity/rollup", func(b *testing.B) {
		for b.Loop() {
			if a, err := Activity(ctx, st, RollupQuery{}); err != nil || len(a.Principals) != s.users {
				b.Fatal(err)
			}
		}
	})
}

// The rollup answers windows of whole UTC days; others are read from the
// events, with the same answer where both apply.
func TestWholeDays(t *testing.T) {
	d := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from, to time.Time
		whole    bool
	}{
		{time.Time{}, time.Time{}, true},
		{d, time.Time{}, true},
		{d, d.Add(24*time.Hour - time.Millisecond), true},
		{time.Time{}, d.Add(72*time.Hour - time.Millisecond), true},
		{d.Add(time.Hour), time.Time{}, false},
		{d, d.Add(24 * time.Hour), false},
		{d, d.Add(12 * time.Hour), false},
	} {
		if got := wholeDays(c.from, c.to); got != c.whole {
			t.Errorf("wholeDays(%s, %s) = %v", c.from, c.to, got)
		}
	}
	st := keyStore(t)
	ctx := context.Background()
	for _, w := range [][2]time.Time{{d, d.Add(24*time.Hour - time.Millisecond)}, {d.Add(5 * time.Hour), d.Add(30 * time.Hour)}} {
		got, src, err := ListPrincipals(ctx, st, PrincipalOptions{From: w[0], To: w[1]})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]Source{true: SourceRollup, false: SourceEvents}[wholeDays(w[0], w[1])]; src != want {
			t.Errorf("%v: read %q, want %q", w, src, want)
		}
		ev, _, err := ListPrincipals(ctx, st, PrincipalOptions{From: w[0], To: w[1], Source: SourceEvents})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(ev)
		if string(a) != string(b) || len(got) == 0 {
			t.Errorf("%v: %s\n%s", w, a, b)
		}
	}
	if _, _, err := ListPrincipals(ctx, st, PrincipalOptions{From: d.Add(time.Hour), Source: SourceRollup}); err == nil {
		t.Error("the rollup answered a window inside a day")
	}
}

// A key seen with two principals (a key's user renamed, or events of
// different trails) names the principal of its earliest call, the smaller
// ARN on a tie, whatever order the rollup files are read in.
func TestActivityKeyPrincipal(t *testing.T) {
	dir := t.TempDir()
	for i, c := range []struct{ day, when, user string }{
		{"2026/11/02", "2026-11-02T09:00:00Z", "alice"},
		{"2026/11/01", "2026-11-01T10:00:00Z", "zed"},
		{"2026/11/01", "2026-11-01T10:00:00Z", "bob"},
		{"2026/11/03", "2026-11-03T08:00:00Z", "aaron"},
	} {
		r := ingesttest.NewRecord(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), c.when, c.user, "s3.amazonaws.com", "ListBuckets")
		r["userIdentity"].(map[string]any)["accessKeyId"] = "AKIASHARED"
		ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", c.day, i), ingesttest.Gzip(t, ingesttest.LogJSON(t, r)))
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, _ := source.NewDir(dir)
	if _, err := ingest.Run(context.Background(), src, st, ingest.Options{Workers: 2, BatchBytes: 1}); err != nil {
		t.Fatal(err)
	}
	for range 5 { // files are read concurrently
		got, err := Activity(context.Background(), st, RollupQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Keys) != 1 || got.Keys[0].Principal != "arn:aws:iam::111122223333:user/bob" || got.Keys[0].Calls() != 4 {
			t.Fatalf("keys %+v", got.Keys[0])
		}
	}
}
