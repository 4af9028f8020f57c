package analyzer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// fakeMapper maps the few calls the synthetic corpus makes and counts how
// often it is asked.
func fakeMapper(n *atomic.Int64) MapperFunc {
	return func(c *actionmap.Call) actionmap.Result {
		n.Add(1)
		var req struct {
			BucketName string `json:"bucketName"`
			Key        string `json:"key"`
		}
		_ = json.Unmarshal([]byte(c.RequestParameters), &req)
		switch c.EventSource + ":" + c.EventName {
		case "s3.amazonaws.com:GetBucketAcl":
			return actionmap.Result{Status: actionmap.Mapped, Actions: []actionmap.Action{{Name: "s3:GetBucketAcl", Resources: []string{"arn:aws:s3:::" + req.BucketName}}}}
		case "s3.amazonaws.com:GetObject":
			return actionmap.Result{Status: actionmap.Mapped, Actions: []actionmap.Action{{Name: "s3:GetObject", Resources: []string{"arn:aws:s3:::" + req.BucketName + "/" + req.Key}}}}
		case "iam.amazonaws.com:ListUsers":
			return actionmap.Result{Status: actionmap.Mapped, Actions: []actionmap.Action{{Name: "iam:ListUsers", Resources: []string{"*"}}}}
		case "ec2.amazonaws.com:RunInstances":
			return actionmap.Result{Status: actionmap.Mapped, Actions: []actionmap.Action{{Name: "ec2:RunInstances"}}, NotObservable: []string{"iam:PassRole"}}
		case "sts.amazonaws.com:GetCallerIdentity":
			return actionmap.Result{Status: actionmap.NoPermission, Reason: "needs no permission"}
		case "signin.amazonaws.com:ConsoleLogin":
			return actionmap.Result{Status: actionmap.NotAPICall, Reason: "console sign-in"}
		}
		return actionmap.Result{Status: actionmap.Unmapped, Reason: "unknown"}
	}
}

func row(arn string, t time.Time, source, name, req, errCode string) UsageRow {
	return UsageRow{PrincipalARN: arn, PrincipalKind: "iam-user", EventTime: t.UnixMilli(), EventSource: source, EventName: name,
		EventType: "AwsApiCall", EventCategory: "Management", AWSRegion: "us-east-1", SourceIP: "198.51.100.7",
		UserAgent: "aws-cli/2", AccessKeyID: "AKIA1", PrincipalAccount: "111122223333", RecipientAccount: "111122223333",
		RequestParameters: req, ErrorCode: errCode}
}

