package store

import (
	"errors"
	"slices"

	"github.com/parquet-go/parquet-go"
)

// A file on an object store is read by ranges: its tail (footer) when it is
// opened, then, before a row group's columns are decoded, the bytes those
// columns need — the offset indexes of the page index, each column's
// dictionary page, and the data pages that hold the rows wanted — asked
// for together (prefetch), so that a principal's rows in a file cost a
// request or two, not one per page or per column as parquet-go's reads
// would make them. A local file needs none of this: the reads go to the
// page cache.

// readSlack is added after each range: parquet-go reads pages through a
// 4 KiB buffer, whose last fill may reach past the last page wanted.
const readSlack = 4 << 10

// prefetchRows fetches, for rows [lo, hi) of row group rg, what decoding
// columns cols will read: whole chunks when the rows are the whole row
// group (or a chunk has no offset index), else each chunk's dictionary
// page and the data pages holding the rows. Nothing is done for a local
// file.
func prefetchRows(f storeFile, pf *parquet.File, rg int, cols []int, lo, hi int64) error {
	if _, ok := f.(*remoteFile); !ok {
		return nil
	}
	md := pf.Metadata().RowGroups[rg]
	whole := lo <= 0 && hi >= md.NumRows
	if !whole {
		// The offset indexes first, in one go: they lie together in the
		// page index, before the footer.
		var idx []ByteRange
		for _, c := range cols {
			cc := md.Columns[c]
			if cc.OffsetIndexLength > 0 {
				idx = append(idx, ByteRange{cc.OffsetIndexOffset, int64(cc.OffsetIndexLength)})
			}
		}
		if err := prefetch(f, idx); err != nil {
			return err
		}
	}
	chunks := pf.RowGroups()[rg].ColumnChunks()
	var ranges []ByteRange
	for _, c := range cols {
		m := md.Columns[c].MetaData
		start := m.DataPageOffset
		if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
			start = m.DictionaryPageOffset
		}
		end := start + m.TotalCompressedSize
		if whole {
			ranges = append(ranges, ByteRange{start, end - start})
			continue
		}
		oi, err := chunks[c].OffsetIndex()
		if errors.Is(err, parquet.ErrMissingOffsetIndex) || (err == nil && oi.NumPages() == 0) {
			ranges = append(ranges, ByteRange{start, end - start})
			continue
		}
		if err != nil {
			return err
		}
		if start < m.DataPageOffset { // the dictionary page
			ranges = append(ranges, ByteRange{start, min(m.DataPageOffset+readSlack, end) - start})
		}
		first, last := pagesHolding(oi, md.NumRows, lo, hi)
		if first < 0 {
			continue
		}
		from := oi.Offset(first)
		to := min(oi.Offset(last)+oi.CompressedPageSize(last)+readSlack, end)
		ranges = append(ranges, ByteRange{from, to - from})
	}
	return prefetch(f, ranges)
}

// pagesHolding returns the first and last page of oi, the offset index of
// a chunk of a row group of numRows rows, that hold rows [lo, hi); -1, -1
// when none does.
func pagesHolding(oi parquet.OffsetIndex, numRows, lo, hi int64) (first, last int) {
	first, last = -1, -1
	for i := range oi.NumPages() {
		end := numRows
		if i+1 < oi.NumPages() {
			end = oi.FirstRowIndex(i + 1)
		}
		if oi.FirstRowIndex(i) < hi && end > lo {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// prefetchChunks fetches whole column chunks cols of the row groups rgs.
func prefetchChunks(f storeFile, pf *parquet.File, rgs []int, cols []int) error {
	if _, ok := f.(*remoteFile); !ok {
		return nil
	}
	var ranges []ByteRange
	for _, rg := range rgs {
		for _, c := range cols {
			m := pf.Metadata().RowGroups[rg].Columns[c].MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			ranges = append(ranges, ByteRange{start, m.TotalCompressedSize})
		}
	}
	return prefetch(f, ranges)
}

// Coalesce sorts ranges and merges those that overlap or lie within gap
// bytes of each other: one request then fetches them together.
func Coalesce(ranges []ByteRange, gap int64) []ByteRange {
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(a, b ByteRange) int {
		switch {
		case a.Off < b.Off:
			return -1
		case a.Off > b.Off:
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if r.Len <= 0 {
			continue
		}
		if n := len(out); n > 0 && r.Off <= out[n-1].Off+out[n-1].Len+gap {
			if end := r.Off + r.Len; end > out[n-1].Off+out[n-1].Len {
				out[n-1].Len = end - out[n-1].Off
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// openOptions are parquet-go's options for opening a store file: no page
// index read up front (readers load the offset indexes they need) and, on
// an object store, no read of the header's magic bytes (a request of its
// own for four bytes; the footer's are checked).
func openOptions(f storeFile) []parquet.FileOption {
	o := []parquet.FileOption{parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true)}
	if _, ok := f.(*remoteFile); ok {
		o = append(o, parquet.SkipMagicBytes(true))
	}
	return o
}
