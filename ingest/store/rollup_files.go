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
func (s *Store) RollupDir() string { return filepath.Join(s.Root, "rollup") }

// RollupTwin is the path of an events file's rollup twin (which may not
// exist: Coverage says which do).
func (s *Store) RollupTwin(eventsFile string) string { return s.rollupPath(eventsFile) }

// rollupPath is the rollup twin of an events file: the same partition and
// name under RollupDir.
func (s *Store) rollupPath(eventsFile string) string {
	rel, err := filepath.Rel(s.EventsDir(), eventsFile)
	if err != nil || strings.HasPrefix(rel, "..") {
		panic("store: " + eventsFile + " is not an events file of " + s.Root)
	}
	return filepath.Join(s.RollupDir(), rel)
}

// writeRollup writes the rollup of rows (one partition's, sorted) to path.
func (s *Store) writeRollup(path string, rows Rows, o WriteOptions) error {
	codec, err := o.Codec()
	if err != nil {
		return err
	}
	if err := private.MkdirAll(filepath.Dir(path)); err != nil {
		return err
	}
	b := rollupBuilders.Get().(*rollupBuilder)
	defer rollupBuilders.Put(b)
	b.build(rows)
	if err := writeFile(path, func(w io.Writer) error {
		return encodeRollup(w, b, codec, o.rowGroupRows(), o.pageBytes())
	}); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (s *Store) rollupStatePath() string { return filepath.Join(s.Root, "_state", "rollup.json") }

// rollupState is _state/rollup.json.
type rollupState struct {
	Version int `json:"version"`
}

// RollupVersion is the format version of the store's rollup: 0 when the
// store has none.
func (s *Store) RollupVersion() (int, error) {
	data, err := os.ReadFile(s.rollupStatePath())
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
	if err := os.RemoveAll(s.RollupDir()); err != nil {
		return false, fmt.Errorf("remove the old rollup: %w", err)
	}
	data, _ := json.Marshal(rollupState{Version: columns.RollupVersion})
	tmp := s.rollupStatePath() + ".tmp"
	if err := private.WriteFile(tmp, append(data, '\n')); err != nil {
		return false, fmt.Errorf("write rollup state: %w", err)
	}
	if err := syncPath(tmp, os.O_RDWR); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, s.rollupStatePath()); err != nil {
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
		twins, err := s.filesIn(s.RollupDir(), accounts, from, to)
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
	if err := os.Remove(s.rollupStatePath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
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
	err := scanFile(ctx, eventsFile, Query{}, buf, &st, func(rows []UsageRow) error {
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
	// A name of its own, so that two processes building the same twin do
	// not write into one file; the last rename wins, and both wrote the
	// same bytes.
	tmp := final + "." + strconv.Itoa(os.Getpid()) + "." + strconv.FormatInt(time.Now().UnixNano(), 36) + ".tmp"
	if err := s.writeRollup(tmp, bld.All(), o); err != nil {
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