func TestAggregator(t *testing.T) {
	const alice = "arn:aws:iam::111122223333:user/alice"
	const bob = "arn:aws:iam::111122223333:user/bob"
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	rows := []UsageRow{
		row(alice, t0, "s3.amazonaws.com", "GetBucketAcl", `{"bucketName":"a"}`, ""),
		row(alice, t0.Add(time.Hour), "s3.amazonaws.com", "GetBucketAcl", `{"bucketName":"a"}`, ""),
		row(alice, t0.Add(25*time.Hour), "s3.amazonaws.com", "GetBucketAcl", `{"bucketName":"b"}`, ""),
		row(alice, t0.Add(2*time.Hour), "iam.amazonaws.com", "ListUsers", `{}`, "AccessDenied"),
		row(alice, t0.Add(3*time.Hour), "s3.amazonaws.com", "GetBucketAcl", `{"bucketName":"c"}`, "NoSuchBucket"),
		row(alice, t0.Add(4*time.Hour), "sts.amazonaws.com", "GetCallerIdentity", `{}`, ""),
		row(alice, t0.Add(5*time.Hour), "kafka.amazonaws.com", "Frobnicate", `{}`, ""),
		row(alice, t0.Add(6*time.Hour), "ec2.amazonaws.com", "RunInstances", `{}`, ""),
		row(bob, t0, "s3.amazonaws.com", "GetBucketAcl", `{"bucketName":"a"}`, ""),
		row(alice, t0.Add(-100*24*time.Hour), "s3.amazonaws.com", "GetBucketAcl", `{"bucketName":"old"}`, ""), // outside the window
	}
	rows[1].SourceIP = "ec2.amazonaws.com" // made through a service
	rows[1].AccessKeyID = "ASIA2"
	yes := true
	rows[0].MFAAuthenticated = &yes
	rows[2].VPCEndpointID = "vpce-1"

	var maps atomic.Int64
	agg := NewAggregator(fakeMapper(&maps), func(arn, _ string) bool { return arn == alice }, nil, t0.Add(-24*time.Hour), time.Time{}, 0)
	agg.Add(rows[:5])
	agg.Add(rows[5:]) // a second batch, as Scan delivers them
	us := agg.Usages(t0, time.Time{})
	if len(us) != 1 || us[0].Principal != alice {
		t.Fatalf("usages: %+v", us)
	}
	u := us[0]
	if u.Events != 8 {
		t.Errorf("events = %d, want 8", u.Events)
	}
	// rows 0 and 1 are the same call: one entry, mapped once
	if got := agg.DistinctCalls(); got != 7 {
		t.Errorf("distinct calls = %d, want 7", got)
	}
	if maps.Load() != 7 {
		t.Errorf("Map called %d times, want 7", maps.Load())
	}
	names := func(as []*ActionUsage) string {
		var s []string
		for _, a := range as {
			var rs []string
			for _, r := range a.Resources {
				rs = append(rs, fmt.Sprintf("%s×%d", r.ARN, r.Calls))
			}
			s = append(s, fmt.Sprintf("%s=%d%v", a.Action, a.Calls, rs))
		}
		return strings.Join(s, " ")
	}
	if got, want := names(u.Allowed), "ec2:RunInstances=1[] s3:GetBucketAcl=3[arn:aws:s3:::a×2 arn:aws:s3:::b×1]"; got != want {
		t.Errorf("allowed: %s\nwant %s", got, want)
	}
	if got, want := names(u.Denied), "iam:ListUsers=1[*×1]"; got != want {
		t.Errorf("denied: %s", got)
	}
	if got, want := names(u.Failed), "s3:GetBucketAcl=1[arn:aws:s3:::c×1]"; got != want {
		t.Errorf("failed: %s", got)
	}
	if u.Allowed[0].UnknownResourceCalls != 1 {
		t.Errorf("RunInstances unknown resource calls = %d", u.Allowed[0].UnknownResourceCalls)
	}
	acl := u.Allowed[1]
	if !acl.FirstSeen.Equal(t0) || !acl.LastSeen.Equal(t0.Add(25*time.Hour)) {
		t.Errorf("GetBucketAcl seen %s..%s", acl.FirstSeen, acl.LastSeen)
	}
	if len(u.NoPermission) != 1 || u.NoPermission[0].EventName != "GetCallerIdentity" || len(u.Unmapped) != 1 || u.Unmapped[0].Calls != 1 {
		t.Errorf("no-permission %+v, unmapped %+v", u.NoPermission, u.Unmapped)
	}
	hidden := map[string]bool{}
	for _, n := range u.NotObservable {
		hidden[n.Action] = true
	}
	if !hidden["iam:PassRole"] || !hidden["s3:GetObject"] || hidden["s3:GetBucketAcl"] {
		t.Errorf("not observable: %+v", u.NotObservable)
	}
	p := u.Profile
	if fmt.Sprint(p.ActiveDays) != "[2026-11-01 2026-11-02]" {
		t.Errorf("active days %v", p.ActiveDays)
	}
	if len(p.AccessKeys) != 1 || p.AccessKeys[0].AccessKeyID != "AKIA1" || p.AccessKeys[0].Calls != 7 {
		t.Errorf("long-term keys %+v", p.AccessKeys)
	}
	if s := p.SessionKeys; s.Keys != 1 || s.Calls != 1 || s.FirstSeen.UnixMilli() != rows[1].EventTime || !s.LastSeen.Equal(s.FirstSeen) {
		t.Errorf("session keys %+v", s)
	}
	if p.Services[0] != (Count{"s3.amazonaws.com", 4}) || p.MFAEvents != 1 || p.DistinctSourceIPs != 2 {
		t.Errorf("profile %+v", p)
	}
	// successful calls: 0,1,2 (GetBucketAcl), 5 (sts), 6 (kafka), 7 (ec2)
	o := u.Origins
	if o.Calls != 6 || o.ViaService != 1 || o.NoVPCE != 5 || o.MFA != 1 || o.SourceIPs[0] != (Count{"198.51.100.7", 5}) {
		t.Errorf("origins %+v", o)
	}
}

