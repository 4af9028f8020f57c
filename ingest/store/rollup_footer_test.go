package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

// TestRollupFooterMatchesParquetGo holds the rollup reader's own parsing
// of footers, offset indexes and page headers to parquet-go's, on files
// of every layout and compression the rollup is written with.
func TestRollupFooterMatchesParquetGo(t *testing.T) {
	rows, _ := sampleRows(t, rollupEdges()...)
	for _, o := range []store.WriteOptions{{}, {RowGroupRows: 7, PageBytes: 512}, {RowGroupRows: 100, PageBytes: 64, Compression: "zstd"}, {Compression: "none"}} {
		var buf bytes.Buffer
		if err := store.EncodeRollup(&buf, rows, o); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.CheckRollupFooter(pf, data); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestRollupCorruptFiles: a rollup file cut short or with bytes changed
// anywhere is an error naming it, or reads rows; never a crash.
func TestRollupCorruptFiles(t *testing.T) {
	rows, _ := sampleRows(t, rollupEdges()...)
	var buf bytes.Buffer
	if err := store.EncodeRollup(&buf, rows, store.WriteOptions{RowGroupRows: 50, PageBytes: 256}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	dir := t.TempDir()
	path := filepath.Join(dir, "part-x-0000.parquet")
	read := func(data []byte, q store.RollupQuery) error {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := store.ScanRollup(context.Background(), nil, []string{path}, q, func([]columns.RollupRow) error { return nil })
		return err
	}
	if err := read(good, store.RollupQuery{}); err != nil {
		t.Fatal(err)
	}
	queries := []store.RollupQuery{{}, {Principals: []string{"arn:aws:iam::111122223333:user/edge"}}}
	failed := 0
	for _, q := range queries {
		for _, n := range []int{0, 3, 11, 12, len(good) / 2, len(good) - 9, len(good) - 4, len(good) - 1} {
			err := read(good[:n], q)
			if err == nil {
				t.Errorf("cut to %d bytes: no error", n)
			} else if !strings.Contains(err.Error(), path) {
				t.Errorf("cut to %d bytes: %v does not name the file", n, err)
			}
		}
		// A byte changed at 150 places in turn, and throughout at once.
		for off := 0; off < len(good); off += len(good)/150 + 1 {
			bad := slices.Clone(good)
			bad[off] ^= 0x5a
			if err := read(bad, q); err != nil {
				failed++
				if !strings.Contains(err.Error(), path) {
					t.Errorf("byte %d changed: %v does not name the file", off, err)
				}
			}
		}
	}
	if failed == 0 {
		t.Error("no changed byte was found out")
	}
	bad := slices.Clone(good)
	for off := 4; off < len(bad)-8; off += 13 {
		bad[off] = ^bad[off]
	}
	if err := read(bad, store.RollupQuery{}); err == nil {
		t.Error("a file changed throughout: no error")
	}
}

// FuzzRollupFooter feeds the rollup reader's Thrift parsing (footers,
// offset indexes, page headers) arbitrary bytes: errors, never a panic.
func FuzzRollupFooter(f *testing.F) {
	rows, _ := sampleRows(f, rollupEdges()...)
	var buf bytes.Buffer
	if err := store.EncodeRollup(&buf, rows, store.WriteOptions{RowGroupRows: 40, PageBytes: 256}); err != nil {
		f.Fatal(err)
	}
	for _, s := range store.RollupThriftSeeds(buf.Bytes()) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := store.ParseRollupThrift(b); err != nil && !errors.Is(err, store.ErrThrift) && err.Error() == "" {
			t.Fatal("an error without a message")
		}
	})
}

// BenchmarkScanRollup reads 50 copies of a rollup file — the sample's
// rows and a busy principal's 600 calls, which get row groups of their
// own — whole and for the busy principal with the rollup reader, and whole
// with parquet-go's generic row reader, for comparison.
func BenchmarkScanRollup(b *testing.B) {
	extra := rollupEdges()
	busy := extra[0]
	busy.PrincipalARN, busy.UserIdentityARN = "arn:aws:iam::111122223333:role/busy", "arn:aws:iam::111122223333:role/busy"
	for i := range 600 {
		e := busy
		e.EventID = fmt.Sprintf("busy-%d", i)
		e.RequestParameters = fmt.Sprintf(`{"bucketName":"b","key":"k%d"}`, i%200)
		e.EventName = []string{"GetObject", "PutObject", "HeadObject"}[i%3]
		extra = append(extra, e)
	}
	rows, _ := sampleRows(b, extra...)
	var buf bytes.Buffer
	if err := store.EncodeRollup(&buf, rows, store.WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	dir := b.TempDir()
	var files []string
	for i := range 50 {
		p := filepath.Join(dir, fmt.Sprintf("part-x-%04d.parquet", i))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			b.Fatal(err)
		}
		files = append(files, p)
	}
	n := len(readRollup(b, data))
	scan := func(b *testing.B, q store.RollupQuery) {
		b.ReportAllocs()
		for b.Loop() {
			got := 0
			if _, err := store.ScanRollup(context.Background(), nil, files, q, func(rs []columns.RollupRow) error {
				got += len(rs)
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			if got == 0 {
				b.Fatal("no rows")
			}
		}
	}
	b.Run("all", func(b *testing.B) {
		scan(b, store.RollupQuery{})
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*len(files)), "ns/row")
	})
	b.Run("principal", func(b *testing.B) {
		scan(b, store.RollupQuery{Principals: []string{"arn:aws:iam::111122223333:role/edge"}})
	})
	b.Run("parquet-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for range files {
				if got := readRollup(b, data); len(got) != n {
					b.Fatalf("%d rows", len(got))
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*len(files)), "ns/row")
	})
}
