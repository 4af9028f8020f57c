package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

// committer gathers decoded files into batches and commits them. It is the
// only goroutine that writes Parquet or the manifest.
type committer struct {
	st    *store.Store
	opts  Options
	stats *Stats
	mu    *sync.Mutex
	start time.Time
	runID string
	seq   int

	// pending and pendingBytes belong to the collecting goroutine; out
	// carries cut batches to the writer goroutine.
	pending      []*fileResult
	pendingBytes int64
	out          chan []*fileResult
	// seen holds the dedup keys of partitions touched by recent batches.
	seen map[store.Partition]map[[16]byte]struct{}
}

func newCommitter(st *store.Store, opts Options, stats *Stats, mu *sync.Mutex, start time.Time) *committer {
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	return &committer{
		st: st, opts: opts, stats: stats, mu: mu, start: start,
		runID: start.UTC().Format("20060102T150405") + "_" + hex.EncodeToString(rnd[:]),
		seen:  map[store.Partition]map[[16]byte]struct{}{},
		out:   make(chan []*fileResult, 1),
	}
}

func (c *committer) add(ctx context.Context, res *fileResult) error {
	c.mu.Lock()
	switch {
	case res.vanished:
		c.stats.skip(res.bad.Reason)
		c.stats.problem(*res.bad)
	case res.bad != nil:
		c.stats.ObjectsRead++
		c.stats.skip(res.bad.Reason)
		c.stats.problem(*res.bad)
	default:
		c.stats.ObjectsRead++
		c.stats.BytesRead += res.obj.Size
		c.stats.BytesDecompressed += res.json
		c.stats.Records += int64(len(res.rows))
		for reason, n := range res.rejected {
			c.stats.RejectedRecords[reason] += n
			c.stats.problem(Problem{Object: res.obj.Key, Reason: reason, Detail: fmt.Sprintf("%d record(s)", n)})
		}
	}
	progress := Progress{Objects: c.stats.ObjectsRead, Listed: c.stats.ObjectsListed, Bytes: c.stats.BytesRead, Records: c.stats.Records, Elapsed: c.opts.Now().Sub(c.start)}
	c.mu.Unlock()
	if c.opts.Progress != nil {
		c.opts.Progress(progress)
	}
	if res.bad != nil {
		if c.opts.Strict && !res.vanished {
			return fmt.Errorf("%w: %s: %s: %s", ErrStrict, res.bad.Object, res.bad.Reason, res.bad.Detail)
		}
		return nil
	}
	if c.opts.Strict && len(res.rejected) > 0 {
		res.rec.Release()
		for reason := range res.rejected {
			return fmt.Errorf("%w: %s: %s", ErrStrict, res.obj.Key, reason)
		}
	}
	c.pending = append(c.pending, res)
	c.pendingBytes += res.json
	if c.pendingBytes >= c.opts.BatchBytes {
		return c.cut(ctx)
	}
	return nil
}

func (c *committer) releaseAll() {
	for _, r := range c.pending {
		if r.rec != nil {
			r.rec.Release()
		}
	}
	c.pending = nil
}

// cut hands the pending files to the writer as one batch. The channel
// holds one batch, so decoding goes on while the previous batch is written,
// and at most two batches are in memory.
func (c *committer) cut(ctx context.Context) error {
	if len(c.pending) == 0 {
		return nil
	}
	batch := c.pending
	c.pending, c.pendingBytes = nil, 0
	select {
	case c.out <- batch:
		return nil
	case <-ctx.Done():
		releaseBatch(batch)
		return ctx.Err()
	}
}

func releaseBatch(batch []*fileResult) {
	for _, r := range batch {
		if r.rec != nil {
			r.rec.Release()
			r.rec = nil
		}
	}
}

// write commits one batch: it runs in the writer goroutine, which alone
// touches seq, seen, the Parquet files and the manifest.
func (c *committer) write(ctx context.Context, batch []*fileResult) error {
	defer releaseBatch(batch)
	if err := ctx.Err(); err != nil {
		return err
	}
	c.seq++
	batchID := fmt.Sprintf("%s_%04d", c.runID, c.seq)

	// Concatenate the files' records into one; remember each file's offset.
	// The per-file records are released right after: the copy holds the rows.
	recs := make([]arrow.Record, 0, len(batch))
	offsets := make([]int, len(batch))
	total := 0
	for i, r := range batch {
		offsets[i] = total
		total += int(r.rec.NumRows())
		recs = append(recs, r.rec)
	}
	all, err := concatRecords(c.opts, recs)
	for _, r := range batch {
		r.rec.Release()
		r.rec = nil
	}
	if err != nil {
		return err
	}
	defer all.Release()

	// Group row indices by partition, dropping duplicate eventIDs.
	byPart := map[store.Partition][]int32{}
	touched := map[store.Partition]bool{}
	var dups int64
	for i, r := range batch {
		for j, m := range r.rows {
			p := r.parts[m.part]
			set, err := c.idSet(ctx, p)
			if err != nil {
				return err
			}
			touched[p] = true
			if _, dup := set[m.key]; dup {
				dups++
				continue
			}
			set[m.key] = struct{}{}
			byPart[p] = append(byPart[p], int32(offsets[i]+j))
		}
	}

	parts := make([]store.Partition, 0, len(byPart))
	for p := range byPart {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].Account != parts[j].Account {
			return parts[i].Account < parts[j].Account
		}
		return parts[i].Date < parts[j].Date
	})

	principal := all.Column(columns.Index(columns.PrincipalARN)).(*array.String)
	times := all.Column(columns.Index(columns.EventTime)).(*array.Timestamp)
	var files []store.PendingFile
	var rows int64
	for n, p := range parts {
		idx := byPart[p]
		sort.SliceStable(idx, func(a, b int) bool {
			ia, ib := int(idx[a]), int(idx[b])
			pa, pb := principal.Value(ia), principal.Value(ib)
			if pa != pb {
				return pa < pb
			}
			return times.Value(ia) < times.Value(ib)
		})
		sorted, err := takeRecord(ctx, c.opts.Mem, all, idx)
		if err != nil {
			return err
		}
		pf, err := c.st.WriteTemp(p, batchID, n, sorted, c.opts.Write)
		sorted.Release()
		if err != nil {
			return err
		}
		files = append(files, pf)
		rows += pf.Rows
	}
	if err := ctx.Err(); err != nil {
		return err // leave the temp files for Recover
	}
	if err := c.st.Publish(files); err != nil {
		return err
	}
	b := store.Batch{ID: batchID, Time: c.opts.Now().UTC(), Rows: rows, Dups: dups}
	for _, f := range files {
		b.Files = append(b.Files, strings.TrimPrefix(f.Final, c.st.Root+"/"))
	}
	for _, r := range batch {
		rej := 0
		for _, n := range r.rejected {
			rej += n
		}
		b.Objects = append(b.Objects, store.ObjectRecord{Key: r.obj.Key, ETag: r.obj.ETag, Size: r.obj.Size, Records: len(r.rows), Rejected: rej})
	}
	if err := c.st.Commit(b); err != nil {
		return err
	}
	c.mu.Lock()
	c.stats.RowsWritten += rows
	c.stats.Duplicates += dups
	c.stats.FilesWritten += len(files)
	c.stats.Batches++
	c.mu.Unlock()

	// Forget dedup sets of partitions this batch did not touch: CloudTrail
	// delivers in date order, so they are unlikely to come back, and a set
	// that is needed again is reloaded from the committed files.
	for p := range c.seen {
		if !touched[p] {
			delete(c.seen, p)
		}
	}
	return nil
}

