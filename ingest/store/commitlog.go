package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/ingest/private"
)

// The commit log is the store's one source of truth: a batch's files are
// visible once its record is in the log, and the records' object lists
// say which objects are ingested. It has two forms.
//
// In a folder it is _state/manifest.jsonl, one JSON line per batch. A
// writer takes an exclusive lock on the file (lockFile: released by the
// system if the process dies), reads the lines appended since it last
// read, lets the caller check its batch against them (CommitCheck),
// appends its line and syncs it, and lets go. Readers take no lock: they
// read complete lines only, and a line a crashed writer tore is cut by the
// next writer, under the lock. Readers of a store read each line's leading
// batch ID only (Commit writes it first), so opening a store stays cheap
// however many objects it has ingested.
//
// On an object store, which can neither append nor lock, it is one object
// per batch, _state/log/<seq>.json, numbered from 1. A writer that has read
// the log up to seq N writes its record as N+1 with If-None-Match: * (Put
// with IfAbsent): of two writers racing for N+1 exactly one succeeds; the
// other reads N+1, checks its batch against it, and tries N+2. No record is
// ever overwritten, so no commit is lost to a last writer's. A checkpoint,
// _state/checkpoint.json (rewritten with If-Match on its ETag, never
// backwards), sums the log up to its seq, so that opening the store reads
// it and the records after it, not the whole history.

// --- a folder: _state/manifest.jsonl ---

// readLocalLog reads the manifest's lines after s.pos: their batch IDs
// (and the whole line of a compaction, for the files it replaced). torn
// reports a partial last line: a crash mid-append, or another writer's
// append in progress.
func (s *Store) readLocalLog() error {
	end, _, err := readLocalLines(s.manifestPath(), s.pos, hasReplaces, func(head, full []byte) error {
		if full == nil {
			id, _ := leadingBatchID(head)
			s.mu.Lock()
			s.committed[id] = true
			s.mu.Unlock()
			return nil
		}
		var b Batch
		if err := json.Unmarshal(full, &b); err != nil {
			return err
		}
		s.apply(b)
		return nil
	})
	s.pos = end
	return err
}

// repairLocalLog cuts a torn last line (a crash mid-append) under the
// lock, so that the next append starts on a line of its own; lines another
// writer completed meanwhile are read.
func (s *Store) repairLocalLog() error {
	st, err := os.Stat(s.manifestPath())
	if err != nil || st.Size() == s.pos {
		return nil
	}
	f, err := private.OpenAppend(s.manifestPath())
	if err != nil {
		return fmt.Errorf("repair manifest: %w", err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("repair manifest: %w", err)
	}
	defer unlockFile(f) //nolint:errcheck // closing drops the lock too
	if err := s.readLocalLog(); err != nil {
		return err
	}
	return cutTorn(s.manifestPath(), s.pos)
}

// cutTorn truncates the manifest after its last complete line at end, when
// something follows it (the caller holds the lock: no live writer is
// appending).
func cutTorn(path string, end int64) error {
	st, err := os.Stat(path)
	if err != nil || st.Size() == end {
		return nil
	}
	if err := os.Truncate(path, end); err != nil {
		return fmt.Errorf("repair manifest: %w", err)
	}
	return nil
}

// readLocalLines calls fn for every complete line of the manifest from
// byte offset from on: with the line's first (at most 64 KiB) bytes, and
// the whole line when full says it is wanted or the line does not start
// with its batch ID. It returns the offset after the last complete line
// and whether a partial line follows it.
func readLocalLines(path string, from int64, full func(head []byte) bool, fn func(head, line []byte) error) (end int64, torn bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return from, false, nil
	}
	if err != nil {
		return from, false, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return from, false, fmt.Errorf("read manifest: %w", err)
	}
	r := bufio.NewReaderSize(f, 64<<10)
	off := from // where the current line starts
	var whole []byte
	for line := 1; ; line++ {
		head, err := r.ReadSlice('\n')
		n := int64(len(head))
		_, leading := leadingBatchID(head)
		want := !leading || full(head)
		if want {
			whole = append(whole[:0], head...)
		}
		head = append([]byte(nil), head...)
		for errors.Is(err, bufio.ErrBufferFull) {
			var more []byte
			more, err = r.ReadSlice('\n')
			n += int64(len(more))
			if want {
				whole = append(whole, more...)
			}
		}
		if errors.Is(err, io.EOF) {
			return off, n > 0, nil
		}
		if err != nil {
			return off, false, fmt.Errorf("read manifest: %w", err)
		}
		off += n
		if len(bytes.TrimSpace(head)) == 0 {
			continue
		}
		var l []byte
		if want {
			l = whole
		}
		if err := fn(head, l); err != nil {
			return off, false, fmt.Errorf("manifest %s line %d: %w", path, line, err)
		}
	}
}

