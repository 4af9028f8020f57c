package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/iamlens/iamlens/ingest/columns"
)

// This file is the events file encoder. It writes a builder's rows straight
// from their columns into Parquet pages: no row structs, no per-value
// interface calls, and a dictionary lookup only when a value differs from
// the one before it (rows are sorted by principal, so most repeat). It
// writes what parquet-go's GenericWriter[columns.Event] wrote before it,
// in under half the time (BenchmarkWriteParquet; README, Performance): the same schema (taken from
// parquet-go itself, so columns.Event's tags stay its one source), data
// pages v2, dictionary pages for the columns tagged dict, the column and
// offset indexes, and exact column-chunk statistics. parquet-go's format,
// thrift and RLE packages do the byte-level encoding.

// leaf is one column of the file as the encoder writes it.
type leaf struct {
	path     []string
	typ      format.Type
	maxDef   int
	maxRep   int
	dict     bool
	enc      format.Encoding // of the data pages' values
	col      int             // the builder column (a columns.Schema index)
	resField string          // the resources field for the resources leaves, else ""
}

// fileLayout is what every events file shares: its schema, column orders
// and leaves.
type fileLayout struct {
	schema []format.SchemaElement
	orders []format.ColumnOrder
	leaves []leaf
	// rows are sorted by principal, then time, in every row group
	sorting []format.SortingColumn
}

// maxStatBytes bounds the column-chunk statistics: longer minimums and
// maximums (JSON texts) are left out rather than truncated, which the
// statistics' contract does not allow. The column index, which allows it,
// keeps columnIndexBytes of each page's bounds.
const (
	maxStatBytes     = 256
	columnIndexBytes = 16
)

var eventsLayout = sync.OnceValues(func() (*fileLayout, error) {
	l, err := layoutOf(columns.Event{})
	if err != nil {
		return nil, fmt.Errorf("events schema: %w", err)
	}
	for i := range l.leaves {
		lf := &l.leaves[i]
		path := lf.path
		lf.col = columns.Index(path[0])
		if path[0] == columns.Resources {
			if len(path) != 4 || lf.typ != format.ByteArray || lf.maxRep != 1 {
				return nil, fmt.Errorf("events schema: unexpected resources leaf %v", path)
			}
			lf.resField = path[3]
		} else if len(path) != 1 || lf.maxRep != 0 || lf.maxDef > 1 {
			return nil, fmt.Errorf("events schema: unexpected leaf %v", path)
		}
	}
	sch := parquet.SchemaOf(columns.Event{})
	for _, name := range []string{columns.PrincipalARN, columns.EventTime} {
		lc, _ := sch.Lookup(name)
		l.sorting = append(l.sorting, format.SortingColumn{ColumnIdx: int32(lc.ColumnIndex), NullsFirst: true})
	}
	return l, nil
})

// layoutOf is the file layout of model's Go type (a struct with parquet
// tags): its schema elements and column orders as parquet-go itself writes
// them (an empty file from parquet-go's writer gives them exactly as
// parquet-go, and so every reader of the store, expects, and keeps the
// type's tags their one source), and one leaf per column with its type,
// levels and encoding. The caller fills in where each leaf's values come
// from.
func layoutOf[T any](model T) (*fileLayout, error) {
	var buf bytes.Buffer
	pw := parquet.NewGenericWriter[T](&buf)
	if err := pw.Close(); err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return nil, err
	}
	md := pf.Metadata()
	l := &fileLayout{schema: md.Schema, orders: md.ColumnOrders}
	// The Go schema, not the file's, knows each column's encoding.
	sch := parquet.SchemaOf(model)
	if got, want := fmt.Sprint(sch.Columns()), fmt.Sprint(pf.Schema().Columns()); got != want {
		return nil, fmt.Errorf("leaves %s, the file's %s", got, want)
	}
	for i, path := range sch.Columns() {
		lc, ok := sch.Lookup(path...)
		if !ok || lc.ColumnIndex != i {
			return nil, fmt.Errorf("leaf %v not found in order", path)
		}
		lf := leaf{path: path, maxDef: int(lc.MaxDefinitionLevel), maxRep: int(lc.MaxRepetitionLevel)}
		switch lc.Node.Type().Kind() {
		case parquet.ByteArray:
			lf.typ = format.ByteArray
		case parquet.Int64:
			lf.typ = format.Int64
		case parquet.Boolean:
			lf.typ = format.Boolean
		default:
			return nil, fmt.Errorf("leaf %v has an unhandled type %v", path, lc.Node.Type())
		}
		switch enc := lc.Node.Encoding(); {
		case enc != nil && enc.Encoding() == format.RLEDictionary:
			lf.dict, lf.enc = true, format.RLEDictionary
		case enc != nil && enc.Encoding() == format.DeltaBinaryPacked && lf.typ == format.Int64:
			lf.enc = format.DeltaBinaryPacked
		case lf.typ == format.ByteArray:
			// Lengths delta-packed ahead of the bytes: 15% smaller files
			// than plain's length before each value.
			lf.enc = format.DeltaLengthByteArray
		default:
			lf.enc = format.Plain
		}
		l.leaves = append(l.leaves, lf)
	}
	if len(l.orders) != len(l.leaves) {
		return nil, fmt.Errorf("%d column orders for %d leaves", len(l.orders), len(l.leaves))
	}
	return l, nil
}

