package store

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/columns"
)

// A reader struct whose columns are all in the file with the same types is
// read through the projection; one with a column the file lacks, or with a
// column of another type, falls back to parquet-go's conversion.
func TestProjectionOf(t *testing.T) {
	var buf bytes.Buffer
	if err := EncodeEvents(&buf, rowsOf([]int{2, 3}), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	type subset struct {
		Resources []columns.Resource `parquet:"resources,optional,list"`
		EventTime int64              `parquet:"event_time,timestamp(millisecond)"`
		Principal string             `parquet:"principal_arn,optional"`
	}
	type absent struct {
		Principal string `parquet:"principal_arn,optional"`
		Nope      string `parquet:"nope,optional"`
	}
	type retyped struct {
		EventTime int64 `parquet:"event_time"` // plain int64, not a timestamp
	}
	p, ok := projectionOf[subset](pf)
	if !ok {
		t.Fatal("subset of the file's columns not projected")
	}
	for i, path := range parquet.SchemaOf(new(subset)).Columns() {
		leaf, _ := pf.Schema().Lookup(path...)
		if p.cols[i] != leaf.ColumnIndex || p.remap[leaf.ColumnIndex] != i {
			t.Errorf("%v: column %d of T maps to %d, want %d", path, i, p.cols[i], leaf.ColumnIndex)
		}
	}
	if _, ok := projectionOf[absent](pf); ok {
		t.Error("a column the file lacks was projected")
	}
	if _, ok := projectionOf[retyped](pf); ok {
		t.Error("a column of another type was projected")
	}
}
