package store

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/columns"
)

// rollupDecoder reads a rollup file's rows column by column: each string
// column's dictionary once (as Go strings) and its pages' dictionary
// indexes, the numbers as they are, and then fills columns.RollupRow values
// whose strings are the dictionary's. parquet-go's row reader builds every
// row value by value through reflection, about 3.7 µs a row of this
// schema; this costs a small fraction of that (BenchmarkScanRollup).
type rollupDecoder struct {
	leaves []decLeaf
	n      int // rows decoded
	facet  int // the row group's facet, -1 when not known
	// the resources list, by row: its elements are [resEnd[i-1], resEnd[i])
	// of the resources leaves; resNull marks a null list
	resEnd  []int32
	resNull []bool
	arena   []columns.RollupResource
}

// decLeaf is one leaf of the file being read.
type decLeaf struct {
	file int // the file's column index
	src  int // what it fills (srcFacet, ...)
	res  int // for a resources field: 0 arn, 1 type, 2 account_id
	// decoded: dictionary indexes (-1 for null) into the dictionary, or
	// numbers
	ids  []int32
	ints []int64
	// the chunk's dictionary: its values' bytes back to back (a copy) and
	// where each ends, made into strings as rows take them (a principal's
	// rows take few of a large dictionary); seen is the dictionary they
	// were copied from
	dictData []byte
	dictOffs []uint32
	seen     parquet.Dictionary
	// skip is set for a row group whose facet leaves the leaf null
	skip bool
}

// value is dictionary entry id as a string, aliasing dictData (a copy of
// its own, which the string keeps alive).
func (dl *decLeaf) value(id int32) string {
	lo, hi := dl.dictOffs[id], dl.dictOffs[id+1]
	if lo == hi {
		return ""
	}
	return unsafe.String(&dl.dictData[lo], int(hi-lo))
}

// newRollupDecoder readies the decoding of the leaves of pf that cols name
// (all when empty). pf must have the rollup's schema.
func newRollupDecoder(pf *parquet.File, cols []string) (*rollupDecoder, error) {
	l, err := rollupLayout()
	if err != nil {
		return nil, err
	}
	fileCols := pf.Schema().Columns()
	if len(fileCols) != len(l.leaves) {
		return nil, fmt.Errorf("not a rollup file of this version: %d columns", len(fileCols))
	}
	d := &rollupDecoder{}
	for i, lf := range l.leaves {
		if !slices.Equal(fileCols[i], lf.path) {
			return nil, fmt.Errorf("not a rollup file of this version: column %d is %v", i, fileCols[i])
		}
		if len(cols) > 0 && !slices.Contains(cols, lf.path[0]) {
			continue
		}
		dl := decLeaf{file: i, src: lf.col}
		if lf.col == srcResources {
			dl.res = slices.Index([]string{columns.ResourceARN, columns.ResourceType, columns.ResourceAccount}, lf.resField)
		}
		d.leaves = append(d.leaves, dl)
	}
	return d, nil
}

// decode reads rows [lo, hi) of row group rg, whose rows are all of
// facet (-1: not known), skipping the leaves that facet leaves null.
func (d *rollupDecoder) decode(rg parquet.RowGroup, lo, hi int64, facet int) error {
	d.n = int(hi - lo)
	chunks := rg.ColumnChunks()
	d.facet = facet
	for i := range d.leaves {
		dl := &d.leaves[i]
		// Known from the statistics, or null, or (mfa_calls of the
		// principal rows) zero: not read.
		dl.skip = facet >= 0 && (!usedBy(dl.src, uint8(facet)) || dl.src == srcFacet || dl.src == srcMFA && facet == facetPrincipal)
		if dl.skip {
			continue
		}
		c := chunks[dl.file]
		if lo > 0 {
			// The offset index lets the seek below jump to the page that
			// holds row lo.
			if _, err := c.OffsetIndex(); err != nil && !errors.Is(err, parquet.ErrMissingOffsetIndex) {
				return err
			}
		}
		var err error
		switch dl.src {
		case srcResources:
			err = d.decodeList(dl, c, lo, hi, dl.res == 0)
		case srcCalls, srcMFA, srcFirst, srcLast:
			err = decodeInts(dl, c, lo, hi)
		default:
			err = decodeStrings(dl, c, lo, hi)
		}
		if err != nil {
			return fmt.Errorf("column %d: %w", dl.file, err)
		}
	}
	return nil
}

