package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/private"
)

// RollupDir is the folder of the usage rollup's partitions.
func (s *Store) RollupDir() string { return s.path("rollup") }

// RollupTwin is the path of an events file's rollup twin (which may not
// exist: Coverage says which do).
func (s *Store) RollupTwin(eventsFile string) string { return s.rollupPath(eventsFile) }

// rollupPath is the rollup twin of an events file: the same partition and
// name under RollupDir.
func (s *Store) rollupPath(eventsFile string) string {
	rel, err := s.rel(eventsFile)
	after, ok := strings.CutPrefix(rel, "events/")
	if err != nil || !ok {
		panic("store: " + eventsFile + " is not an events file of " + s.Root)
	}
	return s.path("rollup/" + after)
}

// writeRollup writes the rollup of rows (one partition's, sorted) to path:
// a file of a folder (unsynced), or an object written whole.
func (s *Store) writeRollup(ctx context.Context, path string, rows Rows, o WriteOptions) error {
	codec, err := o.Codec()
	if err != nil {
		return err
	}
	b := rollupBuilders.Get().(*rollupBuilder)
	defer rollupBuilders.Put(b)
	b.build(rows)
	encode := func(w io.Writer) error { return encodeRollup(w, b, codec, o.rowGroupRows(), o.pageBytes()) }
	if s.remote != nil {
		rel, err := s.rel(path)
		if err != nil {
			return err
		}
		return s.putObject(ctx, rel, encode)
	}
	if err := private.MkdirAll(filepath.Dir(path)); err != nil {
		return err
	}
	if err := writeFile(path, encode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (s *Store) rollupStatePath() string { return s.path("_state/rollup.json") }

// rollupState is _state/rollup.json.
type rollupState struct {
	Version int `json:"version"`
}

// RollupVersion is the format version of the store's rollup: 0 when the
// store has none.
func (s *Store) RollupVersion() (int, error) {
	if v := s.rollupVersion.Load(); v > 0 {
		return int(v), nil // an object store's, read once
	}
	data, err := s.readSmall(context.Background(), s.rollupStatePath())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read rollup state: %w", err)
	}
	var st rollupState
	if err := json.Unmarshal(data, &st); err != nil {
		return 0, fmt.Errorf("%s: %w", s.rollupStatePath(), err)
	}
	if s.remote != nil {
		s.rollupVersion.Store(int64(st.Version))
	}
	return st.Version, nil
}

// PrepareRollup readies the store for rollup files of this version
// (columns.RollupVersion) and reports whether they may be written: a
// rollup of an older version is removed (readers build it again, file by
// file, from the events); one of a newer version, written by a newer
// iamlens, is left alone, and no rollup file may be added to it.
func (s *Store) PrepareRollup() (bool, error) {
	v, err := s.RollupVersion()
	if err != nil {
		return false, err
	}
	switch {
	case v == columns.RollupVersion:
		return true, nil
	case v > columns.RollupVersion:
		return false, nil
	}
	// A rollup of an older version goes. (None is there when there is no
	// state yet: a new store, on which several writers may be starting at
	// once, or one whose rollup RebuildRollup removed.)
	if v > 0 {
		if err := s.removeRollup(context.Background()); err != nil {
			return false, err
		}
	}
	data, _ := json.Marshal(rollupState{Version: columns.RollupVersion})
	if s.remote != nil {
		_, err := s.remote.Put(context.Background(), "_state/rollup.json", append(data, '\n'), PutCondition{IfAbsent: v == 0})
		if err != nil && !errors.Is(err, ErrPrecondition) {
			return false, fmt.Errorf("write rollup state: %w", err)
		}
		s.rollupVersion.Store(columns.RollupVersion)
		return true, nil
	}
	// Written to a temporary file of its own, synced and renamed into
	// place: several writers starting on a new store write it at once.
	if err := private.WriteFile(s.rollupStatePath(), append(data, '\n')); err != nil {
		return false, fmt.Errorf("write rollup state: %w", err)
	}
	return true, syncPath(filepath.Dir(s.rollupStatePath()), os.O_RDONLY)
}

// RollupCoverage is what the rollup holds of a window: for each committed
// events file of the window, its rollup twin, or that it has none.
type RollupCoverage struct {
	// Events are the window's committed events files, sorted.
	Events []string
	// Rollup holds each events file's twin, "" where it is missing.
	Rollup []string
	// Missing counts the events files without a twin.
	Missing int
	// Usable is false when the store's rollup is of another version
	// (PrepareRollup has not made it this one's): then no twin counts.
	Usable bool
}

// Complete reports whether every events file of the window has its twin.
func (c RollupCoverage) Complete() bool { return c.Usable && c.Missing == 0 }

// Coverage lists the committed events files that match accounts and the
// days of [from, to] (as Files does) with their rollup twins.
func (s *Store) Coverage(accounts []string, from, to time.Time) (RollupCoverage, error) {
	var c RollupCoverage
	v, err := s.RollupVersion()
	if err != nil {
		return c, err
	}
	c.Usable = v == columns.RollupVersion
	if c.Events, err = s.Files(accounts, from, to); err != nil {
		return c, err
	}
	have := map[string]bool{}
	if c.Usable {
		twins, err := s.filesIn("rollup", accounts, from, to)
		if err != nil {
			return c, err
		}
		for _, t := range twins {
			have[t] = true
		}
	}
	c.Rollup = make([]string, len(c.Events))
	for i, e := range c.Events {
		if t := s.rollupPath(e); have[t] {
			c.Rollup[i] = t
		} else {
			c.Missing++
		}
	}
	return c, nil
}

// BuildProgress is reported by BuildRollup after each file.
type BuildProgress struct {
	Done, Total int
	Rows        int64 // events read so far
}

// BuildRollup writes the rollup twin of every events file of c that has
// none, reading the file's events (in parallel, one file a worker), so
// that stores written before the rollup, or by an older iamlens, gain it.
// Each twin is written under a temporary name and renamed into place once
// synced: an interrupted build leaves whole twins and no partial one, and
// the next build writes the rest. It makes the store's rollup this
// version's first (PrepareRollup); a store whose rollup is newer is left
// alone (an error). progress, if not nil, is called after each file, by one
// goroutine at a time.
func (s *Store) BuildRollup(ctx context.Context, c RollupCoverage, o WriteOptions, progress func(BuildProgress)) error {
	ok, err := s.PrepareRollup()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the store's rollup was written by a newer iamlens (format %d)", columns.RollupVersion)
	}
	if !c.Usable {
		// The twins listed were of another version (now removed).
		clear(c.Rollup)
	}
	var todo []string
	for i, e := range c.Events {
		if c.Rollup[i] == "" {
			todo = append(todo, e)
		}
	}
	var done atomic.Int64
	var rows atomic.Int64
	var report sync.Mutex // progress is called by one goroutine at a time
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, e := range todo {
		g.Go(func() error {
			n, err := s.buildTwin(ctx, e, o)
			if err != nil {
				return err
			}
			rows.Add(n)
			if d := done.Add(1); progress != nil {
				report.Lock()
				progress(BuildProgress{Done: int(d), Total: len(todo), Rows: rows.Load()})
				report.Unlock()
			}
			return nil
		})
	}
	return g.Wait()
}

