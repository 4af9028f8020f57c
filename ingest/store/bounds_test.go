package store_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

// Other engines (Athena, Trino, DuckDB, Spark) skip pages by the column
// index: every value of every page must lie within the page's recorded
// bounds, in every column, or their queries silently lose rows.
func TestColumnIndexBoundsHoldEveryValue(t *testing.T) {
	_, rows, _ := invictusEvents(t)
	var buf bytes.Buffer
	if err := store.EncodeEvents(&buf, columns.SelectEvents(rows), store.WriteOptions{RowGroupRows: 1000, PageBytes: 4096}); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	for _, rg := range f.RowGroups() {
		for ci, chunk := range rg.ColumnChunks() {
			name := f.Schema().Columns()[ci]
			index, err := chunk.ColumnIndex()
			if err != nil {
				t.Fatalf("%v: no column index: %v", name, err)
			}
			typ := chunk.Type()
			pages := chunk.Pages()
			vals := make([]parquet.Value, 512)
			for p := 0; ; p++ {
				page, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if index.NullPage(p) {
					parquet.Release(page)
					continue
				}
				lo, hi := index.MinValue(p), index.MaxValue(p)
				r := page.Values()
				for {
					n, err := r.ReadValues(vals)
					for _, v := range vals[:n] {
						if v.IsNull() {
							continue
						}
						if typ.Compare(lo, v) > 0 || typ.Compare(v, hi) > 0 {
							t.Fatalf("%v page %d: value %q outside its bounds [%q, %q]", name, p, v, lo, hi)
						}
						checked[name[0]]++
					}
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				parquet.Release(page)
			}
			pages.Close()
		}
	}
	for _, col := range []string{"request_parameters", "response_elements", "user_agent", "error_message", "principal_arn", "event_time"} {
		if checked[col] == 0 {
			t.Errorf("no value of %s checked", col)
		}
	}
}