// encodeEvents writes rows as one Parquet file.
func encodeEvents(w io.Writer, rows columns.Selection, codec compress.Codec, rowGroupRows int64, pageBytes int) error {
	l, err := eventsLayout()
	if err != nil {
		return err
	}
	for _, lf := range l.leaves {
		if !lf.dict {
			continue
		}
		var col columns.Strings
		if lf.resField != "" {
			col = rows.ResourceField(lf.resField)
		} else {
			col = rows.Strings(lf.col)
		}
		if !col.Interned() {
			return fmt.Errorf("events encoder: dictionary column %v is not interned, so its values' keys mean nothing", lf.path)
		}
	}
	e := &encoder{w: &offsetWriter{w: w}, codec: codec, pageBytes: pageBytes, l: l, rows: rows, idx: rows.Rows()}
	return e.encode(rowGroupRows)
}

type offsetWriter struct {
	w   io.Writer
	off int64
	err error
}

func (o *offsetWriter) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	o.off += int64(n)
	o.err = err
	return n, err
}

type encoder struct {
	w         *offsetWriter
	codec     compress.Codec
	pageBytes int
	l         *fileLayout
	rows      columns.Selection
	idx       []int32

	rowGroups []format.RowGroup
	indexes   [][]pageIndex // per row group, per leaf

	// scratch, reused from page to page
	defs, reps []uint8
	vals       []byte   // values of the page being built: plain, or byte arrays back to back
	offs       []uint32 // where each byte array ends in vals, after a leading 0
	ids        []int32  // dictionary indexes of the page being built
	levelBuf   []byte
	enc, comp  []byte
	pending    bytes.Buffer      // a dictionary chunk's data pages until its dictionary is written
	dict       map[uint64]int32  // a dictionary column's indexes by columns.Strings.Key
	dictS      map[string]int32  // or by value, for a column whose values have no keys (the rollup's)
	rdict      idTable           // the rollup's dictionary indexes by key or hash
	prevStr    string            // the last value dictS gave an index
	ints       []int64           // a delta-encoded page's values
	gathered   columns.GatherBuf // a string column's items in row order
	dictVals   []string
	proto      thrift.CompactProtocol
}

// pageIndex is one column chunk's column and offset index.
type pageIndex struct {
	ci format.ColumnIndex
	oi format.OffsetIndex
}

func (e *encoder) encode(rowGroupRows int64) error {
	if _, err := e.w.Write([]byte("PAR1")); err != nil {
		return err
	}
	n := int64(len(e.idx))
	for lo := int64(0); lo < n; lo += rowGroupRows {
		if err := e.rowGroup(lo, min(lo+rowGroupRows, n)); err != nil {
			return err
		}
	}
	return e.finish(n, nil)
}

