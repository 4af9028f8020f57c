package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/columns"
)

// rowsOf builds sorted rows: principal "p<i>" has counts[i] rows; one row
// has no principal.
func rowsOf(counts []int) Rows { return columns.SelectEvents(eventsOf(counts)) }

func eventsOf(counts []int) []columns.Event {
	var rows []columns.Event
	rows = append(rows, columns.Event{EventID: "none", EventTime: 1})
	for i, n := range counts {
		for k := 0; k < n; k++ {
			rows = append(rows, columns.Event{EventID: fmt.Sprintf("p%d-%d", i, k), EventTime: int64(k),
				PrincipalARN: fmt.Sprintf("arn:aws:iam::111122223333:role/p%d \"q\"", i)})
		}
	}
	return rows
}

// The index names each principal's rows by row group, across row-group
// boundaries; a Scan for one principal reads exactly its rows, and skips a
// file that does not hold it without opening it.
func TestPrincipalIndexScan(t *testing.T) {
	root := t.TempDir()
	st, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	p := Partition{Account: "111122223333", Date: "2026-01-02"}
	rows := rowsOf([]int{3, 9, 1, 5}) // 19 rows in row groups of 4
	pf, err := st.WriteTemp(context.Background(), p, "b1", 0, rows, WriteOptions{RowGroupRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.WriteTemp(context.Background(), p, "b1", 1, rowsOf([]int{2}), WriteOptions{RowGroupRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Publish([]PendingFile{pf, other}); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(Batch{ID: "b1", Files: []string{pf.Final, other.Final}}); err != nil {
		t.Fatal(err)
	}
	arn := func(i int) string { return fmt.Sprintf("arn:aws:iam::111122223333:role/p%d \"q\"", i) }
	spans, ok, err := st.readIndex(context.Background(), pf.Final, []string{arn(1)})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	// p1 is rows 4-12 of the file: all of row groups 1 and 2, and the first row of 3.
	want := map[int]rowSpan{1: {0, 4}, 2: {0, 4}, 3: {0, 1}}
	if fmt.Sprint(spans) != fmt.Sprint(want) {
		t.Fatalf("spans of p1: %v, want %v", spans, want)
	}
	type row struct {
		EventID      string `parquet:"event_id"`
		PrincipalARN string `parquet:"principal_arn,optional"`
	}
	for _, tc := range []struct {
		principal int
		want      int
		files     int
	}{{1, 9, 1}, {2, 1, 1}, {0, 3 + 2, 2}} {
		var got []string
		ss, err := Scan(context.Background(), st, Query{Principals: []string{arn(tc.principal)}}, func(rs []row) error {
			for _, r := range rs {
				if r.PrincipalARN == arn(tc.principal) {
					got = append(got, r.EventID)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want {
			t.Errorf("p%d: %d rows %v, want %d", tc.principal, len(got), got, tc.want)
		}
		if tc.principal == 1 && ss.RowsRead != 9 {
			t.Errorf("p1: decoded %d rows, want exactly its 9", ss.RowsRead)
		}
		if tc.principal != 0 && ss.RowGroups > 5 {
			t.Errorf("p%d: %d row groups looked at; the second file should not be opened", tc.principal, ss.RowGroups)
		}
	}
	// An uncommitted batch's index and rollup twin go with its data file.
	orphan, err := st.WriteTemp(context.Background(), p, "b2", 0, rows, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Publish([]PendingFile{orphan}); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Recover(context.Background()); err != nil || n != 3 {
		t.Fatalf("recover removed %d files (%v), want the data file, its index and its rollup", n, err)
	}
	for _, f := range []string{orphan.Index, orphan.Rollup} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("orphan %s still there: %v", f, err)
		}
	}
	if _, err := os.Stat(pf.Index); err != nil {
		t.Fatalf("committed index removed: %v", err)
	}
}

// A file of many row groups and pages reads back row for row, and its
// principal index holds across row-group boundaries.
func TestWriteManyRowGroups(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	events := eventsOf([]int{2500, 3000}) // 5,501 rows
	pf, err := st.WriteTemp(context.Background(), Partition{Account: "111122223333", Date: "2026-01-02"}, "b1", 0, columns.SelectEvents(events), WriteOptions{RowGroupRows: 1000, PageBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		EventID      string `parquet:"event_id"`
		PrincipalARN string `parquet:"principal_arn,optional"`
	}
	got, err := parquet.ReadFile[row](pf.Tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(events) {
		t.Fatalf("%d rows read back, want %d", len(got), len(events))
	}
	for i, r := range got {
		if w := events[i]; r.EventID != w.EventID || r.PrincipalARN != w.PrincipalARN {
			t.Fatalf("row %d: %+v, want %s %s", i, r, w.EventID, w.PrincipalARN)
		}
	}
	if err := os.Rename(pf.IndexTmp, pf.Index); err != nil {
		t.Fatal(err)
	}
	// p1 is rows 2501-5500: the last 499 of row group 2, all of 3-4, and 500 of 5.
	spans, ok, err := st.readIndex(context.Background(), strings.TrimSuffix(pf.Tmp, ".tmp"), []string{events[2501].PrincipalARN})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	want := map[int]rowSpan{2: {501, 1000}, 3: {0, 1000}, 4: {0, 1000}, 5: {0, 501}}
	if fmt.Sprint(spans) != fmt.Sprint(want) {
		t.Fatalf("spans of p1: %v, want %v", spans, want)
	}
}
