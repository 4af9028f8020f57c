package columns

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"math/bits"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
)

// Reasons a record is rejected. They are counted per reason, never fatal.
var (
	// ErrNoEventTime means the record has no parseable eventTime (redacted or missing).
	ErrNoEventTime = errors.New("record without a valid eventTime")
	// ErrNoEventID means the record has no eventID, so it cannot be deduplicated.
	ErrNoEventID = errors.New("record without eventID")
	// ErrNotObject means an element of Records is not a JSON object.
	ErrNotObject = errors.New("record is not a JSON object")
)

// Builder accumulates decoded records column by column in plain Go slices
// (an append per value, nothing else), and builds Arrow records from them in
// any row order with Take, so a batch is sorted in the same pass that copies
// it into Arrow memory. It belongs to one goroutine; Reset reuses its memory
// for the next batch, so a long run stops allocating after its first batch.
type Builder struct {
	mem   memory.Allocator
	gen   uint32    // the batch's generation, for whoami.refs; never 0
	str   []*strCol // indexed by column position; nil for non-string columns
	times []int64
	bools [][]int8 // indexed by column position: -1 null, 0 false, 1 true
	res   resCol

	// Append's scratch: a record's top-level values copied back to back,
	// and their spans
	raw   []byte
	spans [numFields]cloudtrail.Span
	// appendResources' scratch: a row's elements (ARN, type, accountId)
	resScratch [][3]string

	jsonBytes int64 // JSON behind the rows (AddDataBytes)

	ids   *identityCache
	idctx struct {
		recipient, eventType, region []byte // copies of the last context's strings
		h                            [2]uint64
		set                          bool
	}
	scratch whoami // the identity of the record being appended, when it is not cached
	// two independent seeds: an identity block's key is its two hashes
	seed, seed2 maphash.Seed

	clock clock // eventTime's parser, which keeps the last day it read
}

// ref is where a value lies in its column's bytes; n < 0 marks a null.
type ref struct {
	off uint32
	n   int32
}

var nullRef = ref{n: -1}

// strCol is one string column: its values' bytes, and where each value
// lies in them. Values are copied in file order, which keeps a column's
// bytes together for the encoder's gather in sorted order (cutting them in
// place from the files' JSON instead made that gather slower than the
// copy it saved).
//
// The columns that the store dictionary-encodes intern their values per
// batch: equal values share one ref and are stored once, so the encoder,
// which meets them in sorted order, sees a repeat by its address without
// reading its bytes. Rows of one identity share its cells' refs the same
// way (whoami.refs).
type strCol struct {
	data   []byte
	refs   []ref
	nulls  int
	intern map[string]ref // nil for columns that are not interned
	last   ref            // the value interned last
	// recent holds refs of values interned lately, by a cheap hash of
	// the value, in front of intern (whose lookups hash the whole value)
	recent *[recentSlots]ref
}

const recentSlots = 256

func (c *strCol) add(s string) { c.refs = append(c.refs, c.refOf(s)) }

// refOf stores s, or finds it in an interned column, and returns its ref.
func (c *strCol) refOf(s string) ref {
	if c.intern == nil {
		return c.store(s)
	}
	// Consecutive records often repeat a value (the same file, the same
	// event source): check the last one before hashing.
	if l := c.last; l.n == int32(len(s)) && c.str(l) == s {
		return l
	}
	slot := &c.recent[quickHash(s)]
	if r := *slot; r.n == int32(len(s)) && c.str(r) == s {
		c.last = r
		return r
	}
	r, ok := c.intern[s]
	if !ok {
		r = c.store(s)
		c.intern[strings.Clone(s)] = r
	}
	c.last, *slot = r, r
	return r
}

// quickHash picks a recent slot for s from its length and its first and
// last eight bytes: a few instructions, where a map hashes every byte.
func quickHash(s string) uint8 {
	n := len(s)
	x := uint64(n)
	if n >= 8 {
		p := unsafe.StringData(s)
		x ^= binary.LittleEndian.Uint64(unsafe.Slice(p, 8))
		x ^= bits.RotateLeft64(binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(p), n-8)), 8)), 29)
	} else {
		for i := 0; i < n; i++ {
			x = x<<8 | uint64(s[i])
		}
	}
	return uint8((x * 0x9e3779b97f4a7c15) >> 56)
}

func (c *strCol) store(s string) ref {
	off := len(c.data)
	if uint64(off)+uint64(len(s)) > maxColumnBytes { // in 64 bits: int is 32 on 386
		panic("columns: a column over 4 GiB in one batch") // ingest cuts batches far below this (MaxBatchBytes)
	}
	c.data = append(c.data, s...)
	return ref{off: uint32(off), n: int32(len(s))}
}

// maxColumnBytes bounds a column's bytes in a batch: refs hold 32-bit offsets.
const maxColumnBytes = 1<<32 - 1

func (c *strCol) str(r ref) string {
	if r.n <= 0 {
		return ""
	}
	return unsafe.String(&c.data[r.off], int(r.n))
}

// cellRef is refOf for a cell, nullRef for a null one.
func (c *strCol) cellRef(v cell) ref {
	if v.null {
		return nullRef
	}
	return c.refOf(v.s)
}

