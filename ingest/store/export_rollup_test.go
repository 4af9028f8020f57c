package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/columns"
)

// ErrThrift is errThrift, for the tests.
var ErrThrift = errThrift

// CheckRollupFooter compares what the rollup reader parses of the rollup
// file data with what parquet-go (pf, the same file) does: the leaves, the
// principal index, every row group and column chunk, offset index and page
// header.
func CheckRollupFooter(pf *parquet.File, data []byte) error {
	m, err := readRollupMeta(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	cols := pf.Schema().Columns()
	if len(cols) != len(m.leaves) {
		return fmt.Errorf("%d leaves, want %d", len(m.leaves), len(cols))
	}
	for i := range cols {
		if !slices.Equal(cols[i], m.leaves[i]) {
			return fmt.Errorf("leaf %d %v, want %v", i, m.leaves[i], cols[i])
		}
	}
	if idx, ok := pf.Lookup(rollupIndexKey); !ok || !m.hasIndex || idx != m.index {
		return fmt.Errorf("principal index differs")
	}
	md := pf.Metadata()
	if len(md.RowGroups) != len(m.rowGroups) {
		return fmt.Errorf("%d row groups, want %d", len(m.rowGroups), len(md.RowGroups))
	}
	pages := 0
	for g, rg := range md.RowGroups {
		got := m.rowGroups[g]
		if got.numRows != rg.NumRows || len(got.cols) != len(rg.Columns) {
			return fmt.Errorf("row group %d: %d rows, %d columns; want %d, %d", g, got.numRows, len(got.cols), rg.NumRows, len(rg.Columns))
		}
		for c, cc := range rg.Columns {
			w, h := cc.MetaData, got.cols[c]
			if h.codec != w.Codec || h.numValues != w.NumValues || h.compressed != w.TotalCompressedSize ||
				h.dataOff != w.DataPageOffset || h.dictOff != w.DictionaryPageOffset || h.oiOff != cc.OffsetIndexOffset ||
				h.oiLen != int64(cc.OffsetIndexLength) || !bytes.Equal(h.min, w.Statistics.MinValue) ||
				!bytes.Equal(h.max, w.Statistics.MaxValue) || h.hasMin != (w.Statistics.MinValue != nil) {
				return fmt.Errorf("row group %d column %d: %+v, want %+v", g, c, h, w)
			}
			locs, err := parseOffsetIndex(data[cc.OffsetIndexOffset : cc.OffsetIndexOffset+int64(cc.OffsetIndexLength)])
			if err != nil {
				return err
			}
			oi, err := pf.RowGroups()[g].ColumnChunks()[c].OffsetIndex()
			if err != nil {
				return err
			}
			if len(locs) != oi.NumPages() {
				return fmt.Errorf("row group %d column %d: %d pages, want %d", g, c, len(locs), oi.NumPages())
			}
			for i, l := range locs {
				if l.offset != oi.Offset(i) || l.size != oi.CompressedPageSize(i) || l.firstRow != oi.FirstRowIndex(i) {
					return fmt.Errorf("row group %d column %d page %d: %+v", g, c, i, l)
				}
				ph, n, err := parsePageHeader(data[l.offset:])
				if err != nil {
					return err
				}
				if int64(n)+ph.compressed != l.size {
					return fmt.Errorf("row group %d column %d page %d: header says %d+%d bytes, the index %d", g, c, i, n, ph.compressed, l.size)
				}
				pages++
			}
		}
	}
	if pages == 0 {
		return fmt.Errorf("no pages")
	}
	return nil
}

// RollupThriftSeeds are the Thrift structures of a rollup file: its footer,
// and its first page header and offset index.
func RollupThriftSeeds(data []byte) [][]byte {
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	m, err := parseRollupMeta(data[len(data)-8-n : len(data)-8])
	if err != nil {
		panic(err)
	}
	cm := m.rowGroups[0].cols[1]
	return [][]byte{data[len(data)-8-n : len(data)-8], data[cm.start : cm.start+cm.compressed], data[cm.oiOff : cm.oiOff+cm.oiLen]}
}

// ParseRollupThrift parses b as each Thrift structure the rollup reader
// reads, and returns the footer's error.
func ParseRollupThrift(b []byte) error {
	parsePageHeader(b)
	parseOffsetIndex(b)
	_, err := parseRollupMeta(b)
	return err
}

// EncodeMonthly writes rows (sorted as a monthly file's) as the monthly
// rollup's writer does, without a principal index.
func EncodeMonthly(w io.Writer, rows []columns.RollupRow, o WriteOptions) error {
	mw := &monthlyWriter{pw: parquet.NewGenericWriter[columns.RollupRow](w, parquet.MaxRowsPerRowGroup(1<<40)), groupRows: o.rowGroupRows()}
	for lo := 0; lo < len(rows); {
		hi := lo + 1
		for hi < len(rows) && rows[hi].Facet == rows[lo].Facet {
			hi++
		}
		if err := mw.write(rows[lo:hi]); err != nil {
			return err
		}
		if err := mw.endFacet(); err != nil {
			return err
		}
		lo = hi
	}
	return mw.pw.Close()
}