// RebuildRollup removes the store's rollup and builds it again from every
// committed events file.
func (s *Store) RebuildRollup(ctx context.Context, o WriteOptions, progress func(BuildProgress)) error {
	if s.remote != nil {
		if err := s.remote.Delete(ctx, "_state/rollup.json"); err != nil {
			return err
		}
		s.rollupVersion.Store(0)
	} else if err := os.Remove(s.rollupStatePath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := s.removeRollup(ctx); err != nil {
		return err
	}
	c, err := s.Coverage(nil, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	return s.BuildRollup(ctx, c, o, progress)
}

// buildTwin writes the rollup twin of one events file and returns how many
// events it read.
func (s *Store) buildTwin(ctx context.Context, eventsFile string, o WriteOptions) (int64, error) {
	bld := columns.NewBuilder(memory.DefaultAllocator)
	buf := make([]UsageRow, 1024)
	var st ScanStats
	err := scanFile(ctx, s, eventsFile, Query{}, buf, &st, func(rows []UsageRow) error {
		for _, r := range rows {
			e := columns.Event{PrincipalARN: r.PrincipalARN, PrincipalKind: r.PrincipalKind, EventTime: r.EventTime,
				EventSource: r.EventSource, EventName: r.EventName, EventType: r.EventType, EventCategory: r.EventCategory,
				AWSRegion: r.AWSRegion, SourceIP: r.SourceIP, UserAgent: r.UserAgent, AccessKeyID: r.AccessKeyID,
				PrincipalAccount: r.PrincipalAccount, RecipientAccount: r.RecipientAccount, UserIdentityARN: r.UserIdentityARN,
				MFAAuthenticated: r.MFAAuthenticated, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
				VPCEndpointID: r.VPCEndpointID, RequestParameters: r.RequestParameters}
			for _, res := range r.Resources {
				e.Resources = append(e.Resources, columns.Resource{ARN: res.ARN, Type: res.Type, AccountID: res.AccountID})
			}
			bld.AppendEvent(e) // copies the strings, which may alias the reader's pages
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", eventsFile, err)
	}
	final := s.rollupPath(eventsFile)
	if s.remote != nil {
		// Written whole under its name: of two processes building the
		// same twin, the second finds it there (the same bytes).
		err := s.writeRollup(ctx, final, bld.All(), o)
		if errors.Is(err, ErrPrecondition) {
			err = nil
		}
		return int64(bld.Len()), err
	}
	// A name of its own, so that two processes building the same twin do
	// not write into one file; the last rename wins, and both wrote the
	// same bytes.
	tmp := final + "." + strconv.Itoa(os.Getpid()) + "." + strconv.FormatInt(time.Now().UnixNano(), 36) + ".tmp"
	if err := s.writeRollup(ctx, tmp, bld.All(), o); err != nil {
		return 0, err
	}
	if err := syncPath(tmp, os.O_RDWR); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return int64(bld.Len()), syncPath(filepath.Dir(final), os.O_RDONLY)
}

// removeRollup removes the rollup's files: the twins and the monthly
// files that sum them.
func (s *Store) removeRollup(ctx context.Context) error {
	if s.remote == nil {
		for _, dir := range []string{s.RollupDir(), s.path(MonthlyRollupTable)} {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove the old rollup: %w", err)
			}
		}
		return nil
	}
	var old []string
	for _, prefix := range []string{"rollup/", MonthlyRollupTable + "/"} {
		if err := s.remote.List(ctx, prefix, "", "", func(e Entry) error {
			old = append(old, e.Name)
			return nil
		}); err != nil {
			return fmt.Errorf("remove the old rollup: %w", err)
		}
	}
	for _, n := range old {
		if err := s.remote.Delete(ctx, n); err != nil {
			return fmt.Errorf("remove the old rollup: %w", err)
		}
	}
	s.forgetListings()
	return nil
}
