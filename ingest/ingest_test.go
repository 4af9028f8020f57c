package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// fullRow reads every column with parquet-go.
type fullRow struct {
	EventID          string     `parquet:"event_id"`
	EventTime        int64      `parquet:"event_time"`
	EventSource      string     `parquet:"event_source,optional"`
	EventName        string     `parquet:"event_name,optional"`
	AWSRegion        string     `parquet:"aws_region,optional"`
	SourceIP         string     `parquet:"source_ip,optional"`
	UserAgent        string     `parquet:"user_agent,optional"`
	IdentityType     string     `parquet:"identity_type,optional"`
	PrincipalARN     string     `parquet:"principal_arn,optional"`
	UserIdentityARN  string     `parquet:"user_identity_arn,optional"`
	AccessKeyID      string     `parquet:"access_key_id,optional"`
	RecipientAccount string     `parquet:"recipient_account,optional"`
	InvokedBy        string     `parquet:"invoked_by,optional"`
	MFA              *bool      `parquet:"mfa_authenticated,optional"`
	ErrorCode        string     `parquet:"error_code,optional"`
	ErrorMessage     string     `parquet:"error_message,optional"`
	ReadOnly         *bool      `parquet:"read_only,optional"`
	EventType        string     `parquet:"event_type,optional"`
	EventCategory    string     `parquet:"event_category,optional"`
	Management       *bool      `parquet:"management_event,optional"`
	VPCE             string     `parquet:"vpc_endpoint_id,optional"`
	Request          *string    `parquet:"request_parameters,optional"`
	Additional       *string    `parquet:"additional_event_data,optional"`
	Resources        []resource `parquet:"resources,optional,list"`
	TLSVersion       string     `parquet:"tls_version,optional"`
	SourceObject     string     `parquet:"source_object,optional"`
}

type resource struct {
	ARN     string `parquet:"arn,optional"`
	Type    string `parquet:"type,optional"`
	Account string `parquet:"account_id,optional"`
}

