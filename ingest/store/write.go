package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/private"
)

// WriteOptions tune the Parquet files.
type WriteOptions struct {
	// Compression is "snappy" (the default), "zstd" or "none".
	Compression string
	// RowGroupRows caps the rows per row group (default 16384). Rows are
	// sorted by principal and time, so a reader that wants one principal
	// skips most row groups by their statistics, and within a row group
	// jumps to the principal's pages through the page index.
	RowGroupRows int64
	// PageBytes is the target size of a data page before compression
	// (default 64 KiB). Small pages keep the bytes a reader decodes to
	// reach a few rows small; the page index makes them cheap to skip.
	PageBytes int
	// NoRollup writes the events without their usage rollup, as iamlens
	// did before it had one (readers then build it: BuildRollup).
	NoRollup bool
}

// Codec is the Parquet compression codec the options name.
func (o WriteOptions) Codec() (compress.Codec, error) {
	switch o.Compression {
	case "zstd":
		return &parquet.Zstd, nil
	case "", "snappy":
		return fastSnappy{}, nil
	case "none":
		return &parquet.Uncompressed, nil
	}
	return nil, fmt.Errorf("unknown compression %q (want zstd, snappy or none)", o.Compression)
}

// Validate reports a bad option before any work starts.
func (o WriteOptions) Validate() error { _, err := o.Codec(); return err }

// PendingFile is a file written under a temporary name, not yet visible,
// with its principal index and its rollup twin ("" when none).
type PendingFile struct {
	Tmp, Final        string
	IndexTmp, Index   string
	RollupTmp, Rollup string
	Rows              int64
}

// Rows is one partition's rows, sorted by (principal_arn, event_time), as
// the encoder reads them: column by column from the builder that decoded
// them (columns.SelectEvents makes one from Event values).
type Rows = columns.Selection

// WriteTemp writes rows, which the caller has sorted by (principal_arn,
// event_time), into partition p as part-<batch>-<seq>.parquet, with its
// principal index and its rollup twin. In a folder they are written under
// temporary names (.tmp) and nothing is synced (Publish syncs and renames
// them); on an object store each is written whole under its name (which
// no other batch uses). Either way nothing is visible to readers until
// Commit.
//
// The writer is iamlens's own encoder (encode.go): it reads the builder's
// columns directly and writes the schema, encodings and page index that
// parquet-go's writer wrote for columns.Event, about three times faster
// (README, Performance).
func (s *Store) WriteTemp(ctx context.Context, p Partition, batch string, seq int, rows Rows, o WriteOptions) (PendingFile, error) {
	if err := o.Validate(); err != nil {
		return PendingFile{}, err
	}
	rg := o.rowGroupRows()
	name := fmt.Sprintf("part-%s-%04d.parquet", batch, seq)
	if s.remote != nil {
		return s.putTemp(ctx, p, name, rows, o)
	}
	dir := p.Dir(s)
	if err := private.MkdirAll(dir); err != nil {
		return PendingFile{}, err
	}
	final := filepath.Join(dir, name)
	tmp := final + ".tmp"
	if err := writeFile(tmp, func(w io.Writer) error { return EncodeEvents(w, rows, o) }); err != nil {
		return PendingFile{}, fmt.Errorf("write %s: %w", final, err)
	}
	idx := indexPath(final)
	if err := writeFile(idx+".tmp", func(w io.Writer) error { return writeIndex(w, rows, rg) }); err != nil {
		os.Remove(tmp)
		return PendingFile{}, fmt.Errorf("write %s: %w", idx, err)
	}
	pf := PendingFile{Tmp: tmp, Final: final, IndexTmp: idx + ".tmp", Index: idx, Rows: int64(rows.Len())}
	if !o.NoRollup {
		pf.Rollup = s.rollupPath(final)
		pf.RollupTmp = pf.Rollup + ".tmp"
		if err := s.writeRollup(ctx, pf.RollupTmp, rows, o); err != nil {
			os.Remove(tmp)
			os.Remove(pf.IndexTmp)
			return PendingFile{}, err
		}
	}
	return pf, nil
}

// putTemp is WriteTemp on an object store: the events file, its index and
// its twin are each written whole, only if absent.
func (s *Store) putTemp(ctx context.Context, p Partition, name string, rows Rows, o WriteOptions) (PendingFile, error) {
	rel := p.rel() + "/" + name
	if err := s.putObject(ctx, rel, func(w io.Writer) error { return EncodeEvents(w, rows, o) }); err != nil {
		return PendingFile{}, err
	}
	idx := indexPath(rel)
	if err := s.putObject(ctx, idx, func(w io.Writer) error { return writeIndex(w, rows, o.rowGroupRows()) }); err != nil {
		return PendingFile{}, err
	}
	pf := PendingFile{Final: s.path(rel), Index: s.path(idx), Rows: int64(rows.Len())}
	if !o.NoRollup {
		pf.Rollup = s.rollupPath(pf.Final)
		if err := s.writeRollup(ctx, pf.Rollup, rows, o); err != nil {
			return PendingFile{}, err
		}
	}
	return pf, nil
}

