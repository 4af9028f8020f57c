package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/iamlens/iamlens/ingest/private"
)

// A batch that never reached the commit log leaves files that no reader
// sees, and its objects are read again by the next run; Recover removes
// those files. With several writers on one store, the batch may also be
// another writer's, still being written: each writer registers its run
// (BeginRun) and its batch IDs start with the run's ID, so Recover leaves
// the files of live runs alone.
//
// In a folder a run holds an exclusive lock on _state/runs/<run>.lock for
// as long as it lives (the system drops it when the process ends, however
// it ends); Recover walks the events and rollup folders. An object store
// has neither locks nor cheap walks: a run rewrites _state/runs/<run>
// every minute (a run not heard from for StaleAfter is dead), and before
// it writes a batch's files it records their partitions in
// _state/pending/<batch>.json (Intend), which the commit removes; Recover
// reads those intents instead of listing the store.

const (
	runsDir    = "_state/runs/"
	pendingDir = "_state/pending/"
	// DefaultStaleAfter is how long an object store's run may go without
	// a heartbeat before another writer takes it for dead.
	DefaultStaleAfter = 10 * time.Minute
	heartbeatEvery    = time.Minute
)

func intentName(batch string) string { return pendingDir + batch + ".json" }

// BeginRun registers the run of a writer whose batch IDs start with runID
// ("<runID>_<n>") until end is called.
func (s *Store) BeginRun(ctx context.Context, runID string) (end func(), err error) {
	if s.remote == nil {
		dir := filepath.Join(s.Root, filepath.FromSlash(runsDir))
		if err := private.MkdirAll(dir); err != nil {
			return nil, fmt.Errorf("register the run: %w", err)
		}
		p := filepath.Join(dir, runID+".lock")
		f, err := private.Create(p)
		if err != nil {
			return nil, fmt.Errorf("register the run: %w", err)
		}
		if ok, err := tryLockFile(f); !ok || err != nil {
			f.Close()
			return nil, fmt.Errorf("register the run %s: locked by another process (%v)", runID, err)
		}
		return func() {
			os.Remove(p)
			f.Close()
		}, nil
	}
	beat := func(ctx context.Context) error {
		host, _ := os.Hostname()
		data, _ := json.Marshal(map[string]any{"run": runID, "host": host, "pid": os.Getpid(), "time": s.Now().UTC()})
		_, err := s.remote.Put(ctx, runsDir+runID, data, PutCondition{})
		return err
	}
	if err := beat(ctx); err != nil {
		return nil, fmt.Errorf("register the run: %w", err)
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				_ = beat(hctx) // a missed beat or two is within StaleAfter
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		dctx, c := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer c()
		_ = s.remote.Delete(dctx, runsDir+runID)
	}, nil
}

// Intend records, on an object store, that batch is about to write files
// into partitions, so that Recover finds them if the batch is never
// committed. A folder needs no intent (Recover walks it).
func (s *Store) Intend(ctx context.Context, batch string, partitions []Partition) error {
	if s.remote == nil {
		return nil
	}
	dirs := make([]string, len(partitions))
	for i, p := range partitions {
		dirs[i] = p.rel()
	}
	data, _ := json.Marshal(map[string]any{"batch": batch, "partitions": dirs})
	if _, err := s.remote.Put(ctx, intentName(batch), data, PutCondition{}); err != nil {
		return fmt.Errorf("record batch %s: %w", batch, err)
	}
	return nil
}

// liveness tells the runs that may still commit from those that never
// will.
type liveness struct {
	s      *Store
	remote map[string]time.Time // an object store's runs and their last heartbeat
	known  map[string]bool
}

func (s *Store) liveness(ctx context.Context) (*liveness, error) {
	l := &liveness{s: s, known: map[string]bool{}}
	if s.remote == nil {
		return l, nil
	}
	l.remote = map[string]time.Time{}
	err := s.remote.List(ctx, runsDir, "", "", func(e Entry) error {
		l.remote[strings.TrimPrefix(e.Name, runsDir)] = e.ModTime
		return nil
	})
	return l, err
}

// alive reports whether run may still be writing.
func (l *liveness) alive(run string) bool {
	if run == "" {
		return false
	}
	if a, ok := l.known[run]; ok {
		return a
	}
	var a bool
	if l.remote != nil {
		t, ok := l.remote[run]
		a = ok && l.s.Now().Sub(t) < l.s.staleAfter()
	} else {
		f, err := os.Open(filepath.Join(l.s.Root, filepath.FromSlash(runsDir), run+".lock"))
		if err == nil {
			got, lerr := tryLockFile(f)
			a = lerr == nil && !got
			if got {
				_ = unlockFile(f)
			}
			f.Close()
		}
	}
	l.known[run] = a
	return a
}