// push appends a ref made by refOf (or nullRef).
func (c *strCol) push(r ref) {
	c.refs = append(c.refs, r)
	if r.n < 0 {
		c.nulls++
	}
}

func (c *strCol) addNull() {
	c.refs = append(c.refs, nullRef)
	c.nulls++
}

// span is where item i lies, given the end offset of every item.
func span(ends []int32, i int) (int32, int32) {
	if i == 0 {
		return 0, ends[0]
	}
	return ends[i-1], ends[i]
}

func (c *strCol) value(i int) string { return c.str(c.refs[i]) }

// truncate drops the items from n on.
func (c *strCol) truncate(n int) {
	if len(c.refs) <= n {
		return
	}
	for _, r := range c.refs[n:] {
		if r.n < 0 {
			c.nulls--
		}
	}
	c.refs = c.refs[:n]
}

func (c *strCol) valid(i int) bool { return c.refs[i].n >= 0 }

func (c *strCol) reset() {
	c.data, c.refs, c.nulls, c.last = c.data[:0], c.refs[:0], 0, nullRef
	clear(c.intern)
	if c.recent != nil {
		for i := range c.recent {
			c.recent[i] = nullRef // the last batch's offsets mean nothing now
		}
	}
}

// resCol is the resources list: per row the end of its elements (or null),
// and the elements' three fields.
type resCol struct {
	ends            []int32
	valid           []bool
	nulls           int
	arn, typ, accnt *strCol
}

// NewBuilder returns a Builder whose records allocate from mem.
func NewBuilder(mem memory.Allocator) *Builder {
	n := len(Schema.Fields())
	b := &Builder{mem: mem, gen: 1, str: make([]*strCol, n), bools: make([][]int8, n), seed: maphash.MakeSeed(), seed2: maphash.MakeSeed(), ids: new(identityCache)}
	interned := dictColumns()
	newCol := func(name string) *strCol {
		c := &strCol{last: nullRef}
		if interned[name] {
			c.intern, c.recent = map[string]ref{}, new([recentSlots]ref)
			c.reset()
		}
		return c
	}
	b.res.arn, b.res.typ, b.res.accnt = newCol(Resources+"."+ResourceARN), newCol(Resources+"."+ResourceType), newCol(Resources+"."+ResourceAccount)
	for i, f := range Schema.Fields() {
		switch f.Type.ID() {
		case arrow.STRING:
			b.str[i] = newCol(f.Name)
		case arrow.BOOL:
			b.bools[i] = []int8{}
		case arrow.TIMESTAMP, arrow.LIST:
		default:
			panic("columns: unhandled type for " + f.Name)
		}
	}
	return b
}

// Len is the number of rows appended since the last Reset.
func (b *Builder) Len() int { return len(b.times) }

// PrincipalARN returns row i's principal_arn ("" when null). The string
// aliases the builder's memory: valid until Reset.
func (b *Builder) PrincipalARN(i int) string { return b.str[colPrincipalARN].value(i) }

// EventTime returns row i's event_time in milliseconds since the epoch.
func (b *Builder) EventTime(i int) int64 { return b.times[i] }

// AddDataBytes records that n more bytes of JSON stand behind the rows
// appended; DataBytes tells a caller when to cut a batch.
func (b *Builder) AddDataBytes(n int64) { b.jsonBytes += n }

// DataBytes is the JSON size counted by AddDataBytes since the last Reset.
func (b *Builder) DataBytes() int64 { return b.jsonBytes }

// MaxBatchBytes bounds the JSON a caller gathers in one batch before it
// cuts it: a column's 32-bit offsets must reach past the largest file that
// may follow (2 GiB, the reader's cap).
const MaxBatchBytes = 1 << 30

// Reset forgets the rows, keeping the memory for the next batch.
func (b *Builder) Reset() {
	b.gen++
	if b.gen == 0 {
		b.gen = 1
	}

	for _, c := range b.str {
		if c != nil {
			c.reset()
		}
	}
	for i := range b.bools {
		if b.bools[i] != nil {
			b.bools[i] = b.bools[i][:0]
		}
	}
	b.times = b.times[:0]
	b.res.ends, b.res.valid, b.res.nulls = b.res.ends[:0], b.res.valid[:0], 0
	b.res.arn.reset()
	b.res.typ.reset()
	b.res.accnt.reset()
	b.jsonBytes = 0
}

// Rollback drops the rows from n on (n <= Len) and forgets what the
// builder caches, for a caller that recovered from a panic in an append:
// the columns may then hold part of a row and the caches part of an entry.
// The values' bytes stay until Reset (kept rows and interned values point
// into them); DataBytes is the caller's to keep right.
func (b *Builder) Rollback(n int) {
	for _, c := range b.str {
		if c != nil {
			c.truncate(n)
		}
	}
	for i, col := range b.bools {
		if len(col) > n {
			b.bools[i] = col[:n]
		}
	}
	b.times = b.times[:min(n, len(b.times))]
	r := &b.res
	if len(r.ends) > n {
		for _, v := range r.valid[n:] {
			if !v {
				r.nulls--
			}
		}
		r.ends, r.valid = r.ends[:n], r.valid[:n]
	}
	elems := 0
	if n > 0 {
		elems = int(r.ends[n-1])
	}
	r.arn.truncate(elems)
	r.typ.truncate(elems)
	r.accnt.truncate(elems)
	*b.ids = identityCache{}
	b.idctx.set = false
	b.clock = clock{}
}

