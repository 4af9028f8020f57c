package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/parquet-go/parquet-go"

	"github.com/iamlens/iamlens/ingest/columns"
)

// Compaction. Every batch writes one file into each partition it touches,
// so a partition that many batches touched (an organization trail's
// batches each cover hundreds of accounts; a day ingested hour by hour)
// holds many small files, and every reader pays for each: a footer, a
// principal index, on S3 a request or more, in Athena a split. Compact
// rewrites a partition's events files, and their rollup twins, into few
// large ones, and commits a batch that replaces them: readers of the
// commit log see the old files until that record, the new ones from it
// on, never both and never neither. The replaced files stay until
// CompactOptions.Grace has passed (a reader that listed them before the
// commit may still be reading them), and a later compaction removes them.
//
// Exactly-once holds: the new files hold the old files' rows, each once
// (the count is checked before the commit), and a compaction that finds,
// when it commits, that another writer replaced one of its files
// meanwhile gives up that partition (its files are removed) instead of
// committing a second copy of the rows.

// CompactOptions choose the partitions to compact and how.
type CompactOptions struct {
	// Accounts, From and To select partitions as Files does (zero: all).
	Accounts []string
	From, To time.Time
	// Partitions, when set, are the partitions to consider (Accounts,
	// From and To are then ignored).
	Partitions []Partition
	// MinFiles is the fewest events files a partition must hold to be
	// compacted (default 2).
	MinFiles int
	// TargetRows is the most rows of a file written (default 262,144:
	// 16 row groups). A partition's files are merged in order, a group of
	// them at a time, into files of up to about this many rows, so memory
	// stays bounded by it whatever the partition's size.
	TargetRows int64
	// Write tunes the files written.
	Write WriteOptions
	// Grace is how long replaced files stay before a compaction removes
	// them (zero: one hour; negative: none, they go at once).
	Grace time.Duration
	// Progress, when set, is called after each partition.
	Progress func(CompactProgress)
}

// CompactProgress is reported after each partition.
type CompactProgress struct {
	Done, Total int
	Partition   Partition
}

// CompactStats says what Compact did.
type CompactStats struct {
	Partitions       int     `json:"partitions_compacted"`
	PartitionsSeen   int     `json:"partitions_seen"`
	FilesBefore      int     `json:"events_files_before"`
	FilesAfter       int     `json:"events_files_after"`
	Rows             int64   `json:"rows_rewritten"`
	BytesBefore      int64   `json:"bytes_before"`
	BytesAfter       int64   `json:"bytes_after"`
	Conflicts        int     `json:"partitions_given_up"`
	ReplacedRemoved  int     `json:"replaced_files_removed"`
	OrphansRemoved   int     `json:"uncommitted_files_removed"`
	Seconds          float64 `json:"seconds"`
	ReplacedRetained int     `json:"replaced_files_kept"`
}

// errReplaced abandons a compaction whose files another writer replaced.
var errReplaced = errors.New("another writer compacted the partition first")

func (o CompactOptions) minFiles() int {
	if o.MinFiles <= 0 {
		return 2
	}
	return o.MinFiles
}

func (o CompactOptions) targetRows() int64 {
	if o.TargetRows <= 0 {
		return 1 << 18
	}
	return o.TargetRows
}

func (o CompactOptions) grace() time.Duration {
	switch {
	case o.Grace < 0:
		return 0
	case o.Grace == 0:
		return time.Hour
	}
	return o.Grace
}

// NewRunID names a writer's run: its start time and random bits. A
// batch's ID is the run's and a number ("<run>_0001").
func NewRunID(now time.Time) string {
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	return now.UTC().Format("20060102T150405") + "_" + hex.EncodeToString(rnd[:])
}