func TestDataEventsObservable(t *testing.T) {
	const alice = "arn:aws:iam::111122223333:user/alice"
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	r := row(alice, t0, "s3.amazonaws.com", "GetObject", `{"bucketName":"a","key":"k"}`, "")
	r.EventCategory = "Data"
	var n atomic.Int64
	agg := NewAggregator(fakeMapper(&n), nil, nil, time.Time{}, time.Time{}, 0)
	agg.Add([]UsageRow{r, row(alice, t0, "s3.amazonaws.com", "GetBucketAcl", `{"bucketName":"a"}`, "")})
	u := agg.Usages(time.Time{}, time.Time{})[0]
	for _, h := range u.NotObservable {
		if strings.HasPrefix(h.Action, "s3:") {
			t.Errorf("S3 data events were read, yet %s is not observable", h.Action)
		}
	}
}

func TestIsDenied(t *testing.T) {
	for code, want := range map[string]bool{
		"AccessDenied": true, "AccessDeniedException": true, "Client.UnauthorizedOperation": true,
		"AuthorizationError": true, "Forbidden": true, "NoSuchBucket": false, "ThrottlingException": false, "": false,
	} {
		if got := IsDenied(code); got != want {
			t.Errorf("IsDenied(%q) = %v", code, got)
		}
	}
}

// synth is a synthetic corpus: users user0..userN-1, each with perUser
// calls over three days, written as CloudTrail files and ingested.
type synth struct {
	users, perUser int
	rowGroupRows   int64 // default 128
}

func (s synth) user(i int) string { return fmt.Sprintf("arn:aws:iam::111122223333:user/user%d", i) }

// event j of user i: mostly GetBucketAcl on one of 5 buckets, every 7th
// denied ListUsers, every 11th GetCallerIdentity.
func (s synth) event(i, j int) ingesttest.Record {
	day := 1 + j%3
	when := fmt.Sprintf("2026-11-%02dT%02d:%02d:%02dZ", day, j%24, (i+j)%60, j%60)
	var r ingesttest.Record
	switch {
	case j%7 == 0:
		r = ingesttest.NewRecord(fmt.Sprintf("e-%d-%d", i, j), when, fmt.Sprintf("user%d", i), "iam.amazonaws.com", "ListUsers")
		r["errorCode"], r["errorMessage"] = "AccessDenied", "User is not authorized to perform: iam:ListUsers"
	case j%11 == 0:
		r = ingesttest.NewRecord(fmt.Sprintf("e-%d-%d", i, j), when, fmt.Sprintf("user%d", i), "sts.amazonaws.com", "GetCallerIdentity")
	default:
		r = ingesttest.NewRecord(fmt.Sprintf("e-%d-%d", i, j), when, fmt.Sprintf("user%d", i), "s3.amazonaws.com", "GetBucketAcl")
		r["requestParameters"] = map[string]any{"bucketName": fmt.Sprintf("bucket-%d", j%5)}
	}
	return r
}