// NewRecord returns all rows appended so far, in order, and resets the
// builder. The caller releases the record.
func (b *Builder) NewRecord() arrow.Record {
	idx := make([]int32, b.Len())
	for i := range idx {
		idx[i] = int32(i)
	}
	rec := b.Take(idx)
	b.Reset()
	return rec
}

// Take builds an Arrow record of the rows at idx, in that order, allocating
// from the builder's allocator: each column is sized first, then filled in
// one pass. The caller releases the record.
func (b *Builder) Take(idx []int32) arrow.Record {
	fields := Schema.Fields()
	cols := make([]arrow.Array, len(fields))
	for i, f := range fields {
		switch {
		case b.str[i] != nil:
			cols[i] = takeStrings(b.mem, b.str[i], idx)
		case b.bools[i] != nil:
			cols[i] = takeBools(b.mem, b.bools[i], idx)
		case f.Type.ID() == arrow.TIMESTAMP:
			cols[i] = b.takeTimes(idx)
		default:
			cols[i] = b.takeResources(idx)
		}
	}
	rec := array.NewRecord(Schema, cols, int64(len(idx)))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func newBuffer(mem memory.Allocator, n int) *memory.Buffer {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n)
	return buf
}

// takeStrings copies the values at idx into a new string array.
func takeStrings(mem memory.Allocator, c *strCol, idx []int32) arrow.Array {
	size := 0
	for _, i := range idx {
		size += int(max(c.refs[i].n, 0))
	}
	offBuf := newBuffer(mem, (len(idx)+1)*arrow.Int32SizeBytes)
	dataBuf := newBuffer(mem, size)
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	data := dataBuf.Bytes()
	var validBuf *memory.Buffer
	var valid []byte
	if c.nulls > 0 {
		validBuf = newBuffer(mem, int(bitutil.BytesForBits(int64(len(idx)))))
		valid = validBuf.Bytes()
		clear(valid)
	}
	pos, nulls := int32(0), 0
	offs[0] = 0
	for k, i := range idx {
		pos += int32(copy(data[pos:], c.value(int(i))))
		offs[k+1] = pos
		if valid != nil {
			if c.valid(int(i)) {
				bitutil.SetBit(valid, k)
			} else {
				nulls++
			}
		}
	}
	d := array.NewData(arrow.BinaryTypes.String, len(idx), []*memory.Buffer{validBuf, offBuf, dataBuf}, nil, nulls, 0)
	arr := array.NewStringData(d)
	d.Release()
	for _, buf := range []*memory.Buffer{validBuf, offBuf, dataBuf} {
		if buf != nil {
			buf.Release()
		}
	}
	return arr
}

func takeBools(mem memory.Allocator, vals []int8, idx []int32) arrow.Array {
	n := int(bitutil.BytesForBits(int64(len(idx))))
	valBuf, validBuf := newBuffer(mem, n), newBuffer(mem, n)
	v, ok := valBuf.Bytes(), validBuf.Bytes()
	clear(v)
	clear(ok)
	nulls := 0
	for k, i := range idx {
		switch vals[i] {
		case 1:
			bitutil.SetBit(v, k)
			bitutil.SetBit(ok, k)
		case 0:
			bitutil.SetBit(ok, k)
		default:
			nulls++
		}
	}
	d := array.NewData(arrow.FixedWidthTypes.Boolean, len(idx), []*memory.Buffer{validBuf, valBuf}, nil, nulls, 0)
	arr := array.NewBooleanData(d)
	d.Release()
	valBuf.Release()
	validBuf.Release()
	return arr
}

func (b *Builder) takeTimes(idx []int32) arrow.Array {
	buf := newBuffer(b.mem, len(idx)*arrow.Int64SizeBytes)
	out := arrow.Int64Traits.CastFromBytes(buf.Bytes())
	for k, i := range idx {
		out[k] = b.times[i]
	}
	d := array.NewData(TimeType, len(idx), []*memory.Buffer{nil, buf}, nil, 0, 0)
	arr := array.NewTimestampData(d)
	d.Release()
	buf.Release()
	return arr
}

func (b *Builder) takeResources(idx []int32) arrow.Array {
	r := &b.res
	offBuf := newBuffer(b.mem, (len(idx)+1)*arrow.Int32SizeBytes)
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	var validBuf *memory.Buffer
	var valid []byte
	if r.nulls > 0 {
		validBuf = newBuffer(b.mem, int(bitutil.BytesForBits(int64(len(idx)))))
		valid = validBuf.Bytes()
		clear(valid)
	}
	var sub []int32
	nulls := 0
	offs[0] = 0
	for k, i := range idx {
		a, e := r.span(int(i))
		for j := a; j < e; j++ {
			sub = append(sub, j)
		}
		offs[k+1] = int32(len(sub))
		if valid != nil {
			if r.valid[i] {
				bitutil.SetBit(valid, k)
			} else {
				nulls++
			}
		}
	}
	children := []arrow.ArrayData{
		takeStrings(b.mem, r.arn, sub).Data(),
		takeStrings(b.mem, r.typ, sub).Data(),
		takeStrings(b.mem, r.accnt, sub).Data(),
	}
	st := array.NewData(ResourceStruct, len(sub), []*memory.Buffer{nil}, children, 0, 0)
	for _, c := range children {
		c.Release() // the struct holds them; drop the arrays' references
	}
	lt := Schema.Field(Index(Resources)).Type
	d := array.NewData(lt, len(idx), []*memory.Buffer{validBuf, offBuf}, []arrow.ArrayData{st}, nulls, 0)
	st.Release()
	arr := array.NewListData(d)
	d.Release()
	offBuf.Release()
	if validBuf != nil {
		validBuf.Release()
	}
	return arr
}

