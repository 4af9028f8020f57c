package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/store"
)

// writeParquetGo writes rows with parquet-go's own writer, the way iamlens
// wrote them before it had an encoder of its own: the reference the
// encoder is held to.
func writeParquetGo(w io.Writer, rows []columns.Event, rowGroupRows int64, pageBytes int) error {
	codec, err := store.WriteOptions{}.Codec()
	if err != nil {
		return err
	}
	pw := parquet.NewGenericWriter[columns.Event](w,
		parquet.Compression(codec),
		parquet.MaxRowsPerRowGroup(rowGroupRows),
		parquet.PageBufferSize(pageBytes),
		parquet.DataPageStatistics(false),
	)
	if _, err := pw.Write(rows); err != nil {
		return err
	}
	return pw.Close()
}

// encoderRows are the 2,900 invictus records plus rows with every shape a
// column can take (null, empty and one-null-field resources lists; null,
// false and true booleans; optional strings all null), sorted as ingest
// sorts them.
func encoderRows(t testing.TB) []columns.Event {
	_, rows, _ := invictusEvents(t)
	rows = slices.Clone(rows)
	yes, no := true, false
	for i := range 60 {
		e := columns.Event{EventID: fmt.Sprintf("edge-%02d", i), EventTime: 1e12 + int64(i)}
		switch i % 4 {
		case 0: // everything optional null
		case 1:
			e.Resources = []columns.Resource{}
			e.MFAAuthenticated, e.ReadOnly = &no, &yes
			e.PrincipalARN = "arn:aws:iam::111122223333:role/edge"
		case 2:
			e.Resources = []columns.Resource{{Type: "AWS::S3::Bucket"}, {ARN: "arn:aws:s3:::b", AccountID: "111122223333"}}
			e.ManagementEvent = &yes
			e.PrincipalARN = "arn:aws:iam::111122223333:role/edge"
			e.RequestParameters = `{"k":"` + strings.Repeat("v", 400) + `"}`
		case 3:
			e.EventSource, e.EventName, e.ErrorCode = "s3.amazonaws.com", "GetObject", "AccessDenied"
			e.ReadOnly = &no
		}
		rows = append(rows, e)
	}
	sortEvents(rows)
	return rows
}

// sortEvents sorts rows as ingest writes them: by principal, then time.
func sortEvents(rows []columns.Event) {
	slices.SortStableFunc(rows, func(a, b columns.Event) int {
		if c := strings.Compare(a.PrincipalARN, b.PrincipalARN); c != 0 {
			return c
		}
		return int(a.EventTime - b.EventTime)
	})
}

// What the encoder writes reads back with parquet-go row for row, in every
// row-group and page layout and with every codec.
func TestEncoderRoundTrip(t *testing.T) {
	rows := encoderRows(t)
	for _, o := range []store.WriteOptions{
		{},
		{RowGroupRows: 700, PageBytes: 2048},
		{RowGroupRows: 1, PageBytes: 1},
		{Compression: "zstd", RowGroupRows: 1000},
		{Compression: "none", PageBytes: 512},
	} {
		roundTrip(t, rows, o)
	}
}

