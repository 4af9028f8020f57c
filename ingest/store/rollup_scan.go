package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"

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
	meta *rollupMeta
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
	m, err := readRollupMeta(f, f.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &RollupFile{Path: path, f: f, meta: m}, nil
}

// Close closes the file.
func (r *RollupFile) Close() error { return r.f.Close() }

// spans returns, by row group, the rows of the principals (from the
// footer's principal index).
func (r *RollupFile) spans(principals []string) (map[int]rowSpan, error) {
	if r.span != nil && slices.Equal(r.spanOf, principals) {
		return r.span, nil
	}
	idx, ok := r.meta.index, r.meta.hasIndex
	if !ok {
		return nil, fmt.Errorf("read %s: no principal index", r.Path)
	}
	ranges, err := parseRollupIndex(idx, principals)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.Path, err)
	}
	spans := r.meta.groupSpans(ranges)
	r.spanOf, r.span = slices.Clone(principals), spans
	return spans, nil
}

// groupSpans returns, by row group, the rows of ranges (sorted rows of
// the file) that it holds.
func (m *rollupMeta) groupSpans(ranges []rowSpan) map[int]rowSpan {
	spans := map[int]rowSpan{}
	g, start := 0, int64(0) // a row group and its first row in the file
	rgs := m.rowGroups
	for _, x := range ranges {
		for g < len(rgs) && start+rgs[g].numRows <= x.lo {
			start += rgs[g].numRows
			g++
		}
		for h, at := g, start; h < len(rgs) && at < x.hi; h++ {
			n := rgs[h].numRows
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
	return spans
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

// rowBufs holds the row batches of Scan: a batch is half a megabyte, and a
// reader of one principal scans hundreds of files for a few hundred rows
// each.
var rowBufs = sync.Pool{New: func() any { b := make([]columns.RollupRow, 1024); return &b }}

// Scan is ScanRollup for this file.
func (r *RollupFile) Scan(ctx context.Context, q RollupQuery, fn func(rows []columns.RollupRow) error) (ScanStats, error) {
	st := ScanStats{Files: 1}
	buf := rowBufs.Get().(*[]columns.RollupRow)
	defer rowBufs.Put(buf)
	err := r.scan(ctx, q, *buf, &st, fn)
	if err != nil {
		err = fmt.Errorf("read %s: %w", r.Path, err)
	}
	return st, err
}

func (r *RollupFile) scan(ctx context.Context, q RollupQuery, buf []columns.RollupRow, st *ScanStats, fn func([]columns.RollupRow) error) error {
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
	return r.scanGroups(ctx, q, spans, buf, st, fn)
}

// scanGroups reads the rows of q's facets and columns in the row groups of
// spans, those rows of each (spans nil: every row group, whole).
func (r *RollupFile) scanGroups(ctx context.Context, q RollupQuery, spans map[int]rowSpan, buf []columns.RollupRow, st *ScanStats, fn func([]columns.RollupRow) error) (err error) {
	defer func() {
		// A file the decoder cannot make sense of is an error naming it,
		// never a crash.
		if p := recover(); p != nil {
			err = fmt.Errorf("undecodable rollup file: %v", p)
		}
	}()
	m := r.meta
	facetCol := slices.IndexFunc(m.leaves, func(p []string) bool { return len(p) == 1 && p[0] == columns.Facet })
	d, err := newRollupDecoder(m, q.Columns)
	if err != nil {
		return err
	}
	rd := chunkReaders.Get().(*chunkReader)
	defer chunkReaders.Put(rd)
	for i := range m.rowGroups {
		rg := &m.rowGroups[i]
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
		lo, hi := int64(0), rg.numRows
		if spans != nil {
			lo, hi = span.lo, min(span.hi, rg.numRows)
		}
		if lo >= hi {
			continue
		}
		d.setFacet(facetOf(rg, facetCol))
		chunks, err := rd.read(r.f, rg, d, lo, hi)
		if err != nil {
			return err
		}
		if err := d.decode(chunks, lo, hi); err != nil {
			return err
		}
		for _, c := range d.leaves {
			if !c.skip {
				st.CompressedRead += rg.cols[c.file].compressed
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

// chunkReaders keep their buffers from one file to the next.
var chunkReaders = sync.Pool{New: func() any { return new(chunkReader) }}

// chunkReader reads the bytes of the column chunks a row group's decoding
// needs, in as few reads as their places allow.
type chunkReader struct {
	chunks []chunkBytes
	bufs   [][]byte
}

// read returns, by file column, the bytes of the chunks of rg that d reads
// (the others zero) for rows [lo, hi): whole chunks when the rows are the
// whole row group or a chunk has no offset index, else each chunk's
// dictionary page and the data pages that hold the rows.
func (cr *chunkReader) read(f storeFile, rg *rgMeta, d *rollupDecoder, lo, hi int64) ([]chunkBytes, error) {
	cr.chunks = slices.Grow(cr.chunks[:0], len(rg.cols))[:len(rg.cols)]
	clear(cr.chunks)
	whole := lo <= 0 && hi >= rg.numRows
	var locs map[int]offsetIndex
	if !whole {
		// The offset indexes first, in one go: they lie together in the
		// page index, before the footer.
		var idx []ByteRange
		for _, dl := range d.leaves {
			if cm := &rg.cols[dl.file]; !dl.skip && cm.oiLen > 0 {
				idx = append(idx, ByteRange{cm.oiOff, cm.oiLen})
			}
		}
		got, err := readRanges(f, idx, &cr.bufs, 0)
		if err != nil {
			return nil, err
		}
		locs = map[int]offsetIndex{}
		for _, dl := range d.leaves {
			if cm := &rg.cols[dl.file]; !dl.skip && cm.oiLen > 0 {
				b, err := bytesAt(got, cm.oiOff, cm.oiLen)
				if err != nil {
					return nil, err
				}
				if locs[dl.file], err = parseOffsetIndex(b); err != nil {
					return nil, err
				}
			}
		}
	}
	// What to read of each chunk: a dictionary range (Len 0: none) and a
	// pages range.
	type plan struct {
		dict, pages ByteRange
		first       int64
	}
	plans := make([]plan, len(rg.cols))
	var ranges []ByteRange
	for _, dl := range d.leaves {
		cm := &rg.cols[dl.file]
		if dl.skip {
			continue
		}
		p := plan{pages: ByteRange{cm.start, cm.compressed}}
		if ls := locs[dl.file]; len(ls) > 0 {
			first, last := pagesHolding(ls, rg.numRows, lo, hi)
			if first >= 0 && ls[first].offset >= cm.start && ls[last].offset+ls[last].size <= cm.start+cm.compressed {
				if cm.start < cm.dataOff {
					p.dict = ByteRange{cm.start, cm.dataOff - cm.start}
				}
				p.pages = ByteRange{ls[first].offset, ls[last].offset + ls[last].size - ls[first].offset}
				p.first = ls[first].firstRow
			}
		}
		plans[dl.file] = p
		ranges = append(ranges, p.pages)
		if p.dict.Len > 0 {
			ranges = append(ranges, p.dict)
		}
	}
	got, err := readRanges(f, ranges, &cr.bufs, 1)
	if err != nil {
		return nil, err
	}
	for _, dl := range d.leaves {
		if dl.skip {
			continue
		}
		p := plans[dl.file]
		cb := chunkBytes{cm: &rg.cols[dl.file], firstRow: p.first}
		if cb.pages, err = bytesAt(got, p.pages.Off, p.pages.Len); err != nil {
			return nil, err
		}
		if p.dict.Len > 0 {
			if cb.dict, err = bytesAt(got, p.dict.Off, p.dict.Len); err != nil {
				return nil, err
			}
		}
		cr.chunks[dl.file] = cb
	}
	return cr.chunks, nil
}

// fetched is bytes read from a file, from offset off.
type fetched struct {
	off  int64
	data []byte
}

// readRanges reads ranges of f, coalesced (within readSlack of each other
// by one read), into the buffers of slot k of bufs (reused from one call
// to the next: what a previous call returned is overwritten).
func readRanges(f storeFile, ranges []ByteRange, bufs *[][]byte, k int) ([]fetched, error) {
	if len(ranges) == 0 {
		return nil, nil
	}
	for _, r := range ranges {
		if r.Off < 0 || r.Len < 0 || r.Off+r.Len > f.Size() {
			return nil, fmt.Errorf("a column chunk at %d+%d outside the file's %d bytes", r.Off, r.Len, f.Size())
		}
	}
	rs := Coalesce(slices.Clone(ranges), readSlack)
	if err := prefetch(f, rs); err != nil {
		return nil, err
	}
	var total int64
	for _, r := range rs {
		total += r.Len
	}
	for len(*bufs) <= k {
		*bufs = append(*bufs, nil)
	}
	buf := (*bufs)[k]
	if int64(cap(buf)) < total {
		buf = make([]byte, total)
		(*bufs)[k] = buf
	}
	buf = buf[:total]
	out := make([]fetched, 0, len(rs))
	for _, r := range rs {
		b := buf[:r.Len:r.Len]
		buf = buf[r.Len:]
		if n, err := f.ReadAt(b, r.Off); n < len(b) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		out = append(out, fetched{off: r.Off, data: b})
	}
	return out, nil
}

// bytesAt is [off, off+n) of what readRanges read.
func bytesAt(got []fetched, off, n int64) ([]byte, error) {
	for _, g := range got {
		if off >= g.off && off+n <= g.off+int64(len(g.data)) {
			return g.data[off-g.off : off-g.off+n], nil
		}
	}
	return nil, fmt.Errorf("bytes %d+%d not read", off, n)
}

// facetOf returns the facet number of a row group whose facet column's
// statistics hold one facet (as the rollup's encoder writes them), or -1.
func facetOf(rg *rgMeta, col int) int {
	if col < 0 {
		return -1
	}
	c := &rg.cols[col]
	if !c.hasMin || !c.hasMax || string(c.min) != string(c.max) {
		return -1
	}
	return slices.Index(columns.Facets, string(c.min))
}

// hasFacet reports from the facet column's statistics whether a row group
// can hold rows of one of facets.
func hasFacet(rg *rgMeta, col int, facets []string) bool {
	if col < 0 {
		return true
	}
	c := &rg.cols[col]
	if !c.hasMin || !c.hasMax {
		return true
	}
	min, max := string(c.min), string(c.max)
	return slices.ContainsFunc(facets, func(f string) bool { return f >= min && f <= max })
}

// parseRollupIndex reads a rollup file's principal index (appendIndex's
// format) and returns the rows of the principals in the file, [lo, hi)
// ranges of the file's rows, sorted.
func parseRollupIndex(data string, principals []string) ([]rowSpan, error) {
	return indexSpans(data, func(arn []byte) bool {
		return len(arn) > 0 && slices.Contains(principals, string(arn))
	})
}

// indexSpans returns the rows of the principals of a rollup file's
// principal index that want accepts (the rows of no principal are arn ""),
// [lo, hi) ranges of the file's rows, sorted.
func indexSpans(data string, want func(arn []byte) bool) ([]rowSpan, error) {
	// Only the wanted lines' rows are kept, with the rows of every line
	// before them in each facet (at).
	type wanted struct{ at, n [numFacets]int64 }
	var ws []wanted
	var at [numFacets]int64
	err := walkRollupIndex(data, func(arn []byte, n *[numFacets]int64) {
		if want(arn) {
			ws = append(ws, wanted{at: at, n: *n})
		}
		for k := range at {
			at[k] += n[k]
		}
	})
	if err != nil {
		return nil, err
	}
	var out []rowSpan
	start := int64(0)
	for k := range at {
		for _, w := range ws {
			if w.n[k] > 0 {
				out = append(out, rowSpan{lo: start + w.at[k], hi: start + w.at[k] + w.n[k]})
			}
		}
		start += at[k]
	}
	return out, nil
}

// walkRollupIndex calls fn with each line of a rollup file's principal
// index, in order: the principal's ARN ("" for the rows of no principal;
// the bytes are reused) and its rows in each facet.
func walkRollupIndex(data string, fn func(arn []byte, rows *[numFacets]int64)) error {
	rest, ok := strings.CutPrefix(data, rollupIndexHeader)
	if !ok {
		return fmt.Errorf("not a rollup principal index")
	}
	bad := func(why string) error { return fmt.Errorf("principal index: %s", why) }
	// One pass over the lines, without allocating for each: the ARNs are
	// rebuilt in prev.
	prev := make([]byte, 0, 128)
	for rest != "" {
		end := strings.IndexByte(rest, '\n')
		if end < 0 {
			return bad("truncated line")
		}
		ln := rest[:end]
		rest = rest[end+1:]
		tab := strings.IndexByte(ln, '\t')
		if tab < 0 {
			return bad("bad line")
		}
		first, ln := ln[:tab], ln[tab+1:]
		// the quoted rest of the ARN: up to the first tab after its
		// closing quote (an ARN's own tabs are quoted as \t)
		tab = strings.IndexByte(ln, '\t')
		if tab < 0 {
			return bad("bad line")
		}
		quoted, ln := ln[:tab], ln[tab+1:]
		arn := prev[:0]
		if first != "-" {
			shared, ok := atoi(first)
			if !ok || shared > len(prev) || len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
				return bad("bad principal")
			}
			prev = prev[:shared]
			if suffix := quoted[1 : len(quoted)-1]; !strings.ContainsAny(suffix, "\\\"") {
				prev = append(prev, suffix...)
			} else {
				u, err := strconv.Unquote(quoted)
				if err != nil {
					return bad("bad principal")
				}
				prev = append(prev, u...)
			}
			arn = prev
		}
		var n [numFacets]int64
		for k := range n {
			f := ln
			if k < numFacets-1 {
				tab := strings.IndexByte(ln, '\t')
				if tab < 0 {
					return bad("bad line")
				}
				f, ln = ln[:tab], ln[tab+1:]
			}
			v, ok := atoi(f)
			if !ok {
				return bad("bad row count")
			}
			n[k] = int64(v)
		}
		fn(arn, &n)
	}
	return nil
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