// top-level fields a record is read for, in one pass over its keys.
const (
	fEventID = iota
	fEventTime
	fEventVersion
	fEventSource
	fEventName
	fRegion
	fSourceIP
	fUserAgent
	fUserIdentity
	fRecipient
	fErrorCode
	fErrorMessage
	fReadOnly
	fEventType
	fEventCategory
	fManagement
	fVPCE
	fRequest
	fResponse
	fAdditional
	fResources
	fShared
	fTLS
	numFields
)

// fieldOf returns the scratch slot of a top-level key, or -1. A switch
// compiles to a faster lookup than a map on this hot path.
func fieldOf(k string) int {
	switch k {
	case "eventID":
		return fEventID
	case "eventTime":
		return fEventTime
	case "eventVersion":
		return fEventVersion
	case "eventSource":
		return fEventSource
	case "eventName":
		return fEventName
	case "awsRegion":
		return fRegion
	case "sourceIPAddress":
		return fSourceIP
	case "userAgent":
		return fUserAgent
	case "userIdentity":
		return fUserIdentity
	case "recipientAccountId":
		return fRecipient
	case "errorCode":
		return fErrorCode
	case "errorMessage":
		return fErrorMessage
	case "readOnly":
		return fReadOnly
	case "eventType":
		return fEventType
	case "eventCategory":
		return fEventCategory
	case "managementEvent":
		return fManagement
	case "vpcEndpointId":
		return fVPCE
	case "requestParameters":
		return fRequest
	case "responseElements":
		return fResponse
	case "additionalEventData":
		return fAdditional
	case "resources":
		return fResources
	case "sharedEventID":
		return fShared
	case "tlsDetails":
		return fTLS
	}
	return -1
}

// Row is what Append reports about an appended record: enough for the caller
// to route it to a partition and deduplicate it without reading columns back.
type Row struct {
	EventID   string // aliases the input; copy before keeping
	EventTime time.Time
	Account   string // recipient account, or the principal's when absent; aliases the input or the identity cache until the next Append: copy before keeping
}

// Append decodes one record into the builders. A record that cannot be stored
// (not an object, no eventTime, no eventID) is not appended and the reason is
// returned; the builder is unchanged in that case.
func (b *Builder) Append(rec gjson.Result, sourceObject string) (Row, error) {
	if !rec.IsObject() {
		return Row{}, ErrNotObject
	}
	b.raw = b.raw[:0]
	clear(b.spans[:])
	rec.ForEach(func(k, v gjson.Result) bool {
		if i := fieldOf(k.Str); i >= 0 && b.spans[i].Kind == 0 { // the first of a repeated key
			start := len(b.raw)
			b.raw = append(b.raw, v.Raw...)
			b.spans[i] = cloudtrail.Span{Start: int32(start), End: int32(len(b.raw)), Kind: kindOf(v.Raw),
				Esc: v.Type == gjson.String && strings.IndexByte(v.Raw, '\\') >= 0}
		}
		return true
	})
	return b.appendFields(b.raw, b.spans[:], sourceObject)
}

// kindOf classifies a raw JSON value as cloudtrail.Span.Kind does.
func kindOf(raw string) byte {
	if raw == "" {
		return 0
	}
	switch c := raw[0]; c {
	case '"', '{', '[', 't', 'f', 'n':
		return c
	}
	return '0'
}

// NumFields is the number of top-level keys a record is read for; Slot
// maps a key to its index. Together they configure a cloudtrail.Splitter
// whose spans AppendSpans takes.
const NumFields = numFields

// Slot returns the field index of a record's top-level key, or -1.
func Slot(key string) int { return fieldOf(key) }

// AppendSpans is Append for a record already split by a cloudtrail.Splitter
// configured with Slot and NumFields: rec is the record's own span, vals its
// field spans, both indexing data. It reads no byte twice.
func (b *Builder) AppendSpans(data []byte, rec cloudtrail.Span, vals []cloudtrail.Span, sourceObject string) (Row, error) {
	if rec.Kind != '{' {
		return Row{}, ErrNotObject
	}
	return b.appendFields(data, vals, sourceObject)
}

