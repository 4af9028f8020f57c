package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/format"

	"github.com/iamlens/iamlens/ingest/columns"
)

// rollupDecoder reads a rollup file's rows column by column: each string
// column's dictionary once and its pages' dictionary indexes, the numbers
// as they are, and then fills columns.RollupRow values whose strings are
// the dictionary's. It reads only files the rollup's encoder wrote (data
// pages v2, dictionaries for strings, DELTA_BINARY_PACKED numbers), from
// their bytes: parquet-go's row reader builds every row value by value
// through reflection, about 3.7 µs a row of this schema, and its page
// reader allocates for each page; this costs a small fraction of either
// (BenchmarkScanRollup).
type rollupDecoder struct {
	leaves []decLeaf
	n      int // rows decoded
	facet  int // the row group's facet, -1 when not known
	// the resources list, by row: its elements are [resEnd[i-1], resEnd[i])
	// of the resources leaves; resNull marks a null list
	resEnd  []int32
	resNull []bool
	arena   []columns.RollupResource
	// scratch for one page at a time
	page  []byte
	defs  []uint8
	reps  []uint8
	vals  []int32
	ivals []int64
}

// decLeaf is one leaf of the file being read.
type decLeaf struct {
	file int // the file's column index
	src  int // what it fills (srcFacet, ...)
	res  int // for a resources field: 0 arn, 1 type, 2 account_id
	lf   *leaf
	// decoded: dictionary indexes (-1 for null) into the dictionary, or
	// numbers
	ids  []int32
	ints []int64
	// the chunk's dictionary: a page of PLAIN byte arrays (a buffer of its
	// own, which the strings made from it keep alive) and each value's
	// start and end in it
	dictData []byte
	dictOffs []uint32
	// skip is set for a row group whose facet leaves the leaf null
	skip bool
}

// value is dictionary entry id as a string, aliasing dictData.
func (dl *decLeaf) value(id int32) string {
	lo, hi := dl.dictOffs[2*id], dl.dictOffs[2*id+1]
	if lo == hi {
		return ""
	}
	return unsafe.String(&dl.dictData[lo], int(hi-lo))
}

// newRollupDecoder readies the decoding of the leaves of a file of
// metadata m that cols name (all when empty). The file must have the
// rollup's schema.
func newRollupDecoder(m *rollupMeta, cols []string) (*rollupDecoder, error) {
	l, err := rollupLayout()
	if err != nil {
		return nil, err
	}
	if len(m.leaves) != len(l.leaves) {
		return nil, fmt.Errorf("not a rollup file of this version: %d columns", len(m.leaves))
	}
	d := &rollupDecoder{}
	for i := range l.leaves {
		lf := &l.leaves[i]
		if !slices.Equal(m.leaves[i], lf.path) {
			return nil, fmt.Errorf("not a rollup file of this version: column %d is %v", i, m.leaves[i])
		}
		if len(cols) > 0 && !slices.Contains(cols, lf.path[0]) {
			continue
		}
		dl := decLeaf{file: i, src: lf.col, lf: lf}
		if lf.col == srcResources {
			dl.res = slices.Index([]string{columns.ResourceARN, columns.ResourceType, columns.ResourceAccount}, lf.resField)
		}
		d.leaves = append(d.leaves, dl)
	}
	return d, nil
}

// chunkBytes are the bytes of one column chunk the decoder reads: its
// dictionary page (nil when pages starts with it, or it has none) and
// pages from a page boundary, whose first row is row firstRow of the row
// group.
type chunkBytes struct {
	cm       *chunkMeta
	dict     []byte
	pages    []byte
	firstRow int64
}

// decode reads rows [lo, hi) of a row group from its chunks (by file
// column; nil for the leaves not read), whose rows are all of facet (-1:
// not known).
func (d *rollupDecoder) decode(chunks []chunkBytes, lo, hi int64) error {
	d.n = int(hi - lo)
	for i := range d.leaves {
		dl := &d.leaves[i]
		if dl.skip {
			continue
		}
		if err := d.decodeChunk(dl, &chunks[dl.file], lo, hi); err != nil {
			return fmt.Errorf("column %d: %w", dl.file, err)
		}
	}
	return nil
}

// setFacet marks the leaves a row group of facet does not read: known from
// the statistics (the facet), or null, or (mfa_calls of the principal
// rows) zero.
func (d *rollupDecoder) setFacet(facet int) {
	d.facet = facet
	for i := range d.leaves {
		dl := &d.leaves[i]
		dl.skip = facet >= 0 && (!usedBy(dl.src, uint8(facet)) || dl.src == srcFacet || dl.src == srcMFA && facet == facetPrincipal)
	}
}