// finish writes the file's tail after its row groups: the column and
// offset indexes, and the footer with its key-value metadata kv.
func (e *encoder) finish(n int64, kv []format.KeyValue) error {
	for g := range e.rowGroups {
		for c := range e.rowGroups[g].Columns {
			cc := &e.rowGroups[g].Columns[c]
			off, size, err := e.thrift(&e.indexes[g][c].ci)
			if err != nil {
				return err
			}
			cc.ColumnIndexOffset, cc.ColumnIndexLength = off, size
		}
	}
	for g := range e.rowGroups {
		for c := range e.rowGroups[g].Columns {
			cc := &e.rowGroups[g].Columns[c]
			off, size, err := e.thrift(&e.indexes[g][c].oi)
			if err != nil {
				return err
			}
			cc.OffsetIndexOffset, cc.OffsetIndexLength = off, size
		}
	}
	md := format.FileMetaData{
		Version:          2,
		Schema:           e.l.schema,
		NumRows:          n,
		RowGroups:        e.rowGroups,
		KeyValueMetadata: kv,
		CreatedBy:        "iamlens",
		ColumnOrders:     e.l.orders,
	}
	_, size, err := e.thrift(&md)
	if err != nil {
		return err
	}
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[:4], uint32(size))
	copy(tail[4:], "PAR1")
	_, err = e.w.Write(tail[:])
	return err
}

// thrift writes v in the compact protocol and returns where it went.
func (e *encoder) thrift(v any) (int64, int32, error) {
	b, err := thrift.Marshal(&e.proto, v)
	if err != nil {
		return 0, 0, err
	}
	off := e.w.off
	_, err = e.w.Write(b)
	return off, int32(len(b)), err
}

func (e *encoder) rowGroup(lo, hi int64) error {
	rg := format.RowGroup{NumRows: hi - lo, FileOffset: e.w.off, Ordinal: int16(len(e.rowGroups)), SortingColumns: e.l.sorting}
	idx := make([]pageIndex, len(e.l.leaves))
	for c := range e.l.leaves {
		cc, err := e.chunk(&e.l.leaves[c], e.idx[lo:hi], &idx[c])
		if err != nil {
			return err
		}
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
		rg.Columns = append(rg.Columns, cc)
	}
	e.rowGroups = append(e.rowGroups, rg)
	e.indexes = append(e.indexes, idx)
	return nil
}

// chunkState is one column chunk being written: its page under
// construction and its totals so far.
type chunkState struct {
	lf *leaf
	// the page being built
	values, nulls, rows int // level entries, null entries, rows
	firstRow            int64
	pmin, pmax          string // byte-array bounds of the page's values
	kmin, kmax          uint64 // their prefix8
	imin, imax          int64  // int64 and boolean bounds
	has                 bool   // the page has a non-null value
	prevKey             uint64 // the last dictionary value's key, and its index
	prevID              int32
	// the chunk
	numValues, numNulls int64
	cmin, cmax          string
	cimin, cimax        int64
	chas                bool
	uncompressed        int64
	compressed          int64
	pages               int32
	start               int64 // where the chunk's first page goes
}

func (s *chunkState) seeStr(v string) {
	// Most values lie strictly between the page's bounds, and most of
	// those differ from both in their first eight bytes: one integer
	// comparison each way tells, where a string comparison calls out.
	k := prefix8(v)
	if s.has && k > s.kmin && k < s.kmax {
		return
	}
	if !s.has {
		s.pmin, s.pmax, s.kmin, s.kmax, s.has = v, v, k, k, true
		return
	}
	if v < s.pmin {
		s.pmin, s.kmin = v, k
	} else if v > s.pmax {
		s.pmax, s.kmax = v, k
	}
}

// prefix8 is v's first eight bytes as a big-endian number, zero-padded.
// prefix8(a) < prefix8(b) implies a < b: they differ at a byte within the
// eight, where a has the lower byte or, padded, has ended.
func prefix8(v string) uint64 {
	if len(v) >= 8 {
		return binary.BigEndian.Uint64(unsafe.Slice(unsafe.StringData(v), 8))
	}
	var b [8]byte
	copy(b[:], v)
	return binary.BigEndian.Uint64(b[:])
}

func (s *chunkState) seeInt(v int64) {
	if !s.has {
		s.imin, s.imax, s.has = v, v, true
		return
	}
	s.imin, s.imax = min(s.imin, v), max(s.imax, v)
}

func (e *encoder) chunk(lf *leaf, rows []int32, pi *pageIndex) (format.ColumnChunk, error) {
	return e.writeChunk(lf, pi, func(s *chunkState) error {
		switch {
		case lf.resField != "":
			return e.resourceValues(s, rows, pi)
		case lf.typ == format.ByteArray:
			return e.stringValues(s, rows, pi)
		case lf.typ == format.Int64:
			return e.timeValues(s, rows, pi)
		default:
			return e.boolValues(s, rows, pi)
		}
	})
}

