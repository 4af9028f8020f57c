package store_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// sampleRows decodes testdata/sample (and extra, when given) into a
// builder, and returns its rows sorted as ingest sorts a partition's: by
// principal, then time.
func sampleRows(t testing.TB, extra ...columns.Event) (store.Rows, []columns.Event) {
	t.Helper()
	src, err := source.NewDir(ingesttest.Sample(t))
	if err != nil {
		t.Fatal(err)
	}
	var events []columns.Event
	bld := columns.NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields}
	var rd cloudtrail.Reader
	err = src.Walk(context.Background(), source.Filter{}, func(o source.Object) error {
		if cloudtrail.Classify(o.Key) != cloudtrail.KindLog {
			return nil
		}
		rc, err := src.Open(context.Background(), o.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		data, err := rd.Read(rc)
		if err != nil {
			return err
		}
		n, err := sp.Split(data)
		for i := 0; i < n; i++ {
			_, _ = bld.AppendSpans(data, sp.Record(i), sp.Values(i), o.Key)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int32, bld.Len())
	for i := range all {
		all[i] = int32(i)
	}
	events = append(bld.Events(all, nil), extra...)
	sortEvents(events)
	if len(events) < 2900 {
		t.Fatalf("%d sample records", len(events))
	}
	return columns.SelectEvents(events), events
}

// rollupEdges are events that exercise the rollup's keys: denied calls
// whose messages differ, failed ones whose messages differ (and must not
// split the call), null and empty resource lists, MFA, VPC endpoints, and
// a principal-less event.
func rollupEdges() []columns.Event {
	yes := true
	p := "arn:aws:iam::111122223333:user/edge"
	base := columns.Event{PrincipalARN: p, PrincipalKind: cloudtrail.KindIAMUser, EventSource: "s3.amazonaws.com",
		EventName: "GetObject", AWSRegion: "us-east-1", RecipientAccount: "111122223333", PrincipalAccount: "111122223333",
		UserIdentityARN: p, SourceIP: "192.0.2.1", UserAgent: "aws-cli/2", AccessKeyID: "AKIAEDGE", EventType: "AwsApiCall",
		EventCategory: "Data", RequestParameters: `{"bucketName":"b","key":"k"}`}
	var out []columns.Event
	for i := range 12 {
		e := base
		e.EventID = fmt.Sprintf("edge-%02d", i)
		e.EventTime = 1_700_000_000_000 + int64(i)*1000
		switch i % 6 {
		case 1:
			e.ErrorCode, e.ErrorMessage = "AccessDenied", fmt.Sprintf("denied on resource %d", i%2)
		case 2:
			e.ErrorCode, e.ErrorMessage = "NoSuchKey", fmt.Sprintf("request id %d", i)
		case 3:
			e.Resources = []columns.Resource{}
			e.MFAAuthenticated = &yes
		case 4:
			e.Resources = []columns.Resource{{ARN: "arn:aws:s3:::b/k", Type: "AWS::S3::Object"}}
			e.VPCEndpointID = "vpce-1"
			e.AccessKeyID = "AKIAEDGE2" // a second long-term key: profile rows of its own
		case 5:
			e.PrincipalARN, e.PrincipalKind, e.UserIdentityARN, e.AccessKeyID = "", cloudtrail.KindAWSService, "", ""
			e.SourceIP = "s3.amazonaws.com"
		}
		if i%6 == 0 { // two sessions of a role: one call row, an origin row each
			e.PrincipalARN, e.PrincipalKind = "arn:aws:iam::111122223333:role/edge", cloudtrail.KindRole
			e.UserIdentityARN = fmt.Sprintf("arn:aws:sts::111122223333:assumed-role/edge/session-%d", i)
			e.AccessKeyID = fmt.Sprintf("ASIAEDGE%d", i)
		}
		out = append(out, e)
	}
	return out
}

// rollupKey is a reference key of one facet for an event, built naively
// from the documented rules; "" when the event has no row in the facet.
func rollupKey(facet string, e columns.Event) string {
	out := cloudtrail.OutcomeOf(e.ErrorCode)
	who := e.PrincipalARN + "|" + e.PrincipalKind
	switch facet {
	case columns.FacetCall:
		msg := ""
		if out == cloudtrail.OutcomeDenied {
			msg = e.ErrorMessage
		}
		var res []string
		for _, r := range e.Resources {
			res = append(res, r.ARN+"^"+r.Type+"^"+r.AccountID)
		}
		return strings.Join([]string{who, e.EventSource, e.EventName, e.EventType, e.EventCategory, e.AWSRegion,
			e.RecipientAccount, e.PrincipalAccount, cloudtrail.WithoutSession(e.UserIdentityARN), e.ErrorCode, e.RequestParameters, msg,
			strings.Join(res, ","), out}, "|")
	case columns.FacetPrincipal:
		return strings.Join([]string{who, e.PrincipalAccount, e.RecipientAccount, out}, "|")
	case columns.FacetOrigin:
		key := "" // the long-term key origins are kept by
		if strings.HasPrefix(e.AccessKeyID, "AKIA") {
			key = e.AccessKeyID
		}
		return strings.Join([]string{who, key, e.SourceIP, e.UserAgent, e.VPCEndpointID, out}, "|")
	case columns.FacetAccessKey:
		if e.AccessKeyID != "" {
			return strings.Join([]string{who, e.AccessKeyID, e.ErrorCode, out}, "|")
		}
	}
	return ""
}

// rowKey is rollupKey for a rollup row.
func rowKey(r columns.RollupRow) string {
	e := columns.Event{PrincipalARN: r.PrincipalARN, PrincipalKind: r.PrincipalKind, PrincipalAccount: r.PrincipalAccount,
		RecipientAccount: r.RecipientAccount, ErrorCode: r.ErrorCode, EventSource: r.EventSource, EventName: r.EventName,
		EventType: r.EventType, EventCategory: r.EventCategory, AWSRegion: r.AWSRegion, UserIdentityARN: r.UserIdentityARN,
		RequestParameters: r.RequestParameters, ErrorMessage: r.ErrorMessage, AccessKeyID: r.AccessKeyID,
		SourceIP: r.SourceIP, UserAgent: r.UserAgent, VPCEndpointID: r.VPCEndpointID}
	for _, x := range r.Resources {
		e.Resources = append(e.Resources, columns.Resource{ARN: x.ARN, Type: x.Type, AccountID: x.AccountID})
	}
	if r.Facet != columns.FacetOrigin && (r.SourceIP != "" || r.UserAgent != "" || r.VPCEndpointID != "") {
		return "an origin column in a " + r.Facet + " row"
	}
	if r.AccessKeyID != "" && r.Facet != columns.FacetOrigin && r.Facet != columns.FacetAccessKey {
		return "access_key_id in a " + r.Facet + " row"
	}
	if r.Facet == columns.FacetOrigin && r.AccessKeyID != "" && !strings.HasPrefix(r.AccessKeyID, "AKIA") {
		return "a temporary key in an origin row"
	}
	if r.ErrorCode != "" && r.Facet != columns.FacetCall && r.Facet != columns.FacetAccessKey {
		return "error code in a " + r.Facet + " row"
	}
	if r.ErrorCode != "" && r.Outcome != cloudtrail.OutcomeOf(r.ErrorCode) {
		return "an outcome that is not its error code's"
	}
	if r.Facet == columns.FacetPrincipal || r.Facet == columns.FacetOrigin {
		// The outcome stands for the error codes it sums.
		e.ErrorCode = map[string]string{cloudtrail.OutcomeAllowed: "", cloudtrail.OutcomeDenied: "AccessDenied", cloudtrail.OutcomeFailed: "X"}[r.Outcome]
	}
	return rollupKey(r.Facet, e)
}

type sums struct{ calls, mfa, first, last int64 }

func (s *sums) add(o sums) {
	if s.calls == 0 {
		*s = o
		return
	}
	s.calls += o.calls
	s.mfa += o.mfa
	s.first, s.last = min(s.first, o.first), max(s.last, o.last)
}

// readRollup reads a rollup file with parquet-go's generic reader.
func readRollup(t testing.TB, data []byte) []columns.RollupRow {
	t.Helper()
	rows, err := parquet.Read[columns.RollupRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The rollup of a partition's rows holds, facet by facet, exactly the sums
// a naive grouping of the events by the documented keys gives: each event
// counted once in each facet that has its value, never merged with another
// key, the facets in order, each a run of rows sorted by principal.
func TestRollupSumsEvents(t *testing.T) {
	rows, events := sampleRows(t, rollupEdges()...)
	for _, o := range []store.WriteOptions{{}, {RowGroupRows: 7, PageBytes: 512}} {
		var buf bytes.Buffer
		if err := store.EncodeRollup(&buf, rows, o); err != nil {
			t.Fatal(err)
		}
		got := readRollup(t, buf.Bytes())
		for _, facet := range columns.Facets {
			want := map[string]sums{}
			for _, e := range events {
				if k := rollupKey(facet, e); k != "" {
					mfa := int64(0)
					if facet != columns.FacetPrincipal && e.MFAAuthenticated != nil && *e.MFAAuthenticated {
						mfa = 1
					}
					s := want[k]
					s.add(sums{1, mfa, e.EventTime, e.EventTime})
					want[k] = s
				}
			}
			have := map[string]sums{}
			n := 0
			for _, r := range got {
				if r.Facet != facet {
					continue
				}
				n++
				k := rowKey(r)
				if _, dup := have[k]; dup {
					t.Errorf("%s: two rows for key %q", facet, k)
				}
				have[k] = sums{r.Calls, r.MFACalls, r.FirstSeen, r.LastSeen}
			}
			if !maps.Equal(have, want) {
				for k, w := range want {
					if have[k] != w {
						t.Errorf("%s %q: rollup %+v, events %+v", facet, k, have[k], w)
						break
					}
				}
				for k := range have {
					if _, ok := want[k]; !ok {
						t.Errorf("%s: rollup row %q matches no event", facet, k)
						break
					}
				}
				t.Fatalf("%s: %d rollup keys, %d from the events", facet, len(have), len(want))
			}
			if facet == columns.FacetCall && n >= len(events) {
				t.Errorf("%d call rows for %d events: nothing was summed", n, len(events))
			}
		}
		// Facets in order, principals in order within each.
		facetAt := func(f string) int { return slices.Index(columns.Facets, f) }
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			if facetAt(a.Facet) > facetAt(b.Facet) || (a.Facet == b.Facet && a.PrincipalARN > b.PrincipalARN) {
				t.Fatalf("row %d (%s %s) after row %d (%s %s)", i, b.Facet, b.PrincipalARN, i-1, a.Facet, a.PrincipalARN)
			}
		}
	}
}

// The same rows give the same bytes.
func TestRollupDeterministic(t *testing.T) {
	rows, _ := sampleRows(t, rollupEdges()...)
	var a, b bytes.Buffer
	if err := store.EncodeRollup(&a, rows, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	rows2, _ := sampleRows(t, rollupEdges()...)
	if err := store.EncodeRollup(&b, rows2, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two rollups of the same rows differ")
	}
}

// ScanRollup's decoder returns the rows parquet-go's generic reader reads,
// value for value, in every row-group and page layout, for all rows, for a
// principal's rows found through the footer's index, and for a projection
// of the columns.
func TestScanRollupMatchesParquetGo(t *testing.T) {
	rows, _ := sampleRows(t, rollupEdges()...)
	for _, o := range []store.WriteOptions{{}, {RowGroupRows: 7, PageBytes: 512}, {RowGroupRows: 100, PageBytes: 64}} {
		var buf bytes.Buffer
		if err := store.EncodeRollup(&buf, rows, o); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "part-x-0000.parquet")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		want := readRollup(t, buf.Bytes())
		scan := func(q store.RollupQuery) []columns.RollupRow {
			var got []columns.RollupRow
			_, err := store.ScanRollup(context.Background(), nil, []string{path}, q, func(rs []columns.RollupRow) error {
				for _, r := range rs {
					r.Resources = slices.Clone(r.Resources)
					got = append(got, r)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		same := func(what string, got, want []columns.RollupRow) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%v %s: %d rows, want %d", o, what, len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if len(g.Resources) == 0 && len(w.Resources) == 0 { // parquet-go reads null and empty lists alike
					g.Resources, w.Resources = nil, nil
				}
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("%v %s: row %d\n got %+v\nwant %+v", o, what, i, g, w)
				}
			}
		}
		same("all", scan(store.RollupQuery{}), want)

		// Every principal, and two at once: the index finds their rows
		// whether they share row groups with others or have their own
		// (ownGroupRows).
		var arns []string
		for _, r := range want {
			if r.PrincipalARN != "" && !slices.Contains(arns, r.PrincipalARN) {
				arns = append(arns, r.PrincipalARN)
			}
		}
		if len(arns) < 20 || !slices.Contains(arns, "arn:aws:iam::111122223333:role/edge") {
			t.Fatalf("principals %v", arns)
		}
		two := []string{"arn:aws:iam::123837392027:user/bert-jan", "arn:aws:iam::111122223333:role/edge"}
		var both []columns.RollupRow
		for _, r := range want {
			if slices.Contains(two, r.PrincipalARN) {
				both = append(both, r)
			}
		}
		got := scan(store.RollupQuery{Principals: two})
		got = slices.DeleteFunc(got, func(r columns.RollupRow) bool { return !slices.Contains(two, r.PrincipalARN) })
		same("two principals", got, both)
		for _, p := range arns {
			var mine []columns.RollupRow
			for _, r := range want {
				if r.PrincipalARN == p {
					mine = append(mine, r)
				}
			}
			if len(mine) == 0 {
				t.Fatalf("no rows of %s", p)
			}
			same(p, scan(store.RollupQuery{Principals: []string{p}}), mine)
		}

		var principals []columns.RollupRow
		for _, r := range want {
			if r.Facet == columns.FacetPrincipal {
				principals = append(principals, columns.RollupRow{Facet: r.Facet, PrincipalARN: r.PrincipalARN, Calls: r.Calls})
			}
		}
		same("principal facet, three columns", scan(store.RollupQuery{Facets: []string{columns.FacetPrincipal},
			Columns: []string{columns.Facet, columns.PrincipalARN, columns.Calls}}), principals)
	}
}

// Arrow's Parquet reader (the C++ library's Go port, what Spark and pandas
// use) reads a rollup file: the documented columns in order, with the
// types every engine maps (strings, int64, UTC millisecond timestamps, a
// list of structs), and the same values as parquet-go.
func TestRollupReadByArrow(t *testing.T) {
	rows, _ := sampleRows(t, rollupEdges()...)
	var buf bytes.Buffer
	if err := store.EncodeRollup(&buf, rows, store.WriteOptions{RowGroupRows: 300, PageBytes: 1024}); err != nil {
		t.Fatal(err)
	}
	checkArrowReads(t, buf.Bytes())
}

// checkArrowReads requires Arrow to read the rollup file data as
// parquet-go does, in the documented columns and types.
func checkArrowReads(t *testing.T, data []byte) {
	t.Helper()
	want := readRollup(t, data)
	tbl, err := pqarrow.ReadTable(t.Context(), bytes.NewReader(data), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if int(tbl.NumRows()) != len(want) {
		t.Fatalf("Arrow reads %d rows, parquet-go %d", tbl.NumRows(), len(want))
	}
	names := []string{"facet", "principal_arn", "principal_kind", "principal_account", "recipient_account", "outcome",
		"error_code", "access_key_id", "source_ip", "user_agent", "vpc_endpoint_id", "event_source", "event_name", "event_type", "event_category", "aws_region",
		"user_identity_arn", "request_parameters", "error_message", "resources", "calls", "mfa_calls", "first_seen", "last_seen"}
	if int(tbl.NumCols()) != len(names) {
		t.Fatalf("%d columns, want %d", tbl.NumCols(), len(names))
	}
	for c, name := range names {
		f := tbl.Schema().Field(c)
		if f.Name != name {
			t.Fatalf("column %d is %s, want %s", c, f.Name, name)
		}
		k := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i, k = i+1, k+1 {
				w := want[k]
				var ok bool
				switch a := chunk.(type) {
				case *array.String:
					v := reflect.ValueOf(w).Field(c).String()
					ok = a.IsNull(i) == (v == "") && a.Value(i) == v
				case *array.Int64:
					ok = a.Value(i) == reflect.ValueOf(w).Field(c).Int()
				case *array.Timestamp:
					ok = f.Type.(*arrow.TimestampType).Unit == arrow.Millisecond && int64(a.Value(i)) == reflect.ValueOf(w).Field(c).Int()
				case *array.List:
					lo, hi := a.ValueOffsets(i)
					ok = int(hi-lo) == len(w.Resources)
				default:
					t.Fatalf("%s is read as %T", name, chunk)
				}
				if !ok {
					t.Fatalf("%s row %d: Arrow reads %s, parquet-go %+v", name, k, chunk.ValueStr(i), w)
				}
			}
		}
	}
}