// roundTrip writes rows with the encoder and reads them back with
// parquet-go, row for row.
func roundTrip(t *testing.T, rows []columns.Event, o store.WriteOptions) {
	t.Helper()
	var buf bytes.Buffer
	if err := store.EncodeEvents(&buf, columns.SelectEvents(rows), o); err != nil {
		t.Fatalf("%+v: %v", o, err)
	}
	got, err := parquet.Read[columns.Event](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("%+v: %v", o, err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%+v: %d rows read back, want %d", o, len(got), len(rows))
	}
	for i := range rows {
		// parquet-go reads an empty list as nil; Arrow (below) tells them apart.
		if len(rows[i].Resources) == 0 && len(got[i].Resources) == 0 {
			got[i].Resources = rows[i].Resources
		}
		if !reflect.DeepEqual(got[i], rows[i]) {
			t.Fatalf("%+v: row %d reads back as\n%+v\nwant\n%+v", o, i, got[i], rows[i])
		}
	}
}

// Arrow's reader, an independent implementation, reads every column and
// every null, empty list and nested null the way the builder holds them.
func TestEncoderReadByArrow(t *testing.T) {
	rows := encoderRows(t)
	sel := columns.SelectEvents(rows)
	var buf bytes.Buffer
	if err := store.EncodeEvents(&buf, sel, store.WriteOptions{RowGroupRows: 700, PageBytes: 2048}); err != nil {
		t.Fatal(err)
	}
	want := sel.Record()
	defer want.Release()
	tbl, err := pqarrow.ReadTable(t.Context(), bytes.NewReader(buf.Bytes()), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != want.NumRows() || tbl.NumCols() != want.NumCols() {
		t.Fatalf("Arrow reads %d rows × %d columns, want %d × %d", tbl.NumRows(), tbl.NumCols(), want.NumRows(), want.NumCols())
	}
	for c := 0; c < int(want.NumCols()); c++ {
		name := want.ColumnName(c)
		if got := tbl.Schema().Field(c).Name; got != name {
			t.Fatalf("column %d is %s, want %s", c, got, name)
		}
		k := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i, k = i+1, k+1 {
				w := want.Column(c)
				if chunk.IsNull(i) != w.IsNull(k) || chunk.ValueStr(i) != w.ValueStr(k) {
					t.Fatalf("%s row %d: %q (null %v), want %q (null %v)", name, k, chunk.ValueStr(i), chunk.IsNull(i), w.ValueStr(k), w.IsNull(k))
				}
			}
		}
	}
}

// The encoder writes what parquet-go's writer wrote for the same rows: the
// same schema, row groups, encodings per column (dictionary pages exactly
// for the columns columns.Event tags dict), value and null counts, and the
// same column-chunk statistics (left out only past 256 bytes).
func TestEncoderAgreesWithParquetGo(t *testing.T) {
	rows := encoderRows(t)
	var ours, theirs bytes.Buffer
	if err := store.EncodeEvents(&ours, columns.SelectEvents(rows), store.WriteOptions{RowGroupRows: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := writeParquetGo(&theirs, rows, 1000, 64<<10); err != nil {
		t.Fatal(err)
	}
	open := func(b *bytes.Buffer) *format.FileMetaData {
		f, err := parquet.OpenFile(bytes.NewReader(b.Bytes()), int64(b.Len()))
		if err != nil {
			t.Fatal(err)
		}
		return f.Metadata()
	}
	o, p := open(&ours), open(&theirs)
	if !reflect.DeepEqual(o.Schema, p.Schema) || !reflect.DeepEqual(o.ColumnOrders, p.ColumnOrders) {
		t.Fatalf("schema differs from parquet-go's:\n%+v\n%+v", o.Schema, p.Schema)
	}
	if o.NumRows != p.NumRows || len(o.RowGroups) != len(p.RowGroups) {
		t.Fatalf("%d rows in %d row groups, parquet-go %d in %d", o.NumRows, len(o.RowGroups), p.NumRows, len(p.RowGroups))
	}
	dictCols, stats := 0, 0
	for g := range o.RowGroups {
		if o.RowGroups[g].NumRows != p.RowGroups[g].NumRows {
			t.Fatalf("row group %d: %d rows, parquet-go %d", g, o.RowGroups[g].NumRows, p.RowGroups[g].NumRows)
		}
		for c := range o.RowGroups[g].Columns {
			om, pm := o.RowGroups[g].Columns[c].MetaData, p.RowGroups[g].Columns[c].MetaData
			at := fmt.Sprintf("row group %d %v", g, pm.PathInSchema)
			if !slices.Equal(om.PathInSchema, pm.PathInSchema) || om.Type != pm.Type || om.Codec != pm.Codec {
				t.Fatalf("%s: path %v type %v codec %v, parquet-go %v %v %v", at, om.PathInSchema, om.Type, om.Codec, pm.PathInSchema, pm.Type, pm.Codec)
			}
			if !sameSet(om.Encoding, pm.Encoding) {
				t.Errorf("%s: encodings %v, parquet-go %v", at, om.Encoding, pm.Encoding)
			}
			if (om.DictionaryPageOffset != 0) != (pm.DictionaryPageOffset != 0) {
				t.Errorf("%s: dictionary page %v, parquet-go %v", at, om.DictionaryPageOffset != 0, pm.DictionaryPageOffset != 0)
			}
			if om.DictionaryPageOffset != 0 {
				dictCols++
			}
			if om.NumValues != pm.NumValues || om.Statistics.NullCount != pm.Statistics.NullCount {
				t.Errorf("%s: %d values, %d nulls; parquet-go %d, %d", at, om.NumValues, om.Statistics.NullCount, pm.NumValues, pm.Statistics.NullCount)
			}
			os, ps := om.Statistics, pm.Statistics
			short := len(ps.MinValue) <= 256 && len(ps.MaxValue) <= 256
			switch {
			case os.MinValue == nil && os.MaxValue == nil && !short:
			case !bytes.Equal(os.MinValue, ps.MinValue) || !bytes.Equal(os.MaxValue, ps.MaxValue):
				t.Errorf("%s: bounds [%q, %q], parquet-go [%q, %q]", at, os.MinValue, os.MaxValue, ps.MinValue, ps.MaxValue)
			default:
				stats++
			}
		}
	}
	if dictCols == 0 || stats == 0 {
		t.Fatalf("%d dictionary chunks and %d statistics compared", dictCols, stats)
	}
}

func sameSet[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// An empty selection is a valid file with no row groups; a failing writer
// is an error, not a panic.
func TestEncoderEdges(t *testing.T) {
	var buf bytes.Buffer
	if err := store.EncodeEvents(&buf, columns.SelectEvents(nil), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || f.NumRows() != 0 {
		t.Fatalf("empty file: %v rows, %v", f, err)
	}
	boom := errors.New("disk full")
	if err := store.EncodeEvents(failingWriter{boom}, columns.SelectEvents(encoderRows(t)), store.WriteOptions{}); !errors.Is(err, boom) {
		t.Fatalf("write error: %v, want %v", err, boom)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// FuzzEncode decodes any document into rows, writes them with the encoder
// in a fuzzed row-group and page layout, and reads the file back with
// parquet-go: no panic, and every row as it was. The seeds are small real
// log files and a record of odd values.
func FuzzEncode(f *testing.F) {
	odd := `{"Records":[{"eventID":"","eventTime":"2024-01-02T03:04:05Z"},{"eventID":"\u00e9\u0000","eventTime":"2024-01-02T03:04:05.5+01:00",` +
		`"userAgent":"` + strings.Repeat("a", 300) + `","resources":[{},{"ARN":""},{"type":"t","ARN":"x"}],"readOnly":"true","errorCode":"",` +
		`"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/p/r"}}}}]}`
	f.Add([]byte(odd), uint8(1), uint16(1))
	for _, data := range ingesttest.RealLogs(f) {
		if len(data) < 3000 {
			f.Add(data, uint8(3), uint16(200))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, rowGroup uint8, page uint16) {
		sp := cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields}
		n, err := sp.Split(doc)
		if err != nil {
			return
		}
		b := columns.NewBuilder(memory.DefaultAllocator)
		for i := range n {
			_, _ = b.AppendSpans(doc, sp.Record(i), sp.Values(i), "src")
		}
		all := make([]int32, b.Len())
		for i := range all {
			all[i] = int32(i)
		}
		rows := b.Events(all, nil)
		sortEvents(rows)
		roundTrip(t, rows, store.WriteOptions{RowGroupRows: int64(rowGroup%8) + 1, PageBytes: int(page%4096) + 1})
	})
}