// appendFields appends the record whose top-level values are f (indexed
// by field), spans of data. Scalars are read from their spans directly;
// only the objects that need walking (userIdentity on a cache miss,
// resources, tlsDetails) become gjson values.
func (b *Builder) appendFields(data []byte, f []cloudtrail.Span, sourceObject string) (Row, error) {
	id := spanStr(data, f[fEventID])
	if id == "" {
		return Row{}, ErrNoEventID
	}
	t, ok := b.clock.parse(spanStr(data, f[fEventTime]))
	if !ok {
		return Row{}, ErrNoEventTime
	}
	recipient := spanStr(data, f[fRecipient])
	who := b.identity(f[fUserIdentity].Result(data), recipient, spanStr(data, f[fEventType]), spanStr(data, f[fEventSource]), spanStr(data, f[fRegion]))

	b.str[colEventID].add(id)
	b.times = append(b.times, t.UnixMilli())
	for _, c := range [...]struct{ col, field int }{
		{colEventVersion, fEventVersion}, {colEventSource, fEventSource}, {colEventName, fEventName},
		{colAWSRegion, fRegion}, {colSourceIP, fSourceIP}, {colUserAgent, fUserAgent},
	} {
		b.appendCell(c.col, spanCell(data, f[c.field]))
	}
	if who.gen != b.gen {
		// The first of the batch's rows from this identity: its values'
		// refs, which its other rows share.
		for k, col := range identityCols {
			who.refs[k] = b.str[col].cellRef(who.cells[k])
		}
		who.gen = b.gen
	}
	for k, col := range identityCols {
		b.str[col].push(who.refs[k])
	}
	b.appendCell(colRecipientAccount, spanCell(data, f[fRecipient]))
	b.bools[colMFA] = append(b.bools[colMFA], who.mfa)
	b.appendCell(colErrorCode, spanCell(data, f[fErrorCode]))
	b.appendCell(colErrorMessage, spanCell(data, f[fErrorMessage]))
	b.bools[colReadOnly] = append(b.bools[colReadOnly], spanBool(data, f[fReadOnly]))
	b.appendCell(colEventType, spanCell(data, f[fEventType]))
	b.appendCell(colEventCategory, spanCell(data, f[fEventCategory]))
	b.bools[colManagement] = append(b.bools[colManagement], spanBool(data, f[fManagement]))
	b.appendCell(colVPCE, spanCell(data, f[fVPCE]))
	b.appendRaw(colRequest, data, f[fRequest])
	b.appendRaw(colResponse, data, f[fResponse])
	b.appendRaw(colAdditional, data, f[fAdditional])
	b.appendResources(f[fResources].Result(data))
	b.appendCell(colShared, spanCell(data, f[fShared]))
	if tls := f[fTLS]; tls.Kind == '{' {
		if v, ok := flatMember(spanRaw(data, tls), "tlsVersion"); ok {
			b.appendCell(colTLS, stringCell(v))
		} else {
			b.appendStr(colTLS, tls.Result(data).Get("tlsVersion"))
		}
	} else {
		b.str[colTLS].addNull()
	}
	b.str[colSourceObject].add(sourceObject)

	acct := recipient
	if acct == "" {
		acct = who.cells[cellPrincipalAccount].s
	}
	return Row{EventID: id, EventTime: t, Account: acct}, nil
}

// spanRaw is the raw JSON text of a value.
func spanRaw(data []byte, sp cloudtrail.Span) string {
	if sp.End <= sp.Start {
		return ""
	}
	return unsafe.String(&data[sp.Start], int(sp.End-sp.Start))
}

// spanStr is a string value, unescaped ("" for other kinds), as gjson's
// Result.Str is.
func spanStr(data []byte, sp cloudtrail.Span) string {
	if sp.Kind != '"' {
		return ""
	}
	raw := spanRaw(data, sp)
	if sp.Esc {
		return gjson.Parse(raw).Str // the rare path: gjson unescapes
	}
	return raw[1 : len(raw)-1]
}

// spanCell is strCell for a span.
func spanCell(data []byte, sp cloudtrail.Span) cell {
	switch sp.Kind {
	case '"':
		return stringCell(spanStr(data, sp))
	case 0, 'n':
		return cell{null: true}
	default:
		return cell{s: spanRaw(data, sp)}
	}
}

// spanBool is boolOf for a span: JSON booleans and the strings
// "true"/"false" (which is how CloudTrail writes mfaAuthenticated).
func spanBool(data []byte, sp cloudtrail.Span) int8 {
	switch sp.Kind {
	case 't':
		return 1
	case 'f':
		return 0
	case '"':
		switch spanStr(data, sp) {
		case "true":
			return 1
		case "false":
			return 0
		}
	}
	return -1
}

// cell is one string column's value: null, or a string (never empty).
type cell struct {
	s    string
	null bool
}

func stringCell(s string) cell { return cell{s: s, null: s == ""} }

// strCell renders a JSON value the way appendStr stores it.
func strCell(v gjson.Result) cell {
	switch {
	case v.Type == gjson.String:
		return stringCell(v.Str)
	case v.Type == gjson.Null || !v.Exists():
		return cell{null: true}
	default:
		return cell{s: v.Raw}
	}
}

func boolOf(v gjson.Result) int8 {
	switch {
	case v.Type == gjson.True || (v.Type == gjson.String && v.Str == "true"):
		return 1
	case v.Type == gjson.False || (v.Type == gjson.String && v.Str == "false"):
		return 0
	}
	return -1
}

func (b *Builder) appendCell(col int, c cell) {
	sc := b.str[col]
	sc.push(sc.cellRef(c))
}

