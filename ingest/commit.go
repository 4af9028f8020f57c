package ingest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

// committer is what the workers share: the run's statistics and progress,
// the dedup sets, and the commit point. Parquet is written by the workers in
// parallel; only the manifest append is serialised.
type committer struct {
	st    *store.Store
	opts  Options
	stats *Stats
	start time.Time
	runID string

	mu sync.Mutex // guards stats and the progress callback

	seenMu sync.Mutex // guards seq, seen, seenKeys, tick, evictions, forgotten, rereads, logReads
	seq    int
	// logReads counts the times a commit read batches other writers had
	// committed (and merged their keys into the sets in memory): a set
	// read from disk before then may lack them.
	logReads int64
	// foreign are other writers' batches (their events files, by
	// partition) read from the commit log, in order, from the
	// foreignFrom-th on; foreignSeen of them have their keys merged into
	// the sets in memory; pending holds, for each batch written and not
	// yet committed, how many were merged when it was deduplicated (it is
	// checked against the rest when it commits: resolve).
	foreign     []map[store.Partition][]string
	foreignFrom int64
	foreignSeen int64
	pending     map[string]int64
	idCache     map[string]map[[16]byte]struct{}
	seen        map[store.Partition]*idSet
	seenKeys    int
	tick        int64
	evictions   int64
	forgotten   map[store.Partition]bool // sets evicted; reading one back counts in rereads
	rereads     int64

	commitMu sync.Mutex // serialises Publish and Commit

	wm *watermark // how far the listing is committed (cursor.go)

	parts map[store.Partition]bool // written by the run (guarded by mu)
}

type idSet struct {
	keys     map[[16]byte]struct{}
	used     int64 // tick of the last batch that touched it
	inflight int   // batches deduplicated against it and not yet committed
}

// batch is one worker's gathered rows and the objects they came from.
type batch struct {
	rows  *columns.Builder
	meta  []rowMeta // one per row
	parts []store.Partition
	files []*fileResult
}

func newCommitter(st *store.Store, opts Options, stats *Stats, start time.Time) *committer {
	return &committer{
		st: st, opts: opts, stats: stats, start: start,
		runID: store.NewRunID(start),
		seen:  map[store.Partition]*idSet{}, forgotten: map[store.Partition]bool{},
		pending: map[string]int64{}, idCache: map[string]map[[16]byte]struct{}{},
	}
}

// account adds one object's outcome to the statistics, reports progress,
// and in strict mode turns a bad object or record into the run's error.
func (c *committer) account(res *fileResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
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
		c.stats.Records += int64(res.rows)
		for _, reason := range sortedKeys(res.rejected) {
			n := res.rejected[reason]
			c.stats.RejectedRecords[reason] += n
			c.stats.problem(Problem{Object: res.obj.Key, Reason: reason, Detail: fmt.Sprintf("%d record(s)", n)})
		}
	}
	if c.opts.Progress != nil {
		c.opts.Progress(Progress{Objects: c.stats.ObjectsRead, Listed: c.stats.ObjectsListed, Bytes: c.stats.BytesRead, Records: c.stats.Records, Elapsed: c.opts.Now().Sub(c.start)})
	}
	if res.bad != nil {
		if c.opts.Strict && !res.vanished {
			return fmt.Errorf("%w: %s: %s: %s", ErrStrict, res.bad.Object, res.bad.Reason, res.bad.Detail)
		}
		return nil
	}
	if c.opts.Strict && len(res.rejected) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrStrict, res.obj.Key, sortedKeys(res.rejected)[0])
	}
	return nil
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dedupe assigns the batch its ID and groups its row indices by partition,
// dropping eventIDs already stored or already taken by another batch.
func (c *committer) dedupe(ctx context.Context, b *batch) (string, map[store.Partition][]int32, int64, error) {
	// Sets of partitions not in memory are read from their committed files
	// without holding the lock, so the other workers go on meanwhile.
	c.seenMu.Lock()
	gen, lgen := c.evictions, c.logReads
	var missing []store.Partition
	for _, p := range b.parts {
		if _, ok := c.seen[p]; !ok {
			missing = append(missing, p)
		}
	}
	c.seenMu.Unlock()
	readIDs := func(p store.Partition) (map[[16]byte]struct{}, error) {
		keys, err := c.st.EventIDs(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("read event IDs of %s/%s: %w", p.Account, p.Date, err)
		}
		return keys, nil
	}
	loaded := map[store.Partition]map[[16]byte]struct{}{}
	for _, p := range missing {
		keys, err := readIDs(p)
		if err != nil {
			return "", nil, 0, err
		}
		loaded[p] = keys
	}

	c.seenMu.Lock()
	defer c.seenMu.Unlock()
	c.seq++
	c.tick++
	batchID := fmt.Sprintf("%s_%04d", c.runID, c.seq)
	c.pending[batchID] = c.foreignSeen
	sets := make([]*idSet, len(b.parts))
	for i, p := range b.parts {
		set, ok := c.seen[p]
		if !ok {
			// Loaded above, or evicted since: a set read from the files
			// committed by now holds every key another worker added.
			keys, ok := loaded[p]
			if !ok || c.evictions != gen || c.logReads != lgen {
				// An eviction since the read may have dropped keys that were
				// committed after it, and another writer's batch read since
				// was merged only into the sets then in memory: read again,
				// under the lock.
				var err error
				if keys, err = readIDs(p); err != nil {
					return "", nil, 0, err
				}
			}
			set = &idSet{keys: keys}
			c.seen[p] = set
			c.seenKeys += len(keys)
			if c.forgotten[p] {
				c.rereads++
			}
		}
		set.used = c.tick
		set.inflight++
		sets[i] = set
	}
	// One map operation a row: an insert that does not grow the set met a
	// known eventID.
	rows := make([][]int32, len(b.parts))
	var dups int64
	for i, m := range b.meta {
		keys := sets[m.part].keys
		n := len(keys)
		keys[m.key] = struct{}{}
		if len(keys) == n {
			dups++
			continue
		}
		c.seenKeys++
		rows[m.part] = append(rows[m.part], int32(i))
	}
	byPart := make(map[store.Partition][]int32, len(b.parts))
	for i, p := range b.parts {
		if len(rows[i]) > 0 {
			byPart[p] = rows[i]
		}
	}
	c.evict()
	return batchID, byPart, dups, nil
}