// writeChunk writes one column chunk whose pages values fills, and returns
// its metadata.
func (e *encoder) writeChunk(lf *leaf, pi *pageIndex, values func(*chunkState) error) (format.ColumnChunk, error) {
	s := &chunkState{lf: lf, start: e.w.off, prevID: -1}
	e.resetPage(s, 0)
	if lf.dict {
		if e.dict == nil {
			e.dict = map[uint64]int32{}
		}
		clear(e.dict)
		clear(e.dictS)
		e.dictVals = e.dictVals[:0]
		e.pending.Reset()
	}
	if err := values(s); err != nil {
		return format.ColumnChunk{}, err
	}
	if s.rows > 0 || s.pages == 0 {
		if err := e.flushPage(s, pi); err != nil {
			return format.ColumnChunk{}, err
		}
	}
	md := format.ColumnMetaData{
		Type:         lf.typ,
		PathInSchema: lf.path,
		Codec:        e.codec.CompressionCodec(),
		NumValues:    s.numValues,
	}
	md.Statistics.NullCount = s.numNulls
	if s.chas {
		switch lf.typ {
		case format.ByteArray:
			if len(s.cmin) <= maxStatBytes && len(s.cmax) <= maxStatBytes {
				md.Statistics.MinValue, md.Statistics.MaxValue = []byte(s.cmin), []byte(s.cmax)
			}
		default:
			md.Statistics.MinValue, md.Statistics.MaxValue = e.plainBound(lf, s.cimin), e.plainBound(lf, s.cimax)
		}
	}
	if lf.dict {
		// The dictionary goes first, then the data pages held back until now.
		md.DictionaryPageOffset = e.w.off
		if err := e.dictionaryPage(s); err != nil {
			return format.ColumnChunk{}, err
		}
		shift := e.w.off - s.start
		for i := range pi.oi.PageLocations {
			pi.oi.PageLocations[i].Offset += shift
		}
		md.DataPageOffset = e.w.off
		if _, err := e.w.Write(e.pending.Bytes()); err != nil {
			return format.ColumnChunk{}, err
		}
		md.Encoding = []format.Encoding{format.Plain, format.RLE, format.RLEDictionary}
		md.EncodingStats = []format.PageEncodingStats{
			{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1},
			{PageType: format.DataPageV2, Encoding: format.RLEDictionary, Count: s.pages},
		}
	} else {
		md.DataPageOffset = s.start
		md.Encoding = []format.Encoding{lf.enc}
		if lf.maxDef > 0 {
			md.Encoding = []format.Encoding{format.RLE, lf.enc}
		}
		md.EncodingStats = []format.PageEncodingStats{{PageType: format.DataPageV2, Encoding: lf.enc, Count: s.pages}}
	}
	md.TotalUncompressedSize, md.TotalCompressedSize = s.uncompressed, s.compressed
	return format.ColumnChunk{MetaData: md}, nil
}

// plainBound is an int64 or boolean bound in its plain encoding, as
// statistics and column indexes hold it.
func (e *encoder) plainBound(lf *leaf, v int64) []byte {
	if lf.typ == format.Boolean {
		return []byte{byte(v)}
	}
	return binary.LittleEndian.AppendUint64(nil, uint64(v))
}

func (e *encoder) resetPage(s *chunkState, firstRow int64) {
	s.values, s.nulls, s.rows, s.has, s.firstRow = 0, 0, 0, false, firstRow
	e.defs, e.reps, e.vals, e.ids = e.defs[:0], e.reps[:0], e.vals[:0], e.ids[:0]
	e.offs = append(e.offs[:0], 0)
}

// full reports whether the page under construction has reached its size.
func (e *encoder) full() bool { return len(e.vals)+4*len(e.ids) >= e.pageBytes }

// stringValues writes a top-level string column.
func (e *encoder) stringValues(s *chunkState, rows []int32, pi *pageIndex) error {
	col := e.rows.Strings(s.lf.col).Gather(rows, &e.gathered)
	if !s.lf.dict {
		return e.plainStrings(s, col, len(rows), pi)
	}
	optional := s.lf.maxDef > 0
	for k := range rows {
		v, ok := col.Value(int32(k))
		s.rows++
		s.values++
		if optional {
			e.defs = append(e.defs, b2u8(ok))
		}
		if !ok {
			s.nulls++
		} else {
			e.addString(s, v, col.Key(int32(k)))
		}
		if err := e.endRow(s, pi, k, len(rows)); err != nil {
			return err
		}
	}
	return nil
}

