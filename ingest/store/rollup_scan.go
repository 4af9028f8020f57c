package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/columns"
)

// RollupQuery selects what ScanRollup reads of the rollup files it is
// given. Zero values mean "all".
type RollupQuery struct {
	// Facets are the facets to read (columns.Facet*): the others' row
	// groups are skipped by their statistics.
	Facets []string
	// Principals are exact principal ARNs: only their rows are read, found
	// through each file's principal index.
	Principals []string
	// Columns are the columns to read (columns.RollupRow's names; a
	// resources field counts as "resources"): the others are left empty.
	Columns []string
}

// ScanRollup reads the rows of the rollup files that q selects, file after
// file, and calls fn with batches of them. The rows and their strings are
// reused: fn must copy what it keeps.
func ScanRollup(ctx context.Context, files []string, q RollupQuery, fn func(rows []columns.RollupRow) error) (ScanStats, error) {
	var st ScanStats
	st.Files = len(files)
	buf := make([]columns.RollupRow, 1024)
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := scanRollupFile(ctx, path, q, buf, &st, fn); err != nil {
			return st, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return st, nil
}

func scanRollupFile(ctx context.Context, path string, q RollupQuery, buf []columns.RollupRow, st *ScanStats, fn func([]columns.RollupRow) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, info.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return err
	}
	var spans map[int]rowSpan
	if len(q.Principals) > 0 {
		idx, ok := pf.Lookup(rollupIndexKey)
		if !ok {
			return fmt.Errorf("no principal index")
		}
		if spans, err = parseIndex([]byte(idx), q.Principals); err != nil {
			return err
		}
		if len(spans) == 0 {
			return nil
		}
	}
	facetCol := leafIndex(pf, columns.Facet)
	d, err := newRollupDecoder(pf, q.Columns)
	if err != nil {
		return err
	}
	for i, rg := range pf.RowGroups() {
		st.RowGroups++
		span, inIndex := spans[i]
		if spans != nil && !inIndex {
			continue
		}
		if len(q.Facets) > 0 && !hasFacet(rg, facetCol, q.Facets) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		st.RowGroupsRead++
		lo, hi := int64(0), rg.NumRows()
		if spans != nil {
			lo, hi = span.lo, min(span.hi, rg.NumRows())
		}
		for _, c := range d.leaves {
			st.CompressedRead += pf.Metadata().RowGroups[i].Columns[c.file].MetaData.TotalCompressedSize
		}
		if err := d.decode(rg, lo, hi); err != nil {
			return err
		}
		st.RowsRead += hi - lo
		for a := 0; a < d.n; a += len(buf) {
			rows := d.rows(buf, a, min(a+len(buf), d.n))
			if err := fn(rows); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasFacet reports from the facet column's statistics whether a row group
// can hold rows of one of facets.
func hasFacet(rg parquet.RowGroup, col int, facets []string) bool {
	if col < 0 {
		return true
	}
	c, ok := rg.ColumnChunks()[col].(*parquet.FileColumnChunk)
	if !ok {
		return true
	}
	lo, hi, ok := c.Bounds()
	if !ok || lo.IsNull() || hi.IsNull() {
		return true
	}
	min, max := string(lo.ByteArray()), string(hi.ByteArray())
	return slices.ContainsFunc(facets, func(f string) bool { return f >= min && f <= max })
}

// EventRowsOf returns how many rows the principals have in an events file,
// from its principal index, without opening it; indexed is false for a
// file written before the index.
func EventRowsOf(path string, principals []string) (rows int64, indexed bool, err error) {
	spans, indexed, err := readIndex(path, principals)
	for _, s := range spans {
		rows += s.hi - s.lo
	}
	return rows, indexed, err
}

// RollupRowsOf returns how many rows the principals have in a rollup file,
// from the principal index in its footer.
func RollupRowsOf(path string, principals []string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	pf, err := parquet.OpenFile(f, info.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	idx, ok := pf.Lookup(rollupIndexKey)
	if !ok {
		return 0, fmt.Errorf("read %s: no principal index", path)
	}
	spans, err := parseIndex([]byte(idx), principals)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	var rows int64
	for _, s := range spans {
		rows += s.hi - s.lo
	}
	return rows, nil
}

// parseIndex reads a principal index (principals_index.go's format) and
// returns, by row group, the span of rows that holds the principals.
func parseIndex(data []byte, principals []string) (map[int]rowSpan, error) {
	if !bytes.HasPrefix(data, []byte(indexHeader)) {
		return nil, fmt.Errorf("not a principal index")
	}
	spans := map[int]rowSpan{}
	var key []byte
	for _, p := range principals {
		key = append(strconv.AppendQuote(append(key[:0], '\n'), p), '\t')
		rest := data[len(indexHeader)-1:] // from the header's newline
		for {
			i := bytes.Index(rest, key)
			if i < 0 {
				break
			}
			rest = rest[i+len(key):]
			end := bytes.IndexByte(rest, '\n')
			if end < 0 {
				return nil, fmt.Errorf("principal index: truncated line")
			}
			f := strings.Split(string(rest[:end]), "\t")
			if len(f) != 3 {
				return nil, fmt.Errorf("principal index: bad line")
			}
			g, err1 := strconv.Atoi(f[0])
			lo, err2 := strconv.ParseInt(f[1], 10, 64)
			n, err3 := strconv.ParseInt(f[2], 10, 64)
			if err := errors.Join(err1, err2, err3); err != nil {
				return nil, fmt.Errorf("principal index: %w", err)
			}
			s, seen := spans[g]
			if !seen {
				s = rowSpan{lo: lo, hi: lo + n}
			}
			s.lo, s.hi = min(s.lo, lo), max(s.hi, lo+n)
			spans[g] = s
			rest = rest[end:] // keep the newline: the next key starts with it
		}
	}
	return spans, nil
}
