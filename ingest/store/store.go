// Package store is the events dataset: a Hive-partitioned tree of Parquet
// files plus a commit log that makes ingest exactly-once, in a local folder
// or on an object store (S3, through a Backend).
//
//	STORE/events/account=<12 digits>/date=YYYY-MM-DD/part-<batch>-<n>.parquet
//	STORE/rollup/account=<12 digits>/date=YYYY-MM-DD/part-<batch>-<n>.parquet
//	STORE/rollup_month/account=<12 digits>/month=YYYY-MM/part-<time>_<n>.parquet
//	STORE/_state/manifest.jsonl   one JSON line per committed batch (a folder)
//	STORE/_state/log/<seq>.json   one object per committed batch (an object store)
//	STORE/_state/rollup.json      the rollup's format version
//
// Files are written (WriteTemp) by iamlens's own encoder (encode.go) and
// read (Scan, EventIDs) with parquet-go; the tests read written files again
// with Arrow's pqarrow. A batch is committed by appending its record to the
// commit log after its files are in place (commitlog.go); readers see only
// the files of committed batches, so a crash before the commit leaves
// nothing visible, and the next run reads those objects again. Several
// writers may share a store: each commit first reads what the others
// committed since, and the caller's check (CommitCheck) drops what they
// already stored.
//
// Each events file has a twin of the same name in the rollup folder: the
// usage rollup of its rows (rollup.go), written and committed with it, or
// built later from it (BuildRollup) for files written without one.
// Compaction (compact.go) rewrites a partition's files into fewer, with a
// commit that replaces them.
//
// Athena, Spark, DuckDB and Trino read the events and rollup folders as
// they are (hive partitioning on account and date); on S3, Athena reads
// them through the symlink manifests of the committed files (athena.go).
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamlens/iamlens/ingest/private"
)

// DefaultDir is the store used when --store is not given: $IAMLENS_STORE,
// else the user cache folder (~/.cache/iamlens on Linux).
func DefaultDir() string {
	if d := os.Getenv("IAMLENS_STORE"); d != "" {
		return d
	}
	if c, err := os.UserCacheDir(); err == nil {
		return filepath.Join(c, "iamlens", "store")
	}
	return ".iamlens-store"
}

// ErrEmpty is returned by readers when the store holds no committed data.
var ErrEmpty = errors.New("the store holds no events: run `iamlens ingest` first")

// Store is one dataset: a local folder, or a prefix of an object store.
type Store struct {
	// Root is the folder, or the object store's URI (s3://bucket/prefix).
	Root string

	remote Backend // nil: the folder Root

	mu        sync.Mutex
	committed map[string]bool      // batch IDs in the commit log
	replaced  map[string]time.Time // files a committed compaction replaced, and when
	objects   map[objectID]struct{}
	cursors   map[string]string // see Cursors
	objLoaded bool
	objOnce   sync.Once
	objErr    error

	logMu sync.Mutex // serialises reading the log's tail and committing
	pos   int64      // how much of the log has been read: a byte offset (folder) or a sequence number (object store)
	ckpt  checkpointHead

	listMu sync.Mutex
	lists  map[string]*listing // an object store's listings, by account folder (files.go)

	io            ioCounters
	rollupVersion atomic.Int64 // an object store's, once read
	// Now is the clock of recovery and compaction's grace periods
	// (default time.Now).
	Now func() time.Time
	// CheckpointEvery is how many records an object store's checkpoint
	// may lag its commit log before Checkpoint writes a new one (0: 64).
	CheckpointEvery int64
	// StaleAfter is how long an object store's writer may go without a
	// heartbeat before Recover takes its run for dead, and how old a
	// folder's stray temporary file must be to be removed (0:
	// DefaultStaleAfter).
	StaleAfter time.Duration
}

// ObjectRecord is what the manifest remembers of one ingested object.
type ObjectRecord struct {
	Key     string `json:"key"`
	ETag    string `json:"etag"`
	Size    int64  `json:"size"`
	Records int    `json:"records"`
	// Rejected counts records of the object that could not be stored.
	Rejected int `json:"rejected,omitempty"`
}

