package store

import (
	"context"
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
	// the last spans asked for (Rows, then Scan, ask for the same)
	spanOf []string
	span   map[int]rowSpan
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
	if r.span != nil && slices.Equal(r.spanOf, principals) {
		return r.span, nil
	}
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
	r.spanOf, r.span = slices.Clone(principals), spans
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
	bad := func(why string) error { return fmt.Errorf("principal index: %s", why) }
	// One pass over the lines, without allocating for each: the ARNs are
	// rebuilt in prev, and only the wanted lines' rows are kept, with the
	// rows of every line before them in each facet (at).
	type want struct{ at, n [numFacets]int64 }
	var wanted []want
	var at [numFacets]int64
	prev := make([]byte, 0, 128)
	for rest != "" {
		end := strings.IndexByte(rest, '\n')
		if end < 0 {
			return nil, bad("truncated line")
		}
		ln := rest[:end]
		rest = rest[end+1:]
		tab := strings.IndexByte(ln, '\t')
		if tab < 0 {
			return nil, bad("bad line")
		}
		first, ln := ln[:tab], ln[tab+1:]
		// the quoted rest of the ARN: up to the first tab after its
		// closing quote (an ARN's own tabs are quoted as \t)
		tab = strings.IndexByte(ln, '\t')
		if tab < 0 {
			return nil, bad("bad line")
		}
		quoted, ln := ln[:tab], ln[tab+1:]
		isWanted := false
		if first != "-" {
			shared, ok := atoi(first)
			if !ok || shared > len(prev) || len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
				return nil, bad("bad principal")
			}
			prev = prev[:shared]
			if suffix := quoted[1 : len(quoted)-1]; !strings.ContainsAny(suffix, "\\\"") {
				prev = append(prev, suffix...)
			} else {
				u, err := strconv.Unquote(quoted)
				if err != nil {
					return nil, bad("bad principal")
				}
				prev = append(prev, u...)
			}
			isWanted = slices.Contains(principals, string(prev))
		}
		var n [numFacets]int64
		for k := range n {
			f := ln
			if k < numFacets-1 {
				tab := strings.IndexByte(ln, '\t')
				if tab < 0 {
					return nil, bad("bad line")
				}
				f, ln = ln[:tab], ln[tab+1:]
			}
			v, ok := atoi(f)
			if !ok {
				return nil, bad("bad row count")
			}
			n[k] = int64(v)
		}
		if isWanted {
			wanted = append(wanted, want{at: at, n: n})
		}
		for k := range at {
			at[k] += n[k]
		}
	}
	var out []rowSpan
	start := int64(0)
	for k := range at {
		for _, w := range wanted {
			if w.n[k] > 0 {
				out = append(out, rowSpan{lo: start + w.at[k], hi: start + w.at[k] + w.n[k]})
			}
		}
		start += at[k]
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

// atoi parses a non-negative decimal number of up to 18 digits.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
