package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/parquet-go/parquet-go/format"
)

// The rollup reader parses the Thrift of its own files' footers and page
// headers itself, for the few fields it uses, instead of through
// parquet-go's reflection-driven decoder: a reader of one busy principal
// opens every file of the window for a few hundred rows each, and
// parquet-go's decoding of the footers and page headers was a third of its
// CPU (docs/rollup.md, "Reading"). parquet-go still writes nothing of the
// rollup and reads it in the tests that hold this reader to it
// (TestScanRollupMatchesParquetGo).

// Thrift compact protocol types.
const (
	ctStop    = 0
	ctTrue    = 1
	ctFalse   = 2
	ctByte    = 3
	ctI16     = 4
	ctI32     = 5
	ctI64     = 6
	ctDouble  = 7
	ctBinary  = 8
	ctList    = 9
	ctSet     = 10
	ctMap     = 11
	ctStruct  = 12
	thriftMax = 32 // nesting depth that skip follows
)

// errThrift is a footer or page header that is not valid Thrift.
var errThrift = errors.New("bad thrift")

// compactReader reads the Thrift compact protocol from b. The first error
// sticks: later reads return zero values, and err says what went wrong.
type compactReader struct {
	b   []byte
	err error
}

func (c *compactReader) fail(why string) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: %s", errThrift, why)
	}
	c.b = nil
}