// Batch is one record of the commit log: the unit of commit.
type Batch struct {
	ID string `json:"batch"`
	// Replaces names the files a compaction rewrote into Files: from the
	// commit on, readers see Files instead of them.
	Replaces []string       `json:"replaces,omitempty"`
	Time     time.Time      `json:"time"`
	Files    []string       `json:"files"`
	Rows     int64          `json:"rows"`
	Dups     int64          `json:"duplicates"`
	Objects  []ObjectRecord `json:"objects"`
	// Cursors are how far the writer's listing got, by region folder (see
	// Cursors): positions that only move forward.
	Cursors map[string]string `json:"cursors,omitempty"`
}

func newStore(root string, remote Backend) *Store {
	return &Store{Root: root, remote: remote, committed: map[string]bool{}, replaced: map[string]time.Time{},
		objects: map[objectID]struct{}{}, cursors: map[string]string{}, Now: time.Now}
}

// Open opens (creating if needed) the store in the folder root and reads
// its commit log, repairing a record torn by a crash.
func Open(root string) (*Store, error) {
	if err := notAFile(root); err != nil {
		return nil, err
	}
	if err := private.MkdirAll(filepath.Join(root, "_state")); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := newStore(root, nil)
	if err := s.readLocalLog(); err != nil {
		return nil, err
	}
	if err := s.repairLocalLog(); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenExisting opens the store at root for reading and creates nothing: a
// folder that does not exist is ErrEmpty (wrapped); a path that is a file
// is an error saying so. Readers then find no files in a folder that is
// not a store.
func OpenExisting(root string) (*Store, error) {
	if err := notAFile(root); err != nil {
		return nil, err
	}
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", root, ErrEmpty)
	}
	s := newStore(root, nil)
	if err := s.readLocalLog(); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenRemote opens the store that b holds (an empty prefix is an empty
// store, ready for ingest) and reads its commit log: the last checkpoint,
// then the records committed after it.
func OpenRemote(ctx context.Context, b Backend) (*Store, error) {
	s := newStore(strings.TrimSuffix(b.URI(), "/"), b)
	if err := s.readRemoteLog(ctx); err != nil {
		return nil, fmt.Errorf("open store %s: %w", s.Root, err)
	}
	return s, nil
}

// Remote reports whether the store is on an object store.
func (s *Store) Remote() bool { return s.remote != nil }

// notAFile refuses a store path that names a file.
func notAFile(root string) error {
	if st, err := os.Stat(root); err == nil && !st.IsDir() {
		return fmt.Errorf("the store %s is a file: --store takes a folder (ingest creates it)", root)
	}
	return nil
}

// path is the path (a folder's) or URI (an object store's) of the file
// whose slash-separated name below the root is rel.
func (s *Store) path(rel string) string {
	if s.remote != nil {
		return s.Root + "/" + rel
	}
	return filepath.Join(s.Root, filepath.FromSlash(rel))
}

// Rel is the slash-separated name below the store's root of a file's path
// (as the commit log names it).
func (s *Store) Rel(p string) (string, error) { return s.rel(p) }

// rel is the slash-separated name below the root of a path that path made.
func (s *Store) rel(p string) (string, error) {
	if s.remote != nil {
		r, ok := strings.CutPrefix(p, s.Root+"/")
		if !ok {
			return "", fmt.Errorf("%s is not a file of the store %s", p, s.Root)
		}
		return r, nil
	}
	r, err := filepath.Rel(s.Root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is not a file of the store %s", p, s.Root)
	}
	return filepath.ToSlash(r), nil
}

func (s *Store) manifestPath() string { return filepath.Join(s.Root, "_state", "manifest.jsonl") }

// EventsDir is the folder holding the partitions.
func (s *Store) EventsDir() string { return s.path("events") }

// objectID identifies an ingested object version: the first 16 bytes of
// SHA-256 over its key and ETag. The set of them is all ingest keeps of the
// manifest's objects (~40 bytes each in memory, against ~250 for the
// records), so memory does not follow the bucket's object count.
type objectID [16]byte

func idOf(key, etag string) objectID { return sum16(key + "\x00" + etag) }

// LoadObjects reads the commit log's object lists (once). Ingest calls it
// before asking Done; read-only commands never need it. An object store's
// are read with its log at Open.
func (s *Store) LoadObjects() error {
	if s.remote != nil {
		return nil
	}
	s.objOnce.Do(func() { s.objErr = s.loadLocalObjects() })
	return s.objErr
}

// addObjects records a committed batch's objects as done, and moves the
// cursors of their folders (s.mu held).
func (s *Store) addObjects(objs []ObjectRecord) {
	for _, o := range objs {
		s.objects[idOf(o.Key, o.ETag)] = struct{}{}
	}
}

// Done reports whether the object with key and etag is already ingested.
// It loads the object list on first use; an unreadable list counts as not
// done (deduplication by eventID still prevents duplicate rows), and
// LoadObjects reports the error.
func (s *Store) Done(key, etag string) bool {
	_ = s.LoadObjects()
	id := idOf(key, etag)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.objects[id]
	return ok
}

// ObjectCount is the number of object versions (key and ETag) the manifest
// records.
func (s *Store) ObjectCount() int {
	_ = s.LoadObjects()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// batchOf extracts the batch ID from "part-<batch>-<n>.parquet".
func batchOf(name string) (string, bool) {
	if !strings.HasPrefix(name, "part-") || !strings.HasSuffix(name, ".parquet") {
		return "", false
	}
	mid := strings.TrimSuffix(strings.TrimPrefix(name, "part-"), ".parquet")
	i := strings.LastIndexByte(mid, '-')
	if i < 0 {
		return "", false
	}
	return mid[:i], true
}

// runOf is the run that wrote a batch: its ID without the batch's number
// ("20261104T101500_a1b2c3" of "20261104T101500_a1b2c3_0007").
func runOf(batch string) string {
	if i := strings.LastIndexByte(batch, '_'); i > 0 {
		return batch[:i]
	}
	return ""
}

// Partition is one account/date folder.
type Partition struct {
	Account string
	Date    string // YYYY-MM-DD
}

// Dir is the partition's folder below the store.
func (p Partition) Dir(s *Store) string { return s.path(p.rel()) }

// rel is the partition's folder's name below the root.
func (p Partition) rel() string { return "events/account=" + p.Account + "/date=" + p.Date }

// PartitionOf returns the partition a row with this account and time goes to.
// Rows without an account go to account=unknown.
func PartitionOf(account string, t time.Time) Partition {
	if account == "" {
		account = "unknown"
	}
	return Partition{Account: account, Date: t.UTC().Format("2006-01-02")}
}

// partitionOfRel returns the partition of a file's name below the root
// (events/… or rollup/…).
func partitionOfRel(rel string) (Partition, bool) {
	parts := strings.Split(rel, "/")
	if len(parts) != 4 {
		return Partition{}, false
	}
	a, ok1 := strings.CutPrefix(parts[1], "account=")
	d, ok2 := strings.CutPrefix(parts[2], "date=")
	return Partition{Account: a, Date: d}, ok1 && ok2
}

// PartitionOfFile returns the partition of a file of the store (Files).
func PartitionOfFile(p string) (Partition, bool) {
	dir, _ := path.Split(filepath.ToSlash(p))
	dir = strings.TrimSuffix(dir, "/")
	date, ok1 := strings.CutPrefix(path.Base(dir), "date=")
	acct, ok2 := strings.CutPrefix(path.Base(path.Dir(dir)), "account=")
	return Partition{Account: acct, Date: date}, ok1 && ok2
}

// Commit makes a batch durable: its files (already in place, see Publish)
// become visible to readers once its record is in the commit log. It is
// CommitCheck without a check: for a single writer.
func (s *Store) Commit(b Batch) error { return s.CommitCheck(context.Background(), b, nil) }

// CommitCheck commits b. Before it appends b to the commit log, it reads
// the batches other writers committed since this store last read the log
// and calls check with them (none, possibly): check returns the batch
// to commit in b's place (b itself when nothing it holds is stored by
// them; b with files rewritten without the events they hold, when some
// are), or an error that abandons the commit. On an object store, check
// may be called again, each time with the batches committed since the last
// call. Only then is the record appended, exactly once whatever
// the number of writers: under a lock on the manifest (a folder), or as
// the next object of the log created only if absent (an object store), so
// that two writers never both commit on the same view of the store.
func (s *Store) CommitCheck(ctx context.Context, b Batch, check func(b Batch, newer []Batch) (Batch, error)) error {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	var err error
	if s.remote != nil {
		b, err = s.commitRemote(ctx, b, check)
	} else {
		b, err = s.commitLocal(b, check)
	}
	if err != nil {
		return fmt.Errorf("commit batch %s: %w", b.ID, err)
	}
	s.apply(b)
	return nil
}

// apply records a committed batch in the store's view.
func (s *Store) apply(b Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed[b.ID] = true
	for _, f := range b.Replaces {
		s.replaced[f] = b.Time
	}
	mergeCursors(s.cursors, b.Cursors)
	if s.objLoaded || s.remote != nil {
		s.addObjects(b.Objects)
	} else {
		for _, o := range b.Objects { // merged into the list when it loads
			s.objects[idOf(o.Key, o.ETag)] = struct{}{}
		}
	}
	if s.remote != nil {
		for _, f := range b.Files {
			s.listed(f, -1)
			if strings.HasPrefix(f, "events/") {
				s.listed(strings.TrimSuffix(f, ".parquet")+indexSuffix, -1)
			}
		}
	}
}

// Files lists the committed Parquet files of the partitions that match
// accounts (all when empty) and the date range [from, to] (open when zero),
// sorted by path.
func (s *Store) Files(accounts []string, from, to time.Time) ([]string, error) {
	return s.filesIn("events", accounts, from, to)
}

// filesIn is Files for the table (events, rollup).
func (s *Store) filesIn(table string, accounts []string, from, to time.Time) ([]string, error) {
	fromDay, toDay := "", ""
	if !from.IsZero() {
		fromDay = from.UTC().Format("2006-01-02")
	}
	if !to.IsZero() {
		toDay = to.UTC().Format("2006-01-02")
	}
	var rels []string
	var err error
	if s.remote != nil {
		rels, err = s.remoteFiles(context.Background(), table, accounts, fromDay, toDay)
	} else {
		rels, err = s.localFiles(table, accounts, fromDay, toDay)
	}
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rels))
	for _, r := range rels {
		if id, ok := batchOf(path.Base(r)); ok && s.visible(id, r) {
			out = append(out, s.path(r))
		}
	}
	sort.Strings(out)
	return out, nil
}

// visible reports whether the file rel of batch id is in the store's view:
// committed, and not replaced by a compaction.
func (s *Store) visible(id, rel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.committed[id] {
		return false
	}
	_, gone := s.replaced[rel]
	return !gone
}

// localFiles lists the Parquet files of a folder's table.
func (s *Store) localFiles(table string, accounts []string, fromDay, toDay string) ([]string, error) {
	root := filepath.Join(s.Root, table)
	acctDirs, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ad := range acctDirs {
		acct, ok := strings.CutPrefix(ad.Name(), "account=")
		if !ok || !ad.IsDir() {
			continue
		}
		if len(accounts) > 0 && !contains(accounts, acct) {
			continue
		}
		dateDirs, err := os.ReadDir(filepath.Join(root, ad.Name()))
		if err != nil {
			return nil, err
		}
		for _, dd := range dateDirs {
			day, ok := strings.CutPrefix(dd.Name(), "date=")
			if !ok || !dd.IsDir() {
				continue
			}
			if (fromDay != "" && day < fromDay) || (toDay != "" && day > toDay) {
				continue
			}
			ents, err := os.ReadDir(filepath.Join(root, ad.Name(), dd.Name()))
			if err != nil {
				return nil, err
			}
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".parquet") {
					out = append(out, table+"/"+ad.Name()+"/"+dd.Name()+"/"+e.Name())
				}
			}
		}
	}
	return out, nil
}

func (s *Store) isCommitted(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.committed[id]
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// IOStats counts what a store's readers read: files opened, read requests
// (a local file's ReadAt calls; an object store's GETs) and bytes.
type IOStats struct {
	Files    int64 `json:"files_opened"`
	Requests int64 `json:"read_requests"`
	Bytes    int64 `json:"bytes_read"`
}

type ioCounters struct{ files, requests, bytes atomic.Int64 }

// IOStats returns what the store's readers have read so far.
func (s *Store) IOStats() IOStats {
	return IOStats{Files: s.io.files.Load(), Requests: s.io.requests.Load(), Bytes: s.io.bytes.Load()}
}