func (s synth) build(t testing.TB) *store.Store {
	t.Helper()
	dir := t.TempDir()
	for d := 1; d <= 3; d++ {
		var recs []ingesttest.Record
		for i := 0; i < s.users; i++ {
			for j := 0; j < s.perUser; j++ {
				if 1+j%3 == d {
					recs = append(recs, s.event(i, j))
				}
			}
		}
		ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", fmt.Sprintf("2026/11/%02d", d), 0),
			ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rg := s.rowGroupRows
	if rg == 0 {
		rg = 128
	}
	if _, err := ingest.Run(context.Background(), src, st, ingest.Options{Write: store.WriteOptions{RowGroupRows: rg}, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestAnalyzeStore(t *testing.T) {
	s := synth{users: 20, perUser: 150}
	st := s.build(t)
	var n atomic.Int64
	m := fakeMapper(&n)
	ctx := context.Background()

	// the events, pruned (the rollup is TestRollupMatchesEvents's)
	us, stats, err := Analyze(ctx, st, Query{Principals: []string{s.user(7)}}, m, Options{Source: SourceEvents})
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || us[0].Principal != s.user(7) {
		t.Fatalf("usages %v", us)
	}
	if stats.ResolveScan {
		t.Error("a full ARN needed a resolve scan")
	}
	if stats.RowGroupsRead*3 > stats.RowGroups {
		t.Errorf("read %d of %d row groups: no pruning", stats.RowGroupsRead, stats.RowGroups)
	}
	// rows are sorted by principal: only the principal's own rows are decoded
	if stats.RowsRead != int64(s.perUser) {
		t.Errorf("decoded %d rows for a principal of %d events", stats.RowsRead, s.perUser)
	}
	// truth, counted from the generator
	var acl, denied, sts int64
	buckets := map[string]int64{}
	for j := 0; j < s.perUser; j++ {
		switch {
		case j%7 == 0:
			denied++
		case j%11 == 0:
			sts++
		default:
			acl++
			buckets[fmt.Sprintf("arn:aws:s3:::bucket-%d", j%5)]++
		}
	}
	u := us[0]
	if u.Events != int64(s.perUser) || len(u.Allowed) != 1 || u.Allowed[0].Calls != acl || u.Denied[0].Calls != denied || u.NoPermission[0].Calls != sts {
		t.Fatalf("events %d allowed %+v denied %+v", u.Events, u.Allowed, u.Denied)
	}
	for _, r := range u.Allowed[0].Resources {
		if buckets[r.ARN] != r.Calls {
			t.Errorf("%s: %d calls, want %d", r.ARN, r.Calls, buckets[r.ARN])
		}
	}
	if fmt.Sprint(u.Profile.ActiveDays) != "[2026-11-01 2026-11-02 2026-11-03]" {
		t.Errorf("days %v", u.Profile.ActiveDays)
	}
	// the default window ends with the last day present
	if want := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC).Add(-DefaultWindow); !stats.From.Equal(want) {
		t.Errorf("window from %s, want %s", stats.From, want)
	}

	// one worker or several, the same answer
	one, _, err := Analyze(ctx, st, Query{Principals: []string{s.user(7)}}, m, Options{Workers: 1, Source: SourceEvents})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(one)
	b, _ := json.Marshal(us)
	if string(a) != string(b) {
		t.Errorf("Workers 1 and 2 differ:\n%s\n%s", a, b)
	}

	// two principals far apart in the sort order: each gets its own rows only
	us, _, err = Analyze(ctx, st, Query{Principals: []string{s.user(2), s.user(17)}}, m, Options{})
	if err != nil || len(us) != 2 {
		t.Fatalf("two principals: %v %v", us, err)
	}
	for _, u := range us {
		if u.Events != int64(s.perUser) || u.Allowed[0].Calls != acl {
			t.Errorf("%s: %d events, %d GetBucketAcl calls", u.Principal, u.Events, u.Allowed[0].Calls)
		}
	}

	// a window of one day
	us, _, err = Analyze(ctx, st, Query{Principals: []string{"user7"}, From: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 11, 2, 23, 59, 59, 0, time.UTC)}, m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if us[0].Events != int64(s.perUser/3) {
		t.Errorf("one day: %d events, want %d", us[0].Events, s.perUser/3)
	}
}

func TestResolve(t *testing.T) {
	s := synth{users: 12, perUser: 10}
	st := s.build(t)
	var n atomic.Int64
	ctx := context.Background()
	for _, tc := range []struct {
		ask  []string
		want []int
	}{
		{[]string{"user3"}, []int{3}},
		{[]string{"user1*"}, []int{1, 10, 11}},
		{[]string{"arn:aws:iam::111122223333:user/user2", "user5"}, []int{2, 5}},
		{[]string{"arn:aws:iam::*:user/user?"}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
	} {
		us, _, err := Analyze(ctx, st, Query{Principals: tc.ask}, fakeMapper(&n), Options{})
		if err != nil {
			t.Fatalf("%v: %v", tc.ask, err)
		}
		var got, want []string
		for _, u := range us {
			got = append(got, u.Principal)
		}
		for _, i := range tc.want {
			want = append(want, s.user(i))
		}
		slices.Sort(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%v: got %v, want %v", tc.ask, got, want)
		}
	}
	for _, ask := range []string{"usr3", "arn:aws:iam::111122223333:user/usr3"} {
		_, _, err := Analyze(ctx, st, Query{Principals: []string{ask}}, fakeMapper(&n), Options{})
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("%s: err = %v", ask, err)
		}
		if !slices.Contains(nf.Close, s.user(3)) {
			t.Errorf("%s: close matches %v lack user3", ask, nf.Close)
		}
	}
	us, _, err := Analyze(ctx, st, Query{All: true}, fakeMapper(&n), Options{})
	if err != nil || len(us) != 12 {
		t.Fatalf("--all: %d usages, %v", len(us), err)
	}
}

// BenchmarkAnalyze measures one principal out of 400 (100,000 events in
// three daily partitions, the default 16,384 rows per row group).
func BenchmarkAnalyze(b *testing.B) {
	s := synth{users: 400, perUser: 250, rowGroupRows: 16384}
	st := s.build(b)
	var n atomic.Int64
	m := fakeMapper(&n)
	q := Query{Principals: []string{s.user(123)}}
	b.ReportAllocs()
	for b.Loop() {
		us, _, err := Analyze(context.Background(), st, q, m, Options{})
		if err != nil || len(us) != 1 {
			b.Fatal(err)
		}
	}
}

// TestPrincipalARNs checks store.PrincipalARNs (dictionary pages only)
// against a full Scan of the principal_arn column, on the synthetic corpus
// and on the real sample.
func TestPrincipalARNs(t *testing.T) {
	real, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.NewDir(ingesttest.Invictus(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), src, real, ingest.Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]*store.Store{"synthetic": synth{users: 30, perUser: 40}.build(t), "invictus": real} {
		got, err := store.PrincipalARNs(context.Background(), st, store.Query{})
		if err != nil {
			t.Fatal(err)
		}
		set := map[string]struct{}{}
		if _, err := store.Scan(context.Background(), st, store.Query{}, func(rows []PrincipalRow) error {
			for _, r := range rows {
				if r.PrincipalARN != "" {
					set[r.PrincipalARN] = struct{}{}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := sortedSet(set)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: PrincipalARNs = %v\nwant %v", name, got, want)
		}
		if len(want) < 19 {
			t.Errorf("%s: only %d principals", name, len(want))
		}
	}
}

// Two calls are one only when every field is equal: a zero byte, which
// JSON carries as \u0000, moved from one field to the next makes another
// call.
func TestCallKeyKeepsFieldsApart(t *testing.T) {
	a := NewAggregator(MapperFunc(func(*actionmap.Call) actionmap.Result { return actionmap.Result{} }), nil, nil, time.Time{}, time.Time{}, 0)
	rows := []UsageRow{
		{EventSource: "s3.amazonaws.com", EventName: "GetObject\x00", EventType: "AwsApiCall"},
		{EventSource: "s3.amazonaws.com", EventName: "GetObject", EventType: "\x00AwsApiCall"},
		{EventSource: "s3.amazonaws.com", EventName: "GetObject", EventType: "AwsApiCall", Resources: []RowResource{{ARN: "a\x00b", Type: "c"}}},
		{EventSource: "s3.amazonaws.com", EventName: "GetObject", EventType: "AwsApiCall", Resources: []RowResource{{ARN: "a", Type: "b\x00c"}}},
	}
	seen := map[string]int{}
	for i := range rows {
		k := string(a.callKey(&rows[i], Allowed))
		if j, ok := seen[k]; ok {
			t.Fatalf("rows %d and %d have one key: %q", j, i, k)
		}
		seen[k] = i
	}
}
