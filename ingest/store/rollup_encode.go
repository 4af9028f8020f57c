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
	srcValue
	srcKey
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
	columns.ErrorCode: srcErrCode, columns.Value: srcValue, columns.AccessKeyID: srcKey, columns.EventSource: srcSource, columns.EventName: srcName,
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

// str returns leaf lf's value in rollup row w, and whether it is set.
func (b *rollupBuilder) str(lf *leaf, w *rollupRow) (string, bool) {
	r := w.rep
	f := w.facet
	switch lf.col {
	case srcFacet:
		return columns.Facets[f], true
	case srcPrincipal:
		return b.principal.Value(r)
	case srcKind:
		return b.kind.Value(r)
	case srcOutcome:
		return outcomeNames[w.outcome], true
	case srcAccount:
		if f == facetCall || f == facetPrincipal {
			return b.account.Value(r)
		}
	case srcRecipient:
		if f == facetCall || f == facetPrincipal {
			return b.recipient.Value(r)
		}
	case srcErrCode:
		if f == facetCall || f == facetAccessKey {
			return b.errCode.Value(r)
		}
	case srcValue:
		switch f {
		case facetSourceIP:
			return b.sourceIP.Value(r)
		case facetUserAgent:
			return b.userAgent.Value(r)
		case facetVPCE:
			return b.vpce.Value(r)
		case facetAccessKey:
			return b.accessKey.Value(r)
		}
	case srcKey:
		if v, ok := b.accessKey.Value(r); ok && (f == facetAccessKey || f != facetCall && f != facetPrincipal && cloudtrail.IsLongTermKey(v)) {
			return v, true
		}
		return "", false
	}
	if f != facetCall {
		return "", false
	}
	switch lf.col {
	case srcSource:
		return b.source.Value(r)
	case srcName:
		return b.name.Value(r)
	case srcType:
		return b.typ.Value(r)
	case srcCategory:
		return b.category.Value(r)
	case srcRegion:
		return b.region.Value(r)
	case srcUser:
		v, ok := b.userARN.Value(r)
		return cloudtrail.WithoutSession(v), ok
	case srcRequest:
		return b.request.Value(r)
	case srcMessage:
		if w.outcome == outcomeDenied {
			return b.errMessage.Value(r)
		}
	}
	return "", false
}

func (b *rollupBuilder) int(lf *leaf, w *rollupRow) int64 {
	switch lf.col {
	case srcCalls:
		return w.calls
	case srcMFA:
		return w.mfa
	case srcFirst:
		return w.first
	case srcLast:
		return w.last
	}
	panic("rollup encoder: no source for " + lf.path[0])
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
	var index []byte
	n := int64(0)
	for f := range b.order {
		rows := b.order[f]
		for lo := 0; lo < len(rows); lo += int(rowGroupRows) {
			hi := min(lo+int(rowGroupRows), len(rows))
			index = b.appendIndex(index, rows[lo:hi], len(e.rowGroups))
			if err := e.rollupRowGroup(b, rows[lo:hi]); err != nil {
				return err
			}
			n += int64(hi - lo)
		}
	}
	kv := []format.KeyValue{{Key: rollupIndexKey, Value: indexHeader + string(index)}}
	return e.finish(n, kv)
}

// appendIndex adds the principal index lines of row group g, which holds
// rows (sorted by principal).
func (b *rollupBuilder) appendIndex(line []byte, rows []int32, g int) []byte {
	for a := 0; a < len(rows); {
		arn, ok := b.principal.Value(b.rows[rows[a]].rep)
		k := b.principal.Key(b.rows[rows[a]].rep)
		e := a + 1
		for e < len(rows) && b.principal.Key(b.rows[rows[e]].rep) == k {
			e++
		}
		if ok {
			line = strconv.AppendQuote(line, arn)
			line = append(line, '\t')
			line = strconv.AppendInt(line, int64(g), 10)
			line = append(line, '\t')
			line = strconv.AppendInt(line, int64(a), 10)
			line = append(line, '\t')
			line = strconv.AppendInt(line, int64(e-a), 10)
			line = append(line, '\n')
		}
		a = e
	}
	return line
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
	case srcValue, srcKey:
		return f != facetCall && f != facetPrincipal
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

func (e *encoder) rollupStrings(s *chunkState, b *rollupBuilder, rows []int32, pi *pageIndex) error {
	optional := s.lf.maxDef > 0
	for k, ri := range rows {
		v, ok := b.str(s.lf, &b.rows[ri])
		s.rows++
		s.values++
		if optional {
			e.defs = append(e.defs, b2u8(ok))
		}
		if !ok {
			s.nulls++
		} else {
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
		v := b.int(s.lf, &b.rows[ri])
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
	maxDef := uint8(s.lf.maxDef)
	for k, ri := range rows {
		w := &b.rows[ri]
		lo, hi, ok := b.sel.Resources(w.rep)
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
			e.addDict(s, v)
		}
		if err := e.endRow(s, pi, k, len(rows)); err != nil {
			return err
		}
	}
	return nil
}
