package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	pq "github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"
	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
)

// The benchmarks below measure the choice of Parquet libraries: Arrow's
// pqarrow against parquet-go, as writer and as reader, on the 2,900 real
// invictus records (the same columns and compression). Results are in the
// README (Performance).

// row is the events table as a parquet-go struct (the scalar columns).
type row struct {
	EventID           string  `parquet:"event_id"`
	EventTime         int64   `parquet:"event_time,timestamp(millisecond)"`
	EventSource       *string `parquet:"event_source,optional"`
	EventName         *string `parquet:"event_name,optional"`
	AWSRegion         *string `parquet:"aws_region,optional"`
	SourceIP          *string `parquet:"source_ip,optional"`
	UserAgent         *string `parquet:"user_agent,optional"`
	PrincipalARN      *string `parquet:"principal_arn,optional"`
	UserIdentityARN   *string `parquet:"user_identity_arn,optional"`
	ErrorCode         *string `parquet:"error_code,optional"`
	RequestParameters *string `parquet:"request_parameters,optional"`
	ResponseElements  *string `parquet:"response_elements,optional"`
}

var rowColumns = []string{columns.EventID, columns.EventTime, columns.EventSource, columns.EventName, columns.AWSRegion,
	columns.SourceIP, columns.UserAgent, columns.PrincipalARN, columns.UserIdentityARN, columns.ErrorCode,
	columns.RequestParameters, columns.ResponseElements}

// invictusRecord decodes the invictus files into one Arrow record of the
// columns above, and the same data as parquet-go rows.
func invictusRecord(b *testing.B) (arrow.Record, []row, int64) {
	b.Helper()
	src, err := source.NewDir(ingesttest.Invictus(b))
	if err != nil {
		b.Fatal(err)
	}
	bld := columns.NewBuilder(memory.DefaultAllocator)
	defer bld.Release()
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
		_, err = cloudtrail.Records(data, func(r gjson.Result) bool { _, _ = bld.Append(r, o.Key); return true })
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	full := bld.NewRecord()
	defer full.Release()
	cols := make([]arrow.Array, len(rowColumns))
	fields := make([]arrow.Field, len(rowColumns))
	for i, name := range rowColumns {
		cols[i] = full.Column(columns.Index(name))
		fields[i] = columns.Schema.Field(columns.Index(name))
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), cols, full.NumRows())
	rows := make([]row, rec.NumRows())
	str := func(c, i int) *string {
		a := rec.Column(c).(*array.String)
		if a.IsNull(i) {
			return nil
		}
		s := a.Value(i)
		return &s
	}
	for i := range rows {
		rows[i] = row{EventID: rec.Column(0).(*array.String).Value(i), EventTime: int64(rec.Column(1).(*array.Timestamp).Value(i)),
			EventSource: str(2, i), EventName: str(3, i), AWSRegion: str(4, i), SourceIP: str(5, i), UserAgent: str(6, i),
			PrincipalARN: str(7, i), UserIdentityARN: str(8, i), ErrorCode: str(9, i), RequestParameters: str(10, i), ResponseElements: str(11, i)}
	}
	return rec, rows, jsonBytes
}

func writePqarrow(b *testing.B, rec arrow.Record, w io.Writer) {
	props := pq.NewWriterProperties(pq.WithCompression(compress.Codecs.Snappy), pq.WithDictionaryDefault(true), pq.WithStats(true))
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

func writeParquetGo(b *testing.B, rows []row, w io.Writer) {
	pw := parquet.NewGenericWriter[row](w, parquet.Compression(&parquet.Snappy))
	if _, err := pw.Write(rows); err != nil {
		b.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkWriteParquet(b *testing.B) {
	rec, rows, n := invictusRecord(b)
	defer rec.Release()
	b.Run("pqarrow", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			writePqarrow(b, rec, &buf)
		}
	})
	b.Run("parquet-go", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			writeParquetGo(b, rows, &buf)
		}
	})
}

func BenchmarkReadParquet(b *testing.B) {
	rec, rows, n := invictusRecord(b)
	defer rec.Release()
	var buf bytes.Buffer
	writePqarrow(b, rec, &buf)
	data := buf.Bytes()
	b.Run("parquet-go", func(b *testing.B) {
		b.SetBytes(n)
		b.ReportAllocs()
		out := make([]row, 1024)
		for b.Loop() {
			r := parquet.NewGenericReader[row](bytes.NewReader(data))
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
