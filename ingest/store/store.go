// Package store is the on-disk events dataset: a Hive-partitioned folder of
// Parquet files plus a commit log that makes ingest exactly-once.
//
//	STORE/events/account=<12 digits>/date=YYYY-MM-DD/part-<batch>-<n>.parquet
//	STORE/rollup/account=<12 digits>/date=YYYY-MM-DD/part-<batch>-<n>.parquet
//	STORE/_state/manifest.jsonl   one JSON line per committed batch
//	STORE/_state/rollup.json      the rollup's format version
//
// Files are written (WriteTemp) by iamlens's own encoder (encode.go) and
// read (Scan, EventIDs) with parquet-go; the tests read written files again
// with Arrow's pqarrow. A batch is committed by appending its line to the
// manifest after its files have been renamed into place; files of a batch that never
// reached the manifest (a crash, a Ctrl-C) are removed by Recover, so a
// re-run neither duplicates nor misses rows.
//
// Each events file has a twin of the same name in the rollup folder: the
// usage rollup of its rows (rollup.go), written and committed with it, or
// built later from it (BuildRollup) for files written without one.
//
// Athena, Spark, DuckDB and Trino read the events and rollup folders as
// they are (hive partitioning on account and date).
package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
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

// Store is one dataset folder.
type Store struct {
	Root string

	mu        sync.Mutex
	committed map[string]bool // batch IDs in the manifest
	objects   map[objectID]struct{}
	objOnce   sync.Once
	objErr    error
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

// Batch is one manifest line: the unit of commit.
type Batch struct {
	ID      string         `json:"batch"`
	Time    time.Time      `json:"time"`
	Files   []string       `json:"files"`
	Rows    int64          `json:"rows"`
	Dups    int64          `json:"duplicates"`
	Objects []ObjectRecord `json:"objects"`
}

// Open opens (creating if needed) the store at root and reads its manifest.
func Open(root string) (*Store, error) {
	if err := notAFile(root); err != nil {
		return nil, err
	}
	if err := private.MkdirAll(filepath.Join(root, "_state")); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{Root: root, committed: map[string]bool{}, objects: map[objectID]struct{}{}}
	if err := s.readManifest(); err != nil {
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
	s := &Store{Root: root, committed: map[string]bool{}, objects: map[objectID]struct{}{}}
	if err := s.readManifest(); err != nil {
		return nil, err
	}
	return s, nil
}

// notAFile refuses a store path that names a file.
func notAFile(root string) error {
	if st, err := os.Stat(root); err == nil && !st.IsDir() {
		return fmt.Errorf("the store %s is a file: --store takes a folder (ingest creates it)", root)
	}
	return nil
}

func (s *Store) manifestPath() string { return filepath.Join(s.Root, "_state", "manifest.jsonl") }

// EventsDir is the folder holding the partitions.
func (s *Store) EventsDir() string { return filepath.Join(s.Root, "events") }

// readManifest learns the committed batch IDs. It streams the manifest and
// reads only each line's leading "batch" field (Commit writes it first), so
// opening a store for reading stays cheap in time and memory however many
// objects were ingested; the object list is read on first use by
// LoadObjects.
func (s *Store) readManifest() error {
	f, err := os.Open(s.manifestPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var off int64 // where the current line starts
	var full []byte
	for line := 1; ; line++ {
		head, err := r.ReadSlice('\n')
		n := int64(len(head))
		id, ok := leadingBatchID(head)
		full = append(full[:0], head...)
		for errors.Is(err, bufio.ErrBufferFull) {
			var more []byte
			more, err = r.ReadSlice('\n')
			n += int64(len(more))
			if !ok {
				full = append(full, more...)
			}
		}
		if errors.Is(err, io.EOF) {
			if n > 0 {
				// A crash mid-append left a torn last line: that batch was
				// never committed (Recover removes its files). Cut it, so
				// the next append starts on a line of its own.
				if err := os.Truncate(s.manifestPath(), off); err != nil {
					return fmt.Errorf("repair manifest: %w", err)
				}
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read manifest: %w", err)
		}
		off += n
		if len(bytes.TrimSpace(full)) == 0 {
			continue
		}
		if !ok {
			var b Batch
			if err := json.Unmarshal(full, &b); err != nil {
				return fmt.Errorf("manifest %s line %d: %w", s.manifestPath(), line, err)
			}
			id = b.ID
		}
		s.committed[id] = true
	}
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

// objectID identifies an ingested object version: the first 16 bytes of
// SHA-256 over its key and ETag. The set of them is all ingest keeps of the
// manifest's objects (~40 bytes each in memory, against ~250 for the
// records), so memory does not follow the bucket's object count.
type objectID [16]byte

func idOf(key, etag string) objectID { return sum16(key + "\x00" + etag) }

// LoadObjects reads the manifest's object list (once), streaming it line by
// line. Ingest calls it before asking Done; read-only commands never need it.
func (s *Store) LoadObjects() error {
	s.objOnce.Do(func() {
		f, err := os.Open(s.manifestPath())
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			s.objErr = fmt.Errorf("read manifest: %w", err)
			return
		}
		defer f.Close()
		objects := map[objectID]struct{}{}
		r := bufio.NewReaderSize(f, 64<<10)
		for {
			l, err := r.ReadBytes('\n')
			if errors.Is(err, io.EOF) {
				break // a torn last line (no newline) was never committed
			}
			if err != nil {
				s.objErr = fmt.Errorf("read manifest: %w", err)
				return
			}
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			var b struct {
				Objects []struct{ Key, ETag string }
			}
			if err := json.Unmarshal(l, &b); err != nil {
				s.objErr = fmt.Errorf("manifest %s: %w", s.manifestPath(), err)
				return
			}
			for _, o := range b.Objects {
				objects[idOf(o.Key, o.ETag)] = struct{}{}
			}
		}
		s.mu.Lock()
		for id := range s.objects { // committed by this process before the load
			objects[id] = struct{}{}
		}
		s.objects = objects
		s.mu.Unlock()
	})
	return s.objErr
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

// Recover removes temporary files and the files of batches that were never
// committed, from the events and the rollup, returning how many it
// removed. Ingest calls it before writing.
func (s *Store) Recover() (int, error) {
	removed := 0
	for _, root := range []string{s.EventsDir(), s.RollupDir()} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			name := d.Name()
			orphan := strings.HasSuffix(name, ".tmp")
			if id, ok := batchOf(strings.TrimSuffix(name, indexSuffix) + ".parquet"); ok && strings.HasSuffix(name, indexSuffix) && !s.committed[id] {
				orphan = true
			}
			if id, ok := batchOf(name); ok && !s.committed[id] {
				orphan = true
			}
			if orphan {
				if err := os.Remove(p); err != nil {
					return err
				}
				removed++
			}
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("recover store: %w", err)
		}
	}
	return removed, nil
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

// Partition is one account/date folder.
type Partition struct {
	Account string
	Date    string // YYYY-MM-DD
}

// Dir is the partition's folder below the store.
func (p Partition) Dir(s *Store) string {
	return filepath.Join(s.EventsDir(), "account="+p.Account, "date="+p.Date)
}

// PartitionOf returns the partition a row with this account and time goes to.
// Rows without an account go to account=unknown.
func PartitionOf(account string, t time.Time) Partition {
	if account == "" {
		account = "unknown"
	}
	return Partition{Account: account, Date: t.UTC().Format("2006-01-02")}
}

// Commit makes a batch durable: its files (already renamed into place by
// the caller) become visible to readers once the manifest line is synced.
func (s *Store) Commit(b Batch) error {
	line, err := json.Marshal(b)
	if err != nil {
		return err
	}
	f, err := private.OpenAppend(s.manifestPath())
	if err != nil {
		return fmt.Errorf("commit batch %s: %w", b.ID, err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("commit batch %s: %w", b.ID, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("commit batch %s: %w", b.ID, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	s.mu.Lock()
	s.committed[b.ID] = true
	for _, o := range b.Objects {
		s.objects[idOf(o.Key, o.ETag)] = struct{}{}
	}
	s.mu.Unlock()
	return nil
}

// Files lists the committed Parquet files of the partitions that match
// accounts (all when empty) and the date range [from, to] (open when zero),
// sorted by path.
func (s *Store) Files(accounts []string, from, to time.Time) ([]string, error) {
	return s.filesIn(s.EventsDir(), accounts, from, to)
}

// filesIn is Files for the table under dir (EventsDir, RollupDir).
func (s *Store) filesIn(root string, accounts []string, from, to time.Time) ([]string, error) {
	var out []string
	acctDirs, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	fromDay, toDay := "", ""
	if !from.IsZero() {
		fromDay = from.UTC().Format("2006-01-02")
	}
	if !to.IsZero() {
		toDay = to.UTC().Format("2006-01-02")
	}
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
			dir := filepath.Join(root, ad.Name(), dd.Name())
			ents, err := os.ReadDir(dir)
			if err != nil {
				return nil, err
			}
			for _, e := range ents {
				if id, ok := batchOf(e.Name()); ok && s.isCommitted(id) {
					out = append(out, filepath.Join(dir, e.Name()))
				}
			}
		}
	}
	sort.Strings(out)
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