// Compact compacts the partitions o selects that hold at least
// o.MinFiles events files, removes the files earlier compactions replaced
// more than o.Grace ago and the files of dead runs (Recover), and returns
// what it did.
func (s *Store) Compact(ctx context.Context, o CompactOptions) (CompactStats, error) {
	start := s.Now()
	var st CompactStats
	if err := o.Write.Validate(); err != nil {
		return st, err
	}
	run := NewRunID(start)
	end, err := s.BeginRun(ctx, run)
	if err != nil {
		return st, err
	}
	defer end()
	if st.OrphansRemoved, err = s.Recover(ctx); err != nil {
		return st, err
	}
	if st.ReplacedRemoved, st.ReplacedRetained, err = s.removeReplaced(ctx, o.grace()); err != nil {
		return st, err
	}
	if !o.Write.NoRollup {
		ok, err := s.PrepareRollup()
		if err != nil {
			return st, err
		}
		o.Write.NoRollup = !ok
	}
	byPart, err := s.partitionFiles(o)
	if err != nil {
		return st, err
	}
	parts := make([]Partition, 0, len(byPart))
	for p := range byPart {
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b Partition) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Date, b.Date))
	})
	st.PartitionsSeen = len(parts)
	var todo []Partition
	for _, p := range parts {
		if len(byPart[p]) >= o.minFiles() {
			todo = append(todo, p)
		}
	}
	seq := 0
	for i, p := range todo {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		seq++
		batch := fmt.Sprintf("%s_%04d", run, seq)
		ps, err := s.compactPartition(ctx, p, byPart[p], batch, o)
		switch {
		case errors.Is(err, errReplaced):
			st.Conflicts++
		case err != nil:
			return st, fmt.Errorf("compact %s/%s: %w", p.Account, p.Date, err)
		case ps.FilesAfter == ps.FilesBefore:
			// Its files were each a group of their own: nothing merged.
		default:
			st.Partitions++
			st.FilesBefore += ps.FilesBefore
			st.FilesAfter += ps.FilesAfter
			st.Rows += ps.Rows
			st.BytesBefore += ps.BytesBefore
			st.BytesAfter += ps.BytesAfter
		}
		if o.Progress != nil {
			o.Progress(CompactProgress{Done: i + 1, Total: len(todo), Partition: p})
		}
	}
	if err := s.Checkpoint(ctx); err != nil {
		return st, err
	}
	st.Seconds = s.Now().Sub(start).Seconds()
	return st, nil
}

// partitionFiles returns the committed events files of the partitions o
// selects.
func (s *Store) partitionFiles(o CompactOptions) (map[Partition][]string, error) {
	byPart := map[Partition][]string{}
	if len(o.Partitions) > 0 {
		for _, p := range o.Partitions {
			d, err := time.Parse("2006-01-02", p.Date)
			if err != nil {
				return nil, fmt.Errorf("partition %s/%s: %w", p.Account, p.Date, err)
			}
			files, err := s.Files([]string{p.Account}, d, d)
			if err != nil {
				return nil, err
			}
			if len(files) > 0 {
				byPart[p] = files
			}
		}
		return byPart, nil
	}
	files, err := s.Files(o.Accounts, o.From, o.To)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if p, ok := PartitionOfFile(f); ok {
			byPart[p] = append(byPart[p], f)
		}
	}
	return byPart, nil
}

// FilesPerPartition counts the committed events files of each partition
// of the given ones (all when none).
func (s *Store) FilesPerPartition(parts []Partition) (map[Partition]int, error) {
	byPart, err := s.partitionFiles(CompactOptions{Partitions: parts})
	if err != nil {
		return nil, err
	}
	out := make(map[Partition]int, len(byPart))
	for p, f := range byPart {
		out[p] = len(f)
	}
	return out, nil
}