// decodeChunk reads rows [lo, hi) of one leaf.
func (d *rollupDecoder) decodeChunk(dl *decLeaf, cb *chunkBytes, lo, hi int64) error {
	lf := dl.lf
	dl.ids, dl.ints, dl.dictData, dl.dictOffs = dl.ids[:0], dl.ints[:0], nil, dl.dictOffs[:0]
	list := lf.maxRep > 0
	if list && dl.res == 0 {
		d.resEnd, d.resNull = d.resEnd[:0], d.resNull[:0]
	}
	codec := parquet.LookupCompressionCodec(cb.cm.codec)
	if cb.dict != nil {
		h, n, err := parsePageHeader(cb.dict)
		if err != nil {
			return err
		}
		if h.typ != format.DictionaryPage || int64(n)+h.compressed > int64(len(cb.dict)) {
			return errors.New("bad dictionary page")
		}
		if err := dl.dictionary(codec, h, cb.dict[n:n+int(h.compressed)]); err != nil {
			return err
		}
	}
	skip, want := lo-cb.firstRow, hi-lo
	if skip < 0 {
		return errors.New("pages start after the rows read")
	}
	b := cb.pages
	for want > 0 {
		if len(b) == 0 {
			return io.ErrUnexpectedEOF
		}
		h, n, err := parsePageHeader(b)
		if err != nil {
			return err
		}
		if int64(n)+h.compressed > int64(len(b)) {
			return io.ErrUnexpectedEOF
		}
		body := b[n : n+int(h.compressed)]
		b = b[n+int(h.compressed):]
		switch h.typ {
		case format.DictionaryPage:
			if err := dl.dictionary(codec, h, body); err != nil {
				return err
			}
			continue
		case format.DataPageV2:
		default:
			return fmt.Errorf("a page of type %d (the rollup writes data pages v2)", h.typ)
		}
		if skip >= h.numRows {
			skip -= h.numRows // a page before the rows read: not decoded
			continue
		}
		take := min(h.numRows-skip, want)
		if err := d.dataPage(dl, codec, h, body, skip, take); err != nil {
			return err
		}
		skip, want = 0, want-take
	}
	if list && dl.res == 0 {
		// resEnd held each row's start: make it each row's end
		d.resEnd = append(d.resEnd[1:], int32(len(dl.ids)))
	}
	return nil
}

// dictionary decodes a dictionary page of PLAIN byte arrays into dl.
func (dl *decLeaf) dictionary(codec compress.Codec, h pageHeader, body []byte) error {
	data, err := codec.Decode(make([]byte, h.uncompressed), body)
	if err != nil {
		return fmt.Errorf("dictionary page: %w", err)
	}
	if int64(len(data)) != h.uncompressed || h.dictValues > int64(len(data))/4 {
		return errors.New("dictionary page: bad sizes")
	}
	offs := slices.Grow(dl.dictOffs[:0], 2*int(h.dictValues))
	pos := 0
	for range h.dictValues {
		if len(data)-pos < 4 {
			return errors.New("dictionary page: truncated")
		}
		n := int(binary.LittleEndian.Uint32(data[pos:]))
		pos += 4
		if n < 0 || n > len(data)-pos {
			return errors.New("dictionary page: truncated")
		}
		offs = append(offs, uint32(pos), uint32(pos+n))
		pos += n
	}
	dl.dictData, dl.dictOffs = data, offs
	return nil
}

