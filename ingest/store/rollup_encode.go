package store

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"

	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
)

// This file writes a rollupBuilder's rows as a Parquet file of
// columns.RollupRow, with the events encoder's pages, dictionaries and
// indexes (encode.go). The file holds the facets in columns.Facets order,
// each in row groups of its own, so a reader of one facet skips the others
// by the facet column's statistics; within a facet, rows go by principal.
// The footer's key-value metadata rollupIndexKey holds the principal index
// (principals_index.go's format) of those row groups.

// rollupIndexKey names the principal index in a rollup file's footer.
const rollupIndexKey = "iamlens.principals"

// Where a rollup leaf's values come from (leaf.col in rollupLayout).
const (
	srcFacet = iota
	srcPrincipal
	srcKind
	srcAccount
	srcRecipient
	srcOutcome
	srcErrCode
	srcKey
	srcIP
	srcAgent
	srcVPCE
	srcSource
	srcName
	srcType
	srcCategory
	srcRegion
	srcUser
	srcRequest
	srcMessage
	srcResources
	srcCalls
	srcMFA
	srcFirst
	srcLast
)

var rollupSources = map[string]int{
	columns.Facet: srcFacet, columns.PrincipalARN: srcPrincipal, columns.PrincipalKind: srcKind,
	columns.PrincipalAccount: srcAccount, columns.RecipientAccount: srcRecipient, columns.Outcome: srcOutcome,
	columns.ErrorCode: srcErrCode, columns.AccessKeyID: srcKey, columns.SourceIP: srcIP, columns.UserAgent: srcAgent,
	columns.VPCEndpointID: srcVPCE, columns.EventSource: srcSource, columns.EventName: srcName,
	columns.EventType: srcType, columns.EventCategory: srcCategory, columns.AWSRegion: srcRegion,
	columns.UserIdentityARN: srcUser, columns.RequestParameters: srcRequest, columns.ErrorMessage: srcMessage,
	columns.Resources: srcResources, columns.Calls: srcCalls, columns.MFACalls: srcMFA, columns.FirstSeen: srcFirst,
	columns.LastSeen: srcLast,
}

var rollupLayout = sync.OnceValues(func() (*fileLayout, error) {
	l, err := layoutOf(columns.RollupRow{})
	if err != nil {
		return nil, fmt.Errorf("rollup schema: %w", err)
	}
	for i := range l.leaves {
		lf := &l.leaves[i]
		if lf.typ == format.ByteArray && !lf.dict {
			return nil, fmt.Errorf("rollup schema: %v is not dictionary-encoded", lf.path)
		}
		src, ok := rollupSources[lf.path[0]]
		if !ok {
			return nil, fmt.Errorf("rollup schema: no source for %v", lf.path)
		}
		lf.col = src
		if src == srcResources {
			lf.resField = lf.path[len(lf.path)-1]
		}
	}
	return l, nil
})

// column is the builder column that source src reads, and whether the
// builder interns it (its Keys then identify values).
func (b *rollupBuilder) column(src int) (columns.Strings, bool) {
	var c columns.Strings
	switch src {
	case srcPrincipal:
		c = b.principal
	case srcKind:
		c = b.kind
	case srcAccount:
		c = b.account
	case srcRecipient:
		c = b.recipient
	case srcErrCode:
		c = b.errCode
	case srcKey:
		c = b.accessKey
	case srcIP:
		c = b.sourceIP
	case srcAgent:
		c = b.userAgent
	case srcVPCE:
		c = b.vpce
	case srcSource:
		c = b.source
	case srcName:
		c = b.name
	case srcType:
		c = b.typ
	case srcCategory:
		c = b.category
	case srcRegion:
		c = b.region
	case srcUser:
		c = b.userARN
	case srcRequest:
		c = b.request
	case srcMessage:
		c = b.errMessage
	default:
		return columns.Strings{}, false
	}
	return c, c.Interned()
}