// identityCols are the columns derived from userIdentity, in the order of
// whoami.cells.
var identityCols = [...]int{colIdentityType, colPrincipalARN, colPrincipalKind, colUserIdentityARN,
	colPrincipalID, colSessionName, colPrincipalAccount, colAccessKeyID, colInvokedBy}

// cellPrincipalAccount is the index of principal_account in identityCols.
const cellPrincipalAccount = 6

// whoami is what a record's userIdentity (with the few record fields that
// ResolveIdentity reads) comes to in the columns. What a hit reads (gen,
// refs, mfa) comes first, in the struct's first two cache lines.
type whoami struct {
	// the cells' refs in the batch of generation gen
	gen   uint32
	mfa   int8
	refs  [len(identityCols)]ref
	cells [len(identityCols)]cell
	buf   []byte // the memory its strings are in (keep)
}

// identityCache is a set-associative cache of resolved identities: a
// hash picks a set of identityWays entries, and a miss replaces the set's
// entries in turn. Unlike a Go map that evicts, it needs no deletes (whose
// tombstones lengthen a map's probes). 8,192 entries of about 0.6 KB are
// 5 MiB a worker. Measured on the 1 GiB bench corpus (850,713 records, two
// workers), 4,096 entries missed 274,593 times, 8,192 219,875 times and
// 16,384 187,573 times; a miss costs about 3 µs in a whole run (parse,
// resolve, copy, with cold CPU caches; 0.75 µs to parse and resolve in
// BenchmarkResolveIdentity). (A Go map of 4,096 evicting an eighth at
// random missed 292,316 times.)
type identityCache struct {
	sets [identitySets]identitySet
	next [identitySets]uint8 // the way a miss replaces next
}

// identitySet holds its entries' keys beside them, so a lookup compares
// them in the set's own cache lines and follows only the pointer that
// matches.
type identitySet struct {
	keys [identityWays][2]uint64
	ws   [identityWays]*whoami
}

const (
	identityWays = 4
	identitySets = 1 << 11
)

// identity resolves a userIdentity block, from a cache when the same block
// came with the same context before. A trail is made of a few identities
// (a session repeats its block on every call), so parsing and resolving
// each block anew (a gjson walk, string building) would be most of the
// decoder's work after the split. The key is the block, the recipient
// account, the event type and the region's partition: everything
// ResolveIdentity reads except the event source, which only AWS-service
// and missing identities need; those are resolved every time.
//
// The key is two 64-bit hashes of those four strings under independent
// random seeds, kept in the set: comparing a cached copy of the block, 500
// to 1,000 bytes, byte for byte read that copy and the entry from memory on
// every record. Two keys of a run are taken for one only if both hashes
// agree, a chance of about 2^-128 for a pair, so under 10^-25 for a run of
// ten million distinct blocks: far below the rate of undetected memory
// errors.
func (b *Builder) identity(ui gjson.Result, recipient, eventType, source, region string) *whoami {
	ctx := b.contextHash(recipient, eventType, region)
	var key [2]uint64
	for h, seed := range [2]maphash.Seed{b.seed, b.seed2} {
		key[h] = (maphash.String(seed, ui.Raw) ^ ctx[h]) * 0x9e3779b97f4a7c15
	}
	i := key[0] % identitySets
	set := &b.ids.sets[i]
	for k, sk := range set.keys {
		if sk == key && set.ws[k] != nil {
			return set.ws[k]
		}
	}
	id := cloudtrail.ParseIdentity(ui)
	p := cloudtrail.ResolveIdentity(id, cloudtrail.Context{RecipientAccount: recipient, EventType: eventType, EventSource: source, Region: region})
	resolved := whoami{
		cells: [len(identityCols)]cell{strCell(id.Type), stringCell(p.ARN), stringCell(p.Kind), strCell(id.ARN),
			strCell(id.PrincipalID), stringCell(p.SessionName), stringCell(p.Account), strCell(id.AccessKeyID), strCell(id.InvokedBy)},
		mfa: boolOf(id.MFAAuthenticated),
	}
	if id.UsesEventSource() {
		// Resolved from the event source too: not cached. The builder's
		// scratch entry holds it until the next record (its generation 0
		// is never a batch's, so its rows store its cells anew).
		b.scratch = resolved
		return &b.scratch
	}
	// The entry this miss replaces is reused, with its buffer: nothing
	// else holds it (rows copied its cells into the columns), so a cache
	// that has filled allocates nothing more.
	way := b.ids.next[i] % identityWays
	b.ids.next[i]++
	w := set.ws[way]
	if w == nil {
		w = new(whoami)
	}
	buf := w.buf
	*w = resolved
	w.keep(buf)
	set.keys[way], set.ws[way] = key, w
	return w
}

// contextHash returns, under each seed, a hash of the recipient account,
// the event type and the region's partition: the part of an identity's key
// that is not the block. Records of a file nearly all share these, so the
// last context's hashes are kept, with copies of its strings (the record's
// alias the file's bytes).
func (b *Builder) contextHash(recipient, eventType, region string) [2]uint64 {
	c := &b.idctx
	if c.set && string(c.recipient) == recipient && string(c.eventType) == eventType && string(c.region) == region {
		return c.h
	}
	partition := cloudtrail.RegionPartition(region)
	for h, seed := range [2]maphash.Seed{b.seed, b.seed2} {
		var k uint64
		for _, s := range [...]string{recipient, eventType, partition} {
			k = (k ^ maphash.String(seed, s)) * 0x9e3779b97f4a7c15
		}
		c.h[h] = k
	}
	c.recipient = append(c.recipient[:0], recipient...)
	c.eventType = append(c.eventType[:0], eventType...)
	c.region = append(c.region[:0], region...)
	c.set = true
	return c.h
}