func readAll(t *testing.T, st *store.Store) []fullRow {
	t.Helper()
	var rows []fullRow
	_, err := store.Scan(context.Background(), st, store.Query{}, func(batch []fullRow) error {
		for _, r := range batch {
			// copy the slices: the batch is reused
			r.Resources = append([]resource(nil), r.Resources...)
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func runIngest(t *testing.T, src ingest.Source, st *store.Store, opts ingest.Options) ingest.Stats {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	opts.Mem = mem
	stats, err := ingest.Run(context.Background(), src, st, opts)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	mem.AssertSize(t, 0)
	return stats
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sourceRecord is one record of the source JSON, parsed independently.
type sourceRecord struct {
	EventID      string `json:"eventID"`
	EventTime    string `json:"eventTime"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	AWSRegion    string `json:"awsRegion"`
	SourceIP     string `json:"sourceIPAddress"`
	UserAgent    string `json:"userAgent"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	ReadOnly     *bool  `json:"readOnly"`
	EventType    string `json:"eventType"`
	Category     string `json:"eventCategory"`
	Management   *bool  `json:"managementEvent"`
	VPCE         string `json:"vpcEndpointId"`
	Recipient    string `json:"recipientAccountId"`
	UserIdentity *struct {
		Type        string `json:"type"`
		ARN         string `json:"arn"`
		AccessKeyID string `json:"accessKeyId"`
		InvokedBy   string `json:"invokedBy"`
		Session     *struct {
			Attributes struct {
				MFA string `json:"mfaAuthenticated"`
			} `json:"attributes"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	Request    json.RawMessage `json:"requestParameters"`
	Additional json.RawMessage `json:"additionalEventData"`
	Resources  []struct {
		ARN     string `json:"ARN"`
		Type    string `json:"type"`
		Account string `json:"accountId"`
	} `json:"resources"`
	TLS *struct {
		Version string `json:"tlsVersion"`
	} `json:"tlsDetails"`
	file string
}

func readSource(t *testing.T, root string) map[string]sourceRecord {
	t.Helper()
	out := map[string]sourceRecord{}
	ingesttest.LogFiles(t, root, func(p string, data []byte) {
		var doc struct{ Records []sourceRecord }
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range doc.Records {
			r.file = p
			out[r.EventID] = r
		}
	})
	return out
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func optBool(s *bool) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprint(*s)
}

// TestInvictus ingests the 55 real invictus-ir files and checks every row
// against the source JSON, read back with parquet-go, and the row count and
// a column sample with Arrow's own Parquet reader.
func TestInvictus(t *testing.T) {
	root := ingesttest.Invictus(t)
	src, err := source.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	stats := runIngest(t, src, st, ingest.Options{})
	if stats.ObjectsRead != 55 || stats.Records != 2900 || stats.RowsWritten != 2900 {
		t.Fatalf("objects %d records %d rows %d, want 55/2900/2900", stats.ObjectsRead, stats.Records, stats.RowsWritten)
	}
	want := readSource(t, root)
	if len(want) != 2900 {
		t.Fatalf("source has %d distinct event IDs", len(want))
	}
	rows := readAll(t, st)
	if len(rows) != 2900 {
		t.Fatalf("parquet-go read %d rows, want 2900", len(rows))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.EventID] {
			t.Fatalf("duplicate %s", r.EventID)
		}
		seen[r.EventID] = true
		s, ok := want[r.EventID]
		if !ok {
			t.Fatalf("row %s not in source", r.EventID)
		}
		wantTime, _ := time.Parse(time.RFC3339, s.EventTime)
		check := func(col, got, want string) {
			t.Helper()
			if got != want {
				t.Errorf("%s %s: got %q, want %q", r.EventID, col, got, want)
			}
		}
		check("event_time", fmt.Sprint(r.EventTime), fmt.Sprint(wantTime.UnixMilli()))
		check("event_source", r.EventSource, s.EventSource)
		check("event_name", r.EventName, s.EventName)
		check("aws_region", r.AWSRegion, s.AWSRegion)
		check("source_ip", r.SourceIP, s.SourceIP)
		check("user_agent", r.UserAgent, s.UserAgent)
		check("error_code", r.ErrorCode, s.ErrorCode)
		check("error_message", r.ErrorMessage, s.ErrorMessage)
		check("read_only", optBool(r.ReadOnly), optBool(s.ReadOnly))
		check("management_event", optBool(r.Management), optBool(s.Management))
		check("event_type", r.EventType, s.EventType)
		check("event_category", r.EventCategory, s.Category)
		check("vpc_endpoint_id", r.VPCE, s.VPCE)
		check("recipient_account", r.RecipientAccount, s.Recipient)
		check("source_object", r.SourceObject, s.file)
		if s.UserIdentity != nil {
			check("identity_type", r.IdentityType, s.UserIdentity.Type)
			check("user_identity_arn", r.UserIdentityARN, s.UserIdentity.ARN)
			check("access_key_id", r.AccessKeyID, s.UserIdentity.AccessKeyID)
			check("invoked_by", r.InvokedBy, s.UserIdentity.InvokedBy)
			mfa := "null"
			if s.UserIdentity.Session != nil && s.UserIdentity.Session.Attributes.MFA != "" {
				mfa = s.UserIdentity.Session.Attributes.MFA
			}
			check("mfa_authenticated", optBool(r.MFA), mfa)
		}
		tls := ""
		if s.TLS != nil {
			tls = s.TLS.Version
		}
		check("tls_version", r.TLSVersion, tls)
		if len(s.Request) > 0 && string(s.Request) != "null" {
			if r.Request == nil || !jsonEqual(t, *r.Request, string(s.Request)) {
				t.Errorf("%s request_parameters differ", r.EventID)
			}
		} else if r.Request != nil {
			t.Errorf("%s request_parameters: got %q, want null", r.EventID, *r.Request)
		}
		if len(s.Additional) > 0 && string(s.Additional) != "null" {
			if r.Additional == nil || !jsonEqual(t, *r.Additional, string(s.Additional)) {
				t.Errorf("%s additional_event_data differ", r.EventID)
			}
		}
		if len(r.Resources) != len(s.Resources) {
			t.Errorf("%s resources: got %d, want %d", r.EventID, len(r.Resources), len(s.Resources))
		} else {
			for i := range s.Resources {
				got := r.Resources[i]
				if got.ARN != s.Resources[i].ARN || got.Type != s.Resources[i].Type || got.Account != s.Resources[i].Account {
					t.Errorf("%s resource %d: got %+v, want %+v", r.EventID, i, got, s.Resources[i])
				}
			}
		}
	}

	// The other library: Arrow's pqarrow reads the same files.
	files, err := st.Files(nil, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var arrowRows int64
	ids := map[string]bool{}
	for _, f := range files {
		tbl := readArrowTable(t, f)
		arrowRows += tbl.NumRows()
		col := tbl.Column(tbl.Schema().FieldIndices("event_id")[0])
		for _, chunk := range col.Data().Chunks() {
			s := chunk.(*array.String)
			for i := 0; i < s.Len(); i++ {
				ids[s.Value(i)] = true
			}
		}
		tbl.Release()
	}
	if arrowRows != 2900 || len(ids) != 2900 {
		t.Fatalf("pqarrow read %d rows with %d distinct IDs, want 2900", arrowRows, len(ids))
	}
}

func readArrowTable(t *testing.T, path string) arrow.Table {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestRowsSortedByPrincipal checks the order that row-group pruning relies
// on: within every file, rows are sorted by (principal_arn, event_time).
func TestRowsSortedByPrincipal(t *testing.T) {
	src, _ := source.NewDir(ingesttest.Invictus(t))
	st := openStore(t)
	runIngest(t, src, st, ingest.Options{})
	files, err := st.Files(nil, time.Time{}, time.Time{})
	if err != nil || len(files) == 0 {
		t.Fatalf("files: %v %v", files, err)
	}
	total := 0
	for _, f := range files {
		tbl := readArrowTable(t, f)
		p := array.NewChunkedSlice(tbl.Column(tbl.Schema().FieldIndices(columns.PrincipalARN)[0]).Data(), 0, tbl.NumRows())
		tm := array.NewChunkedSlice(tbl.Column(tbl.Schema().FieldIndices(columns.EventTime)[0]).Data(), 0, tbl.NumRows())
		var prevP string
		var prevT arrow.Timestamp
		first := true
		for i, ch := range p.Chunks() {
			ps := ch.(*array.String)
			ts := tm.Chunk(i).(*array.Timestamp)
			for r := 0; r < ps.Len(); r++ {
				cp, ct := ps.Value(r), ts.Value(r)
				if !first && (cp < prevP || cp == prevP && ct < prevT) {
					t.Fatalf("%s: row %d (%s %d) sorts before the previous row (%s %d)", f, r, cp, ct, prevP, prevT)
				}
				prevP, prevT, first = cp, ct, false
				total++
			}
		}
		p.Release()
		tm.Release()
		tbl.Release()
	}
	if total != 2900 {
		t.Fatalf("checked %d rows, want 2900", total)
	}
}

func TestRerunReadsNothing(t *testing.T) {
	src, _ := source.NewDir(ingesttest.Invictus(t))
	st := openStore(t)
	runIngest(t, src, st, ingest.Options{})
	// Reopen to prove the manifest, not memory, remembers.
	st2, err := store.Open(st.Root)
	if err != nil {
		t.Fatal(err)
	}
	stats := runIngest(t, src, st2, ingest.Options{})
	if stats.ObjectsRead != 0 || stats.ObjectsAlreadyIn != 55 || stats.RowsWritten != 0 {
		t.Fatalf("re-run read %d objects (%d already in), wrote %d rows", stats.ObjectsRead, stats.ObjectsAlreadyIn, stats.RowsWritten)
	}
	if got := len(readAll(t, st2)); got != 2900 {
		t.Fatalf("rows after re-run: %d", got)
	}
}

// cancellingSource cancels the run when the n-th object is opened, once
// the store at root has committed a batch. The fetchers open objects ahead
// of the workers, so without the wait the n-th open could come before any
// commit (it did in about one run in forty): the workers go on with the
// objects opened before, and their batches commit, while this fetcher waits.
type cancellingSource struct {
	ingest.Source
	n      int64
	root   string
	opened atomic.Int64
	cancel context.CancelFunc
}

func (c *cancellingSource) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if c.opened.Add(1) == c.n {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if st, err := os.Stat(filepath.Join(c.root, "_state", "manifest.jsonl")); err == nil && st.Size() > 0 {
				break
			}
		}
		c.cancel()
	}
	return c.Source.Open(ctx, key)
}

// TestInterruptedRunResumes cancels a run part-way (one commit per file) and
// checks that the next run completes the dataset with no duplicate and no gap.
func TestInterruptedRunResumes(t *testing.T) {
	dir, _ := source.NewDir(ingesttest.Invictus(t))
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	src := &cancellingSource{Source: dir, n: 20, root: st.Root, cancel: cancel}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	stats, err := ingest.Run(ctx, src, st, ingest.Options{BatchBytes: 1, Workers: 2, Mem: mem})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
	}
	mem.AssertSize(t, 0)
	if stats.Batches == 0 || stats.RowsWritten >= 2900 {
		t.Fatalf("interrupted run committed %d batches, %d rows: want some but not all", stats.Batches, stats.RowsWritten)
	}
	// Leave a stray temp file and a file of an uncommitted batch, as a crash
	// between write and commit would.
	part := store.PartitionOf("123837392027", time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC)).Dir(st)
	ingesttest.WriteFile(t, part, "part-19990101T000000_dead00_0001-0000.parquet", []byte("PAR1 junk"))
	ingesttest.WriteFile(t, part, "part-19990101T000000_dead00_0001-0001.parquet.tmp", []byte("junk"))

	st2, err := store.Open(st.Root)
	if err != nil {
		t.Fatal(err)
	}
	stats2 := runIngest(t, dir, st2, ingest.Options{})
	if stats2.RecoveredOrphans < 2 {
		t.Errorf("removed %d uncommitted files, want at least 2", stats2.RecoveredOrphans)
	}
	eachEventOnce(t, st2, 2900, "after resume")
}

// eachEventOnce checks that the store holds want distinct events, each once,
// and that its usage rollup counts each of them once (rollupOnce).
func eachEventOnce(t *testing.T, st *store.Store, want int, when string) {
	t.Helper()
	rollupOnce(t, st)
	ids := map[string]int{}
	for _, r := range readAll(t, st) {
		ids[r.EventID]++
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s: event %s appears %d times", when, id, n)
		}
	}
	if len(ids) != want {
		t.Fatalf("%s: %d distinct events, want %d", when, len(ids), want)
	}
}

// failingCommitSource makes every commit of the run fail: once the run has
// opened the store, it puts a folder where the manifest goes.
type failingCommitSource struct {
	ingest.Source
	manifest string
}

func (f *failingCommitSource) Walk(ctx context.Context, flt source.Filter, fn func(source.Object) error) error {
	if err := os.Mkdir(f.manifest, 0o755); err != nil {
		return err
	}
	return f.Source.Walk(ctx, flt, fn)
}

// TestFailedCommitStopsRun: a batch that cannot be committed stops the run
// with the error, while the workers are still writing batches for the
// publisher; nothing is recorded as done, and the next run removes what
// was written and ingests everything once.
func TestFailedCommitStopsRun(t *testing.T) {
	dir, _ := source.NewDir(ingesttest.Invictus(t))
	st := openStore(t)
	manifest := filepath.Join(st.Root, "_state", "manifest.jsonl")
	src := &failingCommitSource{Source: dir, manifest: manifest}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	type result struct {
		stats ingest.Stats
		err   error
	}
	done := make(chan result, 1)
	go func() {
		stats, err := ingest.Run(context.Background(), src, st, ingest.Options{BatchBytes: 1, Workers: 2, Mem: mem})
		done <- result{stats, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not stop after its commit failed")
	}
	if res.err == nil || !strings.Contains(res.err.Error(), "commit batch") {
		t.Fatalf("err = %v, want the failed commit", res.err)
	}
	mem.AssertSize(t, 0)
	if res.stats.Batches != 0 || res.stats.RowsWritten != 0 {
		t.Fatalf("failed run reports %d batches, %d rows committed", res.stats.Batches, res.stats.RowsWritten)
	}
	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(st.Root)
	if err != nil {
		t.Fatal(err)
	}
	stats := runIngest(t, dir, st2, ingest.Options{})
	if stats.RecoveredOrphans == 0 {
		t.Error("the next run removed no file of the uncommitted batches")
	}
	eachEventOnce(t, st2, 2900, "after the failed run")
}

// TestDuplicateEventIDs: the same events delivered by an organization trail
// and an account trail, in one run and across runs, are stored once.
func TestDuplicateEventIDs(t *testing.T) {
	dir := t.TempDir()
	var recs []ingesttest.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, ingesttest.NewRecord(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "2026-11-01T10:00:00Z", "alice", "s3.amazonaws.com", "ListBuckets"))
	}
	body := ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...))
	ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/11/01", 1), body)
	ingesttest.WriteFile(t, dir, ingesttest.OrgKey("o-abcdefghij", "111122223333", "us-east-1", "2026/11/01", 1), body)
	src, _ := source.NewDir(dir)
	st := openStore(t)
	stats := runIngest(t, src, st, ingest.Options{})
	if stats.RowsWritten != 10 || stats.Duplicates != 10 {
		t.Fatalf("rows %d duplicates %d, want 10/10", stats.RowsWritten, stats.Duplicates)
	}
	// A third copy under a new key arrives in a later run.
	ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/11/01", 2), body)
	stats = runIngest(t, src, st, ingest.Options{})
	if stats.ObjectsRead != 1 || stats.RowsWritten != 0 || stats.Duplicates != 10 {
		t.Fatalf("second run: read %d, rows %d, duplicates %d; want 1/0/10", stats.ObjectsRead, stats.RowsWritten, stats.Duplicates)
	}
	if n := len(readAll(t, st)); n != 10 {
		t.Fatalf("dataset has %d rows, want 10", n)
	}
	rollupOnce(t, st)
}

// TestBusyPartitionNotReread: a partition-day larger than MaxDedupKeys,
// written batch after batch, keeps its set in memory instead of reading
// every eventID it already holds back from disk for each new batch; a day
// the run has moved past is dropped, and read back (once) when a late file
// returns to it, still without letting a duplicate through.
func TestBusyPartitionNotReread(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			dir := t.TempDir()
			want := 0
			id := func(day, f, i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%02d%02d%08d", day, f, i) }
			rec := func(day, f, i int) ingesttest.Record {
				return ingesttest.NewRecord(id(day, f, i), fmt.Sprintf("2026-11-%02dT10:00:00Z", day), "alice", "s3.amazonaws.com", "ListBuckets")
			}
			for day := 1; day <= 3; day++ {
				for f := 0; f < 12; f++ {
					var recs []ingesttest.Record
					for i := 0; i < 5; i++ {
						recs = append(recs, rec(day, f, i))
						want++
					}
					ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", fmt.Sprintf("2026/11/%02d", day), f),
						ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
				}
			}
			// Delivered late, in day 4's folder: day 1's events again, and one new.
			late := []ingesttest.Record{rec(1, 0, 0), rec(1, 7, 3), rec(1, 99, 0)}
			want++
			ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/11/04", 0), ingesttest.Gzip(t, ingesttest.LogJSON(t, late...)))

			src, _ := source.NewDir(dir)
			st := openStore(t)
			stats := runIngest(t, src, st, ingest.Options{Workers: workers, BatchBytes: 1, MaxDedupKeys: 8})
			if stats.RowsWritten != int64(want) || stats.Duplicates != 2 {
				t.Fatalf("rows %d duplicates %d, want %d/2", stats.RowsWritten, stats.Duplicates, want)
			}
			// Day 1 was dropped when the run moved on and read back for the
			// late file; the busy days were never read back while written.
			if stats.DedupSetsReread != 1 {
				t.Errorf("dedup sets re-read %d times, want 1 (day 1, for the late file)", stats.DedupSetsReread)
			}
			storedOnce(t, st, want)
		})
	}
}

// With room for almost no dedup keys, sets are forgotten and read back from
// the committed files; with two workers, they race on the same partitions.
// Each file's events belong to another day than the last file's, so one
// batch after another returns to a partition the cache has just dropped.
// Every eventID still lands exactly once. (One worker reads sets back on
// every run; two do whenever a set's last batch is done before the third
// batch after it, so twelve files a day make a run without a reread
// vanishingly rare: with four, one run in a hundred had none.)
func TestDuplicatesAcrossEvictions(t *testing.T) {
	dir := t.TempDir()
	want := 0
	for day := 1; day <= 3; day++ {
		for f := 0; f < 12; f++ {
			var recs []ingesttest.Record
			eventDay := (day-1+f)%3 + 1
			for i := 0; i < 5; i++ {
				recs = append(recs, ingesttest.NewRecord(fmt.Sprintf("00000000-0000-4000-8000-%02d%02d%08d", day, f, i),
					fmt.Sprintf("2026-11-%02dT10:00:00Z", eventDay), "alice", "s3.amazonaws.com", "ListBuckets"))
				want++
			}
			body := ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...))
			d := fmt.Sprintf("2026/11/%02d", day)
			// The same file in the account trail, the organization trail,
			// and a second region of the account trail.
			ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", d, f), body)
			ingesttest.WriteFile(t, dir, ingesttest.OrgKey("o-abcdefghij", "111122223333", "us-east-1", d, f), body)
			ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "eu-west-1", d, f), body)
		}
	}
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			src, _ := source.NewDir(dir)
			st := openStore(t)
			stats := runIngest(t, src, st, ingest.Options{Workers: workers, BatchBytes: 1, MaxDedupKeys: 3})
			if stats.RowsWritten != int64(want) || stats.Duplicates != int64(2*want) {
				t.Fatalf("rows %d duplicates %d, want %d/%d", stats.RowsWritten, stats.Duplicates, want, 2*want)
			}
			if stats.DedupSetsReread == 0 {
				t.Fatal("no dedup set was read back: the test no longer exercises eviction")
			}
			storedOnce(t, st, want)
		})
	}
}

// storedOnce checks that the store holds want distinct events, each once,
// and that its usage rollup counts each of them once (rollupOnce).
func storedOnce(t *testing.T, st *store.Store, want int) {
	t.Helper()
	rollupOnce(t, st)
	seen := map[string]int{}
	for _, r := range readAll(t, st) {
		seen[r.EventID]++
	}
	if len(seen) != want {
		t.Fatalf("%d distinct events, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s stored %d times", id, n)
		}
	}
}

// rollupOnce checks the usage rollup against the committed events: every
// events file has its rollup twin and no twin is left without one; each
// facet's calls add up to the events that have its value, each once; and
// every twin holds exactly the rollup of its events file's rows (it reads
// the same rows as the twin rebuilt from that file).
func rollupOnce(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	cov, err := st.Coverage(nil, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !cov.Complete() {
		t.Fatalf("%d of %d events files have no rollup", cov.Missing, len(cov.Events))
	}
	_ = filepath.WalkDir(st.RollupDir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !slices.Contains(cov.Rollup, p) {
			t.Errorf("rollup file %s of no committed events file", p)
		}
		return nil
	})
	events := readAll(t, st)
	n := int64(len(events))
	want := map[string]int64{columns.FacetCall: n, columns.FacetPrincipal: n, columns.FacetOrigin: n}
	for _, e := range events {
		if e.AccessKeyID != "" {
			want[columns.FacetAccessKey]++
		}
	}
	read := func() map[string][]string {
		rows := map[string][]string{}
		for _, f := range cov.Rollup {
			_, err := store.ScanRollup(ctx, st, []string{f}, store.RollupQuery{}, func(rs []columns.RollupRow) error {
				for _, r := range rs {
					if len(r.Resources) == 0 {
						r.Resources = nil // null and empty lists are the same call
					}
					rows[f] = append(rows[f], fmt.Sprintf("%+v", r))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		return rows
	}
	written := read()
	got := map[string]int64{}
	for _, f := range cov.Rollup {
		_, _ = store.ScanRollup(ctx, st, []string{f}, store.RollupQuery{}, func(rs []columns.RollupRow) error {
			for _, r := range rs {
				got[r.Facet] += r.Calls
			}
			return nil
		})
	}
	for _, f := range columns.Facets {
		if got[f] != want[f] {
			t.Errorf("the rollup's %s rows count %d events, the events %d", f, got[f], want[f])
		}
	}
	if err := st.RebuildRollup(ctx, store.WriteOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	rebuilt := read()
	for _, f := range cov.Rollup {
		if !slices.Equal(written[f], rebuilt[f]) {
			t.Errorf("%s: the rollup written at ingest differs from the one rebuilt from its events file", f)
		}
	}
}