// EncodeRollup is encodeRollup for tools and tests: the rollup of rows,
// sorted by principal as WriteTemp takes them.
func EncodeRollup(w io.Writer, rows Rows, o WriteOptions) error {
	codec, err := o.Codec()
	if err != nil {
		return err
	}
	b := rollupBuilders.Get().(*rollupBuilder)
	defer rollupBuilders.Put(b)
	b.build(rows)
	return encodeRollup(w, b, codec, o.rowGroupRows(), o.pageBytes())
}

// rollupBuilders are reused from file to file (their tables and row
// slices grow to a partition's size once).
var rollupBuilders = sync.Pool{New: func() any { return new(rollupBuilder) }}

// A principal with ownGroupRows rows or more in a facet of a file has row
// groups of its own there (the maxOwnGroups largest such, a facet): a
// reader of that principal then decodes the dictionaries of its own values
// only, not the whole file's. The other principals' rows are packed into
// row groups of up to rowGroupRows.
const (
	ownGroupRows = 64
	maxOwnGroups = 8
)

// encodeRollup writes b's rows as one Parquet file.
func encodeRollup(w io.Writer, b *rollupBuilder, codec compress.Codec, rowGroupRows int64, pageBytes int) error {
	l, err := rollupLayout()
	if err != nil {
		return err
	}
	e := &encoder{w: &offsetWriter{w: w}, codec: codec, pageBytes: pageBytes, l: l, dictS: map[string]int32{}}
	if _, err := e.w.Write([]byte("PAR1")); err != nil {
		return err
	}
	n := int64(0)
	for f := range b.order {
		for _, rows := range b.rowGroups(uint8(f), int(rowGroupRows)) {
			if err := e.rollupRowGroup(b, rows); err != nil {
				return err
			}
			n += int64(len(rows))
		}
	}
	kv := []format.KeyValue{{Key: rollupIndexKey, Value: string(b.appendIndex(nil))}}
	return e.finish(n, kv)
}

// rowGroups cuts facet f's rows into row groups (ownGroupRows).
func (b *rollupBuilder) rowGroups(f uint8, rowGroupRows int) [][]int32 {
	rows := b.order[f]
	own := b.own[:0]
	for i, r := range b.runs {
		if r.n[f] >= ownGroupRows {
			own = append(own, int32(i))
		}
	}
	if len(own) > maxOwnGroups {
		slices.SortStableFunc(own, func(x, y int32) int { return int(b.runs[y].n[f] - b.runs[x].n[f]) })
		own = own[:maxOwnGroups]
		slices.Sort(own)
	}
	b.own = own
	var out [][]int32
	pack := func(rows []int32) {
		for lo := 0; lo < len(rows); lo += rowGroupRows {
			out = append(out, rows[lo:min(lo+rowGroupRows, len(rows))])
		}
	}
	at, from := 0, 0 // rows before run i; the pack's first row
	k := 0
	for i, r := range b.runs {
		if k < len(own) && own[k] == int32(i) {
			k++
			pack(rows[from:at])
			pack(rows[at : at+int(r.n[f])])
			from = at + int(r.n[f])
		}
		at += int(r.n[f])
	}
	pack(rows[from:at])
	return out
}

// The principal index of a rollup file (its footer's rollupIndexKey): a
// header line, then one line per principal in the order of the rows, with
// its rows in each facet (columns.Facets order), whose facets' rows lie
// in that order, principal after principal:
//
//	iamlens-rollup-principals v2
//	<bytes shared with the previous ARN>\t"<the rest, Go-quoted>"\t<call rows>\t<principal rows>\t<origin rows>
//
// The rows of events that name no principal are a line whose first field
// is "-". A principal's rows in facet f start after every row of the
// facets before f and the rows in f of the lines before its own.
const rollupIndexHeader = "iamlens-rollup-principals v2\n"

// appendIndex appends the file's principal index to line.
func (b *rollupBuilder) appendIndex(line []byte) []byte {
	line = append(line, rollupIndexHeader...)
	prev := ""
	for _, r := range b.runs {
		arn, _ := b.principal.Value(b.rows[r.first].rep)
		line = appendIndexLine(line, &prev, arn, r.n)
	}
	return line
}