// keep makes w own its strings, which may alias the file's bytes, in one
// buffer (buf's memory when it is large enough).
func (w *whoami) keep(buf []byte) {
	n := 0
	for _, c := range w.cells {
		n += len(c.s)
	}
	if cap(buf) < n {
		buf = make([]byte, 0, n+n/4)
	}
	buf = buf[:0]
	own := func(s string) string {
		start := len(buf)
		buf = append(buf, s...) // within capacity: never moves
		return unsafe.String(unsafe.SliceData(buf[start:]), len(s))
	}
	for i := range w.cells {
		w.cells[i].s = own(w.cells[i].s)
	}
	w.buf = buf
}

// appendStr stores a JSON string value; other JSON types are stored as their
// raw text so nothing is silently lost (CloudTrail sometimes logs numbers or
// objects where a string is usual).
func (b *Builder) appendStr(col int, v gjson.Result) { b.appendCell(col, strCell(v)) }

// appendRaw stores a JSON value's raw text (objects for request parameters
// and the like); absent and null values are null.
func (b *Builder) appendRaw(col int, data []byte, sp cloudtrail.Span) {
	if sp.Kind == 0 || sp.Kind == 'n' {
		b.str[col].addNull()
		return
	}
	b.str[col].add(spanRaw(data, sp))
}

func (b *Builder) appendResources(v gjson.Result) {
	r := &b.res
	if !v.IsArray() {
		r.endRow(false)
		return
	}
	var ok bool
	if b.resScratch, ok = flatResources(v.Raw, b.resScratch); !ok {
		b.resScratch = gjsonResources(v, b.resScratch)
	}
	for _, f := range b.resScratch {
		appendOpt(r.arn, f[0])
		appendOpt(r.typ, f[1])
		appendOpt(r.accnt, f[2])
	}
	r.endRow(true)
}

// resourceField is the element field a key holds (0 ARN, 1 type, 2
// accountId), or -1.
func resourceField(k string) int {
	switch k {
	case "ARN":
		return 0
	case "type":
		return 1
	case "accountId":
		return 2
	}
	return -1
}

// gjsonResources reads any resources array into out, as flatResources
// reads the compact ones: one walk over each element's keys, not one per
// field; the first of a repeated key wins, as with gjson's Get.
func gjsonResources(v gjson.Result, out [][3]string) [][3]string {
	out = out[:0]
	v.ForEach(func(_, e gjson.Result) bool {
		var f [3]gjson.Result
		e.ForEach(func(k, val gjson.Result) bool {
			if i := resourceField(k.Str); i >= 0 && !f[i].Exists() {
				f[i] = val
			}
			return true
		})
		out = append(out, [3]string{f[0].Str, f[1].Str, f[2].Str})
		return true
	})
	return out
}

// flatResources reads a resources array the way CloudTrail writes it,
// compact objects of string members without escapes, into out: each
// element's ARN, type and accountId (the first of a repeated key, as with
// gjson's Get). ok is false for any other shape (whitespace, an escape, a
// value that is not a string, an element that is not an object), which the
// caller leaves to gjson: so what it answers, it answers as gjson does.
func flatResources(raw string, out [][3]string) ([][3]string, bool) {
	out = out[:0]
	n := len(raw)
	if n < 2 || raw[0] != '[' {
		return out, false
	}
	if raw[1] == ']' {
		return out, n == 2
	}
	i := 1
	for {
		var f [3]string
		var seen [3]bool
		var ok bool
		i, ok = flatObject(raw, i, func(k, v string) {
			if slot := resourceField(k); slot >= 0 && !seen[slot] {
				f[slot], seen[slot] = v, true
			}
		})
		if !ok || i >= n {
			return out, false
		}
		out = append(out, f)
		switch raw[i] {
		case ',':
			i++
		case ']':
			return out, i+1 == n
		default:
			return out, false
		}
	}
}

// flatMember is the first string member named key of a compact object of
// string members without escapes (as CloudTrail writes tlsDetails); ok is
// false for any other shape, or no such member, which the caller leaves to
// gjson.
func flatMember(raw, key string) (v string, ok bool) {
	found := false
	end, ok := flatObject(raw, 0, func(k, val string) {
		if !found && k == key {
			v, found = val, true
		}
	})
	return v, ok && found && end == len(raw)
}

// flatObject walks the compact object at raw[i] == '{' whose members are
// all plain strings (plainString), calling member for each in order, and
// returns the index after it; ok is false at anything else.
func flatObject(raw string, i int, member func(k, v string)) (int, bool) {
	n := len(raw)
	if i >= n || raw[i] != '{' {
		return 0, false
	}
	i++
	for i < n && raw[i] != '}' {
		k, j, ok := plainString(raw, i)
		if !ok || j >= n || raw[j] != ':' {
			return 0, false
		}
		v, j, ok := plainString(raw, j+1)
		if !ok || j >= n {
			return 0, false
		}
		member(k, v)
		i = j
		switch raw[i] {
		case ',':
			i++
			if i >= n || raw[i] == '}' {
				return 0, false
			}
		case '}':
		default:
			return 0, false
		}
	}
	if i >= n {
		return 0, false
	}
	return i + 1, true
}