// plainStrings writes the n items of a gathered string column that is not
// dictionary-encoded, a page at a time, copying each value into the page
// and taking its statistics in one pass. Pages end where stringValues would
// end them: after the row that makes the page full.
//
// In sorted order the values lie all over the builder's memory, and each
// copy would wait on memory for its value's first bytes. So the loop asks
// the CPU to fetch values prefetchAhead items ahead (columns.Strings.
// Prefetch), and their loads overlap the copies. BenchmarkEncodeBatch/sorted
// on the corpus, 12 alternating runs: least 25.7 -> 22.4 ms, median 28.9 ->
// 26.4 ms.
func (e *encoder) plainStrings(s *chunkState, col columns.Strings, n int, pi *pageIndex) error {
	optional := s.lf.maxDef > 0
	col.Prefetch(0, prefetchAhead)
	for k := 0; k < n; {
		j := k
		for j < n {
			if j%prefetchEvery == 0 {
				col.Prefetch(j+prefetchAhead, j+prefetchAhead+prefetchEvery)
			}
			v, ok := col.Value(int32(j))
			if optional {
				e.defs = append(e.defs, b2u8(ok))
			}
			if ok {
				e.vals = append(e.vals, v...)
				e.offs = append(e.offs, uint32(len(e.vals)))
				s.seeStr(v)
			} else {
				s.nulls++
			}
			j++
			if len(e.vals) >= e.pageBytes {
				break
			}
		}
		s.rows += j - k
		s.values += j - k
		if j < n {
			if err := e.flushPage(s, pi); err != nil {
				return err
			}
			e.resetPage(s, int64(j))
		}
		k = j
	}
	return nil
}

// plainStrings prefetches the values prefetchAhead items ahead of the one
// it copies, prefetchEvery at a time.
const (
	prefetchAhead = 32
	prefetchEvery = 16
)

// b2u8 is a definition level: 1 for a value, 0 for a null.
func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// addString adds a byte-array value to the page: its bytes, or in a
// dictionary column its dictionary index, found by the value's key
// (columns.Strings.Key: the builder interns the dictionary columns, so
// equal keys are equal values, and a key hashes in a few instructions where
// the value, 190 bytes for a user agent, would be hashed whole).
func (e *encoder) addString(s *chunkState, v string, key uint64) {
	if !s.lf.dict {
		e.vals = append(e.vals, v...)
		e.offs = append(e.offs, uint32(len(e.vals)))
		s.seeStr(v)
		return
	}
	// Sorted rows repeat their neighbour's value: no lookup, no comparison then.
	if s.prevID < 0 || key != s.prevKey {
		id, seen := e.dict[key]
		if !seen {
			id = int32(len(e.dictVals))
			e.dict[key] = id
			e.dictVals = append(e.dictVals, v)
		}
		s.prevID, s.prevKey = id, key
		s.seeStr(v)
	} else if !s.has {
		s.seeStr(v)
	}
	e.ids = append(e.ids, s.prevID)
}

// endRow ends row k of n: the page is written and a new one begun when it
// is full (never after the last row, which the chunk writes).
func (e *encoder) endRow(s *chunkState, pi *pageIndex, k, n int) error {
	if !e.full() || k+1 >= n {
		return nil
	}
	if err := e.flushPage(s, pi); err != nil {
		return err
	}
	e.resetPage(s, int64(k+1))
	return nil
}

// resourceValues writes one field of the resources list.
func (e *encoder) resourceValues(s *chunkState, rows []int32, pi *pageIndex) error {
	field := e.rows.ResourceField(s.lf.resField)
	maxDef := uint8(s.lf.maxDef)
	for k, r := range rows {
		lo, hi, ok := e.rows.Resources(r)
		s.rows++
		switch {
		case !ok: // null list
			e.reps, e.defs = append(e.reps, 0), append(e.defs, 0)
			s.values++
			s.nulls++
		case lo == hi: // empty list
			e.reps, e.defs = append(e.reps, 0), append(e.defs, 1)
			s.values++
			s.nulls++
		}
		for j := lo; ok && j < hi; j++ {
			rep := uint8(1)
			if j == lo {
				rep = 0
			}
			e.reps = append(e.reps, rep)
			s.values++
			v, set := field.Value(j)
			if !set {
				e.defs = append(e.defs, maxDef-1)
				s.nulls++
				continue
			}
			e.defs = append(e.defs, maxDef)
			e.addString(s, v, field.Key(j))
		}
		if err := e.endRow(s, pi, k, len(rows)); err != nil {
			return err
		}
	}
	return nil
}

