package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	pq "github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// The benchmarks below measure the choice of Parquet libraries: Arrow's
// pqarrow against parquet-go, as writer and as reader, on the 2,900 real
// invictus records, all 33 columns, snappy, 16,384-row row groups. pqarrow
// gets the settings iamlens used with it (dictionary for every column, v2
// data pages); parquet-go gets the GenericWriter[columns.Event] settings
// iamlens used with it; "iamlens" is store.EncodeEvents, what ingest
// writes now. Results are in the README (Performance).

// invictusEvents decodes the invictus files once, into the builder's
// columns, and returns them as one Arrow record and as writer rows.
func invictusEvents(b testing.TB) (arrow.Record, []columns.Event, int64) {
	b.Helper()
	src, err := source.NewDir(ingesttest.Invictus(b))
	if err != nil {
		b.Fatal(err)
	}
	bld := columns.NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields}
	var rd cloudtrail.Reader
	var jsonBytes int64
	err = src.Walk(context.Background(), source.Filter{}, func(o source.Object) error {
		rc, err := src.Open(context.Background(), o.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		data, err := rd.Read(rc)
		if err != nil {
			return err
		}
		jsonBytes += int64(len(data))
		n, err := sp.Split(data)
		for i := 0; i < n; i++ {
			_, _ = bld.AppendSpans(data, sp.Record(i), sp.Values(i), o.Key)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	idx := make([]int32, bld.Len())
	for i := range idx {
		idx[i] = int32(i)
	}
	return bld.Take(idx), bld.Events(idx, nil), jsonBytes
}

func writePqarrow(b *testing.B, rec arrow.Record, w io.Writer) {
	props := pq.NewWriterProperties(pq.WithCompression(compress.Codecs.Snappy), pq.WithDictionaryDefault(true),
		pq.WithStats(true), pq.WithDataPageVersion(pq.DataPageV2), pq.WithMaxRowGroupLength(16384))
	fw, err := pqarrow.NewFileWriter(rec.Schema(), w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		b.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		b.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkWriteParquet(b *testing.B) {
	rec, rows, n := invictusEvents(b)
	defer rec.Release()
	b.Run("pqarrow", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			writePqarrow(b, rec, &buf)
		}
		b.ReportMetric(float64(buf.Len()), "file-bytes")
	})
	b.Run("parquet-go", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := writeParquetGo(&buf, rows, 16384, 64<<10); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "file-bytes")
	})
	b.Run("iamlens", func(b *testing.B) {
		sel := columns.SelectEvents(rows)
		b.SetBytes(n)
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := store.EncodeEvents(&buf, sel, store.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "file-bytes")
	})
}

func BenchmarkReadParquet(b *testing.B) {
	rec, rows, n := invictusEvents(b)
	rec.Release()
	var buf bytes.Buffer
	if err := store.EncodeEvents(&buf, columns.SelectEvents(rows), store.WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.Run("parquet-go", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		out := make([]columns.Event, 1024)
		for b.Loop() {
			r := parquet.NewGenericReader[columns.Event](bytes.NewReader(data))
			total := 0
			for {
				k, err := r.Read(out)
				total += k
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			r.Close()
			if total != len(rows) {
				b.Fatalf("read %d rows, want %d", total, len(rows))
			}
		}
	})
	b.Run("pqarrow", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			pf, err := file.NewParquetReader(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
			if err != nil {
				b.Fatal(err)
			}
			tbl, err := fr.ReadTable(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if tbl.NumRows() != int64(len(rows)) {
				b.Fatalf("read %d rows", tbl.NumRows())
			}
			tbl.Release()
			pf.Close()
		}
	})
}
