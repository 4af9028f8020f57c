// Package analyzer reads the events dataset and aggregates what each
// principal did: the principals present (PrincipalLister) and, per
// principal, the IAM actions its calls needed with their resources, counts
// and first and last use, its denied and failed calls kept apart, and its
// profile (Analyze, Usage).
//
// Reading costs the principal's share of the data, not the dataset's:
// Analyze prunes date partitions by folder name, row groups by the
// principal_arn and event_time statistics, rows by the principal's span
// inside each row group (rows are sorted by principal), and columns to the
// 20 of UsageRow. Aggregation is O(distinct calls + distinct profile
// values); memory is the same, whatever the number of events.
package analyzer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/suggest"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

// Query selects what Analyze reads.
type Query struct {
	// Principals are ARNs, names (the last part of an ARN: a user or role
	// name) or globs (path.Match syntax) over either. Ignored when All.
	Principals []string
	// All analyses every principal a policy can be attached to (PolicyKinds).
	All bool
	// Accounts keeps calls into these accounts (all when empty).
	Accounts []string
	// From and To bound the event time, inclusive. A zero From means
	// Options.Window before the end of the last day present in the dataset.
	From, To time.Time
}

// Options tune Analyze. The zero value works.
type Options struct {
	// Window is the default span when Query.From is zero (default 90 days).
	Window time.Duration
	// TopN caps the source IPs and user agents of a profile (default 10).
	TopN int
	// Workers read date partitions in parallel (default GOMAXPROCS).
	Workers int
	// Source is what Analyze reads (default: --all from the rollup for
	// whole days; a principal, file by file, from whichever of the events
	// and the rollup holds fewer of its rows).
	Source Source
	// Notice, when set, is told when Analyze builds the rollup of events
	// files written without one, before it reads it.
	Notice func(RollupNotice)
	// Reader, when set, reads the rollup in place of the store's files
	// (an engine such as Athena's): the window must be whole days. The
	// store still answers what is not aggregation (the dataset's days and
	// accounts, principal names, IAM paths).
	Reader RollupReader
	// Paths, when set, is filled before the calls are mapped with the IAM
	// paths the dataset shows (learnPaths): give the mapper the same set
	// (actionmap.Mapper.WithPaths), with the account state's paths added
	// first (StatePaths), so that a user or role named by name only is
	// written with its path.
	Paths *actionmap.Paths
}

// DefaultWindow is the span analysed when no --from is given.
const DefaultWindow = 90 * 24 * time.Hour