// fileWriters holds writeFile's 1 MiB buffers between files: a new one for
// each file was a fifth of the bytes an ingest allocated, each zeroed and
// most of them faulted in afresh.
var fileWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 1<<20) }}

// writeFile creates path, fills it through a buffer with write, starts its
// writeback and closes it, unsynced; on any error the file is removed.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := private.Create(path)
	if err != nil {
		return err
	}
	bw := fileWriters.Get().(*bufio.Writer)
	bw.Reset(f)
	werr := write(bw)
	ferr := bw.Flush()
	bw.Reset(nil)
	fileWriters.Put(bw)
	if werr == nil && ferr == nil {
		_ = startWriteback(f) // advice: Publish's fsync reports the disk's errors
	}
	cerr := f.Close()
	if err := firstErr(werr, ferr, cerr); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func (o WriteOptions) pageBytes() int {
	if o.PageBytes <= 0 {
		return 64 << 10
	}
	return o.PageBytes
}

func (o WriteOptions) rowGroupRows() int64 {
	if o.RowGroupRows <= 0 {
		return 16384
	}
	return o.RowGroupRows
}

// EncodeEvents writes rows as one Parquet file to w, the way WriteTemp
// does (exposed for benchmarks and tools).
func EncodeEvents(w io.Writer, rows Rows, o WriteOptions) error {
	codec, err := o.Codec()
	if err != nil {
		return err
	}
	return encodeEvents(w, rows, codec, o.rowGroupRows(), o.pageBytes())
}

// Publish syncs pending files, renames them into place and syncs their
// folders. The syncs are left to Publish, not done by WriteTemp, so that
// ingest's workers go on decoding while one goroutine waits on the disk.
func (s *Store) Publish(files []PendingFile) error {
	if s.remote != nil {
		return nil // written in place
	}
	for _, f := range files {
		for _, p := range []string{f.IndexTmp, f.RollupTmp, f.Tmp} {
			if p == "" {
				continue
			}
			if err := syncPath(p, os.O_RDWR); err != nil {
				return fmt.Errorf("publish %s: %w", p, err)
			}
		}
	}
	dirs := map[string]bool{}
	for _, f := range files {
		if f.IndexTmp != "" {
			if err := os.Rename(f.IndexTmp, f.Index); err != nil {
				return fmt.Errorf("publish %s: %w", f.Index, err)
			}
		}
		if f.RollupTmp != "" {
			if err := os.Rename(f.RollupTmp, f.Rollup); err != nil {
				return fmt.Errorf("publish %s: %w", f.Rollup, err)
			}
			dirs[filepath.Dir(f.Rollup)] = true
		}
		if err := os.Rename(f.Tmp, f.Final); err != nil {
			return fmt.Errorf("publish %s: %w", f.Final, err)
		}
		dirs[filepath.Dir(f.Final)] = true
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// syncPath syncs a file written and closed earlier (flag os.O_RDWR:
// Windows flushes only handles open for writing), or a folder (os.O_RDONLY,
// through syncDir), on a new descriptor, which fsync flushes the file's
// data through as well as any other.
func syncPath(p string, flag int) error {
	f, err := os.OpenFile(p, flag, 0)
	if err != nil {
		return err
	}
	serr := f.Sync()
	cerr := f.Close()
	return firstErr(serr, cerr)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// IDKey is the 16-byte key deduplication uses for an eventID: the UUID's own
// bytes when it is one (CloudTrail's are; either case of hex digit), else a
// SHA-256 prefix (a clash between the two forms has odds of 2^-128). It runs
// once a row, so the UUID is read through a table, pair by pair, in place.
func IDKey(id string) [16]byte {
	var k [16]byte
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' {
		var bad byte
		for j, o := range uuidDigits {
			hi, lo := hexValue[id[o]], hexValue[id[o+1]]
			bad |= hi | lo
			k[j] = hi<<4 | lo
		}
		if bad&0xf0 == 0 {
			return k
		}
	}
	return sum16(id)
}

// uuidDigits is where each byte's pair of hex digits starts in a UUID.
var uuidDigits = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexValue is each byte's value as a hex digit, 0xff for a byte that is not one.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	for i, c := range "ABCDEF" {
		t[c] = byte(10 + i)
	}
	return t
}()

// sum16 is the first 16 bytes of the SHA-256 of s.
func sum16(s string) [16]byte {
	sum := sha256.Sum256([]byte(s))
	return [16]byte(sum[:16])
}

// fastSnappy is Snappy at its fastest level. parquet-go's own Snappy codec
// uses the "better" level of klauspost/compress, which spends about twice
// the time for a few percent; the output is standard Snappy either way.
type fastSnappy struct{}

func (fastSnappy) String() string                            { return "SNAPPY" }
func (fastSnappy) CompressionCodec() format.CompressionCodec { return format.Snappy }
func (fastSnappy) Encode(dst, src []byte) ([]byte, error) {
	return s2.EncodeSnappy(dst[:cap(dst)], src), nil
}
func (fastSnappy) Decode(dst, src []byte) ([]byte, error) { return s2.Decode(dst[:cap(dst)], src) }
