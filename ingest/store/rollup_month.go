package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/private"
)

// This file writes and finds the monthly rollup (docs/rollup.md, "The
// monthly rollup"): the twins of one account's month summed into one file,
// whose rows are as many as the month's distinct (principal, call), not as
// the twins' rows, which repeat a principal's calls in every file of every
// day. Questions that do not ask per day (analyze --all, diff --all, the
// principal listing) read a month's file in place of its twins.
//
// A monthly file names, in its footer, the twins it sums (covers). It
// stands for exactly them: a reader whose twins of that month include all
// of them reads the file and the twins it does not cover (new batches since);
// any other reader reads the twins. A file whose twins are no longer all
// there (a compaction replaced them) is stale and never read; the next
// merge writes the month again from its twins. So the monthly rollup never
// changes an answer, only its cost.

// MonthlyRollupTable is the folder of the monthly rollup, beside events/
// and rollup/ (a table of its own for other engines: its rows repeat the
// twins').
const MonthlyRollupTable = "rollup_month"

// rollupCoversKey is the footer key of the twins a monthly file sums.
const (
	rollupCoversKey    = "iamlens.covers"
	rollupCoversHeader = "iamlens-rollup-covers v1\n"
)

// monthKey is one account's month.
type monthKey struct{ account, month string }

// monthOf is the (account, month) of a twin's path, from its folders.
func monthOf(p string) (monthKey, bool) {
	dir := filepath.ToSlash(p)
	date := path.Base(path.Dir(dir))
	acct := path.Base(path.Dir(path.Dir(dir)))
	d, ok1 := strings.CutPrefix(date, "date=")
	a, ok2 := strings.CutPrefix(acct, "account=")
	if !ok1 || !ok2 || len(d) < 7 {
		return monthKey{}, false
	}
	return monthKey{a, d[:7]}, true
}

// ErrRollupIncomplete is MergeRollup's error for a store whose rollup
// lacks twins (written without one, or of another version): a monthly file
// sums twins, so they are built first (BuildRollup).
var ErrRollupIncomplete = errors.New("the usage rollup is incomplete")

// MergeOptions says which months MergeRollup writes.
type MergeOptions struct {
	// Accounts limits the merge to these accounts (none: all).
	Accounts []string
	// MinNew is how many of a month's twins must be outside its monthly
	// file for the month to be written again (default 1).
	MinNew int
	// MinNewShare, if above 0, leaves a month whose monthly file is whole
	// for later until its twins outside the file are at least this share
	// of the file's size (bytes): each merge rewrites the month, and a
	// reader reads those twins beside the file, with the same answers.
	// Ingest, which may run every few minutes, sets it; iamlens compact
	// writes every month.
	MinNewShare float64
	// IfPresent merges only a store that already has a monthly rollup
	// (ingest keeps one current; iamlens compact starts it).
	IfPresent bool
	// Write is how the files are encoded (compression).
	Write WriteOptions
	// Grace is how long a monthly file stays once a newer one of its
	// month is written (a reader that chose it may still be reading it):
	// 0 means an hour, a negative value removes it at once.
	Grace time.Duration
	// Now names the files (default time.Now).
	Now func() time.Time
	// ChunkRows is how many twin rows a month's merge sums at a time
	// (default 262,144): its memory follows it, not the month's rows. A
	// principal's rows of one facet are summed together however many.
	ChunkRows int64
	// Progress, if not nil, is called after each month, by one goroutine
	// at a time.
	Progress func(MergeProgress)
}

// MergeProgress is reported after each month MergeRollup writes.
type MergeProgress struct {
	Done, Total int
}

// MergeStats is what MergeRollup did.
type MergeStats struct {
	// Months are the months written; Twins the twins they read (a month
	// written again reads its old file and its new twins only).
	Months int `json:"months"`
	Twins  int `json:"twins_read"`
	// RowsRead and RowsWritten count rollup rows.
	RowsRead    int64 `json:"rows_read"`
	RowsWritten int64 `json:"rows_written"`
	// Removed counts the monthly files removed: those a newer file of
	// their month replaced more than Grace ago.
	Removed int `json:"files_removed"`
	// Damaged counts the monthly files that could not be read: their
	// months were written again from the twins.
	Damaged int `json:"damaged_files_replaced"`
	// Deferred counts the months with twins outside their monthly file
	// left for a later merge (MinNewShare).
	Deferred int `json:"months_deferred,omitempty"`
}