// idSet returns the dedup keys of partition p, loading them from the
// committed files the first time p is seen.
func (c *committer) idSet(ctx context.Context, p store.Partition) (map[[16]byte]struct{}, error) {
	if set, ok := c.seen[p]; ok {
		return set, nil
	}
	set, err := c.st.EventIDs(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("read event IDs of %s/%s: %w", p.Account, p.Date, err)
	}
	c.seen[p] = set
	return set, nil
}

// concatRecords joins records column by column.
func concatRecords(opts Options, recs []arrow.Record) (arrow.Record, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	cols := make([]arrow.Array, columns.Schema.NumFields())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for i := range cols {
		parts := make([]arrow.Array, len(recs))
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		a, err := array.Concatenate(parts, opts.Mem)
		if err != nil {
			for _, done := range cols[:i] {
				done.Release()
			}
			return nil, fmt.Errorf("concatenate column %s: %w", columns.Schema.Field(i).Name, err)
		}
		cols[i] = a
	}
	rec := array.NewRecord(columns.Schema, cols, rows)
	for _, a := range cols {
		a.Release()
	}
	return rec, nil
}

// takeRecord returns the rows of rec at idx, in that order. It copies
// column by column with builders reserved to size; Arrow's compute.Take
// over-allocates badly for string and list columns (gigabytes for a few
// thousand rows), so the copy is done here for the events schema's types.
func takeRecord(ctx context.Context, mem memory.Allocator, rec arrow.Record, idx []int32) (arrow.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rb := array.NewRecordBuilder(mem, rec.Schema())
	defer rb.Release()
	for c := 0; c < int(rec.NumCols()); c++ {
		if err := takeInto(rb.Field(c), rec.Column(c), idx); err != nil {
			return nil, fmt.Errorf("sort rows: column %s: %w", rec.Schema().Field(c).Name, err)
		}
	}
	return rb.NewRecord(), nil
}

func takeInto(dst array.Builder, src arrow.Array, idx []int32) error {
	switch s := src.(type) {
	case *array.String:
		b := dst.(*array.StringBuilder)
		var size int
		for _, i := range idx {
			size += s.ValueLen(int(i))
		}
		b.Reserve(len(idx))
		b.ReserveData(size)
		for _, i := range idx {
			if s.IsNull(int(i)) {
				b.AppendNull()
			} else {
				b.Append(s.Value(int(i)))
			}
		}
	case *array.Timestamp:
		b := dst.(*array.TimestampBuilder)
		b.Reserve(len(idx))
		for _, i := range idx {
			if s.IsNull(int(i)) {
				b.AppendNull()
			} else {
				b.Append(s.Value(int(i)))
			}
		}
	case *array.Boolean:
		b := dst.(*array.BooleanBuilder)
		b.Reserve(len(idx))
		for _, i := range idx {
			if s.IsNull(int(i)) {
				b.AppendNull()
			} else {
				b.Append(s.Value(int(i)))
			}
		}
	case *array.List:
		b := dst.(*array.ListBuilder)
		vals := s.ListValues().(*array.Struct)
		vb := b.ValueBuilder().(*array.StructBuilder)
		b.Reserve(len(idx))
		// Gather the element indices of all taken rows first, so each
		// struct field is copied in one pass.
		var sub []int32
		for _, i := range idx {
			if s.IsNull(int(i)) {
				b.AppendNull()
				continue
			}
			b.Append(true)
			start, end := s.ValueOffsets(int(i))
			for j := start; j < end; j++ {
				sub = append(sub, int32(j))
				vb.Append(true)
			}
		}
		for j := 0; j < vals.NumField(); j++ {
			if err := takeInto(vb.FieldBuilder(j), vals.Field(j), sub); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported type %s", src.DataType())
	}
	return nil
}