// pagesFrom returns c's pages from row lo on.
func pagesFrom(c parquet.ColumnChunk, lo int64) (parquet.Pages, error) {
	pages := c.Pages()
	if lo > 0 {
		if err := pages.SeekToRow(lo); err != nil {
			pages.Close()
			return nil, err
		}
	}
	return pages, nil
}

// dictionary copies d's values into dl, when d is not the dictionary they
// were copied from. The copy is new each time: strings made from the last
// one may still be held by the rows passed on.
func (dl *decLeaf) dictionary(d parquet.Dictionary) {
	if d == dl.seen {
		return
	}
	dl.seen = d
	v := d.Page().Data()
	data, offs := v.ByteArray()
	dl.dictData = slices.Clone(data)
	dl.dictOffs = append(dl.dictOffs[:0], offs...)
}

// decodeStrings reads a top-level dictionary-encoded string column.
func decodeStrings(dl *decLeaf, c parquet.ColumnChunk, lo, hi int64) error {
	pages, err := pagesFrom(c, lo)
	if err != nil {
		return err
	}
	defer pages.Close()
	dl.ids, dl.seen = dl.ids[:0], nil
	for left := hi - lo; left > 0; {
		p, err := pages.ReadPage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		dict := p.Dictionary()
		if dict == nil {
			parquet.Release(p)
			return fmt.Errorf("a page without a dictionary")
		}
		dl.dictionary(dict)
		vals := p.Data()
		idx := vals.Int32()
		defs := p.DefinitionLevels()
		take := min(p.NumRows(), left)
		if defs == nil {
			dl.ids = append(dl.ids, idx[:take]...)
		} else {
			k := 0
			for _, def := range defs[:take] {
				if def == 0 {
					dl.ids = append(dl.ids, -1)
					continue
				}
				dl.ids = append(dl.ids, idx[k])
				k++
			}
		}
		left -= take
		parquet.Release(p)
	}
	return nil
}

// decodeInts reads a required int64 column.
func decodeInts(dl *decLeaf, c parquet.ColumnChunk, lo, hi int64) error {
	pages, err := pagesFrom(c, lo)
	if err != nil {
		return err
	}
	defer pages.Close()
	dl.ints = dl.ints[:0]
	for left := hi - lo; left > 0; {
		p, err := pages.ReadPage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		vals := p.Data()
		take := min(p.NumRows(), left)
		dl.ints = append(dl.ints, vals.Int64()[:take]...)
		left -= take
		parquet.Release(p)
	}
	return nil
}

// decodeList reads one field of the resources list: its elements' indexes
// and, for the first field read (rows), where each row's elements end.
func (d *rollupDecoder) decodeList(dl *decLeaf, c parquet.ColumnChunk, lo, hi int64, rows bool) error {
	pages, err := pagesFrom(c, lo)
	if err != nil {
		return err
	}
	defer pages.Close()
	dl.ids, dl.seen = dl.ids[:0], nil
	if rows {
		d.resEnd, d.resNull = d.resEnd[:0], d.resNull[:0]
	}
	const maxDef = 3 // resources (optional) . list (repeated) . element . field (optional)
	for left := hi - lo; left > 0; {
		p, err := pages.ReadPage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if dict := p.Dictionary(); dict != nil {
			dl.dictionary(dict)
		}
		vals := p.Data()
		idx := vals.Int32()
		reps, defs := p.RepetitionLevels(), p.DefinitionLevels()
		k := 0
		for j, def := range defs {
			if reps[j] == 0 {
				if left == 0 {
					break
				}
				left--
				if rows {
					d.resEnd = append(d.resEnd, int32(len(dl.ids)))
					d.resNull = append(d.resNull, def == 0)
				}
			}
			switch {
			case def == maxDef:
				dl.ids = append(dl.ids, idx[k])
				k++
			case def == maxDef-1:
				dl.ids = append(dl.ids, -1)
			}
		}
		parquet.Release(p)
	}
	if rows {
		// resEnd held each row's start: make it each row's end
		d.resEnd = append(d.resEnd[1:], int32(len(dl.ids)))
	}
	return nil
}