// timeValues writes event_time (required int64).
func (e *encoder) timeValues(s *chunkState, rows []int32, pi *pageIndex) error {
	for k, r := range rows {
		v := e.rows.Time(r)
		e.vals = binary.LittleEndian.AppendUint64(e.vals, uint64(v))
		s.seeInt(v)
		s.rows++
		s.values++
		if err := e.endRow(s, pi, k, len(rows)); err != nil {
			return err
		}
	}
	return nil
}

// boolValues writes an optional boolean column; the plain encoding packs
// the set values eight to a byte, first value in the lowest bit.
func (e *encoder) boolValues(s *chunkState, rows []int32, pi *pageIndex) error {
	for k, r := range rows {
		v := e.rows.Bool(s.lf.col, r)
		if v < 0 {
			e.defs = append(e.defs, 0)
			s.nulls++
		} else {
			e.defs = append(e.defs, 1)
			nset := s.values - s.nulls // values already in the page
			if nset%8 == 0 {
				e.vals = append(e.vals, 0)
			}
			e.vals[len(e.vals)-1] |= byte(v) << (nset % 8)
			s.seeInt(int64(v))
		}
		s.rows++
		s.values++
		if err := e.endRow(s, pi, k, len(rows)); err != nil {
			return err
		}
	}
	return nil
}

// levels encodes repetition or definition levels (RLE, no length prefix,
// as data pages v2 hold them) into e.levelBuf after what is there.
func (e *encoder) levels(levels []uint8, maxLevel int) ([]byte, error) {
	enc := rle.Encoding{BitWidth: bits.Len(uint(maxLevel))}
	start := len(e.levelBuf)
	out, err := enc.EncodeLevels(e.levelBuf[start:], levels)
	if err != nil {
		return nil, err
	}
	e.levelBuf = append(e.levelBuf[:start], out...)
	return e.levelBuf[start:], nil
}

