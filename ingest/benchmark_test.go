package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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
func invictusJSON(b *testing.B) [][]byte { return logsJSON(b, ingesttest.Invictus(b), 0) }

// logsJSON returns the decompressed log files of a folder, in listing
// order, the first of them that hold limit bytes (all when limit is 0).
func logsJSON(b *testing.B, dir string, limit int64) [][]byte {
	b.Helper()
	src, err := source.NewDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var out [][]byte
	var n int64
	var rd cloudtrail.Reader
	full := errors.New("enough")
	err = src.Walk(context.Background(), source.Filter{}, func(o source.Object) error {
		if limit > 0 && n >= limit {
			return full
		}
		rc, err := src.Open(context.Background(), o.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		data, err := rd.Read(rc)
		out = append(out, bytes.Clone(data))
		n += int64(len(data))
		return err
	})
	if err != nil && !errors.Is(err, full) {
		b.Fatal(err)
	}
	return out
}

// benchLogs is the decompressed files of the folder IAMLENS_BENCH_LOGS
// names, the first of them that hold limit bytes, or else the invictus
// files.
func benchLogs(b *testing.B, limit int64) [][]byte {
	if dir := os.Getenv("IAMLENS_BENCH_LOGS"); dir != "" {
		return logsJSON(b, dir, limit)
	}
	return invictusJSON(b)
}

// decodeAll splits files and appends their records to bld, as a worker
// does (rejected records are left out), counting their bytes.
func decodeAll(b *testing.B, bld *columns.Builder, sp *cloudtrail.Splitter, files [][]byte) {
	for _, f := range files {
		n, err := sp.Split(f)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < n; i++ {
			_, _ = bld.AppendSpans(f, sp.Record(i), sp.Values(i), "bench")
		}
		bld.AddDataBytes(int64(len(f)))
	}
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
//
// IAMLENS_BENCH_LOGS names another folder of logs to decode instead (its
// first 64 MiB), such as the bench corpus, whose many sessions make the
// identity cache miss a third of the time where invictus's few hardly do:
//
//	IAMLENS_BENCH_LOGS=$PWD/bench/out/corpus-1024m go test ./ingest -run '^$' -bench Decode/splitter
func BenchmarkDecode(b *testing.B) {
	files := benchLogs(b, 64<<20)
	b.Run("splitter", func(b *testing.B) {
		b.SetBytes(totalLen(files))
		b.ReportAllocs()
		bld := columns.NewBuilder(memory.NewGoAllocator())
		sp := cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields}
		for b.Loop() {
			decodeAll(b, bld, &sp, files)
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

// BenchmarkEncodeBatch writes one batch the size ingest gathers (32 MiB of
// JSON) as a Parquet file, its rows in the order ingest sorts them
// (principal, time) and, for comparison, in the order the builder holds
// them. The gap between the two is what reading the builder's columns out
// of order costs (README, Performance). MB/s are of the batch's JSON.
//
// The batch is the invictus files decoded over and over, or the first 32
// MiB of a folder of logs named by IAMLENS_BENCH_LOGS, such as the bench
// corpus (bench/compare.sh), whose many principals scatter a principal's
// rows far more than invictus's few do:
//
//	IAMLENS_BENCH_LOGS=$PWD/bench/out/corpus-1024m go test ./ingest -run '^$' -bench EncodeBatch
func BenchmarkEncodeBatch(b *testing.B) {
	const size = 32 << 20
	files := benchLogs(b, size)
	bld := columns.NewBuilder(memory.NewGoAllocator())
	sp := cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields}
	for bld.DataBytes() < size {
		decodeAll(b, bld, &sp, files)
	}
	held := make([]int32, bld.Len())
	for i := range held {
		held[i] = int32(i)
	}
	sorted := slices.Clone(held)
	ingest.SortRows(sorted, bld)
	for _, c := range []struct {
		name string
		rows []int32
	}{{"sorted", sorted}, {"builder-order", held}} {
		b.Run(c.name, func(b *testing.B) {
			sel := bld.Select(c.rows)
			b.SetBytes(bld.DataBytes())
			b.ReportAllocs()
			for b.Loop() {
				if err := store.EncodeEvents(io.Discard, sel, store.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeRollup writes one 32 MiB batch, sorted, as an events
// file ("events", what BenchmarkEncodeBatch/sorted measures) and as its
// usage rollup ("rollup": summing the rows by facet and key, and encoding
// the sums), side by side: the rollup's cost at ingest, per batch. MB/s
// are of the batch's JSON.
//
//	IAMLENS_BENCH_LOGS=$PWD/bench/out/corpus-1024m go test ./ingest -run '^$' -bench EncodeRollup
func BenchmarkEncodeRollup(b *testing.B) {
	const size = 32 << 20
	files := benchLogs(b, size)
	bld := columns.NewBuilder(memory.NewGoAllocator())
	sp := cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields}
	for bld.DataBytes() < size {
		decodeAll(b, bld, &sp, files)
	}
	rows := make([]int32, bld.Len())
	for i := range rows {
		rows[i] = int32(i)
	}
	ingest.SortRows(rows, bld)
	sel := bld.Select(rows)
	for _, c := range []struct {
		name   string
		encode func(io.Writer, store.Rows, store.WriteOptions) error
	}{{"events", store.EncodeEvents}, {"rollup", store.EncodeRollup}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(bld.DataBytes())
			b.ReportAllocs()
			for b.Loop() {
				if err := c.encode(io.Discard, sel, store.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