// Stats say how much Analyze read.
type Stats struct {
	Principals int       `json:"principals"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// ResolveScan is true when names or globs needed a pass over the
	// principal_arn column to find the ARNs.
	ResolveScan bool `json:"resolve_scan"`
	// ScanStats is what was read (files, row groups, rows, bytes).
	store.ScanStats
	DistinctCalls int `json:"distinct_calls"`
	// Source is what was read: SourceEvents, SourceRollup, or "mixed"
	// (a principal's rows, from the one or the other file by file).
	Source Source `json:"source"`
	// RollupFiles and RollupRowsRead count what was read of the rollup
	// (included in Files and RowsRead).
	RollupFiles    int   `json:"rollup_files"`
	RollupRowsRead int64 `json:"rollup_rows_read"`
	// PathIndexes counts the principal indexes read for IAM paths (0 when
	// the calls themselves showed every path they needed).
	PathIndexes int `json:"path_indexes"`
}

// NotFoundError says that a requested principal has no events in the
// window; Close lists principals with similar names.
type NotFoundError struct {
	Principal string
	Close     []string
	// From and To are the window searched (zero: the dataset's start or
	// end).
	From, To time.Time
	// Elsewhere are the principals the name matches that have events
	// outside the window.
	Elsewhere []string
}

func (e *NotFoundError) Error() string {
	if e.From.IsZero() && e.To.IsZero() {
		return fmt.Sprintf("no events of principal %q in the dataset", e.Principal)
	}
	return fmt.Sprintf("no events of principal %q from %s to %s", e.Principal, dayOr(e.From, "the start of the dataset"), dayOr(e.To, "the end of the dataset"))
}

func dayOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.DateOnly)
}

// AccountError says that none of the accounts asked for has events in the
// dataset; Known are the accounts that do.
type AccountError struct {
	Accounts, Known []string
}

func (e *AccountError) Error() string {
	return fmt.Sprintf("no events of account %s in the dataset (it holds %s)", strings.Join(e.Accounts, ", "), strings.Join(e.Known, ", "))
}

// Analyze reads the principals' rows (only the columns of UsageRow, only
// the partitions of the window and the row groups whose principal_arn range
// holds one of them) and returns one Usage per principal, sorted by ARN.
func Analyze(ctx context.Context, st *store.Store, q Query, m Mapper, opts Options) ([]*Usage, Stats, error) {
	var stats Stats
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if len(q.Accounts) > 0 {
		known, err := Accounts(st)
		if err != nil {
			return nil, stats, err
		}
		if len(known) > 0 && !slices.ContainsFunc(q.Accounts, func(a string) bool { return slices.Contains(known, a) }) {
			return nil, stats, &AccountError{Accounts: q.Accounts, Known: known}
		}
	}
	if q.From.IsZero() {
		last, err := LastDay(st, q.Accounts)
		if err != nil {
			return nil, stats, err
		}
		if last.IsZero() {
			return nil, stats, store.ErrEmpty
		}
		q.From = last.Add(24 * time.Hour).Add(-opts.Window)
	}
	stats.From, stats.To = q.From, q.To

	var arns []string
	var byPattern map[string][]string
	var keep func(arn, kind string) bool
	if q.All {
		keep = func(_, kind string) bool { return contains(PolicyKinds, kind) }
	} else {
		if len(q.Principals) == 0 {
			return nil, stats, fmt.Errorf("no principal given")
		}
		var err error
		arns, byPattern, err = Resolve(ctx, st, q)
		stats.ResolveScan = byPattern != nil
		if err != nil {
			return nil, stats, elsewhere(ctx, st, q, err)
		}
		set := map[string]bool{}
		for _, a := range arns {
			set[a] = true
		}
		keep = func(arn, _ string) bool { return set[arn] }
	}
	agg := NewAggregator(m, keep, q.Accounts, q.From, q.To, opts.TopN)
	if q.All {
		agg.SeeAllData()
	}
	sq := store.Query{Accounts: q.Accounts, From: q.From, To: q.To, Principals: arns}
	if err := read(ctx, st, sq, opts, agg, &stats); err != nil {
		return nil, stats, err
	}
	if opts.Paths != nil {
		if err := learnPaths(ctx, st, sq, agg, opts.Paths, &stats); err != nil {
			return nil, stats, err
		}
	}
	usages := agg.Usages(q.From, q.To)
	stats.Principals = len(usages)
	stats.DistinctCalls = agg.DistinctCalls()
	if !q.All {
		found := map[string]bool{}
		for _, u := range usages {
			found[u.Principal] = true
		}
		// A name or glob needs one of its principals with events in the
		// window (a row group that straddles the window may have offered
		// others); an ARN given in full needs its own.
		missing := ""
		for _, p := range q.Principals {
			if ps, ok := byPattern[p]; ok {
				if !slices.ContainsFunc(ps, func(a string) bool { return found[a] }) {
					missing = p
					break
				}
			} else if !found[p] {
				missing = p
				break
			}
		}
		if missing != "" {
			known, err := knownPrincipals(ctx, st, q)
			if err != nil {
				return nil, stats, err
			}
			return nil, stats, elsewhere(ctx, st, q, &NotFoundError{Principal: missing, Close: ClosePrincipals(missing, known), From: q.From, To: q.To})
		}
	}
	return usages, stats, nil
}

// read feeds agg what sq selects, from the rollup or the events as
// opts.Source says, and counts what it read in stats.
func read(ctx context.Context, st *store.Store, sq store.Query, opts Options, agg *Aggregator, stats *Stats) error {
	count := stats.ScanStats.Add
	if opts.Reader != nil {
		return readWith(ctx, opts.Reader, RollupQuery{Accounts: sq.Accounts, From: sq.From, To: sq.To, Principals: sq.Principals}, agg, stats)
	}
	if opts.Source != SourceEvents && wholeDays(sq.From, sq.To) {
		if len(sq.Principals) > 0 && opts.Source == SourceAuto {
			return readCheaper(ctx, st, sq, opts, agg, stats)
		}
		files, ok, err := rollupFiles(ctx, st, sq.Accounts, sq.From, sq.To, opts.Notice)
		if err != nil {
			return err
		}
		if ok {
			if files, err = st.MonthlyPlan(ctx, files); err != nil {
				return err
			}
			workers := opts.Workers
			if workers <= 0 {
				workers = runtime.GOMAXPROCS(0)
			}
			// More shards than workers: two workers seldom want the
			// same one at once.
			shards := agg.shards(4 * workers)
			ss, err := scanRollupShards(ctx, st, files, analyzeRollup(sq.Principals), workers, shards)
			agg.absorb(shards)
			count(ss)
			stats.Source, stats.RollupFiles, stats.RollupRowsRead = SourceRollup, ss.Files, ss.RowsRead
			return err
		}
	}
	if opts.Source == SourceRollup {
		return errNotWholeDays
	}
	ss, err := scanDays(ctx, st, sq, opts.Workers, agg.Add)
	count(ss)
	stats.Source = SourceEvents
	return err
}

// analyzeRollup is what Analyze reads of the rollup: the facets and
// columns AddRollup uses.
func analyzeRollup(principals []string) store.RollupQuery {
	return store.RollupQuery{Principals: principals,
		Facets: readerFacets,
		Columns: []string{columns.Facet, columns.PrincipalARN, columns.PrincipalKind, columns.PrincipalAccount, columns.RecipientAccount,
			columns.Outcome, columns.ErrorCode, columns.AccessKeyID, columns.SourceIP, columns.UserAgent, columns.VPCEndpointID,
			columns.EventSource, columns.EventName, columns.EventType,
			columns.EventCategory, columns.AWSRegion, columns.UserIdentityARN, columns.RequestParameters, columns.ErrorMessage,
			columns.Resources, columns.Calls, columns.MFACalls, columns.FirstSeen, columns.LastSeen}}
}

// rollupRowCost weighs a principal's rollup rows against its events rows
// when analyze --principal picks, file by file, what to read. A rollup row
// costs less to decode than an events row (fewer, dictionary-coded
// columns) but a rollup file holds more column chunks for a principal
// (one row group per facet); at one for one, the busy principal of the
// benchmark (bench/compare.sh rollup) is read from the rollup in 626 of
// its 648 files and a quiet one from the events.
const rollupRowCost = 1.0

// minTwinRows is the fewest rows of the principals in an events file for
// which its rollup twin is considered: below, the events file costs less
// than opening the twin to ask (a quiet principal, a few rows a file, reads
// no twin at all).
const minTwinRows = 64

// sourceMixed: a principal's rows were read from the events in some files
// and from the rollup in others.
const sourceMixed Source = "mixed"

// readCheaper reads the principals of sq file by file from whichever of
// the events file and its rollup twin holds fewer of their rows (both
// files' principal indexes say how many); a file without a twin is read
// from the events. The rows of the one and the other add up to the same
// usage (TestRollupMatchesEvents).
func readCheaper(ctx context.Context, st *store.Store, sq store.Query, opts Options, agg *Aggregator, stats *Stats) error {
	cov, err := st.Coverage(sq.Accounts, sq.From, sq.To)
	if err != nil {
		return err
	}
	files, usable := cov.Events, cov.Usable
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var mu sync.Mutex // guards agg and stats
	count := func(ss store.ScanStats, rollup bool) {
		mu.Lock()
		defer mu.Unlock()
		stats.ScanStats.Add(ss)
		if rollup {
			stats.RollupFiles += ss.Files
			stats.RollupRowsRead += ss.RowsRead
		}
	}
	addRollup := func(rows []columns.RollupRow) error {
		mu.Lock()
		agg.AddRollup(rows)
		mu.Unlock()
		return nil
	}
	readEvents := func(ctx context.Context, f string, x store.EventIndex) error {
		ss, err := store.ScanIndexed(ctx, st, f, x, sq, func(rows []UsageRow) error {
			mu.Lock()
			agg.Add(rows)
			mu.Unlock()
			return nil
		})
		count(ss, false)
		return err
	}
	// readTwin reads the file's twin when it holds fewer of the
	// principals' rows than the events file's n; ok is false when it did
	// not.
	readTwin := func(ctx context.Context, twin string, n int64) (bool, error) {
		rf, err := st.OpenRollup(ctx, twin)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // written without one
		}
		if err != nil {
			return false, err
		}
		defer rf.Close()
		r, err := rf.Rows(sq.Principals)
		if err != nil || float64(r)*rollupRowCost >= float64(n) {
			return false, err
		}
		ss, err := rf.Scan(ctx, analyzeRollup(sq.Principals), addRollup)
		count(ss, true)
		return true, err
	}
	// A month's monthly file, when there is one for the window's twins,
	// holds the principals' rows of all the twins it covers: read in
	// their place, one file instead of one a batch.
	var monthly []store.MonthlyFile
	if usable {
		if monthly, err = st.MonthlyFor(ctx, slices.DeleteFunc(cov.Rollup, func(t string) bool { return t == "" })); err != nil {
			return err
		}
	}
	covered := store.Covered(monthly)
	var fromEvents, fromRollup atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, mf := range monthly {
		g.Go(func() error {
			ss, err := store.ScanRollup(gctx, st, []string{mf.Path}, analyzeRollup(sq.Principals), addRollup)
			count(ss, true)
			fromRollup.Add(1)
			return err
		})
	}
	for _, f := range files {
		if covered[st.RollupTwin(f)] {
			continue
		}
		g.Go(func() error {
			x, err := st.ReadEventIndex(gctx, f, sq.Principals)
			n, indexed := x.Rows(), x.Indexed()
			if err != nil || (indexed && n == 0) {
				return err
			}
			if usable && indexed && n >= minTwinRows {
				done, err := readTwin(gctx, st.RollupTwin(f), n)
				if done || err != nil {
					fromRollup.Add(1)
					return err
				}
			}
			fromEvents.Add(1)
			return readEvents(gctx, f, x)
		})
	}
	err = g.Wait()
	switch {
	case fromRollup.Load() == 0:
		stats.Source = SourceEvents
	case fromEvents.Load() == 0:
		stats.Source = SourceRollup
	default:
		stats.Source = sourceMixed
	}
	return err
}

// elsewhere adds to a *NotFoundError the principals its name matches
// outside q's window (other errors pass through).
func elsewhere(ctx context.Context, st *store.Store, q Query, err error) error {
	var nf *NotFoundError
	if !errors.As(err, &nf) || (q.From.IsZero() && q.To.IsZero()) {
		return err
	}
	all, aerr := store.PrincipalARNs(ctx, st, store.Query{Accounts: q.Accounts})
	if aerr != nil {
		return err
	}
	for _, a := range all {
		if MatchPrincipal(nf.Principal, a) {
			nf.Elsewhere = append(nf.Elsewhere, a)
		}
	}
	return err
}

// Accounts lists the accounts whose events the dataset holds, sorted. It
// reads folder names only.
func Accounts(st *store.Store) ([]string, error) {
	files, err := st.Files(nil, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if a, ok := strings.CutPrefix(filepath.Base(filepath.Dir(filepath.Dir(f))), "account="); ok && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out, nil
}

// FirstDay returns the first date partition present in the dataset (of
// the accounts, when given), or the zero time when there is none.
func FirstDay(st *store.Store, accounts []string) (time.Time, error) {
	files, err := st.Files(accounts, time.Time{}, time.Time{})
	if err != nil {
		return time.Time{}, err
	}
	first := ""
	for _, f := range files {
		day, ok := strings.CutPrefix(filepath.Base(filepath.Dir(f)), "date=")
		if ok && (first == "" || day < first) {
			first = day
		}
	}
	if first == "" {
		return time.Time{}, nil
	}
	return time.Parse("2006-01-02", first)
}

// scanDays reads what sq selects one date partition at a time, on up to
// workers goroutines, and passes the rows to add under a mutex (add copies
// what it keeps, so the Scan buffers may be reused). Each goroutine exits
// when its day is read or ctx is cancelled; scanDays returns after all of
// them.
func scanDays(ctx context.Context, st *store.Store, sq store.Query, workers int, add func([]UsageRow)) (store.ScanStats, error) {
	files, err := st.Files(sq.Accounts, sq.From, sq.To)
	if err != nil {
		return store.ScanStats{}, err
	}
	var days []string
	for _, f := range files {
		if d, ok := strings.CutPrefix(filepath.Base(filepath.Dir(f)), "date="); ok && !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	sort.Strings(days)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers == 1 || len(days) <= 1 {
		return store.Scan(ctx, st, sq, func(rows []UsageRow) error { add(rows); return nil })
	}
	var mu sync.Mutex
	var total store.ScanStats
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, d := range days {
		day, err := time.Parse("2006-01-02", d)
		if err != nil {
			continue
		}
		dq := sq
		if dq.From.Before(day) {
			dq.From = day
		}
		if end := day.Add(24*time.Hour - time.Millisecond); dq.To.IsZero() || dq.To.After(end) {
			dq.To = end
		}
		g.Go(func() error {
			ss, err := store.Scan(gctx, st, dq, func(rows []UsageRow) error {
				mu.Lock()
				add(rows)
				mu.Unlock()
				return nil
			})
			mu.Lock()
			total.Add(ss)
			mu.Unlock()
			return err
		})
	}
	return total, g.Wait()
}

// LastDay returns the last date partition present in the dataset (of the
// accounts, when given), or the zero time when there is none. It reads
// folder names only.
func LastDay(st *store.Store, accounts []string) (time.Time, error) {
	files, err := st.Files(accounts, time.Time{}, time.Time{})
	if err != nil {
		return time.Time{}, err
	}
	var last string
	for _, f := range files {
		day, ok := strings.CutPrefix(filepath.Base(filepath.Dir(f)), "date=")
		if ok && day > last {
			last = day
		}
	}
	if last == "" {
		return time.Time{}, nil
	}
	return time.Parse("2006-01-02", last)
}

// isGlob reports whether s holds path.Match metacharacters.
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// Resolve turns q.Principals into principal ARNs. ARNs given in full are
// returned as they are without reading anything (Analyze checks them
// afterwards); names and globs are matched against the principals of the
// row groups in the window (store.PrincipalARNs: the principal_arn column
// chunks alone, dictionaries only). A name or glob that matches nobody
// yields a *NotFoundError. byPattern maps each name or glob to its ARNs.
func Resolve(ctx context.Context, st *store.Store, q Query) (arns []string, byPattern map[string][]string, err error) {
	var pending []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			arns = append(arns, a)
		}
	}
	for _, p := range q.Principals {
		if arn.IsARN(p) && !isGlob(p) {
			add(p)
		} else {
			pending = append(pending, p)
		}
	}
	if len(pending) == 0 {
		sort.Strings(arns)
		return arns, nil, nil
	}
	known, err := knownPrincipals(ctx, st, q)
	if err != nil {
		return nil, nil, err
	}
	byPattern = map[string][]string{}
	for _, p := range pending {
		for _, k := range known {
			if MatchPrincipal(p, k) {
				add(k)
				byPattern[p] = append(byPattern[p], k)
			}
		}
		if len(byPattern[p]) == 0 {
			return nil, byPattern, &NotFoundError{Principal: p, Close: ClosePrincipals(p, known), From: q.From, To: q.To}
		}
	}
	sort.Strings(arns)
	return arns, byPattern, nil
}

// knownPrincipals lists the principals of the row groups q selects. On an
// object store it reads the files' principal indexes (a few KiB each)
// instead of their principal_arn chunks (a request or more each, for
// every file of the window): a file that straddles the window then gives
// all its principals, and a name that resolves to one without events in
// the window is reported as not found all the same (Analyze checks).
func knownPrincipals(ctx context.Context, st *store.Store, q Query) ([]string, error) {
	sq := store.Query{Accounts: q.Accounts, From: q.From, To: q.To}
	if st.Remote() {
		ps, _, err := store.IndexedPrincipals(ctx, st, sq)
		return ps, err
	}
	return store.PrincipalARNs(ctx, st, sq)
}

// matchPrincipal reports whether the user's pattern names arn: the ARN
// itself, its last name ("deploy" for arn:aws:iam::1:role/ci/deploy), or a
// glob over either.
func MatchPrincipal(pattern, arn string) bool {
	name := PrincipalName(arn)
	if pattern == arn || pattern == name {
		return true
	}
	if !isGlob(pattern) {
		return false
	}
	if ok, _ := path.Match(pattern, arn); ok {
		return true
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// PrincipalName is the last part of a principal ARN: the user, role or
// session name; a service principal is its own name.
func PrincipalName(principal string) string {
	if i := strings.LastIndexByte(principal, '/'); i >= 0 {
		return principal[i+1:] // a path's last element, ARN or not
	}
	if a, err := arn.Parse(principal); err == nil {
		return a.Resource[strings.LastIndexByte(a.Resource, ':')+1:] // root; name in type:name
	}
	return principal
}

// closeMatches returns up to five known principals whose name resembles
// the one asked for.
func ClosePrincipals(asked string, known []string) []string {
	return suggest.Closest(PrincipalName(asked), known, 5, PrincipalName)
}
