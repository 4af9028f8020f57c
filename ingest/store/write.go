package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/iamlens/iamlens/ingest/columns"
)

// WriteOptions tune the Parquet files.
type WriteOptions struct {
	// Compression is "snappy" (the default), "zstd" or "none". Arrow v15's
	// zstd codec builds a new encoder for every page, which makes zstd
	// writes about 1.3-2.4x slower here (BenchmarkIngest); snappy is the
	// faster default and zstd the smaller store.
	Compression string
	// RowGroupRows caps the rows per row group (default 16384). Rows are
	// sorted by principal and time, so small row groups let a reader skip
	// most of a file when it wants one principal.
	RowGroupRows int64
}

func (o WriteOptions) codec() (compress.Compression, error) {
	switch o.Compression {
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "", "snappy":
		return compress.Codecs.Snappy, nil
	case "none":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("unknown compression %q (want zstd, snappy or none)", o.Compression)
}

// Validate reports a bad option before any work starts.
func (o WriteOptions) Validate() error { _, err := o.codec(); return err }

// plainColumns are written without statistics.
var plainColumns = []string{
	columns.EventID, columns.RequestParameters, columns.ResponseElements,
	columns.AdditionalEventData, columns.ErrorMessage, columns.SharedEventID,
}

// PendingFile is a file written under a temporary name, not yet visible.
type PendingFile struct {
	Tmp, Final string
	Rows       int64
}

// WriteTemp writes rec, which the caller has sorted, into partition p as
// part-<batch>-<seq>.parquet.tmp and syncs it. Nothing is visible to readers
// until Publish and Commit.
func (s *Store) WriteTemp(p Partition, batch string, seq int, rec arrow.Record, o WriteOptions) (PendingFile, error) {
	codec, err := o.codec()
	if err != nil {
		return PendingFile{}, err
	}
	rg := o.RowGroupRows
	if rg <= 0 {
		rg = 16384
	}
	dir := p.Dir(s)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return PendingFile{}, err
	}
	final := filepath.Join(dir, fmt.Sprintf("part-%s-%04d.parquet", batch, seq))
	tmp := final + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return PendingFile{}, err
	}
	popts := []parquet.WriterProperty{
		parquet.WithCompression(codec),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(rg),
		parquet.WithCreatedBy("iamlens"),
		// Data page v2: Arrow v15 re-grows the v1 level buffer on every
		// write (quadratic copying); v2 pages avoid that path, and every
		// reader we target (DuckDB, Athena/Trino, Spark, parquet-go) reads them.
		parquet.WithDataPageVersion(parquet.DataPageV2),
	}
	// Long JSON texts and unique IDs gain nothing from min/max statistics.
	// (Dictionary encoding stays on for them: Arrow v15's plain byte-array
	// path re-grows its page buffer on every batch, which costs more than
	// building the dictionary it then abandons.)
	for _, col := range plainColumns {
		popts = append(popts, parquet.WithStatsFor(col, false))
	}
	props := parquet.NewWriterProperties(popts...)
	w, err := pqarrow.NewFileWriter(rec.Schema(), f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return PendingFile{}, err
	}
	werr := w.Write(rec)
	cerr := w.Close() // closes f too
	if err := firstErr(werr, cerr); err != nil {
		os.Remove(tmp)
		return PendingFile{}, fmt.Errorf("write %s: %w", final, err)
	}
	// pqarrow closed the file; reopen to sync it to disk before the rename.
	if err := syncPath(tmp); err != nil {
		os.Remove(tmp)
		return PendingFile{}, err
	}
	return PendingFile{Tmp: tmp, Final: final, Rows: rec.NumRows()}, nil
}

// Publish renames pending files into place and syncs their folders.
func (s *Store) Publish(files []PendingFile) error {
	dirs := map[string]bool{}
	for _, f := range files {
		if err := os.Rename(f.Tmp, f.Final); err != nil {
			return fmt.Errorf("publish %s: %w", f.Final, err)
		}
		dirs[filepath.Dir(f.Final)] = true
	}
	for d := range dirs {
		if err := syncPath(d); err != nil {
			return err
		}
	}
	return nil
}

func syncPath(p string) error {
	f, err := os.Open(p)
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
// bytes when it is one (CloudTrail's are), else a SHA-256 prefix (a clash
// between the two forms has odds of 2^-128).
func IDKey(id string) [16]byte {
	var k [16]byte
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' {
		var hexs [32]byte
		n := 0
		for i := 0; i < 36; i++ {
			if id[i] == '-' {
				continue
			}
			hexs[n] = id[i]
			n++
		}
		if _, err := hex.Decode(k[:], hexs[:]); err == nil {
			return k
		}
	}
	sum := sha256.Sum256([]byte(id))
	copy(k[:], sum[:16])
	return k
}