func always([]byte) bool { return true }

// hasReplaces reports whether a manifest line (its head) is a compaction's:
// {"batch":"ID","replaces":[…
func hasReplaces(head []byte) bool {
	rest, ok := bytes.CutPrefix(head, []byte(`{"batch":"`))
	if !ok {
		return false
	}
	i := bytes.IndexByte(rest, '"')
	return i >= 0 && bytes.HasPrefix(rest[i+1:], []byte(`,"replaces":`))
}

// leadingBatchID reads the ID of a line that starts {"batch":"ID",.
func leadingBatchID(l []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(l, []byte(`{"batch":"`))
	if !ok {
		return "", false
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 || bytes.IndexByte(rest[:i], '\\') >= 0 {
		return "", false
	}
	return string(rest[:i]), true
}

// loadLocalObjects reads the object lists of the whole manifest.
func (s *Store) loadLocalObjects() error {
	objects := map[objectID]struct{}{}
	cursors := map[string]string{}
	_, _, err := readLocalLines(s.manifestPath(), 0, always, func(_, l []byte) error {
		var b struct {
			Objects []struct{ Key, ETag string }
			Cursors map[string]string
		}
		if err := json.Unmarshal(l, &b); err != nil {
			return err
		}
		for _, o := range b.Objects {
			objects[idOf(o.Key, o.ETag)] = struct{}{}
		}
		mergeCursors(cursors, b.Cursors)
		return nil
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.objects { // committed by this process before the load
		objects[id] = struct{}{}
	}
	for k, v := range s.cursors {
		if v > cursors[k] {
			cursors[k] = v
		}
	}
	s.objects, s.cursors, s.objLoaded = objects, cursors, true
	return nil
}

// commitLocal appends b to the manifest under its lock, after reading and
// checking b against the lines other writers appended since s.pos.
func (s *Store) commitLocal(b Batch, check func(Batch, []Batch) (Batch, error)) (Batch, error) {
	f, err := private.OpenAppend(s.manifestPath())
	if err != nil {
		return b, err
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return b, err
	}
	defer unlockFile(f) //nolint:errcheck // closing drops the lock too
	var newer []Batch
	end, _, err := readLocalLines(s.manifestPath(), s.pos, always, func(_, l []byte) error {
		var nb Batch
		if err := json.Unmarshal(l, &nb); err != nil {
			return err
		}
		newer = append(newer, nb)
		return nil
	})
	if err != nil {
		return b, err
	}
	if err := cutTorn(s.manifestPath(), end); err != nil {
		return b, err
	}
	s.pos = end
	for _, nb := range newer {
		s.apply(nb)
	}
	if check != nil {
		if b, err = check(b, newer); err != nil {
			return b, err
		}
	}
	line, err := json.Marshal(b)
	if err != nil {
		return b, err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return b, err
	}
	if err := f.Sync(); err != nil {
		return b, err
	}
	s.pos += int64(len(line)) + 1
	return b, nil
}

// --- an object store: _state/log/<seq>.json and _state/checkpoint.json ---

const (
	logDir         = "_state/log/"
	checkpointName = "_state/checkpoint.json"
	// checkpointEvery is how many records a checkpoint may lag the log
	// before Checkpoint writes a new one.
	checkpointEvery = 64
)

func logName(seq int64) string { return fmt.Sprintf("%s%020d.json", logDir, seq) }

func seqOf(name string) (int64, bool) {
	n, ok := strings.CutPrefix(name, logDir)
	n, ok2 := strings.CutSuffix(n, ".json")
	seq, err := strconv.ParseInt(n, 10, 64)
	return seq, ok && ok2 && err == nil
}

// checkpoint is what _state/checkpoint.json holds: the sum of the log up
// to Seq.
type checkpoint struct {
	Seq      int64                `json:"seq"`
	Time     time.Time            `json:"time"`
	Batches  []string             `json:"batches"`
	Replaced map[string]time.Time `json:"replaced,omitempty"`
	// Objects are the ingested objects' IDs (idOf), 16 bytes each, back
	// to back.
	Objects []byte            `json:"objects"`
	Cursors map[string]string `json:"cursors,omitempty"`
}

// checkpointHead is what the store knows of the checkpoint it read.
type checkpointHead struct {
	seq  int64
	etag string
}

// readRemoteLog reads the checkpoint and the records after it.
func (s *Store) readRemoteLog(ctx context.Context) error {
	data, etag, err := s.remote.Get(ctx, checkpointName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		var c checkpoint
		if err := json.Unmarshal(data, &c); err != nil {
			return fmt.Errorf("%s: %w", checkpointName, err)
		}
		if len(c.Objects)%16 != 0 {
			return fmt.Errorf("%s: object list of %d bytes", checkpointName, len(c.Objects))
		}
		s.mu.Lock()
		for _, id := range c.Batches {
			s.committed[id] = true
		}
		for f, t := range c.Replaced {
			s.replaced[f] = t
		}
		for i := 0; i < len(c.Objects); i += 16 {
			s.objects[objectID(c.Objects[i:i+16])] = struct{}{}
		}
		for k, v := range c.Cursors {
			s.cursors[k] = v
		}
		s.mu.Unlock()
		s.pos = c.Seq
		s.ckpt = checkpointHead{seq: c.Seq, etag: etag}
	}
	_, err = s.readRemoteNew(ctx)
	return err
}

// readRemoteNew reads the records committed after s.pos, in order, and
// applies them.
func (s *Store) readRemoteNew(ctx context.Context) ([]Batch, error) {
	batches, err := s.fetchRemoteNew(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range batches {
		s.apply(b)
	}
	s.pos += int64(len(batches))
	return batches, nil
}

// fetchRemoteNew reads the records committed after s.pos, in order.
func (s *Store) fetchRemoteNew(ctx context.Context) ([]Batch, error) {
	var names []string
	err := s.remote.List(ctx, logDir, logName(s.pos), "", func(e Entry) error {
		if _, ok := seqOf(e.Name); ok {
			names = append(names, e.Name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the commit log: %w", err)
	}
	for i, n := range names {
		if seq, _ := seqOf(n); seq != s.pos+1+int64(i) {
			return nil, fmt.Errorf("the commit log has no record %d (next: %s)", s.pos+1+int64(i), n)
		}
	}
	batches := make([]Batch, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, n := range names {
		g.Go(func() error {
			data, _, err := s.remote.Get(gctx, n)
			if err != nil {
				return fmt.Errorf("read %s: %w", n, err)
			}
			if err := json.Unmarshal(data, &batches[i]); err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return batches, nil
}

// commitRemote writes b as the log's next record, created only if absent;
// when another writer took that number first, it reads the records
// committed meanwhile, checks b against them, and tries the next.
func (s *Store) commitRemote(ctx context.Context, b Batch, check func(Batch, []Batch) (Batch, error)) (Batch, error) {
	first := true
	for {
		newer, err := s.fetchRemoteNew(ctx)
		if err != nil {
			return b, err
		}
		for i, nb := range newer {
			if nb.ID == b.ID {
				// Written by the attempt just made, whose answer was lost
				// (the SDK retried it and the retry found it there): it is
				// the record right after s.pos (i is 0), checked already.
				for _, ob := range newer[:i+1] {
					s.apply(ob)
				}
				s.pos += int64(i + 1)
				return nb, nil
			}
		}
		for _, nb := range newer {
			s.apply(nb)
		}
		s.pos += int64(len(newer))
		if check != nil && (len(newer) > 0 || first) {
			first = false
			if b, err = check(b, newer); err != nil {
				return b, err
			}
		}
		data, err := json.Marshal(b)
		if err != nil {
			return b, err
		}
		_, err = s.remote.Put(ctx, logName(s.pos+1), data, PutCondition{IfAbsent: true})
		if errors.Is(err, ErrPrecondition) {
			continue
		}
		if err != nil {
			return b, err
		}
		s.pos++
		// The batch's intent (recover.go) is done with.
		_ = s.remote.Delete(ctx, intentName(b.ID))
		return b, nil
	}
}

// Checkpoint writes the sum of the commit log as the checkpoint readers
// start from, when the one there lags the log by checkpointEvery records
// or more (an object store's; a folder's manifest needs none). It never
// moves the checkpoint backwards: If-Match on the ETag read makes a writer
// that lost a race read the winner's, and stop if it is as recent.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.remote == nil {
		return nil
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	every := s.CheckpointEvery
	if every <= 0 {
		every = checkpointEvery
	}
	if s.pos-s.ckpt.seq < every {
		return nil
	}
	s.mu.Lock()
	c := checkpoint{Seq: s.pos, Time: s.Now().UTC(), Replaced: s.replaced, Cursors: s.cursors,
		Batches: make([]string, 0, len(s.committed)), Objects: make([]byte, 0, 16*len(s.objects))}
	for id := range s.committed {
		c.Batches = append(c.Batches, id)
	}
	for id := range s.objects {
		c.Objects = append(c.Objects, id[:]...)
	}
	data, err := json.Marshal(c)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for attempt := 0; attempt < 5; attempt++ {
		cond := PutCondition{IfMatch: s.ckpt.etag, IfAbsent: s.ckpt.etag == ""}
		etag, err := s.remote.Put(ctx, checkpointName, data, cond)
		if err == nil {
			s.ckpt = checkpointHead{seq: c.Seq, etag: etag}
			return nil
		}
		if !errors.Is(err, ErrPrecondition) && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("write the checkpoint: %w", err)
		}
		// Another writer's checkpoint is there: keep it if it is as recent.
		cur, etag, err := s.remote.Get(ctx, checkpointName)
		if errors.Is(err, fs.ErrNotExist) {
			s.ckpt.etag = ""
			continue
		}
		if err != nil {
			return fmt.Errorf("read the checkpoint: %w", err)
		}
		var head struct{ Seq int64 }
		if err := json.Unmarshal(cur, &head); err != nil {
			return fmt.Errorf("%s: %w", checkpointName, err)
		}
		s.ckpt = checkpointHead{seq: head.Seq, etag: etag}
		if head.Seq >= c.Seq {
			return nil
		}
	}
	return fmt.Errorf("write the checkpoint: other writers kept replacing it")
}

// --- cursors: where an incremental listing starts ---

// Cursors returns the positions writers' listings reached, as their
// commit records carry them (Batch.Cursors): for each of a writer's
// region folders of CloudTrail's layout (…/CloudTrail/<region>/, named
// after the writer's source and shard), the "YYYY/MM/DD/<file>" below
// which everything it listed is ingested. An incremental listing
// (source.Filter.Resume) starts there, less a margin for late deliveries,
// instead of listing the folder's whole history.
func (s *Store) Cursors() map[string]string {
	_ = s.LoadObjects()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.cursors))
	for k, v := range s.cursors {
		out[k] = v
	}
	return out
}

// mergeCursors moves positions in dst forward to those of src.
func mergeCursors(dst, src map[string]string) {
	for k, v := range src {
		if v > dst[k] {
			dst[k] = v
		}
	}
}

// CursorOf splits a key of CloudTrail's layout into its region folder
// ("…/CloudTrail/<region>/") and the rest ("YYYY/MM/DD/<file>"); ok is
// false for keys of another layout.
func CursorOf(key string) (folder, rest string, ok bool) {
	i := strings.LastIndex(key, "/CloudTrail/")
	if i < 0 {
		if !strings.HasPrefix(key, "CloudTrail/") {
			return "", "", false
		}
		i = -1
	}
	after := key[i+len("/CloudTrail/"):]
	region, tail, ok := strings.Cut(after, "/")
	if !ok || region == "" {
		return "", "", false
	}
	parts := strings.Split(tail, "/")
	if len(parts) != 4 || len(parts[0]) != 4 || len(parts[1]) != 2 || len(parts[2]) != 2 || parts[3] == "" {
		return "", "", false
	}
	for _, p := range parts[:3] {
		for _, c := range p {
			if c < '0' || c > '9' {
				return "", "", false
			}
		}
	}
	return key[:len(key)-len(tail)], tail, true
}