// plainString is the string starting at raw[i] == '"' and the index after
// it; ok is false when raw[i] is not a quote, or the string is unterminated
// or holds an escape.
func plainString(raw string, i int) (string, int, bool) {
	if i >= len(raw) || raw[i] != '"' {
		return "", 0, false
	}
	end := strings.IndexByte(raw[i+1:], '"')
	if end < 0 {
		return "", 0, false
	}
	v := raw[i+1 : i+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", 0, false
	}
	return v, i + end + 2, true
}

// endRow ends a row's list: the elements appended since the last row, or
// null when !valid (then none were appended).
func (r *resCol) endRow(valid bool) {
	r.ends = append(r.ends, int32(len(r.arn.refs)))
	r.valid = append(r.valid, valid)
	if !valid {
		r.nulls++
	}
}

func appendOpt(c *strCol, s string) {
	if s == "" {
		c.addNull()
		return
	}
	c.add(s)
}

// ParseTime parses CloudTrail's eventTime ("2023-07-10T11:42:36Z") without
// allocating, falling back to RFC 3339 with fractions and offsets. It
// accepts exactly what time.Parse(time.RFC3339Nano, s) accepts, with the
// same instant (FuzzParseTime).
func ParseTime(s string) (time.Time, bool) {
	if len(s) == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		y, ok1 := atoi(s[0:4])
		mo, ok2 := atoi(s[5:7])
		d, ok3 := atoi(s[8:10])
		h, mi, se, ok4 := timeOfDay(s)
		if ok1 && ok2 && ok3 && ok4 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(mo, y) {
			return time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC), true
		}
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// timeOfDay reads the hours, minutes and seconds of a time in the usual
// form ("2023-07-10T11:42:36Z", its colons checked), and whether they are
// digits within their ranges.
func timeOfDay(s string) (h, mi, se int, ok bool) {
	h, ok1 := atoi(s[11:13])
	mi, ok2 := atoi(s[14:16])
	se, ok3 := atoi(s[17:19])
	return h, mi, se, ok1 && ok2 && ok3 && h < 24 && mi < 60 && se < 60
}

// clock is ParseTime keeping the day of the last time it parsed: a log
// file's records nearly all share their day, so most times need only their
// hours, minutes and seconds read.
type clock struct {
	day      [11]byte // "2023-07-10T" of the last time parsed in the usual form,
	midnight int64    // and its midnight in Unix seconds;
	has      bool     // false until there is one
}

// parse accepts what ParseTime accepts, with the same instant (FuzzClock).
func (c *clock) parse(s string) (time.Time, bool) {
	if c.has && len(s) == 20 && s[:11] == string(c.day[:]) && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		if h, mi, se, ok := timeOfDay(s); ok {
			return time.Unix(c.midnight+int64(h*3600+mi*60+se), 0).UTC(), true
		}
		return time.Time{}, false
	}
	t, ok := ParseTime(s)
	if ok && len(s) == 20 && s[19] == 'Z' {
		h, mi, se := t.Clock()
		copy(c.day[:], s)
		c.midnight, c.has = t.Unix()-int64(h*3600+mi*60+se), true
	}
	return t, ok
}

// daysIn is the number of days of month mo (1-12) of year y: what
// time.Parse allows, so that a day it rejects (February 30th) is not
// quietly carried into the next month by time.Date.
func daysIn(mo, y int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func atoi(s string) (int, bool) {
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

// column positions, resolved once.
var (
	colEventID          = Index(EventID)
	colEventVersion     = Index(EventVersion)
	colEventSource      = Index(EventSource)
	colEventName        = Index(EventName)
	colAWSRegion        = Index(AWSRegion)
	colSourceIP         = Index(SourceIP)
	colUserAgent        = Index(UserAgent)
	colIdentityType     = Index(IdentityType)
	colPrincipalARN     = Index(PrincipalARN)
	colPrincipalKind    = Index(PrincipalKind)
	colUserIdentityARN  = Index(UserIdentityARN)
	colPrincipalID      = Index(PrincipalID)
	colSessionName      = Index(SessionName)
	colAccessKeyID      = Index(AccessKeyID)
	colPrincipalAccount = Index(PrincipalAccount)
	colRecipientAccount = Index(RecipientAccount)
	colInvokedBy        = Index(InvokedBy)
	colMFA              = Index(MFAAuthenticated)
	colErrorCode        = Index(ErrorCode)
	colErrorMessage     = Index(ErrorMessage)
	colReadOnly         = Index(ReadOnly)
	colEventType        = Index(EventType)
	colEventCategory    = Index(EventCategory)
	colManagement       = Index(ManagementEvent)
	colVPCE             = Index(VPCEndpointID)
	colRequest          = Index(RequestParameters)
	colResponse         = Index(ResponseElements)
	colAdditional       = Index(AdditionalEventData)
	colShared           = Index(SharedEventID)
	colTLS              = Index(TLSVersion)
	colSourceObject     = Index(SourceObject)
)