// compactPartition merges a partition's files, a group at a time, into
// files of up to o.TargetRows rows, and commits them as one batch that
// replaces them.
func (s *Store) compactPartition(ctx context.Context, p Partition, files []string, batch string, o CompactOptions) (CompactStats, error) {
	var st CompactStats
	sort.Strings(files)
	// Group the files in order by their rows.
	var groups [][]string
	var cur int64
	sizes := map[string]int64{}
	for _, f := range files {
		n, size, err := s.fileRows(ctx, f)
		if err != nil {
			return st, err
		}
		st.BytesBefore += size
		sizes[f] = size
		if len(groups) == 0 || (cur+n > o.targetRows() && cur > 0) {
			groups = append(groups, nil)
			cur = 0
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], f)
		cur += n
	}
	if len(groups) == len(files) {
		return CompactStats{}, nil // every file is as large as a group: nothing to merge
	}
	if err := s.Intend(ctx, batch, []Partition{p}); err != nil {
		return st, err
	}
	var pending []PendingFile
	var replaces []string
	abandon := func() {
		var rels []string
		for _, pf := range pending {
			for _, f := range []string{pf.Final, pf.Rollup, pf.Tmp, pf.RollupTmp, pf.IndexTmp} {
				if f == "" {
					continue
				}
				if r, err := s.rel(f); err == nil {
					rels = append(rels, r)
				}
			}
		}
		_ = s.removeFiles(context.WithoutCancel(ctx), rels)
	}
	bld := columns.NewBuilder(memory.DefaultAllocator)
	var written int64
	for i, g := range groups {
		if len(g) == 1 {
			continue // a file alone in its group stays as it is
		}
		bld.Reset()
		n, err := s.readEvents(ctx, g, bld, nil)
		if err != nil {
			abandon()
			return st, err
		}
		idx := sortedRows(bld)
		pf, err := s.WriteTemp(ctx, p, batch, i, bld.Select(idx), o.Write)
		if err != nil {
			abandon()
			return st, err
		}
		pending = append(pending, pf)
		if pf.Rows != n {
			abandon()
			return st, fmt.Errorf("wrote %d rows of %d", pf.Rows, n)
		}
		written += n
		for _, f := range g {
			r, err := s.rel(f)
			if err != nil {
				abandon()
				return st, err
			}
			replaces = append(replaces, r, "rollup/"+strings.TrimPrefix(r, "events/"))
		}
		st.FilesBefore += len(g)
		st.FilesAfter++
	}
	if err := s.Publish(pending); err != nil {
		abandon()
		return st, err
	}
	b := Batch{ID: batch, Replaces: replaces, Time: s.Now().UTC(), Rows: written}
	for _, pf := range pending {
		for _, f := range []string{pf.Final, pf.Rollup} {
			if f == "" {
				continue
			}
			r, err := s.rel(f)
			if err != nil {
				abandon()
				return st, err
			}
			b.Files = append(b.Files, r)
		}
	}
	mine := map[string]bool{}
	for _, r := range replaces {
		mine[r] = true
	}
	err := s.CommitCheck(ctx, b, func(b Batch, newer []Batch) (Batch, error) {
		for _, nb := range newer {
			for _, r := range nb.Replaces {
				if mine[r] {
					return b, errReplaced
				}
			}
		}
		return b, nil
	})
	if err != nil {
		abandon()
		if errors.Is(err, errReplaced) {
			return st, errReplaced
		}
		return st, err
	}
	st.Rows = written
	for _, pf := range pending {
		if _, size, err := s.fileRows(ctx, pf.Final); err == nil {
			st.BytesAfter += size
		}
	}
	// The files left alone in their groups count on both sides.
	for _, g := range groups {
		if len(g) == 1 {
			st.FilesBefore++
			st.FilesAfter++
			st.BytesAfter += sizes[g[0]]
		}
	}
	return st, nil
}

// fileRows reads an events file's footer: its rows and size.
func (s *Store) fileRows(ctx context.Context, p string) (rows, size int64, err error) {
	f, err := s.open(ctx, p)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, f.Size(), openOptions(f)...)
	if err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", p, err)
	}
	return pf.NumRows(), f.Size(), nil
}

// sortedRows orders the builder's rows by (principal_arn, event_time), as
// the encoder takes them, keeping the order of ties.
func sortedRows(b *columns.Builder) []int32 {
	idx := make([]int32, b.Len())
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(x, y int32) int {
		return cmp.Or(strings.Compare(b.PrincipalARN(int(x)), b.PrincipalARN(int(y))),
			cmp.Compare(b.EventTime(int(x)), b.EventTime(int(y))))
	})
	return idx
}