// rows fills buf with rows [a, b) of what decode read and returns it.
func (d *rollupDecoder) rows(buf []columns.RollupRow, a, b int) []columns.RollupRow {
	out := buf[:b-a]
	clear(out)
	d.arena = d.arena[:0]
	var res [3]*decLeaf
	for i := range d.leaves {
		dl := &d.leaves[i]
		if dl.skip {
			if dl.src == srcFacet {
				for k := range out {
					out[k].Facet = columns.Facets[d.facet]
				}
			}
			continue
		}
		switch dl.src {
		case srcResources:
			res[dl.res] = dl
			continue
		case srcCalls, srcMFA, srcFirst, srcLast:
			var dst *int64
			for k := range out {
				switch dl.src {
				case srcCalls:
					dst = &out[k].Calls
				case srcMFA:
					dst = &out[k].MFACalls
				case srcFirst:
					dst = &out[k].FirstSeen
				default:
					dst = &out[k].LastSeen
				}
				*dst = dl.ints[a+k]
			}
			continue
		}
		off := stringField(dl.src)
		last, lastID := "", int32(-1)
		for k := range out {
			if id := dl.ids[a+k]; id >= 0 {
				if id != lastID { // rows by principal repeat their neighbour's values
					last, lastID = dl.value(id), id
				}
				*(*string)(unsafe.Add(unsafe.Pointer(&out[k]), off)) = last
			}
		}
	}
	if res[0] != nil && !res[0].skip {
		for k := range out {
			r := a + k
			if d.resNull[r] {
				continue
			}
			start := int32(0)
			if r > 0 {
				start = d.resEnd[r-1]
			}
			from := len(d.arena)
			for e := start; e < d.resEnd[r]; e++ {
				var x columns.RollupResource
				for f, dl := range res {
					if dl == nil || dl.skip || dl.ids[e] < 0 {
						continue
					}
					v := dl.value(dl.ids[e])
					switch f {
					case 0:
						x.ARN = v
					case 1:
						x.Type = v
					default:
						x.AccountID = v
					}
				}
				d.arena = append(d.arena, x)
			}
			out[k].Resources = d.arena[from:len(d.arena):len(d.arena)]
		}
	}
	return out
}

// stringField is the offset in columns.RollupRow of the string field a
// string source fills.
func stringField(src int) uintptr {
	var r columns.RollupRow
	base := uintptr(unsafe.Pointer(&r))
	var p *string
	switch src {
	case srcFacet:
		p = &r.Facet
	case srcPrincipal:
		p = &r.PrincipalARN
	case srcKind:
		p = &r.PrincipalKind
	case srcAccount:
		p = &r.PrincipalAccount
	case srcRecipient:
		p = &r.RecipientAccount
	case srcOutcome:
		p = &r.Outcome
	case srcErrCode:
		p = &r.ErrorCode
	case srcKey:
		p = &r.AccessKeyID
	case srcIP:
		p = &r.SourceIP
	case srcAgent:
		p = &r.UserAgent
	case srcVPCE:
		p = &r.VPCEndpointID
	case srcSource:
		p = &r.EventSource
	case srcName:
		p = &r.EventName
	case srcType:
		p = &r.EventType
	case srcCategory:
		p = &r.EventCategory
	case srcRegion:
		p = &r.AWSRegion
	case srcUser:
		p = &r.UserIdentityARN
	case srcRequest:
		p = &r.RequestParameters
	case srcMessage:
		p = &r.ErrorMessage
	default:
		panic(fmt.Sprintf("rollup decoder: source %d is not a string", src))
	}
	return uintptr(unsafe.Pointer(p)) - base
}