// MonthlyFile is one monthly rollup file and the twins it sums.
type MonthlyFile struct {
	Path   string
	Covers []string // the twins' paths, sorted
}

// MonthlyPlan returns what a reader of the given twins (the complete
// rollup of its window, as Coverage lists it) reads instead: for each
// account's month, the newest monthly file whose twins are all among
// them, and the twins it does not cover; the twins of every other month.
// The files are sorted; the answer summed from them is the same.
func (s *Store) MonthlyPlan(ctx context.Context, twins []string) ([]string, error) {
	mfs, err := s.MonthlyFor(ctx, twins)
	if err != nil {
		return nil, err
	}
	covered := Covered(mfs)
	var out []string
	for _, mf := range mfs {
		out = append(out, mf.Path)
	}
	for _, t := range twins {
		if !covered[t] {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Covered is the set of the twins the monthly files cover.
func Covered(mfs []MonthlyFile) map[string]bool {
	covered := map[string]bool{}
	for _, mf := range mfs {
		for _, c := range mf.Covers {
			covered[c] = true
		}
	}
	return covered
}

// twinsByMonth groups twins by their account's month (those whose path
// names none are left out).
func twinsByMonth(twins []string) map[monthKey][]string {
	byMonth := map[monthKey][]string{}
	for _, t := range twins {
		if k, ok := monthOf(t); ok {
			byMonth[k] = append(byMonth[k], t)
		}
	}
	return byMonth
}

// MonthlyFor returns, for each account's month of twins, the newest
// monthly file whose twins are all among them (none for a month without
// one): the files that may be read in place of the twins they cover.
func (s *Store) MonthlyFor(ctx context.Context, twins []string) ([]MonthlyFile, error) {
	byMonth := twinsByMonth(twins)
	if len(byMonth) == 0 {
		return nil, nil
	}
	monthly, err := s.monthlyFiles(ctx, nil, nil)
	if err != nil {
		return nil, err
	}
	var out []MonthlyFile
	for k, ts := range byMonth {
		if len(monthly[k]) == 0 {
			continue
		}
		mf, err := s.usableMonthly(ctx, monthly[k], ts, nil)
		if err != nil {
			return nil, fmt.Errorf("%w (iamlens compact writes the month again)", err)
		}
		if mf != nil {
			out = append(out, *mf)
		}
	}
	slices.SortFunc(out, func(a, b MonthlyFile) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// usableMonthly is the newest of a month's files whose twins are all in
// twins (nil when none is): any such file gives the same sums, the newest
// covers the most. A file that cannot be read is passed over (and counted
// in damaged, when set); without damaged, it is an error when no other
// file is usable, so that a damaged file is never passed over in silence
// when it would have been read.
func (s *Store) usableMonthly(ctx context.Context, files []string, twins []string, damaged *int) (*MonthlyFile, error) {
	have := make(map[string]bool, len(twins))
	for _, t := range twins {
		have[t] = true
	}
	var bad error
	for i := len(files) - 1; i >= 0; i-- {
		mf, err := s.readCovers(ctx, files[i])
		if errors.Is(err, fs.ErrNotExist) {
			continue // replaced meanwhile
		}
		if err != nil {
			if damaged != nil {
				*damaged++
			}
			bad = cmp.Or(bad, err)
			continue
		}
		ok := len(mf.Covers) > 0
		for _, c := range mf.Covers {
			if !have[c] {
				ok = false
				break
			}
		}
		if ok {
			return mf, nil
		}
	}
	if damaged == nil {
		return nil, bad
	}
	return nil, nil
}

// readCovers reads a monthly file's list of twins.
func (s *Store) readCovers(ctx context.Context, p string) (*MonthlyFile, error) {
	r, err := s.OpenRollup(ctx, p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if !r.meta.hasCovers {
		return nil, fmt.Errorf("read %s: not a monthly rollup file (no %s)", p, rollupCoversKey)
	}
	covers, err := parseCovers(r.meta.covers)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	mf := &MonthlyFile{Path: p}
	for _, c := range covers {
		mf.Covers = append(mf.Covers, s.path(c))
	}
	slices.Sort(mf.Covers)
	return mf, nil
}

// parseCovers parses the covers metadata: a header line, then one twin
// (its name below the store's root) a line.
func parseCovers(v string) ([]string, error) {
	rest, ok := strings.CutPrefix(v, rollupCoversHeader)
	if !ok {
		return nil, fmt.Errorf("bad %s header", rollupCoversKey)
	}
	var out []string
	for line := range strings.Lines(rest) {
		line = strings.TrimSuffix(line, "\n")
		if !strings.HasPrefix(line, "rollup/") || strings.Contains(line, "..") {
			return nil, fmt.Errorf("bad %s line %q", rollupCoversKey, line)
		}
		out = append(out, line)
	}
	return out, nil
}

// monthlyFiles lists the monthly rollup's files by month, each month's
// sorted by name (so by the time they were written), and, sizes not nil,
// records their sizes in it (-1: unknown).
func (s *Store) monthlyFiles(ctx context.Context, accounts []string, sizes map[string]int64) (map[monthKey][]string, error) {
	out := map[monthKey][]string{}
	add := func(rel string, size int64) {
		parts := strings.Split(rel, "/")
		if len(parts) != 4 || !strings.HasSuffix(rel, ".parquet") {
			return
		}
		a, ok1 := strings.CutPrefix(parts[1], "account=")
		m, ok2 := strings.CutPrefix(parts[2], "month=")
		if !ok1 || !ok2 || (len(accounts) > 0 && !slices.Contains(accounts, a)) {
			return
		}
		k := monthKey{a, m}
		out[k] = append(out[k], s.path(rel))
		if sizes != nil {
			sizes[s.path(rel)] = size
		}
	}
	if s.remote != nil {
		err := s.remote.List(ctx, MonthlyRollupTable+"/", "", "", func(e Entry) error {
			add(e.Name, e.Size)
			s.listed(e.Name, e.Size)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list %s/%s/: %w", s.Root, MonthlyRollupTable, err)
		}
	} else {
		root := filepath.Join(s.Root, MonthlyRollupTable)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == root {
					return filepath.SkipDir
				}
				return err
			}
			if !d.IsDir() {
				size := int64(-1)
				if fi, err := d.Info(); err == nil {
					size = fi.Size()
				}
				if rel, err := s.rel(p); err == nil {
					add(rel, size)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", root, err)
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out, nil
}

// MergeRollup writes the monthly rollup of every account's month of the
// store (o.Accounts') whose twins are not all in its monthly file: from
// the month's file and its new twins when the file is usable, from all its
// twins otherwise. The rollup must be complete (Coverage): build it first.
// Each file is written under a temporary name and renamed once synced (an
// object store's under a name of its own); a month's older files are
// removed once o.Grace has passed since a newer one replaced them. Months
// are written in parallel.
func (s *Store) MergeRollup(ctx context.Context, o MergeOptions) (MergeStats, error) {
	var st MergeStats
	sizes := map[string]int64{}
	monthly, err := s.monthlyFiles(ctx, o.Accounts, sizes)
	if err != nil || (o.IfPresent && len(monthly) == 0) {
		return st, err
	}
	cov, err := s.Coverage(o.Accounts, time.Time{}, time.Time{})
	if err != nil {
		return st, err
	}
	if !cov.Complete() {
		if o.IfPresent {
			return st, nil // the readers build the missing twins first
		}
		return st, fmt.Errorf("%w: %d events file(s) without one", ErrRollupIncomplete, max(cov.Missing, 1))
	}
	byMonth := twinsByMonth(cov.Rollup)
	type job struct {
		k     monthKey
		base  *MonthlyFile
		twins []string // all the month's twins
		todo  []string // those base does not cover
	}
	var jobs []job
	minNew := max(o.MinNew, 1)
	for k, ts := range byMonth {
		// A damaged file is passed over: the month is written again
		// from its twins, and readers take the newer file.
		damaged := 0
		base, err := s.usableMonthly(ctx, monthly[k], ts, &damaged)
		if err != nil {
			return st, err
		}
		st.Damaged += damaged
		j := job{k: k, base: base, twins: ts, todo: ts}
		if base != nil {
			j.todo = nil
			for _, t := range ts {
				if _, ok := slices.BinarySearch(base.Covers, t); !ok {
					j.todo = append(j.todo, t)
				}
			}
		}
		switch {
		case base == nil && len(j.todo) > 0, damaged > 0:
			jobs = append(jobs, j)
		case len(j.todo) < minNew:
		case o.MinNewShare > 0 && s.smallShare(j.todo, sizes[base.Path], o.MinNewShare):
			st.Deferred++
		default:
			jobs = append(jobs, j)
		}
	}
	slices.SortFunc(jobs, func(a, b job) int {
		return cmp.Or(cmp.Compare(a.k.account, b.k.account), cmp.Compare(a.k.month, b.k.month))
	})
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, j := range jobs {
		g.Go(func() error {
			read := j.todo
			if j.base != nil {
				read = append([]string{j.base.Path}, j.todo...)
			}
			rel := MonthlyRollupTable + "/account=" + j.k.account + "/month=" + j.k.month + "/part-" + monthlyName(now()) + ".parquet"
			covers := make([]string, 0, len(j.twins))
			for _, t := range j.twins {
				r, err := s.rel(t)
				if err != nil {
					return err
				}
				covers = append(covers, r)
			}
			slices.Sort(covers)
			var ms monthStats
			err := s.writeMonthly(gctx, rel, func(w io.Writer) error {
				var err error
				ms, err = s.mergeMonth(gctx, w, read, covers, o)
				return err
			})
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			monthly[j.k] = append(monthly[j.k], s.path(rel))
			st.Months++
			st.Twins += len(j.todo)
			st.RowsRead += ms.read
			st.RowsWritten += ms.written
			if o.Progress != nil {
				o.Progress(MergeProgress{Done: st.Months, Total: len(jobs)})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return st, err
	}
	// A month's files, oldest first: each was replaced when the next was
	// written (its run's time); it goes once that is Grace ago.
	grace := o.Grace
	switch {
	case grace == 0:
		grace = time.Hour
	case grace < 0:
		grace = 0
	}
	for _, files := range monthly {
		slices.Sort(files)
		for i := 0; i+1 < len(files); i++ {
			replaced, ok := runTime(files[i+1])
			if !ok || now().Sub(replaced) < grace {
				continue
			}
			// One that cannot be removed (open elsewhere, on Windows)
			// is left to the next merge: readers take the newest.
			if s.removeFile(ctx, files[i]) == nil {
				st.Removed++
			}
		}
	}
	return st, nil
}

// smallShare reports whether the files todo are together smaller than
// share of of bytes (false when a size is unknown).
func (s *Store) smallShare(todo []string, of int64, share float64) bool {
	if of <= 0 {
		return false
	}
	var n int64
	for _, t := range todo {
		size := s.fileSize(t)
		if size < 0 {
			return false
		}
		n += size
	}
	return float64(n) < share*float64(of)
}

// fileSize is the size of a file of the store, from its folder's listing
// on an object store, else from the file system (-1: unknown).
func (s *Store) fileSize(p string) int64 {
	if s.remote != nil {
		rel, err := s.rel(p)
		if err != nil {
			return -1
		}
		return s.listedSize(rel)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// monthlyName names a monthly file written at t: its time to the
// nanosecond, so that a month's files sort in the order they were written,
// and random bits (NewRunID's).
func monthlyName(t time.Time) string {
	id := NewRunID(t)
	return t.UTC().Format("20060102T150405.000000000") + id[strings.IndexByte(id, '_'):]
}

// runTime is when a monthly file was written, from its name
// (part-<monthlyName>.parquet), to the second.
func runTime(p string) (time.Time, bool) {
	run, ok := strings.CutPrefix(path.Base(filepath.ToSlash(p)), "part-")
	if !ok || len(run) < 15 {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T150405", run[:15])
	return t, err == nil
}

// removeFile removes a file of the store (a missing one is not an error).
func (s *Store) removeFile(ctx context.Context, p string) error {
	if s.remote != nil {
		rel, err := s.rel(p)
		if err != nil {
			return err
		}
		err = s.remote.Delete(ctx, rel)
		s.forgetListings()
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// writeMonthly writes the monthly file rel, which encode writes.
func (s *Store) writeMonthly(ctx context.Context, rel string, encode func(w io.Writer) error) error {
	if s.remote != nil {
		return s.putObject(ctx, rel, encode)
	}
	final := s.path(rel)
	if err := private.MkdirAll(filepath.Dir(final)); err != nil {
		return err
	}
	tmp := final + "." + strconv.Itoa(os.Getpid()) + ".tmp"
	if err := writeFile(tmp, encode); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", final, err)
	}
	if err := syncPath(tmp, os.O_RDWR); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncPath(filepath.Dir(final), os.O_RDONLY)
}

// monthStats counts a month's merge.
type monthStats struct{ read, written int64 }

// mergeMonth sums the rollup files read (a month's twins, and its old
// monthly file) into one monthly file written to w, with its principal
// index and the twins it covers. It sums a chunk of the rows at a time
// (o.ChunkRows), in the file's order: each facet's principals in ranges,
// their rows found in every file through its principal index, so that its
// memory follows a chunk, not the month.
func (s *Store) mergeMonth(ctx context.Context, w io.Writer, read, covers []string, o MergeOptions) (monthStats, error) {
	var ms monthStats
	codec, err := o.Write.Codec()
	if err != nil {
		return ms, err
	}
	// The files' footers, and each principal's rows in each facet.
	metas := make([]*rollupMeta, len(read))
	in := map[string]*[numFacets]int64{}
	for i, p := range read {
		r, err := s.OpenRollup(ctx, p)
		if err != nil {
			return ms, err
		}
		r.Close()
		if !r.meta.hasIndex {
			return ms, fmt.Errorf("read %s: no principal index", p)
		}
		err = walkRollupIndex(r.meta.index, func(arn []byte, n *[numFacets]int64) {
			t := in[string(arn)]
			if t == nil {
				t = new([numFacets]int64)
				in[string(arn)] = t
			}
			for k := range t {
				t[k] += n[k]
			}
		})
		if err != nil {
			return ms, fmt.Errorf("read %s: %w", p, err)
		}
		metas[i] = r.meta
	}
	arns := slices.Sorted(maps.Keys(in)) // "" (no principal) first, as in the files

	cov := []byte(rollupCoversHeader)
	for _, c := range covers {
		cov = append(cov, c...)
		cov = append(cov, '\n')
	}
	pw := parquet.NewGenericWriter[columns.RollupRow](w,
		parquet.Compression(codec),
		parquet.DataPageVersion(2),
		parquet.PageBufferSize(o.Write.pageBytes()),
		parquet.MaxRowsPerRowGroup(1<<40),
		parquet.KeyValueMetadata(rollupIndexKey, ""), // set once written
		parquet.KeyValueMetadata(rollupCoversKey, string(cov)),
	)
	mw := &monthlyWriter{pw: pw, groupRows: o.Write.rowGroupRows()}
	out := map[string]*[numFacets]int32{} // each principal's rows written
	chunkRows := o.ChunkRows
	if chunkRows <= 0 {
		chunkRows = 1 << 18
	}
	readers := runtime.GOMAXPROCS(0)
	if s.remote != nil {
		readers = 8
	}
	var st ScanStats
	for k, facet := range columns.Facets {
		for i := 0; i < len(arns); {
			// arns[i:j]: as many principals as chunkRows rows of the
			// facet allow, one at least.
			j, n := i+1, in[arns[i]][k]
			for j < len(arns) && n+in[arns[j]][k] <= chunkRows {
				n += in[arns[j]][k]
				j++
			}
			lo, hi := arns[i], arns[j-1]
			i = j
			if n == 0 {
				continue
			}
			m := newMonthMerger()
			want := func(arn []byte) bool { return string(arn) >= lo && string(arn) <= hi }
			// The files are read side by side (on an object store each
			// read waits for its requests) and summed one batch at a
			// time: a sum does not depend on the order.
			var mu sync.Mutex
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(readers)
			for f, meta := range metas {
				ranges, err := indexSpans(meta.index, want)
				if err != nil {
					return ms, fmt.Errorf("read %s: %w", read[f], err)
				}
				if len(ranges) == 0 {
					continue
				}
				g.Go(func() error {
					sf, err := s.open(gctx, read[f])
					if err != nil {
						return err
					}
					defer sf.Close()
					buf := rowBufs.Get().(*[]columns.RollupRow)
					defer rowBufs.Put(buf)
					var fs ScanStats
					r := &RollupFile{Path: read[f], f: sf, meta: meta}
					err = r.scanGroups(gctx, RollupQuery{Facets: []string{facet}}, meta.groupSpans(ranges), *buf, &fs, func(rows []columns.RollupRow) error {
						mu.Lock()
						defer mu.Unlock()
						for x := range rows {
							// (a row group of several facets, which
							// iamlens never writes, would be read for
							// each)
							if rows[x].Facet == facet {
								m.add(&rows[x])
							}
						}
						return nil
					})
					mu.Lock()
					st.RowsRead += fs.RowsRead
					mu.Unlock()
					if err != nil {
						return fmt.Errorf("read %s: %w", read[f], err)
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				return ms, err
			}
			rows := m.sorted()
			for x := range rows {
				c := out[rows[x].PrincipalARN]
				if c == nil {
					c = new([numFacets]int32)
					out[rows[x].PrincipalARN] = c
				}
				c[k]++
			}
			if err := mw.write(rows); err != nil {
				return ms, err
			}
		}
		if err := mw.endFacet(); err != nil {
			return ms, err
		}
	}
	ms.written = mw.written
	ms.read = st.RowsRead
	idx := []byte(rollupIndexHeader)
	prev := ""
	for _, arn := range slices.Sorted(maps.Keys(out)) {
		idx = appendIndexLine(idx, &prev, arn, *out[arn])
	}
	pw.SetKeyValueMetadata(rollupIndexKey, string(idx))
	return ms, pw.Close()
}

// monthlyWriter writes a monthly file's rows, a facet's after another's, in
// row groups of groupRows rows (a facet's last one shorter).
type monthlyWriter struct {
	pw                 *parquet.GenericWriter[columns.RollupRow]
	groupRows, inGroup int64
	written            int64
	batch              []parquet.Row
}

// write writes rows of the facet being written. The rows go to parquet-go
// as values (Schema.Deconstruct), not as structs (GenericWriter.Write),
// whose batch path (v0.32) stores some empty strings of optional columns as
// values instead of nulls (TestMonthlyEmptyIsNull).
func (w *monthlyWriter) write(rows []columns.RollupRow) error {
	sch := w.pw.Schema()
	for len(rows) > 0 {
		take := min(int64(len(rows)), w.groupRows-w.inGroup, 1024)
		w.batch = slices.Grow(w.batch[:0], int(take))[:take]
		for i := range w.batch {
			w.batch[i] = sch.Deconstruct(w.batch[i][:0], &rows[i])
		}
		if _, err := w.pw.WriteRows(w.batch); err != nil {
			return err
		}
		w.written += take
		rows, w.inGroup = rows[take:], w.inGroup+take
		if w.inGroup == w.groupRows {
			if err := w.pw.Flush(); err != nil {
				return err
			}
			w.inGroup = 0
		}
	}
	return nil
}

// endFacet ends the facet's last row group.
func (w *monthlyWriter) endFacet() error {
	if w.inGroup == 0 {
		return nil
	}
	w.inGroup = 0
	return w.pw.Flush()
}

// monthMerger sums rollup rows that share a facet and key. Principal rows
// keep their day (the day a principal was active is a fact its readers
// use); the other facets' rows are summed over the month.
type monthMerger struct {
	at   map[string]int32
	rows []columns.RollupRow
	keys []string
	key  []byte
	offs []int // where the key holds each string of the row being added
}

func newMonthMerger() *monthMerger { return &monthMerger{at: map[string]int32{}} }

func (m *monthMerger) add(r *columns.RollupRow) {
	k, offs := m.key[:0], m.offs[:0]
	str := func(v string) {
		k = binary.AppendUvarint(k, uint64(len(v)))
		offs = append(offs, len(k))
		k = append(k, v...)
	}
	for _, v := range [...]string{r.Facet, r.PrincipalARN, r.PrincipalKind, r.PrincipalAccount, r.RecipientAccount,
		r.Outcome, r.ErrorCode, r.AccessKeyID, r.SourceIP, r.UserAgent, r.VPCEndpointID, r.EventSource, r.EventName,
		r.EventType, r.EventCategory, r.AWSRegion, r.UserIdentityARN, r.RequestParameters, r.ErrorMessage} {
		str(v)
	}
	if r.Resources == nil {
		k = append(k, 0)
	} else {
		k = binary.AppendUvarint(k, uint64(len(r.Resources))+1)
		for _, x := range r.Resources {
			str(x.ARN)
			str(x.Type)
			str(x.AccountID)
		}
	}
	if r.Facet == columns.FacetPrincipal {
		k = binary.AppendVarint(k, floorDay(r.FirstSeen))
	}
	m.key, m.offs = k, offs
	if i, ok := m.at[string(k)]; ok {
		x := &m.rows[i]
		x.Calls += r.Calls
		x.MFACalls += r.MFACalls
		x.FirstSeen, x.LastSeen = min(x.FirstSeen, r.FirstSeen), max(x.LastSeen, r.LastSeen)
		return
	}
	// The new row's strings are the key's own bytes: one allocation a
	// row, not one a value.
	ks := string(k)
	m.at[ks] = int32(len(m.rows))
	m.keys = append(m.keys, ks)
	c := *r
	n := 0
	from := func(v string) string {
		o := offs[n]
		n++
		return ks[o : o+len(v)]
	}
	for _, p := range [...]*string{&c.Facet, &c.PrincipalARN, &c.PrincipalKind, &c.PrincipalAccount, &c.RecipientAccount,
		&c.Outcome, &c.ErrorCode, &c.AccessKeyID, &c.SourceIP, &c.UserAgent, &c.VPCEndpointID, &c.EventSource,
		&c.EventName, &c.EventType, &c.EventCategory, &c.AWSRegion, &c.UserIdentityARN, &c.RequestParameters, &c.ErrorMessage} {
		*p = from(*p)
	}
	if r.Resources != nil {
		c.Resources = make([]columns.RollupResource, len(r.Resources))
		for i, x := range r.Resources {
			c.Resources[i] = columns.RollupResource{ARN: from(x.ARN), Type: from(x.Type), AccountID: from(x.AccountID)}
		}
	}
	m.rows = append(m.rows, c)
}

// sorted sorts the rows in a file's order (by facet, columns.Facets's
// order, principal, then key) and returns them.
func (m *monthMerger) sorted() []columns.RollupRow {
	order := make([]int32, len(m.rows))
	for i := range order {
		order[i] = int32(i)
	}
	rank := func(f string) int { return slices.Index(columns.Facets, f) }
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &m.rows[a], &m.rows[b]
		return cmp.Or(cmp.Compare(rank(x.Facet), rank(y.Facet)), strings.Compare(x.PrincipalARN, y.PrincipalARN),
			strings.Compare(m.keys[a], m.keys[b]))
	})
	// In place, a cycle at a time: rows[j] becomes the row order[j] was.
	for i := range order {
		if order[i] == int32(i) {
			continue
		}
		x, j := m.rows[i], i
		for {
			k := int(order[j])
			order[j] = int32(j)
			if k == i {
				m.rows[j] = x
				break
			}
			m.rows[j] = m.rows[k]
			j = k
		}
	}
	return m.rows
}

func floorDay(ms int64) int64 {
	d := ms / 86_400_000
	if ms%86_400_000 != 0 && ms < 0 {
		d--
	}
	return d
}
