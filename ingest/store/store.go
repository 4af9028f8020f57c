// Package store is the on-disk events dataset: a Hive-partitioned folder of
// Parquet files plus a commit log that makes ingest exactly-once.
//
//	STORE/events/account=<12 digits>/date=YYYY-MM-DD/part-<batch>-<n>.parquet
//	STORE/_state/manifest.jsonl   one JSON line per committed batch
//
// Files are written by Apache Arrow's pqarrow writer (WritePartition) and
// read by parquet-go (Scan, EventIDs): the two libraries check each other on
// every read. A batch is committed by appending its line to the manifest
// after its files have been renamed into place; files of a batch that never
// reached the manifest (a crash, a Ctrl-C) are removed by Recover, so a
// re-run neither duplicates nor misses rows.
//
// Athena, Spark, DuckDB and Trino read the events folder as it is (hive
// partitioning on account and date).
package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
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
	objects   map[string]ObjectRecord
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
	if err := os.MkdirAll(filepath.Join(root, "_state"), 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{Root: root, committed: map[string]bool{}, objects: map[string]ObjectRecord{}}
	if err := s.readManifest(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) manifestPath() string { return filepath.Join(s.Root, "_state", "manifest.jsonl") }

// EventsDir is the folder holding the partitions.
func (s *Store) EventsDir() string { return filepath.Join(s.Root, "events") }

func (s *Store) readManifest() error {
	f, err := os.Open(s.manifestPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	if err := truncateTornTail(f, s.manifestPath()); err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	line := 0
	for sc.Scan() {
		line++
		var b Batch
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			// A torn last line (crash mid-append) is an uncommitted batch.
			if !sc.Scan() {
				break
			}
			return fmt.Errorf("manifest %s line %d: %w", s.manifestPath(), line, err)
		}
		s.committed[b.ID] = true
		for _, o := range b.Objects {
			s.objects[o.Key] = o
		}
	}
	return sc.Err()
}

// truncateTornTail cuts a last line that a crash left without its newline,
// so the next append starts on a line of its own. That line's batch was never
// committed; Recover removes its files.
func truncateTornTail(f *os.File, path string) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if data[len(data)-1] == '\n' {
		return nil
	}
	cut := strings.LastIndexByte(string(data), '\n') + 1
	return os.Truncate(path, int64(cut))
}

// Done reports whether the object with key and etag is already ingested.
func (s *Store) Done(key, etag string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	return ok && o.ETag == etag
}

// ObjectCount is the number of objects the manifest records.
func (s *Store) ObjectCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// Recover removes temporary files and the files of batches that were never
// committed, returning how many it removed. Ingest calls it before writing.
func (s *Store) Recover() (int, error) {
	removed := 0
	err := filepath.WalkDir(s.EventsDir(), func(p string, d fs.DirEntry, err error) error {
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
	f, err := os.OpenFile(s.manifestPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
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
		s.objects[o.Key] = o
	}
	s.mu.Unlock()
	return nil
}

// Files lists the committed Parquet files of the partitions that match
// accounts (all when empty) and the date range [from, to] (open when zero),
// sorted by path.
func (s *Store) Files(accounts []string, from, to time.Time) ([]string, error) {
	var out []string
	acctDirs, err := os.ReadDir(s.EventsDir())
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
		dateDirs, err := os.ReadDir(filepath.Join(s.EventsDir(), ad.Name()))
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
			dir := filepath.Join(s.EventsDir(), ad.Name(), dd.Name())
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
