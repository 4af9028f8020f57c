package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/columns"
)

// Query selects what a Scan reads. Zero values mean "all".
type Query struct {
	Accounts []string
	// From and To bound event_time (inclusive); they prune partitions and
	// row groups. Rows outside them may still be passed to fn when they share
	// a row group with rows inside: callers filter rows themselves.
	From, To time.Time
	// Principals prunes row groups whose principal_arn range holds none of
	// these exact ARNs. Empty means no pruning on principal.
	Principals []string
}

// ScanStats says how much of the dataset a Scan touched.
type ScanStats struct {
	Files          int   `json:"files"`
	RowGroups      int   `json:"row_groups"`
	RowGroupsRead  int   `json:"row_groups_read"`
	RowsRead       int64 `json:"rows_read"`
	CompressedRead int64 `json:"compressed_bytes_read"`
}

// Add counts o's reads into s.
func (s *ScanStats) Add(o ScanStats) {
	s.Files += o.Files
	s.RowGroups += o.RowGroups
	s.RowGroupsRead += o.RowGroupsRead
	s.RowsRead += o.RowsRead
	s.CompressedRead += o.CompressedRead
}

// Scan reads the committed rows that q selects into values of T, a struct
// whose fields carry `parquet:"column_name"` tags for just the columns the
// caller needs (parquet-go reads only those), and calls fn with batches of
// rows. The slice passed to fn is reused: fn must copy what it keeps.
func Scan[T any](ctx context.Context, s *Store, q Query, fn func(rows []T) error) (ScanStats, error) {
	files, err := s.Files(q.Accounts, q.From, q.To)
	if err != nil {
		return ScanStats{}, err
	}
	return ScanFiles(ctx, s, files, q, fn)
}

