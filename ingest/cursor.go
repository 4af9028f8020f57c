package ingest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/iamlens/iamlens/ingest/store"
)

// Incremental runs. A run records in its commit records, for each region
// folder it listed (…/CloudTrail/<region>/), how far it has ingested: the
// last key below which every listed object is committed (or was already
// in). The next run (Options.Incremental) lists each folder from there,
// less Options.LateMargin, instead of whole. Workers commit batches out
// of listing order, so the position is a low watermark: a batch committed
// ahead of an earlier one does not move it past the earlier one's objects,
// and a run killed mid-way leaves it where nothing before it is missing.
// An object that could not be read holds its folder's position back, so
// that the next run reads it again.
//
// Positions are kept per source and shard (cursorSpace): a shard's
// folders hold only its own days, and a 16-shard run's positions say
// nothing of what an 8-shard run has read.

// DefaultLateMargin is how far before the last position an incremental
// listing starts: CloudTrail delivers a log file about 5 minutes after
// its calls on average, without a guarantee; a margin of hours costs a
// few keys listed again (never read again: they are ingested already).
const DefaultLateMargin = 3 * time.Hour

// cursorSpace names the positions of runs over src with shard sh in the
// store's cursors: "[<shard>@]<source>|".
func cursorSpace(src string, sh string) string {
	if sh != "" {
		return sh + "@" + src + "|"
	}
	return src + "|"
}

// watermark follows, per region folder, the objects listed in order and
// which of them are settled (committed, already in, or skipped by name).
type watermark struct {
	mu      sync.Mutex
	space   string
	seq     int64
	folders map[string]*folderQueue
	done    map[int64]bool
	pos     map[string]string // space+folder → the rest of the last settled key
	sent    map[string]string // what the run's commit records hold already
}

type folderQueue struct {
	seqs []int64
	rest []string
}

func newWatermark(space string) *watermark {
	return &watermark{space: space, folders: map[string]*folderQueue{}, done: map[int64]bool{},
		pos: map[string]string{}, sent: map[string]string{}}
}

// listed numbers the next listed object; 0 for a key outside CloudTrail's
// layout (no position to keep).
func (w *watermark) listed(key string) int64 {
	folder, rest, ok := store.CursorOf(key)
	if !ok {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	q := w.folders[folder]
	if q == nil {
		q = &folderQueue{}
		w.folders[folder] = q
	}
	q.seqs = append(q.seqs, w.seq)
	q.rest = append(q.rest, rest)
	return w.seq
}

// settle marks listed objects settled and moves their folders' positions
// past every settled object listed before an unsettled one.
func (w *watermark) settle(keys []string, seqs []int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, s := range seqs {
		if s == 0 {
			continue
		}
		w.done[s] = true
		folder, _, _ := store.CursorOf(keys[i])
		q := w.folders[folder]
		if q == nil {
			continue
		}
		n := 0
		for n < len(q.seqs) && w.done[q.seqs[n]] {
			delete(w.done, q.seqs[n])
			n++
		}
		if n > 0 {
			k := w.space + folder
			if r := q.rest[n-1]; r > w.pos[k] {
				w.pos[k] = r
			}
			q.seqs, q.rest = q.seqs[n:], q.rest[n:]
		}
	}
}

// delta returns the positions that moved since the run's last commit
// record (nil when none).
func (w *watermark) delta() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out map[string]string
	for k, v := range w.pos {
		if w.sent[k] != v {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// recorded notes positions a commit record now holds.
func (w *watermark) recorded(m map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, v := range m {
		w.sent[k] = v
	}
}

// resume returns the store's positions for this run's space, by folder.
func resume(st *store.Store, space string) map[string]string {
	out := map[string]string{}
	for k, v := range st.Cursors() {
		if folder, ok := strings.CutPrefix(k, space); ok {
			out[folder] = v
		}
	}
	return out
}

// commitCursors commits, at the end of a run, the positions no batch's
// record carried: a record with no files (a run that found nothing new
// still listed up to there).
func (c *committer) commitCursors(ctx context.Context) error {
	d := c.wm.delta()
	if d == nil {
		return nil
	}
	c.seenMu.Lock()
	c.seq++
	id := fmt.Sprintf("%s_%04d", c.runID, c.seq)
	c.seenMu.Unlock()
	if err := c.st.CommitCheck(ctx, store.Batch{ID: id, Time: c.opts.Now().UTC(), Cursors: d}, nil); err != nil {
		return err
	}
	c.wm.recorded(d)
	return nil
}
