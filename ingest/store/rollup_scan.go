package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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

// ScanRollup reads the rows of the rollup files of s that q selects, file
// after file, and calls fn with batches of them (s nil: local files of no
// store). The rows and their strings are
// reused: fn must copy what it keeps.
func ScanRollup(ctx context.Context, s *Store, files []string, q RollupQuery, fn func(rows []columns.RollupRow) error) (ScanStats, error) {
	var st ScanStats
	st.Files = len(files)
	buf := make([]columns.RollupRow, 1024)
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		r, err := s.OpenRollup(ctx, path)
		if err != nil {
			return st, err
		}
		err = r.scan(ctx, q, buf, &st, fn)
		r.Close()
		if err != nil {
			return st, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return st, nil
}

// RollupFile is one rollup file, open: its footer read once for the
// questions of a reader that decides by it (Rows) and then reads it (Scan).
type RollupFile struct {
	Path string
	f    storeFile
	pf   *parquet.File
}

// OpenRollup opens a rollup file of the store and reads its footer. A
// missing file is fs.ErrNotExist.
func (s *Store) OpenRollup(ctx context.Context, path string) (*RollupFile, error) {
	if s != nil && s.remote != nil {
		if rel, err := s.rel(path); err == nil && !s.mayExist(rel) {
			return nil, fs.ErrNotExist
		}
	}
	f, err := s.open(ctx, path)
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, f.Size(), openOptions(f)...)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &RollupFile{Path: path, f: f, pf: pf}, nil
}

// Close closes the file.
func (r *RollupFile) Close() error { return r.f.Close() }

// spans returns, by row group, the rows of the principals (from the
// footer's principal index).
func (r *RollupFile) spans(principals []string) (map[int]rowSpan, error) {
	idx, ok := r.pf.Lookup(rollupIndexKey)
	if !ok {
		return nil, fmt.Errorf("read %s: no principal index", r.Path)
	}
	ranges, err := parseRollupIndex(idx, principals)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.Path, err)
	}
	spans := map[int]rowSpan{}
	g, start := 0, int64(0) // a row group and its first row in the file
	rgs := r.pf.RowGroups()
	for _, x := range ranges {
		for g < len(rgs) && start+rgs[g].NumRows() <= x.lo {
			start += rgs[g].NumRows()
			g++
		}
		for h, at := g, start; h < len(rgs) && at < x.hi; h++ {
			n := rgs[h].NumRows()
			lo, hi := max(x.lo, at)-at, min(x.hi, at+n)-at
			if lo < hi {
				s, seen := spans[h]
				if !seen {
					s = rowSpan{lo: lo, hi: hi}
				}
				s.lo, s.hi = min(s.lo, lo), max(s.hi, hi)
				spans[h] = s
			}
			at += n
		}
	}
	return spans, nil
}

// Rows is how many rows the principals have in the file.
func (r *RollupFile) Rows(principals []string) (int64, error) {
	spans, err := r.spans(principals)
	var n int64
	for _, s := range spans {
		n += s.hi - s.lo
	}
	return n, err
}

// Scan is ScanRollup for this file.
func (r *RollupFile) Scan(ctx context.Context, q RollupQuery, fn func(rows []columns.RollupRow) error) (ScanStats, error) {
	st := ScanStats{Files: 1}
	err := r.scan(ctx, q, make([]columns.RollupRow, 1024), &st, fn)
	if err != nil {
		err = fmt.Errorf("read %s: %w", r.Path, err)
	}
	return st, err
}

func (r *RollupFile) scan(ctx context.Context, q RollupQuery, buf []columns.RollupRow, st *ScanStats, fn func([]columns.RollupRow) error) error {
	pf := r.pf
	var spans map[int]rowSpan
	if len(q.Principals) > 0 {
		var err error
		if spans, err = r.spans(q.Principals); err != nil {
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
		facet := facetOf(rg, facetCol)
		if err := prefetchRows(r.f, pf, i, d.fileColumns(), lo, hi); err != nil {
			return err
		}
		if err := d.decode(rg, lo, hi, facet); err != nil {
			return err
		}
		for _, c := range d.leaves {
			if !c.skip {
				st.CompressedRead += pf.Metadata().RowGroups[i].Columns[c.file].MetaData.TotalCompressedSize
			}
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

// facetOf returns the facet number of a row group whose facet column's
// statistics hold one facet (as the rollup's encoder writes them), or -1.
func facetOf(rg parquet.RowGroup, col int) int {
	if col < 0 {
		return -1
	}
	c, ok := rg.ColumnChunks()[col].(*parquet.FileColumnChunk)
	if !ok {
		return -1
	}
	lo, hi, ok := c.Bounds()
	if !ok || lo.IsNull() || hi.IsNull() || string(lo.ByteArray()) != string(hi.ByteArray()) {
		return -1
	}
	return slices.Index(columns.Facets, string(lo.ByteArray()))
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

// parseRollupIndex reads a rollup file's principal index (appendIndex's
// format) and returns the rows of the principals in the file, [lo, hi)
// ranges of the file's rows, sorted.
func parseRollupIndex(data string, principals []string) ([]rowSpan, error) {
	rest, ok := strings.CutPrefix(data, rollupIndexHeader)
	if !ok {
		return nil, fmt.Errorf("not a rollup principal index")
	}
	type line struct {
		want bool
		n    [numFacets]int64
	}
	var lines []line
	var total [numFacets]int64
	prev := ""
	bad := func(why string) error { return fmt.Errorf("principal index: %s", why) }
	for rest != "" {
		end := strings.IndexByte(rest, '\n')
		if end < 0 {
			return nil, bad("truncated line")
		}
		f := strings.Split(rest[:end], "\t")
		rest = rest[end+1:]
		if len(f) != 2+numFacets {
			return nil, bad("bad line")
		}
		var ln line
		if f[0] != "-" {
			shared, err := strconv.Atoi(f[0])
			suffix, err2 := strconv.Unquote(f[1])
			if err := errors.Join(err, err2); err != nil || shared < 0 || shared > len(prev) {
				return nil, bad("bad principal")
			}
			prev = prev[:shared] + suffix
			ln.want = slices.Contains(principals, prev)
		}
		for k := range ln.n {
			n, err := strconv.ParseInt(f[2+k], 10, 64)
			if err != nil || n < 0 {
				return nil, bad("bad row count")
			}
			ln.n[k] = n
			total[k] += n
		}
		lines = append(lines, ln)
	}
	var out []rowSpan
	start := int64(0)
	for k := range total {
		at := start
		for _, ln := range lines {
			if ln.want && ln.n[k] > 0 {
				out = append(out, rowSpan{lo: at, hi: at + ln.n[k]})
			}
			at += ln.n[k]
		}
		start += total[k]
	}
	return out, nil
}

// fileColumns are the file's columns the decoder reads (some of which a
// row group's facet may leave out).
func (d *rollupDecoder) fileColumns() []int {
	cols := make([]int, len(d.leaves))
	for i, l := range d.leaves {
		cols[i] = l.file
	}
	return cols
}