// flushPage writes the page under construction (to the chunk's pending
// buffer when the chunk has a dictionary) and records it in the indexes.
func (e *encoder) flushPage(s *chunkState, pi *pageIndex) error {
	lf := s.lf
	e.levelBuf = e.levelBuf[:0]
	var reps, defs []byte
	var err error
	if lf.maxRep > 0 {
		if reps, err = e.levels(e.reps, lf.maxRep); err != nil {
			return err
		}
	}
	if lf.maxDef > 0 {
		if defs, err = e.levels(e.defs, lf.maxDef); err != nil {
			return err
		}
	}
	values := e.vals
	switch lf.enc {
	case format.DeltaLengthByteArray:
		if e.enc, err = (&delta.LengthByteArrayEncoding{}).EncodeByteArray(e.enc[:0], e.vals, e.offs); err != nil {
			return err
		}
		values = e.enc
	case format.DeltaBinaryPacked:
		n := len(e.vals) / 8
		e.ints = slices.Grow(e.ints[:0], n)[:n]
		for i := range e.ints {
			e.ints[i] = int64(binary.LittleEndian.Uint64(e.vals[8*i:]))
		}
		if e.enc, err = (&delta.BinaryPackedEncoding{}).EncodeInt64(e.enc[:0], e.ints); err != nil {
			return err
		}
		values = e.enc
	case format.RLEDictionary:
		// (At least one bit: some readers take a zero width for corruption.)
		width := max(1, bits.Len(uint(max(len(e.dictVals)-1, 0))))
		e.enc = append(e.enc[:0], byte(width))
		out, err := (&rle.Encoding{BitWidth: width}).EncodeInt32(e.enc[1:], e.ids)
		if err != nil {
			return err
		}
		e.enc = append(e.enc[:1], out...)
		values = e.enc
	}
	if e.comp, err = e.codec.Encode(e.comp[:0], values); err != nil {
		return err
	}
	levelBytes := len(reps) + len(defs)
	h := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(levelBytes + len(values)),
		CompressedPageSize:   int32(levelBytes + len(e.comp)),
	}
	h.DataPageHeaderV2.Valid = true
	h.DataPageHeaderV2.V = format.DataPageHeaderV2{
		NumValues:                  int32(s.values),
		NumNulls:                   int32(s.nulls),
		NumRows:                    int32(s.rows),
		Encoding:                   lf.enc,
		DefinitionLevelsByteLength: int32(len(defs)),
		RepetitionLevelsByteLength: int32(len(reps)),
	}
	h.DataPageHeaderV2.V.IsCompressed.V = e.codec.CompressionCodec() != format.Uncompressed
	h.DataPageHeaderV2.V.IsCompressed.Valid = true
	hdr, err := thrift.Marshal(&e.proto, &h)
	if err != nil {
		return err
	}
	off := e.w.off
	var out io.Writer = e.w
	if lf.dict {
		off = s.start + int64(e.pending.Len()) // shifted past the dictionary later
		out = &e.pending
	}
	for _, b := range [][]byte{hdr, reps, defs, e.comp} {
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	size := int64(len(hdr)) + int64(h.CompressedPageSize)
	pi.oi.PageLocations = append(pi.oi.PageLocations, format.PageLocation{Offset: off, CompressedPageSize: int32(size), FirstRowIndex: s.firstRow})
	s.uncompressed += int64(len(hdr)) + int64(h.UncompressedPageSize)
	s.compressed += size
	s.pages++
	s.numValues += int64(s.values)
	s.numNulls += int64(s.nulls)

	ci := &pi.ci
	ci.NullPages = append(ci.NullPages, !s.has)
	ci.NullCounts = append(ci.NullCounts, int64(s.nulls))
	switch {
	case !s.has:
		ci.MinValues, ci.MaxValues = append(ci.MinValues, []byte{}), append(ci.MaxValues, []byte{})
	case lf.typ == format.ByteArray:
		ci.MinValues = append(ci.MinValues, truncMin(s.pmin))
		ci.MaxValues = append(ci.MaxValues, truncMax(s.pmax))
		if !s.chas {
			s.cmin, s.cmax, s.chas = s.pmin, s.pmax, true
		} else {
			s.cmin, s.cmax = min(s.cmin, s.pmin), max(s.cmax, s.pmax)
		}
	default:
		ci.MinValues = append(ci.MinValues, e.plainBound(lf, s.imin))
		ci.MaxValues = append(ci.MaxValues, e.plainBound(lf, s.imax))
		if !s.chas {
			s.cimin, s.cimax, s.chas = s.imin, s.imax, true
		} else {
			s.cimin, s.cimax = min(s.cimin, s.imin), max(s.cimax, s.imax)
		}
	}
	return nil
}

// dictionaryPage writes the chunk's dictionary: its values in the plain
// encoding, compressed.
func (e *encoder) dictionaryPage(s *chunkState) error {
	e.enc = e.enc[:0]
	for _, v := range e.dictVals {
		e.enc = binary.LittleEndian.AppendUint32(e.enc, uint32(len(v)))
		e.enc = append(e.enc, v...)
	}
	var err error
	if e.comp, err = e.codec.Encode(e.comp[:0], e.enc); err != nil {
		return err
	}
	h := format.PageHeader{
		Type:                 format.DictionaryPage,
		UncompressedPageSize: int32(len(e.enc)),
		CompressedPageSize:   int32(len(e.comp)),
	}
	h.DictionaryPageHeader.Valid = true
	h.DictionaryPageHeader.V = format.DictionaryPageHeader{NumValues: int32(len(e.dictVals)), Encoding: format.Plain}
	hdr, err := thrift.Marshal(&e.proto, &h)
	if err != nil {
		return err
	}
	if _, err := e.w.Write(hdr); err != nil {
		return err
	}
	if _, err := e.w.Write(e.comp); err != nil {
		return err
	}
	s.uncompressed += int64(len(hdr) + len(e.enc))
	s.compressed += int64(len(hdr) + len(e.comp))
	return nil
}

// truncMin is a lower bound of v of at most columnIndexBytes bytes (a copy).
func truncMin(v string) []byte {
	if len(v) > columnIndexBytes {
		v = v[:columnIndexBytes]
	}
	return []byte(v)
}

// truncMax is an upper bound of v of at most columnIndexBytes bytes (a
// copy): v's prefix with its last byte below 0xFF incremented, or v whole
// when no such byte exists.
func truncMax(v string) []byte {
	if len(v) <= columnIndexBytes {
		return []byte(v)
	}
	b := []byte(v[:columnIndexBytes])
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xFF {
			b[i]++
			return b[:i+1]
		}
	}
	return []byte(v)
}