// appendIndexLine appends one principal's line of a principal index: the
// bytes its ARN shares with the line before's (prev), the rest quoted, its
// rows in each facet ("-" for the rows of no principal, arn "").
func appendIndexLine(line []byte, prev *string, arn string, rows [numFacets]int32) []byte {
	if arn != "" {
		n := 0
		for n < len(arn) && n < len(*prev) && arn[n] == (*prev)[n] {
			n++
		}
		line = strconv.AppendInt(line, int64(n), 10)
		line = append(line, '\t')
		line = strconv.AppendQuote(line, arn[n:])
		*prev = arn
	} else {
		line = append(line, "-\t\"\""...)
	}
	for _, c := range rows {
		line = append(line, '\t')
		line = strconv.AppendInt(line, int64(c), 10)
	}
	return append(line, '\n')
}

// usedBy reports whether facet f's rows have values in the leaves that
// source src fills (the others are null).
func usedBy(src int, f uint8) bool {
	switch src {
	case srcFacet, srcPrincipal, srcKind, srcOutcome, srcCalls, srcMFA, srcFirst, srcLast:
		return true
	case srcAccount, srcRecipient:
		return f == facetCall || f == facetPrincipal
	case srcErrCode:
		return f == facetCall || f == facetAccessKey
	case srcKey:
		return f == facetOrigin || f == facetAccessKey
	case srcIP, srcAgent, srcVPCE:
		return f == facetOrigin
	}
	return f == facetCall
}

