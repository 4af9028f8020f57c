package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/ingesttest/dataset"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/ingest/store/s3store/s3storetest"
)

// monthlyKey is a rollup row's key in the monthly rollup: its month, its
// facet's key, and for principal rows its day.
func monthlyKey(month string, r columns.RollupRow) string {
	k := month + "|" + rowKey(r)
	if r.Facet == columns.FacetPrincipal {
		k += "|" + time.UnixMilli(r.FirstSeen).UTC().Format(time.DateOnly)
	}
	return k
}

// scanSums sums the rows of files by monthlyKey, the month taken from
// month(file).
func scanSums(t *testing.T, st *store.Store, files []string, month func(string) string) map[string]sums {
	t.Helper()
	out := map[string]sums{}
	for _, f := range files {
		if _, err := store.ScanRollup(context.Background(), st, []string{f}, store.RollupQuery{}, func(rows []columns.RollupRow) error {
			for _, r := range rows {
				s := out[monthlyKey(month(f), r)]
				s.add(sums{r.Calls, r.MFACalls, r.FirstSeen, r.LastSeen})
				out[monthlyKey(month(f), r)] = s
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func partOf(f, key string) string {
	for _, d := range strings.Split(filepath.ToSlash(f), "/") {
		if v, ok := strings.CutPrefix(d, key+"="); ok {
			return v
		}
	}
	return ""
}

// A monthly file holds, for its account's month, exactly the sums of the
// twins it covers grouped by the facets' keys (principal rows by day as
// well): one row a key, none lost, none made up; its rows are sorted by
// facet and principal, its principal index counts each principal's rows,
// and parquet-go and Arrow read it as iamlens's reader does.
func TestMergeRollupSumsTwins(t *testing.T) {
	ctx := context.Background()
	st, _ := dataset.Ingest(t, ingesttest.Sample(t), ingest.Options{Workers: 2, BatchBytes: 64 << 10})
	cov, err := st.Coverage(nil, time.Time{}, time.Time{})
	if err != nil || !cov.Complete() {
		t.Fatal(cov, err)
	}
	ms, err := st.MergeRollup(ctx, store.MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ms.Months == 0 || ms.Twins != len(cov.Rollup) || ms.RowsWritten >= ms.RowsRead {
		t.Fatalf("merge %+v of %d twins", ms, len(cov.Rollup))
	}
	monthly, err := st.MonthlyFor(ctx, cov.Rollup)
	if err != nil || len(monthly) != ms.Months {
		t.Fatalf("%d monthly files usable, %d written (%v)", len(monthly), ms.Months, err)
	}
	want := scanSums(t, st, cov.Rollup, func(f string) string { return partOf(f, "account") + "/" + partOf(f, "date")[:7] })
	var paths []string
	covered := 0
	for _, mf := range monthly {
		paths = append(paths, mf.Path)
		covered += len(mf.Covers)
	}
	if covered != len(cov.Rollup) {
		t.Fatalf("the monthly files cover %d twins of %d", covered, len(cov.Rollup))
	}
	month := func(f string) string { return partOf(f, "account") + "/" + partOf(f, "month") }
	got := scanSums(t, st, paths, month)
	if len(got) != len(want) {
		t.Errorf("%d keys in the monthly files, %d in the twins", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: monthly %+v, twins %+v", k, got[k], w)
		}
	}
	rows := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pg := readRollup(t, data)
		rows += len(pg)
		seen := map[string]bool{}
		for i, r := range pg {
			k := monthlyKey(month(p), r)
			if seen[k] {
				t.Fatalf("%s: two rows of %s", p, k)
			}
			seen[k] = true
			if i > 0 {
				a, b := pg[i-1], r
				if fa, fb := slices.Index(columns.Facets, a.Facet), slices.Index(columns.Facets, b.Facet); fa > fb || (fa == fb && a.PrincipalARN > b.PrincipalARN) {
					t.Fatalf("%s: row %d (%s %s) after (%s %s)", p, i, b.Facet, b.PrincipalARN, a.Facet, a.PrincipalARN)
				}
			}
		}
		// The principal index finds each principal's rows.
		per := map[string]int64{}
		for _, r := range pg {
			per[r.PrincipalARN]++
		}
		rf, err := st.OpenRollup(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for arn, n := range per {
			if arn == "" {
				continue
			}
			if got, err := rf.Rows([]string{arn}); err != nil || got != n {
				t.Errorf("%s: the index gives %s %d rows, the file has %d (%v)", p, arn, got, n, err)
			}
		}
		rf.Close()
		checkArrowReads(t, data)
	}
	if int64(rows) != ms.RowsWritten {
		t.Fatalf("parquet-go reads %d rows, the merge wrote %d", rows, ms.RowsWritten)
	}
}

// The monthly rollup goes with the twins: RebuildRollup removes it (it
// sums twins that are written again); a damaged monthly file is an error
// naming it for readers, and a merge writes its month again; Recover
// removes the temporary files of a merge that died.
func TestMonthlyRollupLifecycle(t *testing.T) {
	ctx := context.Background()
	st, _ := dataset.Ingest(t, ingesttest.Sample(t), ingest.Options{Workers: 2, BatchBytes: 64 << 10})
	if _, err := st.MergeRollup(ctx, store.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	cov, err := st.Coverage(nil, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	monthly, err := st.MonthlyFor(ctx, cov.Rollup)
	if err != nil || len(monthly) == 0 {
		t.Fatal(len(monthly), err)
	}

	// Damaged: cut short.
	p := monthly[0].Path
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MonthlyPlan(ctx, cov.Rollup); err == nil || !strings.Contains(err.Error(), filepath.Base(p)) {
		t.Fatalf("a damaged monthly file: %v", err)
	}
	// A merge passes it over and writes its month again; readers take the
	// newer file, and a merge past the grace period removes the damaged one.
	ms, err := st.MergeRollup(ctx, store.MergeOptions{Now: func() time.Time { return time.Now().Add(time.Second) }})
	if err != nil || ms.Damaged != 1 || ms.Months != 1 {
		t.Fatalf("merge beside a damaged file: %+v, %v", ms, err)
	}
	if _, err := st.MonthlyPlan(ctx, cov.Rollup); err != nil {
		t.Fatalf("read after the damaged month was written again: %v", err)
	}
	if ms, err := st.MergeRollup(ctx, store.MergeOptions{Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}); err != nil || ms.Removed != 1 {
		t.Fatalf("merge past the grace period: %+v, %v", ms, err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("the damaged file is still there: %v", err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// A merge that died leaves a temporary file; Recover removes it once
	// old, and keeps a fresh one (another process's).
	dir := filepath.Dir(p)
	oldTmp, newTmp := filepath.Join(dir, "part-x.parquet.1.tmp"), filepath.Join(dir, "part-y.parquet.2.tmp")
	for _, f := range []string{oldTmp, newTmp} {
		if err := os.WriteFile(f, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(oldTmp, time.Now().Add(-48*time.Hour), time.Now().Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(oldTmp); !os.IsNotExist(err) {
		t.Errorf("an old temporary monthly file survived Recover: %v", err)
	}
	if _, err := os.Stat(newTmp); err != nil {
		t.Errorf("a fresh temporary monthly file was removed: %v", err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("Recover removed a monthly file: %v", err)
	}

	if err := st.RebuildRollup(ctx, store.WriteOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(st.Root, store.MonthlyRollupTable)); !os.IsNotExist(err) {
		t.Fatalf("the monthly rollup survived RebuildRollup: %v", err)
	}
}

// A month is merged a chunk of principals at a time: the file is the same,
// byte for byte, however small the chunks (one principal's rows of a facet
// each, at the least), and with row groups cut inside a chunk and across
// chunks.
func TestMergeRollupChunks(t *testing.T) {
	ctx := context.Background()
	st, _ := dataset.Ingest(t, ingesttest.Sample(t), ingest.Options{Workers: 2, BatchBytes: 64 << 10})
	var want map[string][]byte
	for _, chunk := range []int64{0, 1, 7, 100} {
		if err := os.RemoveAll(filepath.Join(st.Root, store.MonthlyRollupTable)); err != nil {
			t.Fatal(err)
		}
		ms, err := st.MergeRollup(ctx, store.MergeOptions{ChunkRows: chunk, Write: store.WriteOptions{RowGroupRows: 5}})
		if err != nil || ms.Months == 0 {
			t.Fatalf("chunks of %d rows: %+v, %v", chunk, ms, err)
		}
		files, err := filepath.Glob(filepath.Join(st.Root, store.MonthlyRollupTable, "*", "*", "*.parquet"))
		if err != nil || len(files) != ms.Months {
			t.Fatalf("%d files for %d months (%v)", len(files), ms.Months, err)
		}
		got := map[string][]byte{}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got[filepath.Dir(f)] = data
		}
		if want == nil {
			want = got
			continue
		}
		for dir, data := range want {
			if !slices.Equal(got[dir], data) {
				t.Errorf("chunks of %d rows: %s differs from the default chunks' file", chunk, dir)
			}
		}
	}
}

// Empty strings are null in a monthly file, as in the twins, wherever they
// fall: parquet-go's writer of optional columns (v0.32) stores some of them
// as present empty strings when a run of values starts inside one of its
// 64-row words and the word's bits after it happen to equal a mask of the
// run's offset.
func TestMonthlyEmptyIsNull(t *testing.T) {
	for _, set := range [][2]int{{10, 20}, {3, 6}, {0, 64}, {1, 2}, {40, 41}, {63, 64}, {5, 70}} {
		rows := make([]columns.RollupRow, 130)
		for i := range rows {
			rows[i] = columns.RollupRow{Facet: columns.FacetCall, PrincipalARN: "arn:aws:iam::1:role/r", Outcome: "allowed",
				EventSource: "s3.amazonaws.com", EventName: "GetObject", Calls: 1, FirstSeen: 1, LastSeen: 1}
			if i >= set[0] && i < set[1] {
				rows[i].ErrorMessage, rows[i].VPCEndpointID, rows[i].Outcome = "denied", "vpce-1", "denied"
			}
		}
		var buf bytes.Buffer
		if err := store.EncodeMonthly(&buf, rows, store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		checkArrowReads(t, buf.Bytes()) // a null for each "", a value for each other
	}
}

// MinNewShare leaves a month whose file is whole for a later merge while
// its new twins are under that share of the file's size, in a folder and
// on S3 (sizes from the listing), and writes it once they are not.
func TestMergeDefersSmallMonths(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"folder", "s3"} {
		t.Run(backend, func(t *testing.T) {
			var st *store.Store
			var reopen func() *store.Store
			if backend == "folder" {
				root := filepath.Join(t.TempDir(), "store")
				reopen = func() *store.Store {
					s, err := store.Open(root)
					if err != nil {
						t.Fatal(err)
					}
					return s
				}
			} else {
				s3storetest.Client(t) // skips without the server
				_, b := s3storetest.Store(t)
				reopen = func() *store.Store { return s3storetest.Reopen(t, b) }
			}
			run := func(dir string) {
				src, err := source.NewDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				st = reopen()
				if _, err := ingest.Run(ctx, src, st, ingest.Options{}); err != nil {
					t.Fatal(err)
				}
			}
			run(ingesttest.Sample(t))
			if ms, err := st.MergeRollup(ctx, store.MergeOptions{}); err != nil || ms.Months != 1 {
				t.Fatalf("first merge: %+v, %v", ms, err)
			}
			// One more event in the sample's account and day: a twin of
			// a few kilobytes beside a monthly file of a hundred.
			rec := ingesttest.NewRecord("e0000000-0000-0000-0000-000000000001", "2023-07-10T12:00:00Z", "late", "s3.amazonaws.com", "GetObject")
			rec["recipientAccountId"] = "123837392027"
			more := t.TempDir()
			ingesttest.WriteFile(t, more, ingesttest.Key("123837392027", "us-east-1", "2023/07/10", 99), ingesttest.LogJSON(t, rec))
			run(more)
			ms, err := st.MergeRollup(ctx, store.MergeOptions{MinNewShare: 0.5})
			if err != nil || ms.Months != 0 || ms.Deferred != 1 {
				t.Fatalf("a twin under half the month's file: %+v, %v", ms, err)
			}
			ms, err = reopen().MergeRollup(ctx, store.MergeOptions{MinNewShare: 0.01})
			if err != nil || ms.Months != 1 || ms.Deferred != 0 || ms.Twins != 1 {
				t.Fatalf("a twin over a hundredth of the month's file: %+v, %v", ms, err)
			}
		})
	}
}