// done releases the batch's hold on its partitions' sets.
func (c *committer) done(b *batch) {
	c.seenMu.Lock()
	defer c.seenMu.Unlock()
	for _, p := range b.parts {
		if set, ok := c.seen[p]; ok && set.inflight > 0 {
			set.inflight--
		}
	}
	c.evict()
}

// evict drops the least recently used sets while over MaxDedupKeys. It
// never drops one that a batch still being written was deduplicated against
// (its keys are not on disk yet, so a reload would miss them), nor one that
// the last Workers batches used: those are the partitions being ingested
// now, and the next batch would read a dropped one back from disk, all of
// it, again and again while a partition-day larger than the cap is written.
// Such a partition is held whole instead, beyond the cap, until the run
// moves on.
func (c *committer) evict() {
	active := c.tick - int64(c.opts.Workers)
	for c.seenKeys > c.opts.MaxDedupKeys {
		var oldest store.Partition
		var set *idSet
		for p, s := range c.seen {
			if s.inflight == 0 && s.used <= active && (set == nil || s.used < set.used) {
				oldest, set = p, s
			}
		}
		if set == nil {
			return
		}
		c.seenKeys -= len(set.keys)
		c.evictions++
		c.forgotten[oldest] = true
		delete(c.seen, oldest)
	}
}

// written is a batch whose files are written under temporary names and
// not yet synced, published or committed.
type written struct {
	b     *batch
	id    string
	files []store.PendingFile
	parts []store.Partition // of files, one each
	rows  int64
	dups  int64
	// keys are the dedup keys of each partition's rows, for the check
	// against other writers' batches at commit.
	keys map[store.Partition][][16]byte
	seq  int // the batch's next file number
}