// readEvents appends every row of the events files to b (all columns),
// but those whose eventID drop holds, and returns how many it appended.
func (s *Store) readEvents(ctx context.Context, files []string, b *columns.Builder, drop map[[16]byte]struct{}) (int64, error) {
	var n int64
	_, err := ScanFiles(ctx, s, files, Query{}, func(rows []columns.Event) error {
		for _, r := range rows {
			if drop != nil {
				if _, ok := drop[IDKey(r.EventID)]; ok {
					continue
				}
			}
			b.AppendEvent(r) // copies the strings, which alias the reader's pages
			n++
		}
		return nil
	})
	return n, err
}

// RewriteWithout writes the rows of a batch's pending file pf (in
// partition p) but those whose eventID drop holds, as the batch's file
// seq, and removes pf: what a writer does with its batch when another
// writer committed some of its events first. ok is false when no row is
// left (then no file is written).
func (s *Store) RewriteWithout(ctx context.Context, pf PendingFile, p Partition, batch string, seq int, drop map[[16]byte]struct{}, o WriteOptions) (npf PendingFile, ok bool, err error) {
	bld := columns.NewBuilder(memory.DefaultAllocator)
	n, err := s.readEvents(ctx, []string{pf.Final}, bld, drop)
	if err != nil {
		return PendingFile{}, false, err
	}
	if n > 0 {
		// The rows are in the file's order, sorted already.
		if npf, err = s.WriteTemp(ctx, p, batch, seq, bld.All(), o); err != nil {
			return PendingFile{}, false, err
		}
		if err := s.Publish([]PendingFile{npf}); err != nil {
			return PendingFile{}, false, err
		}
	}
	var rels []string
	for _, f := range []string{pf.Final, pf.Rollup} {
		if r, err := s.rel(f); f != "" && err == nil {
			rels = append(rels, r)
		}
	}
	if err := s.removeFiles(ctx, rels); err != nil {
		return PendingFile{}, false, err
	}
	return npf, n > 0, nil
}

// EventIDsOf returns the dedup keys of the rows of the given events files.
func (s *Store) EventIDsOf(ctx context.Context, files []string) (map[[16]byte]struct{}, error) {
	ids := map[[16]byte]struct{}{}
	type row struct {
		EventID string `parquet:"event_id"`
	}
	_, err := ScanFiles(ctx, s, files, Query{}, func(rows []row) error {
		for _, r := range rows {
			ids[IDKey(r.EventID)] = struct{}{}
		}
		return nil
	})
	return ids, err
}

// FilePath is the path (or URI) of a file the commit log names (Batch's
// Files, relative to the store).
func (s *Store) FilePath(rel string) string { return s.path(rel) }

// removeReplaced removes the files compactions replaced more than grace
// ago, with their principal indexes; kept counts those still within it.
func (s *Store) removeReplaced(ctx context.Context, grace time.Duration) (removed, kept int, err error) {
	cut := s.Now().Add(-grace)
	s.mu.Lock()
	var old []string
	for f, t := range s.replaced {
		if t.Before(cut) {
			old = append(old, f)
		} else {
			kept++
		}
	}
	s.mu.Unlock()
	sort.Strings(old)
	// Only files that are there count (a replaced file may have been
	// removed by an earlier compaction, or been a twin never written).
	var there []string
	for _, f := range old {
		if s.exists(ctx, f) {
			there = append(there, f)
		}
	}
	if err := s.removeFiles(ctx, there); err != nil {
		return 0, kept, err
	}
	return len(there), kept, nil
}

// exists reports whether the file rel is there.
func (s *Store) exists(ctx context.Context, rel string) bool {
	if s.remote == nil {
		_, err := os.Stat(s.path(rel))
		return err == nil
	}
	l, err := s.dirListing(ctx, accountDir(rel))
	if err != nil {
		return true // removing a missing object is harmless
	}
	_, ok := l.names[rel]
	return ok
}