func (c *compactReader) byte() byte {
	if len(c.b) == 0 {
		c.fail("truncated")
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *compactReader) uvarint() uint64 {
	v, n := binary.Uvarint(c.b)
	if n <= 0 {
		c.fail("bad varint")
		return 0
	}
	c.b = c.b[n:]
	return v
}

// int reads an i16, i32 or i64 (zigzag varints all three).
func (c *compactReader) int() int64 {
	u := c.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// binary reads a string or binary value; the bytes alias the input.
func (c *compactReader) binary() []byte {
	n := c.uvarint()
	if n > uint64(len(c.b)) {
		c.fail("truncated binary")
		return nil
	}
	v := c.b[:n:n]
	c.b = c.b[n:]
	return v
}

// list reads a list's (or set's) header: its length and element type.
func (c *compactReader) list() (int, byte) {
	h := c.byte()
	n := uint64(h >> 4)
	if n == 15 {
		n = c.uvarint()
	}
	// every element takes a byte at least
	if n > uint64(len(c.b)) {
		c.fail("bad list length")
		return 0, 0
	}
	return int(n), h & 0x0f
}

// fields calls fn for each field of a struct, up to its stop; fn reads the
// field's value, or skips it.
func (c *compactReader) fields(fn func(id int16, t byte)) {
	var last int16
	for c.err == nil {
		h := c.byte()
		if h == ctStop || c.err != nil {
			return
		}
		t := h & 0x0f
		id := last + int16(h>>4)
		if h>>4 == 0 {
			id = int16(c.int())
		}
		last = id
		fn(id, t)
	}
}

// skip reads past a value of type t.
func (c *compactReader) skip(t byte) { c.skipDepth(t, 0) }

func (c *compactReader) skipDepth(t byte, depth int) {
	if depth > thriftMax {
		c.fail("nested too deep")
		return
	}
	switch t {
	case ctTrue, ctFalse:
	case ctByte:
		c.byte()
	case ctI16, ctI32, ctI64:
		c.uvarint()
	case ctDouble:
		if len(c.b) < 8 {
			c.fail("truncated")
			return
		}
		c.b = c.b[8:]
	case ctBinary:
		c.binary()
	case ctList, ctSet:
		n, et := c.list()
		for i := 0; i < n && c.err == nil; i++ {
			if et == ctTrue || et == ctFalse {
				c.byte() // a list's booleans take a byte each
				continue
			}
			c.skipDepth(et, depth+1)
		}
	case ctMap:
		n := c.uvarint()
		if n == 0 {
			return
		}
		kv := c.byte()
		if n > uint64(len(c.b)) {
			c.fail("bad map length")
			return
		}
		for i := uint64(0); i < n && c.err == nil; i++ {
			c.skipDepth(kv>>4, depth+1)
			c.skipDepth(kv&0x0f, depth+1)
		}
	case ctStruct:
		c.fields(func(_ int16, t byte) { c.skipDepth(t, depth+1) })
	default:
		c.fail(fmt.Sprintf("unknown type %d", t))
	}
}

// rollupMeta is what the rollup reader needs of a file's footer.
type rollupMeta struct {
	leaves    [][]string // the leaf columns' paths, in order
	rowGroups []rgMeta
	index     string // the principal index (rollupIndexKey)
	hasIndex  bool
	covers    string // a monthly file's twins (rollupCoversKey)
	hasCovers bool
}

type rgMeta struct {
	numRows int64
	cols    []chunkMeta
}

// chunkMeta is a column chunk's metadata: where its pages are, its
// offset index, and its statistics' bounds.
type chunkMeta struct {
	codec            format.CompressionCodec
	numValues        int64
	compressed       int64
	dataOff, dictOff int64
	hasData, hasDict bool // whether the footer gave dataOff and dictOff
	oiOff            int64
	oiLen            int64
	min, max         []byte
	hasMin, hasMax   bool
	start            int64 // the chunk's first byte: its dictionary page, or its first data page
}

// footerBufs are the buffers footers are read into: a reader of one
// principal opens hundreds of files.
var footerBufs = sync.Pool{New: func() any { b := make([]byte, footerRead); return &b }}

// footerRead is how much of a file's end is read at first: its footer,
// whole in all but files of thousands of row groups.
const footerRead = 64 << 10

// readRollupMeta reads the footer of a rollup file of size bytes.
func readRollupMeta(f io.ReaderAt, size int64) (*rollupMeta, error) {
	if size < 12 {
		return nil, errors.New("not a parquet file: too small")
	}
	pooled := footerBufs.Get().(*[]byte)
	defer footerBufs.Put(pooled)
	tail := min(size, footerRead)
	buf := (*pooled)[:tail]
	if _, err := f.ReadAt(buf, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if string(buf[tail-4:]) != "PAR1" {
		return nil, errors.New("not a parquet file: no magic bytes at its end")
	}
	n := int64(binary.LittleEndian.Uint32(buf[tail-8:]))
	if n+12 > size {
		return nil, fmt.Errorf("not a parquet file: footer of %d bytes in %d", n, size)
	}
	var footer []byte
	if n+8 <= tail {
		footer = buf[tail-8-n : tail-8]
	} else {
		footer = make([]byte, n)
		if _, err := f.ReadAt(footer, size-8-n); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	m, err := parseRollupMeta(footer)
	if err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	m.detach()
	return m, nil
}

// detach copies the statistics' bounds, which alias the footer's bytes,
// into one buffer of m's own.
func (m *rollupMeta) detach() {
	n := 0
	for _, rg := range m.rowGroups {
		for _, c := range rg.cols {
			n += len(c.min) + len(c.max)
		}
	}
	arena := make([]byte, 0, n)
	take := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		at := len(arena)
		arena = append(arena, b...)
		return arena[at:len(arena):len(arena)]
	}
	for _, rg := range m.rowGroups {
		for i := range rg.cols {
			c := &rg.cols[i]
			c.min, c.max = take(c.min), take(c.max)
		}
	}
}

// parseRollupMeta parses a FileMetaData.
func parseRollupMeta(b []byte) (*rollupMeta, error) {
	c := &compactReader{b: b}
	m := &rollupMeta{}
	type element struct {
		name     string
		children int
	}
	var schema []element
	c.fields(func(id int16, t byte) {
		switch {
		case id == 2 && t == ctList: // schema
			n, _ := c.list()
			schema = make([]element, 0, n)
			for range n {
				var e element
				c.fields(func(id int16, t byte) {
					switch {
					case id == 4 && t == ctBinary:
						e.name = string(c.binary())
					case id == 5 && t == ctI32:
						e.children = int(c.int())
					default:
						c.skip(t)
					}
				})
				schema = append(schema, e)
			}
		case id == 4 && t == ctList: // row groups
			n, _ := c.list()
			m.rowGroups = make([]rgMeta, 0, n)
			for range n {
				m.rowGroups = append(m.rowGroups, c.rowGroup())
			}
		case id == 5 && t == ctList: // key-value metadata
			n, _ := c.list()
			for range n {
				var k, v []byte
				var hasV bool
				c.fields(func(id int16, t byte) {
					switch {
					case id == 1 && t == ctBinary:
						k = c.binary()
					case id == 2 && t == ctBinary:
						v, hasV = c.binary(), true
					default:
						c.skip(t)
					}
				})
				switch {
				case string(k) == rollupIndexKey && hasV:
					m.index, m.hasIndex = string(v), true
				case string(k) == rollupCoversKey && hasV:
					m.covers, m.hasCovers = string(v), true
				}
			}
		default:
			c.skip(t)
		}
	})
	if c.err != nil {
		return nil, c.err
	}
	// The leaves' paths, from the schema's depth-first list (its first
	// element is the root).
	var path []string
	i := 1
	var walk func(children int) error
	walk = func(children int) error {
		for range children {
			if i >= len(schema) {
				return errors.New("schema: fewer elements than its groups say")
			}
			e := schema[i]
			i++
			path = append(path, e.name)
			if e.children > 0 {
				if len(path) > thriftMax {
					return errors.New("schema: nested too deep")
				}
				if err := walk(e.children); err != nil {
					return err
				}
			} else {
				m.leaves = append(m.leaves, append([]string(nil), path...))
			}
			path = path[:len(path)-1]
		}
		return nil
	}
	if len(schema) == 0 {
		return nil, errors.New("schema: empty")
	}
	if err := walk(schema[0].children); err != nil {
		return nil, err
	}
	for _, rg := range m.rowGroups {
		if len(rg.cols) != len(m.leaves) {
			return nil, fmt.Errorf("a row group of %d columns in a schema of %d", len(rg.cols), len(m.leaves))
		}
	}
	return m, nil
}

func (c *compactReader) rowGroup() rgMeta {
	var rg rgMeta
	c.fields(func(id int16, t byte) {
		switch {
		case id == 1 && t == ctList:
			n, _ := c.list()
			rg.cols = make([]chunkMeta, 0, n)
			for range n {
				rg.cols = append(rg.cols, c.columnChunk())
			}
		case id == 3 && t == ctI64:
			rg.numRows = c.int()
		default:
			c.skip(t)
		}
	})
	return rg
}

func (c *compactReader) columnChunk() chunkMeta {
	var cm chunkMeta
	c.fields(func(id int16, t byte) {
		switch {
		case id == 3 && t == ctStruct: // ColumnMetaData
			c.fields(func(id int16, t byte) {
				switch {
				case id == 4 && t == ctI32:
					cm.codec = format.CompressionCodec(c.int())
				case id == 5 && t == ctI64:
					cm.numValues = c.int()
				case id == 7 && t == ctI64:
					cm.compressed = c.int()
				case id == 9 && t == ctI64:
					cm.dataOff, cm.hasData = c.int(), true
				case id == 11 && t == ctI64:
					cm.dictOff, cm.hasDict = c.int(), true
				case id == 12 && t == ctStruct: // Statistics
					c.fields(func(id int16, t byte) {
						switch {
						case id == 5 && t == ctBinary:
							cm.max, cm.hasMax = c.binary(), true
						case id == 6 && t == ctBinary:
							cm.min, cm.hasMin = c.binary(), true
						default:
							c.skip(t)
						}
					})
				default:
					c.skip(t)
				}
			})
		case id == 4 && t == ctI64:
			cm.oiOff = c.int()
		case id == 5 && t == ctI32:
			cm.oiLen = c.int()
		default:
			c.skip(t)
		}
	})
	cm.start = cm.dataOff
	if cm.hasDict && cm.dictOff > 0 && cm.dictOff < cm.start {
		cm.start = cm.dictOff
	}
	if !cm.hasData || cm.start < 4 || cm.compressed < 0 {
		c.fail("column chunk without its pages' offsets")
	}
	return cm
}

// pageHeader is what the reader needs of a page's header.
type pageHeader struct {
	typ          format.PageType
	uncompressed int64
	compressed   int64
	// dictionary pages
	dictValues int64
	// data pages (v2)
	numValues, numNulls, numRows int64
	encoding                     format.Encoding
	defLen, repLen               int64
	isCompressed                 bool
}

// parsePageHeader parses the page header at the start of b and returns it
// with its length in bytes.
func parsePageHeader(b []byte) (pageHeader, int, error) {
	c := &compactReader{b: b}
	h := pageHeader{isCompressed: true}
	c.fields(func(id int16, t byte) {
		switch {
		case id == 1 && t == ctI32:
			h.typ = format.PageType(c.int())
		case id == 2 && t == ctI32:
			h.uncompressed = c.int()
		case id == 3 && t == ctI32:
			h.compressed = c.int()
		case id == 7 && t == ctStruct:
			c.fields(func(id int16, t byte) {
				if id == 1 && t == ctI32 {
					h.dictValues = c.int()
					return
				}
				c.skip(t)
			})
		case id == 8 && t == ctStruct:
			c.fields(func(id int16, t byte) {
				switch {
				case id == 1 && t == ctI32:
					h.numValues = c.int()
				case id == 2 && t == ctI32:
					h.numNulls = c.int()
				case id == 3 && t == ctI32:
					h.numRows = c.int()
				case id == 4 && t == ctI32:
					h.encoding = format.Encoding(c.int())
				case id == 5 && t == ctI32:
					h.defLen = c.int()
				case id == 6 && t == ctI32:
					h.repLen = c.int()
				case id == 7 && (t == ctTrue || t == ctFalse):
					h.isCompressed = t == ctTrue
				default:
					c.skip(t)
				}
			})
		default:
			c.skip(t)
		}
	})
	if c.err != nil {
		return h, 0, fmt.Errorf("page header: %w", c.err)
	}
	if h.compressed < 0 || h.uncompressed < 0 || h.defLen < 0 || h.repLen < 0 || h.numValues < 0 || h.numRows < 0 ||
		h.numNulls < 0 || h.numNulls > h.numValues || h.defLen+h.repLen > h.compressed || h.defLen+h.repLen > h.uncompressed {
		return h, 0, fmt.Errorf("page header: bad sizes")
	}
	return h, len(b) - len(c.b), nil
}

// pageLocation is an offset index entry.
type pageLocation struct {
	offset, size, firstRow int64
}

// offsetIndex is a column chunk's offset index (a parquet.OffsetIndex).
type offsetIndex []pageLocation

func (x offsetIndex) NumPages() int                  { return len(x) }
func (x offsetIndex) Offset(i int) int64             { return x[i].offset }
func (x offsetIndex) CompressedPageSize(i int) int64 { return x[i].size }
func (x offsetIndex) FirstRowIndex(i int) int64      { return x[i].firstRow }

// parseOffsetIndex parses an OffsetIndex.
func parseOffsetIndex(b []byte) (offsetIndex, error) {
	c := &compactReader{b: b}
	var out offsetIndex
	c.fields(func(id int16, t byte) {
		if id != 1 || t != ctList {
			c.skip(t)
			return
		}
		n, _ := c.list()
		out = make([]pageLocation, 0, n)
		for range n {
			var l pageLocation
			c.fields(func(id int16, t byte) {
				switch {
				case id == 1 && t == ctI64:
					l.offset = c.int()
				case id == 2 && t == ctI32:
					l.size = c.int()
				case id == 3 && t == ctI64:
					l.firstRow = c.int()
				default:
					c.skip(t)
				}
			})
			out = append(out, l)
		}
	})
	if c.err != nil {
		return nil, fmt.Errorf("offset index: %w", c.err)
	}
	return out, nil
}