// write is a worker's part of committing one batch: deduplicate, sort each
// partition's rows and write them under temporary names. The worker's
// builder is free again when it returns; what is left (sync, rename into
// place, append to the manifest) is publish's, which one goroutine does
// for every worker so that no worker waits on the disk.
func (c *committer) write(ctx context.Context, b *batch) (*written, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	batchID, byPart, dups, err := c.dedupe(ctx, b)
	if err != nil {
		return nil, err
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

	// The batch's hold on its dedup sets lasts until publish has committed
	// it (or until now, if writing fails).
	wb := &written{b: &batch{parts: b.parts, files: b.files}, id: batchID, dups: dups, keys: map[store.Partition][][16]byte{}, seq: len(parts)}
	if err := c.st.Intend(ctx, batchID, parts); err != nil {
		c.done(b)
		c.settled(batchID)
		return nil, err
	}
	var keys []uint64
	for n, p := range parts {
		idx := byPart[p]
		bld := b.rows
		keys = sortRows(idx, bld, keys)
		err := ctx.Err()
		if err == nil {
			var pf store.PendingFile
			if pf, err = c.st.WriteTemp(ctx, p, batchID, n, bld.Select(idx), c.opts.Write); err == nil {
				wb.files = append(wb.files, pf)
				wb.parts = append(wb.parts, p)
				wb.rows += pf.Rows
				ks := make([][16]byte, len(idx))
				for j, i := range idx {
					ks[j] = b.meta[i].key
				}
				wb.keys[p] = ks
			}
		}
		if err != nil {
			c.done(b) // the temp files written so far are left for Recover
			c.settled(batchID)
			return nil, err
		}
	}
	return wb, nil
}

// publish syncs a written batch's files, renames them into place and
// appends the batch to the manifest: from then on its objects are done.
func (c *committer) publish(ctx context.Context, wb *written) error {
	defer c.done(wb.b)
	defer c.settled(wb.id)
	if err := ctx.Err(); err != nil {
		return err // leave the temp files for Recover
	}
	mb := store.Batch{ID: wb.id, Time: c.opts.Now().UTC()}
	c.fill(&mb, wb)
	for _, r := range wb.b.files {
		rej := 0
		for _, n := range r.rejected {
			rej += n
		}
		mb.Objects = append(mb.Objects, store.ObjectRecord{Key: r.obj.Key, ETag: r.obj.ETag, Size: r.obj.Size, Records: r.rows, Rejected: rej})
	}
	c.commitMu.Lock()
	err := c.st.Publish(wb.files)
	if commitHook != nil && err == nil {
		commitHook(wb.id)
	}
	if err == nil {
		var cursors map[string]string
		err = c.st.CommitCheck(ctx, mb, func(b store.Batch, newer []store.Batch) (store.Batch, error) {
			b, err := c.resolve(ctx, wb, b, newer)
			if err == nil && c.wm != nil {
				keys := make([]string, len(wb.b.files))
				seqs := make([]int64, len(wb.b.files))
				for i, r := range wb.b.files {
					keys[i], seqs[i] = r.obj.Key, r.seq
				}
				c.wm.settle(keys, seqs)
				cursors = c.wm.delta()
				b.Cursors = cursors
			}
			return b, err
		})
		if err == nil && c.wm != nil {
			c.wm.recorded(cursors)
		}
	}
	c.commitMu.Unlock()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.stats.RowsWritten += wb.rows
	c.stats.Duplicates += wb.dups
	c.stats.FilesWritten += len(wb.files)
	c.stats.Batches++
	if c.parts == nil {
		c.parts = map[store.Partition]bool{}
	}
	for _, p := range wb.parts {
		c.parts[p] = true
	}
	c.mu.Unlock()
	return nil
}

// fill sets a commit record's files and counts from the written batch.
func (c *committer) fill(mb *store.Batch, wb *written) {
	mb.Files, mb.Rows, mb.Dups = nil, wb.rows, wb.dups
	for _, f := range wb.files {
		for _, p := range []string{f.Final, f.Rollup} {
			if r, err := c.st.Rel(p); p != "" && err == nil {
				mb.Files = append(mb.Files, r)
			}
		}
	}
}

// resolve checks a batch about to be committed against the batches other
// writers (several ingests, or shards, on one store) committed since it
// was deduplicated: newer are those the commit just read from the log,
// and those read at earlier commits since this batch's deduplication are
// remembered (foreign). Their events files' keys are merged into the
// dedup sets in memory, so that later batches drop them; and where this
// batch holds some of the same events (the same objects ingested by two
// runs at once, or an organization trail's copy and an account trail's by
// two shards), its file for that partition is written again without them.
// The batch then commits each event the others did not.
func (c *committer) resolve(ctx context.Context, wb *written, mb store.Batch, newer []store.Batch) (store.Batch, error) {
	c.seenMu.Lock()
	for _, nb := range newer {
		byPart := map[store.Partition][]string{}
		for _, f := range nb.Files {
			if !strings.HasPrefix(f, "events/") {
				continue
			}
			if p, ok := store.PartitionOfFile(f); ok {
				byPart[p] = append(byPart[p], c.st.FilePath(f))
			}
		}
		c.foreign = append(c.foreign, byPart)
	}
	total := c.foreignFrom + int64(len(c.foreign))
	window := slices.Clone(c.foreign[c.pending[wb.id]-c.foreignFrom:])
	fresh := slices.Clone(c.foreign[len(c.foreign)-len(newer):])
	if len(newer) > 0 {
		c.logReads++
	}
	c.seenMu.Unlock()

	// The keys of the batches just read go into the sets in memory.
	for _, byPart := range fresh {
		for p, files := range byPart {
			c.seenMu.Lock()
			inMemory := c.seen[p] != nil
			c.seenMu.Unlock()
			if !inMemory {
				continue // read from disk, with these files, if a batch needs it
			}
			theirs, err := c.foreignIDs(ctx, files)
			if err != nil {
				return mb, fmt.Errorf("read the batches of other writers in %s/%s: %w", p.Account, p.Date, err)
			}
			c.seenMu.Lock()
			if set := c.seen[p]; set != nil {
				for k := range theirs {
					if _, ok := set.keys[k]; !ok {
						set.keys[k] = struct{}{}
						c.seenKeys++
					}
				}
			}
			c.seenMu.Unlock()
		}
	}
	c.seenMu.Lock()
	c.foreignSeen = max(c.foreignSeen, total)
	c.seenMu.Unlock()

	// This batch against every batch committed since its deduplication.
	for _, byPart := range window {
		for p, files := range byPart {
			mine := wb.keys[p]
			if len(mine) == 0 {
				continue
			}
			theirs, err := c.foreignIDs(ctx, files)
			if err != nil {
				return mb, fmt.Errorf("read the batches of other writers in %s/%s: %w", p.Account, p.Date, err)
			}
			drop := map[[16]byte]struct{}{}
			for _, k := range mine {
				if _, ok := theirs[k]; ok {
					drop[k] = struct{}{}
				}
			}
			if len(drop) > 0 {
				if err := c.dropRows(ctx, wb, p, drop); err != nil {
					return mb, err
				}
			}
		}
	}
	c.fill(&mb, wb)
	return mb, nil
}

// dropRows writes the batch's file of partition p again without the rows
// whose keys drop holds (none left: no file).
func (c *committer) dropRows(ctx context.Context, wb *written, p store.Partition, drop map[[16]byte]struct{}) error {
	i := slices.Index(wb.parts, p)
	npf, ok, err := c.st.RewriteWithout(ctx, wb.files[i], p, wb.id, wb.seq, drop, c.opts.Write)
	if err != nil {
		return fmt.Errorf("write %s/%s again without the events another writer stored: %w", p.Account, p.Date, err)
	}
	wb.seq++
	wb.rows -= wb.files[i].Rows
	wb.dups += int64(len(drop))
	kept := make([][16]byte, 0, len(wb.keys[p]))
	for _, k := range wb.keys[p] {
		if _, ok := drop[k]; !ok {
			kept = append(kept, k)
		}
	}
	wb.keys[p] = kept
	if ok {
		wb.files[i] = npf
		wb.rows += npf.Rows
	} else {
		wb.files = slices.Delete(wb.files, i, i+1)
		wb.parts = slices.Delete(wb.parts, i, i+1)
	}
	return nil
}

// foreignIDs returns the keys of other writers' events files, reading
// each file once while batches may need it.
func (c *committer) foreignIDs(ctx context.Context, files []string) (map[[16]byte]struct{}, error) {
	out := map[[16]byte]struct{}{}
	for _, f := range files {
		c.seenMu.Lock()
		ids, ok := c.idCache[f]
		c.seenMu.Unlock()
		if !ok {
			var err error
			if ids, err = c.st.EventIDsOf(ctx, []string{f}); err != nil {
				return nil, err
			}
			c.seenMu.Lock()
			c.idCache[f] = ids
			c.seenMu.Unlock()
		}
		if len(files) == 1 {
			return ids, nil
		}
		for k := range ids {
			out[k] = struct{}{}
		}
	}
	return out, nil
}

// settled forgets a batch once committed or abandoned, and the other
// writers' batches no batch in flight needs to be checked against.
func (c *committer) settled(batch string) {
	c.seenMu.Lock()
	defer c.seenMu.Unlock()
	delete(c.pending, batch)
	oldest := c.foreignFrom + int64(len(c.foreign))
	for _, from := range c.pending {
		oldest = min(oldest, from)
	}
	if n := oldest - c.foreignFrom; n > 0 {
		c.foreign = slices.Delete(c.foreign, 0, int(n))
		c.foreignFrom = oldest
		clear(c.idCache)
	}
}

// commitHook, when set (by tests only, through export_test.go), runs after
// a batch's files are in place and before its commit.
var commitHook func(batch string)