// dataPage decodes rows [skip, skip+take) of a data page v2 into dl.
func (d *rollupDecoder) dataPage(dl *decLeaf, codec compress.Codec, h pageHeader, body []byte, skip, take int64) error {
	lf := dl.lf
	if h.encoding != lf.enc {
		return fmt.Errorf("values encoded %v, not %v", h.encoding, lf.enc)
	}
	reps, defs, vals := body[:h.repLen], body[h.repLen:h.repLen+h.defLen], body[h.repLen+h.defLen:]
	if h.isCompressed {
		n := h.uncompressed - h.repLen - h.defLen
		if int64(cap(d.page)) < n {
			d.page = make([]byte, n)
		}
		out, err := codec.Decode(d.page[:n], vals)
		if err != nil {
			return fmt.Errorf("data page: %w", err)
		}
		d.page, vals = out, out
	}
	var err error
	if d.reps, err = pageLevels(d.reps, reps, lf.maxRep, h.numValues); err != nil {
		return fmt.Errorf("repetition levels: %w", err)
	}
	if d.defs, err = pageLevels(d.defs, defs, lf.maxDef, h.numValues); err != nil {
		return fmt.Errorf("definition levels: %w", err)
	}
	present := h.numValues - h.numNulls
	switch lf.enc {
	case format.DeltaBinaryPacked:
		if lf.maxDef > 0 || lf.maxRep > 0 {
			return errors.New("data page: an optional number column")
		}
		if d.ivals, err = (&delta.BinaryPackedEncoding{}).DecodeInt64(d.ivals[:0], vals); err != nil {
			return err
		}
		if int64(len(d.ivals)) < skip+take || h.numRows != h.numValues {
			return errors.New("data page: fewer values than rows")
		}
		dl.ints = append(dl.ints, d.ivals[skip:skip+take]...)
		return nil
	case format.RLEDictionary:
		if d.vals, err = (&rle.DictionaryEncoding{}).DecodeInt32(d.vals[:0], vals); err != nil {
			return err
		}
		if int64(len(d.vals)) < present {
			return errors.New("data page: fewer values than its header says")
		}
		d.vals = d.vals[:present]
		n := int32(len(dl.dictOffs) / 2)
		for _, id := range d.vals {
			if id < 0 || id >= n {
				return errors.New("data page: a dictionary index out of range")
			}
		}
	default:
		return fmt.Errorf("values encoded %v", lf.enc)
	}
	if lf.maxRep > 0 {
		return d.listPage(dl, skip, take)
	}
	if lf.maxDef == 0 {
		if int64(len(d.vals)) < skip+take {
			return errors.New("data page: fewer values than rows")
		}
		dl.ids = append(dl.ids, d.vals[skip:skip+take]...)
		return nil
	}
	if h.numRows != h.numValues {
		return errors.New("data page: rows and values differ in a flat column")
	}
	k := 0
	for _, def := range d.defs[:skip] {
		if def == uint8(lf.maxDef) {
			k++
		}
	}
	for _, def := range d.defs[skip : skip+take] {
		if def != uint8(lf.maxDef) {
			dl.ids = append(dl.ids, -1)
			continue
		}
		if k >= len(d.vals) {
			return errors.New("data page: fewer values than its levels say")
		}
		dl.ids = append(dl.ids, d.vals[k])
		k++
	}
	return nil
}

// pageLevels decodes a data page's n levels of at most max (none when max
// is 0) into dst.
func pageLevels(dst []uint8, src []byte, max int, n int64) ([]uint8, error) {
	if max == 0 {
		return dst[:0], nil
	}
	dst, err := (&rle.Encoding{BitWidth: bits.Len(uint(max))}).DecodeLevels(dst[:0], src)
	if err != nil {
		return nil, err
	}
	if int64(len(dst)) < n {
		return nil, errors.New("fewer than the page's values")
	}
	return dst[:n], nil
}

// listPage takes rows [skip, skip+take) of a resources field's page from
// its levels and values: each element's dictionary index (-1 for a null
// field) and, for the first field (arn), where each row's elements start.
func (d *rollupDecoder) listPage(dl *decLeaf, skip, take int64) error {
	const maxDef = 3 // resources (optional) . list (repeated) . element . field (optional)
	if dl.lf.maxDef != maxDef {
		return fmt.Errorf("data page: a list of %d definition levels", dl.lf.maxDef)
	}
	rows := dl.res == 0
	row, k := int64(-1), 0
	for j, def := range d.defs {
		if d.reps[j] == 0 {
			row++
			if row >= skip+take {
				break
			}
			if row >= skip && rows {
				d.resEnd = append(d.resEnd, int32(len(dl.ids)))
				d.resNull = append(d.resNull, def == 0)
			}
		}
		if row < 0 {
			return errors.New("data page: a list that starts inside a row")
		}
		switch {
		case def == maxDef:
			if k >= len(d.vals) {
				return errors.New("data page: fewer values than its levels say")
			}
			if row >= skip {
				dl.ids = append(dl.ids, d.vals[k])
			}
			k++
		case def == maxDef-1 && row >= skip:
			dl.ids = append(dl.ids, -1)
		}
	}
	if row+1 < skip+take {
		return errors.New("data page: fewer rows than its header says")
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
