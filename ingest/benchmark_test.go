package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// invictusJSON returns the decompressed invictus files.
func invictusJSON(b *testing.B) [][]byte {
	b.Helper()
	src, err := source.NewDir(ingesttest.Invictus(b))
	if err != nil {
		b.Fatal(err)
	}
	var out [][]byte
	var rd cloudtrail.Reader
	err = src.Walk(context.Background(), source.Filter{}, func(o source.Object) error {
		rc, err := src.Open(context.Background(), o.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		data, err := rd.Read(rc)
		out = append(out, bytes.Clone(data))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func totalLen(files [][]byte) int64 {
	var n int64
	for _, f := range files {
		n += int64(len(f))
	}
	return n
}

// BenchmarkDecode is the hot path after gunzip: validate and split each
// file and append every record to the column builder, as ingest does
// ("splitter"), against the first version's gjson walk ("gjson": validate,
// walk the array, walk each record). MB/s are of decompressed JSON.
func BenchmarkDecode(b *testing.B) {
	files := invictusJSON(b)
	b.Run("splitter", func(b *testing.B) {
		b.SetBytes(totalLen(files))
		b.ReportAllocs()
		bld := columns.NewBuilder(memory.NewGoAllocator())
		sp := cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields}
		for b.Loop() {
			for _, f := range files {
				n, err := sp.Split(f)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < n; i++ {
					_, _ = bld.AppendSpans(f, sp.Record(i), sp.Values(i), "bench")
				}
			}
			bld.Reset()
		}
	})
	b.Run("gjson", func(b *testing.B) {
		b.SetBytes(totalLen(files))
		b.ReportAllocs()
		bld := columns.NewBuilder(memory.NewGoAllocator())
		for b.Loop() {
			for _, f := range files {
				_, err := cloudtrail.Records(f, func(rec gjson.Result) bool {
					_, _ = bld.Append(rec, "bench")
					return true
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			bld.Reset()
		}
	})
}

// BenchmarkIngest runs the whole pipeline (list, read, gunzip, decode, dedupe,
// sort, Parquet write, commit) over the invictus folder into a fresh store,
// with each compression codec.
func BenchmarkIngest(b *testing.B) {
	for _, codec := range []string{"snappy", "zstd"} {
		b.Run(codec, func(b *testing.B) { benchIngest(b, codec) })
	}
}

func benchIngest(b *testing.B, codec string) {
	files := invictusJSON(b)
	src, _ := source.NewDir(ingesttest.Invictus(b))
	b.SetBytes(totalLen(files))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		st := freshStore(b, &i)
		stats, err := ingest.Run(context.Background(), src, st, ingest.Options{Write: store.WriteOptions{Compression: codec}})
		if err != nil || stats.RowsWritten != 2900 {
			b.Fatalf("rows %d, err %v", stats.RowsWritten, err)
		}
	}
}

// freshStore opens the n-th empty store of a benchmark, counting n up.
func freshStore(b *testing.B, n *int) *store.Store {
	st, err := store.Open(fmt.Sprintf("%s/%d", b.TempDir(), *n))
	if err != nil {
		b.Fatal(err)
	}
	*n++
	return st
}