// ScanFiles is Scan over the given events files (of Files) instead of
// those q's accounts and dates select.
func ScanFiles[T any](ctx context.Context, s *Store, files []string, q Query, fn func(rows []T) error) (ScanStats, error) {
	var st ScanStats
	st.Files = len(files)
	buf := make([]T, 1024)
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := scanFile(ctx, s, path, q, buf, &st, fn); err != nil {
			return st, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return st, nil
}

func scanFile[T any](ctx context.Context, s *Store, path string, q Query, buf []T, st *ScanStats, fn func([]T) error) error {
	// With principals asked for, the file's principal index says which row
	// groups and rows hold them, or that none does: then the data file is
	// not even opened.
	var x EventIndex
	if len(q.Principals) > 0 {
		var err error
		if x, err = s.ReadEventIndex(ctx, path, q.Principals); err != nil {
			return err
		}
	}
	return scanIndexed(ctx, s, path, x, q, buf, st, fn)
}

// EventIndex is what an events file's principal index says of some
// principals: by row group, the span of rows that holds them.
type EventIndex struct {
	spans   map[int]rowSpan
	indexed bool
}

// ReadEventIndex reads the principal index of the events file at path for
// principals.
func (s *Store) ReadEventIndex(ctx context.Context, path string, principals []string) (EventIndex, error) {
	spans, indexed, err := s.readIndex(ctx, path, principals)
	return EventIndex{spans: spans, indexed: indexed}, err
}

// Indexed is false for a file written before the principal index.
func (x EventIndex) Indexed() bool { return x.indexed }

// Rows is how many rows the spans hold (the principals' rows, and any
// between them).
func (x EventIndex) Rows() int64 {
	var n int64
	for _, s := range x.spans {
		n += s.hi - s.lo
	}
	return n
}

// ScanIndexed is ScanFiles for one events file whose principal index x
// has already read for q.Principals.
func ScanIndexed[T any](ctx context.Context, s *Store, path string, x EventIndex, q Query, fn func(rows []T) error) (ScanStats, error) {
	st := ScanStats{Files: 1}
	if err := scanIndexed(ctx, s, path, x, q, make([]T, 1024), &st, fn); err != nil {
		return st, fmt.Errorf("read %s: %w", path, err)
	}
	return st, nil
}

func scanIndexed[T any](ctx context.Context, s *Store, path string, x EventIndex, q Query, buf []T, st *ScanStats, fn func([]T) error) error {
	spans, indexed := x.spans, x.indexed
	if indexed && len(spans) == 0 {
		return nil
	}
	f, err := s.open(ctx, path)
	if err != nil {
		return err
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, f.Size(), openOptions(f)...)
	if err != nil {
		return err
	}
	principalCol := leafIndex(pf, columns.PrincipalARN)
	timeCol := leafIndex(pf, columns.EventTime)
	proj, direct := projectionOf[T](pf)
	for i, rg := range pf.RowGroups() {
		st.RowGroups++
		span, inIndex := spans[i]
		if indexed && !inIndex {
			continue
		}
		if !keepRowGroup(rg, principalCol, timeCol, q) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		st.RowGroupsRead++
		for _, c := range pf.Metadata().RowGroups[i].Columns {
			st.CompressedRead += c.MetaData.TotalCompressedSize
		}
		// Rows are sorted by principal: read only the span from the first
		// to the last row of the wanted principals (all rows otherwise).
		lo, hi := int64(0), rg.NumRows()
		if indexed {
			lo, hi = span.lo, min(span.hi, rg.NumRows())
		} else if len(q.Principals) > 0 && principalCol >= 0 {
			if err := prefetchChunks(f, pf, []int{i}, []int{principalCol}); err != nil {
				return err
			}
			if lo, hi, err = principalSpan(rg, principalCol, q.Principals); err != nil {
				return err
			}
			if lo >= hi {
				continue
			}
		}
		if err := prefetchRows(f, pf, i, proj.cols, lo, hi); err != nil {
			return err
		}
		if lo > 0 {
			// Load the offset indexes of the columns read, so the seek
			// below jumps to the pages holding row lo instead of decoding
			// every page before it. (The file is opened without its page
			// index: loading it for every column costs more than this.)
			chunks := rg.ColumnChunks()
			for _, c := range proj.cols {
				if _, err := chunks[c].OffsetIndex(); err != nil && !errors.Is(err, parquet.ErrMissingOffsetIndex) {
					return err
				}
			}
		}
		var r rowReader[T]
		if direct {
			r = proj.reader(rg)
		} else {
			r = parquet.NewGenericRowGroupReader[T](rg)
		}
		if lo > 0 {
			if err := r.SeekToRow(lo); err != nil {
				r.Close()
				return err
			}
		}
		for left := hi - lo; left > 0; {
			n, err := r.Read(buf[:min(int64(len(buf)), left)])
			if n > 0 {
				left -= int64(n)
				st.RowsRead += int64(n)
				if ferr := fn(buf[:n]); ferr != nil {
					r.Close()
					return ferr
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				return err
			}
		}
		if err := r.Close(); err != nil {
			return err
		}
	}
	return nil
}

// principalSpan reads the values of the principal_arn column chunk col
// (without building rows) and returns the span [lo, hi) from the first to
// the last row of one of the principals; lo == hi when none is there.
func principalSpan(rg parquet.RowGroup, col int, principals []string) (lo, hi int64, err error) {
	pages := rg.ColumnChunks()[col].Pages()
	defer pages.Close()
	vals := make([]parquet.Value, 4096)
	lo, hi = -1, -1
	var i int64
	for {
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		vr := p.Values()
		for {
			n, err := vr.ReadValues(vals)
			for _, v := range vals[:n] {
				if !v.IsNull() && matchesAny(v.ByteArray(), principals) {
					if lo < 0 {
						lo = i
					}
					hi = i + 1
				}
				i++
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				parquet.Release(p)
				return 0, 0, err
			}
		}
		parquet.Release(p)
	}
	if lo < 0 {
		return 0, 0, nil
	}
	return lo, hi, nil
}

func matchesAny(b []byte, principals []string) bool {
	for _, p := range principals {
		if string(b) == p {
			return true
		}
	}
	return false
}

func leafIndex(pf *parquet.File, name string) int {
	if leaf, ok := pf.Schema().Lookup(name); ok {
		return leaf.ColumnIndex
	}
	return -1
}

// keepRowGroup decides from column statistics whether a row group can hold
// rows that q wants.
func keepRowGroup(rg parquet.RowGroup, principalCol, timeCol int, q Query) bool {
	chunks := rg.ColumnChunks()
	if len(q.Principals) > 0 && principalCol >= 0 {
		if c, ok := chunks[principalCol].(*parquet.FileColumnChunk); ok {
			if lo, hi, ok := c.Bounds(); ok && !lo.IsNull() && !hi.IsNull() {
				min, max := string(lo.ByteArray()), string(hi.ByteArray())
				if !slices.ContainsFunc(q.Principals, func(p string) bool { return p >= min && p <= max }) {
					return false
				}
			}
		}
	}
	if (!q.From.IsZero() || !q.To.IsZero()) && timeCol >= 0 {
		if c, ok := chunks[timeCol].(*parquet.FileColumnChunk); ok {
			if lo, hi, ok := c.Bounds(); ok && !lo.IsNull() && !hi.IsNull() {
				if !q.From.IsZero() && hi.Int64() < q.From.UnixMilli() {
					return false
				}
				if !q.To.IsZero() && lo.Int64() > q.To.UnixMilli() {
					return false
				}
			}
		}
	}
	return true
}

// EventIDs returns the dedup keys of every committed row in partition p, so
// that an ingest run drops events the dataset already holds (overlapping
// organization and account trails deliver the same eventID twice).
func (s *Store) EventIDs(ctx context.Context, p Partition) (map[[16]byte]struct{}, error) {
	ids := map[[16]byte]struct{}{}
	d, err := time.Parse("2006-01-02", p.Date)
	if err != nil {
		return nil, err
	}
	q := Query{Accounts: []string{p.Account}, From: d, To: d.Add(24*time.Hour - time.Millisecond)}
	type row struct {
		EventID string `parquet:"event_id"`
	}
	_, err = Scan(ctx, s, q, func(rows []row) error {
		for _, r := range rows {
			ids[IDKey(r.EventID)] = struct{}{}
		}
		return nil
	})
	return ids, err
}

// PrincipalARNs returns the distinct non-empty principal_arn values of the
// row groups that q selects (accounts, partitions and the row groups'
// event_time statistics), sorted. It reads the principal_arn column chunks
// alone, taking each dictionary once instead of decoding every row, so it
// costs a fraction of a Scan. A row group that straddles q's window gives
// all its principals: callers that need the exact window check the rows.
func PrincipalARNs(ctx context.Context, s *Store, q Query) ([]string, error) {
	files, err := s.Files(q.Accounts, q.From, q.To)
	if err != nil {
		return nil, err
	}
	set := map[string]struct{}{}
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := principalsOfFile(ctx, s, path, q, set); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

func principalsOfFile(ctx context.Context, s *Store, path string, q Query, set map[string]struct{}) error {
	f, err := s.open(ctx, path)
	if err != nil {
		return err
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, f.Size(), openOptions(f)...)
	if err != nil {
		return err
	}
	principalCol := leafIndex(pf, columns.PrincipalARN)
	if principalCol < 0 {
		return nil
	}
	timeCol := leafIndex(pf, columns.EventTime)
	var kept []int
	for i, rg := range pf.RowGroups() {
		if keepRowGroup(rg, -1, timeCol, q) {
			kept = append(kept, i)
		}
	}
	if err := prefetchChunks(f, pf, kept, []int{principalCol}); err != nil {
		return err
	}
	add := func(v parquet.Value) {
		if v.IsNull() {
			return
		}
		if b := v.ByteArray(); len(b) > 0 {
			if _, ok := set[string(b)]; !ok {
				set[string(b)] = struct{}{}
			}
		}
	}
	vals := make([]parquet.Value, 4096)
	for _, rg := range pf.RowGroups() {
		if !keepRowGroup(rg, -1, timeCol, q) {
			continue
		}
		pages := rg.ColumnChunks()[principalCol].Pages()
		var seen parquet.Dictionary
		for {
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return err
			}
			if d := p.Dictionary(); d != nil {
				if d != seen {
					for i := 0; i < d.Len(); i++ {
						add(d.Index(int32(i)))
					}
					seen = d
				}
				parquet.Release(p)
				continue
			}
			vr := p.Values()
			for {
				n, err := vr.ReadValues(vals)
				for _, v := range vals[:n] {
					add(v)
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					parquet.Release(p)
					pages.Close()
					return err
				}
			}
			parquet.Release(p)
		}
		pages.Close()
	}
	return nil
}

// rowReader is what scanFile needs of a row group reader.
type rowReader[T any] interface {
	SeekToRow(int64) error
	Read([]T) (int, error)
	Close() error
}

// projection maps a file's columns onto T's. parquet-go's generic reader,
// given a row group whose schema differs from T's (T reads a subset of the
// columns), converts every row and fills the columns T does not read with
// one null per row of the whole row group, whatever span is read: for a
// few rows of a principal that cost more than the rows themselves. When
// every column of T is in the file with the same type and levels, scanFile
// instead reads a row group narrowed to T's columns under T's schema and
// renumbers the values' columns, which is all the conversion would do.
type projection[T any] struct {
	schema *parquet.Schema
	cols   []int // the file's columns that T reads; with a projection, T's column i is cols[i]
	remap  []int // the file's column j is T's column remap[j]
}

// projectionOf returns the projection of pf's columns onto T, and false
// when T needs a real conversion (a column missing or of another type);
// cols lists the file's columns T reads either way.
func projectionOf[T any](pf *parquet.File) (projection[T], bool) {
	schema := parquet.SchemaOf(new(T))
	p := projection[T]{schema: schema, remap: make([]int, len(pf.Schema().Columns()))}
	direct := true
	for i, path := range schema.Columns() {
		want, _ := schema.Lookup(path...)
		have, ok := pf.Schema().Lookup(path...)
		if !ok {
			direct = false
			continue
		}
		if want.ColumnIndex != i ||
			want.MaxRepetitionLevel != have.MaxRepetitionLevel ||
			want.MaxDefinitionLevel != have.MaxDefinitionLevel ||
			!parquet.EqualNodes(want.Node, have.Node) {
			direct = false
		}
		p.cols = append(p.cols, have.ColumnIndex)
		p.remap[have.ColumnIndex] = i
	}
	return p, direct
}

func (p projection[T]) reader(rg parquet.RowGroup) *projectedReader[T] {
	all := rg.ColumnChunks()
	chunks := make([]parquet.ColumnChunk, len(p.cols))
	for i, c := range p.cols {
		chunks[i] = all[c]
	}
	narrow := narrowRowGroup{RowGroup: rg, schema: p.schema, chunks: chunks}
	return &projectedReader[T]{rows: parquet.NewRowGroupRowReader(narrow), schema: p.schema, remap: p.remap}
}

// narrowRowGroup is a row group seen through T's schema and columns.
type narrowRowGroup struct {
	parquet.RowGroup
	schema *parquet.Schema
	chunks []parquet.ColumnChunk
}

func (g narrowRowGroup) Schema() *parquet.Schema                 { return g.schema }
func (g narrowRowGroup) ColumnChunks() []parquet.ColumnChunk     { return g.chunks }
func (g narrowRowGroup) SortingColumns() []parquet.SortingColumn { return nil }
func (g narrowRowGroup) Rows() parquet.Rows                      { return parquet.NewRowGroupRowReader(g) }

type projectedReader[T any] struct {
	rows   parquet.Rows
	schema *parquet.Schema
	remap  []int
	buf    []parquet.Row
}

func (r *projectedReader[T]) SeekToRow(i int64) error { return r.rows.SeekToRow(i) }
func (r *projectedReader[T]) Close() error            { return r.rows.Close() }

func (r *projectedReader[T]) Read(dst []T) (int, error) {
	if cap(r.buf) < len(dst) {
		r.buf = make([]parquet.Row, len(dst))
	}
	rows := r.buf[:len(dst)]
	n, err := r.rows.ReadRows(rows)
	for i, row := range rows[:n] {
		for k, v := range row {
			row[k] = v.Level(v.RepetitionLevel(), v.DefinitionLevel(), r.remap[v.Column()])
		}
		if rerr := r.schema.Reconstruct(&dst[i], row); rerr != nil {
			return i, rerr
		}
	}
	return n, err
}