func (s *Store) staleAfter() time.Duration {
	if s.StaleAfter > 0 {
		return s.StaleAfter
	}
	return DefaultStaleAfter
}

// Recover removes the files of batches that were never committed and
// whose run is no longer alive, from the events and the rollup, and
// temporary files left by a crash; it returns how many files it removed.
// Ingest calls it before writing.
func (s *Store) Recover(ctx context.Context) (int, error) {
	l, err := s.liveness(ctx)
	if err != nil {
		return 0, fmt.Errorf("recover store: %w", err)
	}
	if s.remote != nil {
		return s.recoverRemote(ctx, l)
	}
	removed := 0
	old := s.Now().Add(-s.staleAfter())
	// The monthly rollup's files belong to no batch: only a merge's
	// temporary files (part-….parquet.<pid>.tmp) are its orphans.
	for _, table := range []string{"events", "rollup", MonthlyRollupTable} {
		err := filepath.WalkDir(filepath.Join(s.Root, table), func(p string, d fs.DirEntry, err error) error {
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
			tmp := strings.HasSuffix(name, ".tmp")
			base := strings.TrimSuffix(name, ".tmp")
			id, ok := batchOf(strings.TrimSuffix(base, indexSuffix) + ".parquet")
			if !ok {
				id, ok = batchOf(base)
			}
			ok = ok && table != MonthlyRollupTable
			var orphan bool
			switch {
			case ok && s.isCommitted(id) && !tmp:
			case ok:
				orphan = !l.alive(runOf(id))
			case tmp:
				// A rollup twin being built (part-…parquet.<pid>.<n>.tmp)
				// or a monthly file being written: another process's,
				// unless it is old.
				info, err := d.Info()
				orphan = err == nil && info.ModTime().Before(old)
			}
			if !orphan {
				return nil
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removed++
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("recover store: %w", err)
		}
	}
	return removed, nil
}

// recoverRemote removes the files of the uncommitted batches whose
// intents dead runs left.
func (s *Store) recoverRemote(ctx context.Context, l *liveness) (int, error) {
	var intents []string
	if err := s.remote.List(ctx, pendingDir, "", "", func(e Entry) error {
		intents = append(intents, e.Name)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("recover store: %w", err)
	}
	removed := 0
	for _, in := range intents {
		batch := strings.TrimSuffix(strings.TrimPrefix(in, pendingDir), ".json")
		if s.isCommitted(batch) {
			_ = s.remote.Delete(ctx, in) // the commit's own delete was lost
			continue
		}
		if l.alive(runOf(batch)) {
			continue
		}
		data, _, err := s.remote.Get(ctx, in)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("recover store: %w", err)
		}
		var rec struct{ Partitions []string }
		if err := json.Unmarshal(data, &rec); err != nil {
			return removed, fmt.Errorf("recover store: %s: %w", in, err)
		}
		for _, dir := range rec.Partitions {
			for _, table := range []string{dir, "rollup/" + strings.TrimPrefix(dir, "events/")} {
				var names []string
				if err := s.remote.List(ctx, table+"/part-"+batch+"-", "", "", func(e Entry) error {
					names = append(names, e.Name)
					return nil
				}); err != nil {
					return removed, fmt.Errorf("recover store: %w", err)
				}
				for _, n := range names {
					if err := s.remote.Delete(ctx, n); err != nil {
						return removed, fmt.Errorf("recover store: %w", err)
					}
					removed++
				}
			}
		}
		if err := s.remote.Delete(ctx, in); err != nil {
			return removed, fmt.Errorf("recover store: %w", err)
		}
	}
	if removed > 0 {
		s.forgetListings()
	}
	return removed, nil
}

// removeFiles removes files of the store (names below the root), with
// their principal indexes: a folder's at once, an object store's object by
// object.
func (s *Store) removeFiles(ctx context.Context, rels []string) error {
	for _, r := range rels {
		for _, n := range []string{r, strings.TrimSuffix(r, ".parquet") + indexSuffix} {
			var err error
			if s.remote != nil {
				err = s.remote.Delete(ctx, n)
			} else if err = os.Remove(s.path(n)); errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			if err != nil {
				return fmt.Errorf("remove %s: %w", path.Base(n), err)
			}
		}
	}
	s.forgetListings()
	return nil
}