// rollupRowGroup writes rows, all of one facet, as a row group.
func (e *encoder) rollupRowGroup(b *rollupBuilder, rows []int32) error {
	rg := format.RowGroup{NumRows: int64(len(rows)), FileOffset: e.w.off, Ordinal: int16(len(e.rowGroups))}
	idx := make([]pageIndex, len(e.l.leaves))
	facet := b.rows[rows[0]].facet

	for c := range e.l.leaves {
		lf := &e.l.leaves[c]
		pi := &idx[c]
		cc, err := e.writeChunk(lf, pi, func(s *chunkState) error {
			switch {
			case !usedBy(lf.col, facet):
				e.nulls(s, len(rows))
				return nil
			case lf.resField != "":
				return e.rollupResources(s, b, rows, pi)
			case lf.typ == format.ByteArray:
				return e.rollupStrings(s, b, rows, pi)
			default:
				return e.rollupInts(s, b, rows, pi)
			}
		})
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

// nulls fills the page with n null rows (a column the row group's facet
// does not use): one page of zero levels, which the end of the chunk
// writes.
func (e *encoder) nulls(s *chunkState, n int) {
	e.defs = slices.Grow(e.defs[:0], n)[:n]
	clear(e.defs)
	if s.lf.maxRep > 0 {
		e.reps = slices.Grow(e.reps[:0], n)[:n]
		clear(e.reps)
	}
	s.rows, s.values, s.nulls = n, n, n
}

// addDict adds a value to a dictionary page by its value: a repeat of the
// previous value (the usual case: rows go by principal) costs a comparison.
func (e *encoder) addDict(s *chunkState, v string) {
	if s.prevID < 0 || v != e.prevStr {
		id, seen := e.dictS[v]
		if !seen {
			id = int32(len(e.dictVals))
			e.dictS[v] = id
			e.dictVals = append(e.dictVals, v)
		}
		s.prevID, e.prevStr = id, v
		s.seeStr(v)
	} else if !s.has {
		s.seeStr(v)
	}
	e.ids = append(e.ids, s.prevID)
}

// addKeyed adds a value of a column the builder interns to a dictionary
// page by its key (columns.Strings.Key), as addString does with a map.
func (e *encoder) addKeyed(s *chunkState, v string, key uint64) {
	if s.prevID < 0 || key != s.prevKey {
		id, seen := e.rdict.get(key)
		if !seen {
			id = int32(len(e.dictVals))
			e.rdict.put(key, id)
			e.dictVals = append(e.dictVals, v)
		}
		s.prevID, s.prevKey = id, key
		s.seeStr(v)
	} else if !s.has {
		s.seeStr(v)
	}
	e.ids = append(e.ids, s.prevID)
}

// addHashed adds a value to a dictionary page by a hash of it (the
// builder's, for the values it does not intern): a hit whose value
// differs (two values, one hash) is looked up by value instead.
func (e *encoder) addHashed(s *chunkState, v string, h uint64) {
	if s.prevID >= 0 && h == s.prevKey && v == e.prevStr {
		if !s.has {
			s.seeStr(v)
		}
		e.ids = append(e.ids, s.prevID)
		return
	}
	id, seen := e.rdict.get(h)
	switch {
	case !seen:
		id = int32(len(e.dictVals))
		e.rdict.put(h, id)
		e.dictVals = append(e.dictVals, v)
	case e.dictVals[id] != v:
		if id, seen = e.dictS[v]; !seen {
			id = int32(len(e.dictVals))
			e.dictS[v] = id
			e.dictVals = append(e.dictVals, v)
		}
	}
	s.prevID, s.prevKey, e.prevStr = id, h, v
	s.seeStr(v)
	e.ids = append(e.ids, id)
}

// rollupStrings writes a string column of rows: from the builder column
// its source names, or
// made (the facet, the outcome, the caller's ARN without its session). A
// value is looked up in the chunk's dictionary by its Key where the
// builder interns the column, else by the hash the builder made of it.
func (e *encoder) rollupStrings(s *chunkState, b *rollupBuilder, rows []int32, pi *pageIndex) error {
	optional := s.lf.maxDef > 0
	src := s.lf.col
	col, keyed := b.column(src)
	e.rdict.reset()
	for k, ri := range rows {
		w := &b.rows[ri]
		var v string
		var key uint64
		ok, hashed := true, false
		switch src {
		case srcFacet:
			v, key, keyed = columns.Facets[w.facet], uint64(w.facet), true
		case srcOutcome:
			v, key, keyed = outcomeNames[w.outcome], uint64(w.outcome), true
		case srcUser:
			u := &b.users[w.user]
			v, key, hashed = u.arn, u.hash, true
			ok = v != ""
		case srcRequest:
			v, ok = col.Value(w.rep)
			key, hashed = w.ha, true
		case srcIP:
			v, ok = col.Value(w.rep)
			key, hashed = w.ha, true
		case srcKey:
			v, ok = col.Value(w.rep)
			ok = ok && (w.facet == facetAccessKey || cloudtrail.IsLongTermKey(v))
			key, hashed = w.hb, true
		case srcMessage:
			if ok = w.outcome == outcomeDenied; ok {
				v, ok = col.Value(w.rep)
			}
		default:
			v, ok = col.Value(w.rep)
			key = col.Key(w.rep)
		}
		s.rows++
		s.values++
		if optional {
			e.defs = append(e.defs, b2u8(ok))
		}
		switch {
		case !ok:
			s.nulls++
		case keyed:
			e.addKeyed(s, v, key)
		case hashed:
			e.addHashed(s, v, key)
		default:
			e.addDict(s, v)
		}
		if err := e.endRow(s, pi, k, len(rows)); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) rollupInts(s *chunkState, b *rollupBuilder, rows []int32, pi *pageIndex) error {
	for k, ri := range rows {
		w := &b.rows[ri]
		var v int64
		switch s.lf.col {
		case srcCalls:
			v = w.calls
		case srcMFA:
			v = w.mfa
		case srcFirst:
			v = w.first
		case srcLast:
			v = w.last
		default:
			panic("rollup encoder: no source for " + s.lf.path[0])
		}
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

// rollupResources writes one field of the resources list: the call rows'
// lists, null in the other rows.
func (e *encoder) rollupResources(s *chunkState, b *rollupBuilder, rows []int32, pi *pageIndex) error {
	field := b.sel.ResourceField(s.lf.resField)
	keyed := field.Interned()
	e.rdict.reset()
	maxDef := uint8(s.lf.maxDef)
	for k, ri := range rows {
		w := &b.rows[ri]
		lo, hi, ok := b.sel.Resources(b.idx[w.rep])
		ok = ok && w.facet == facetCall
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
			if keyed {
				e.addKeyed(s, v, field.Key(j))
			} else {
				e.addDict(s, v)
			}
		}
		if err := e.endRow(s, pi, k, len(rows)); err != nil {
			return err
		}
	}
	return nil
}
