package analyzer

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

// This file reads the usage rollup (docs/rollup.md): the table ingest
// writes beside the events, one file for each events file, summing its
// events by principal and call, and by principal and source IP, user agent,
// VPC endpoint and access key. Whole-dataset questions read it instead of
// the events: its rows are as many as the distinct (day, principal, call)
// combinations, not the events, and every answer it gives equals the one
// the events give (TestRollupMatchesEvents).
//
// It sums whole days: a window that starts or ends inside a day is read
// from the events.

// Source says what a reader reads.
type Source string

const (
	// SourceAuto reads the rollup where it answers the question (whole
	// days), building the rollup of events files written without one
	// first; analyze --principal takes, file by file, whichever of the
	// events and the rollup holds fewer of the principal's rows.
	SourceAuto Source = ""
	// SourceEvents reads the events only.
	SourceEvents Source = "events"
	// SourceRollup reads the rollup only (building what is missing), and
	// fails for a window that is not whole days.
	SourceRollup Source = "rollup"
)

// wholeDays reports whether [from, to] is made of whole UTC days (an open
// end counts): the windows the rollup answers.
func wholeDays(from, to time.Time) bool {
	midnight := func(t time.Time) bool { return t.UTC().Truncate(24 * time.Hour).Equal(t) }
	return (from.IsZero() || midnight(from)) && (to.IsZero() || midnight(to.Add(time.Millisecond)))
}

// RollupNotice is passed to a reader's Notice when it builds the rollup
// of events files written without one (by an iamlens older than the
// rollup, or with it turned off) before it reads it.
type RollupNotice struct {
	// Files is the number of events files whose rollup is built; Done is
	// true once it is built.
	Files int
	Done  bool
	// Elapsed is the time the build took (when Done).
	Elapsed time.Duration
	// Err is why the rollup could not be built: the events are read
	// instead.
	Err error
}

// String is the notice for people.
func (n RollupNotice) String() string {
	switch {
	case n.Err != nil:
		return fmt.Sprintf("could not build the usage rollup (%v); reading the events instead", n.Err)
	case n.Done:
		return fmt.Sprintf("built the usage rollup of %d events file(s) in %s", n.Files, n.Elapsed.Round(time.Millisecond))
	}
	return fmt.Sprintf("building the usage rollup of %d events file(s) written without one (once; `iamlens ingest --rebuild-rollup` does it ahead of time)", n.Files)
}

// rollupFiles returns the rollup files that hold the window's events, after
// building those that are missing; ok is false when the events must be
// read instead (the rollup could not be built: the notice says why).
func rollupFiles(ctx context.Context, st *store.Store, accounts []string, from, to time.Time, notice func(RollupNotice)) (files []string, ok bool, err error) {
	cov, err := st.Coverage(accounts, from, to)
	if err != nil {
		return nil, false, err
	}
	if !cov.Complete() {
		n := RollupNotice{Files: cov.Missing}
		if !cov.Usable {
			n.Files = len(cov.Events)
		}
		if notice != nil {
			notice(n)
		}
		start := time.Now()
		if err := st.BuildRollup(ctx, cov, store.WriteOptions{}, nil); err != nil {
			if ctx.Err() != nil {
				return nil, false, ctx.Err()
			}
			if notice != nil {
				notice(RollupNotice{Files: n.Files, Err: err})
			}
			return nil, false, nil
		}
		if notice != nil {
			notice(RollupNotice{Files: n.Files, Done: true, Elapsed: time.Since(start)})
		}
		if cov, err = st.Coverage(accounts, from, to); err != nil {
			return nil, false, err
		}
		if !cov.Complete() {
			return nil, false, nil // written meanwhile by an ingest without a rollup
		}
	}
	for _, f := range cov.Rollup {
		// With accounts asked for, the events of account=unknown (neither
		// a recipient nor a principal account) are in none of them.
		if len(accounts) > 0 && partitionAccount(f) == "unknown" {
			continue
		}
		files = append(files, f)
	}
	return files, true, nil
}

// partitionAccount is the account folder of a dataset file.
func partitionAccount(path string) string {
	a, _ := strings.CutPrefix(filepath.Base(filepath.Dir(filepath.Dir(path))), "account=")
	return a
}

// scanRollup reads the rollup files (on up to workers goroutines, a file
// each) and passes their rows to add under a mutex.
func scanRollup(ctx context.Context, st *store.Store, files []string, q store.RollupQuery, workers int, add func([]columns.RollupRow)) (store.ScanStats, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var mu sync.Mutex
	var total store.ScanStats
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, f := range files {
		g.Go(func() error {
			ss, err := store.ScanRollup(gctx, st, []string{f}, q, func(rows []columns.RollupRow) error {
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

// scanRollupShards reads the rollup files as scanRollup does and folds
// their rows into shards, aggregators that keep disjoint principals
// (Aggregator.shards): a worker that has decoded a batch gives each run of
// one principal's rows to that principal's shard, taking first the shards
// no other worker holds, so that on n cores n batches are summed at once
// where one aggregator would sum one.
func scanRollupShards(ctx context.Context, st *store.Store, files []string, q store.RollupQuery, workers int, shards []*Aggregator) (store.ScanStats, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	locks := make([]sync.Mutex, len(shards))
	var mu sync.Mutex
	var total store.ScanStats
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, f := range files {
		g.Go(func() error {
			// A batch's rows come in runs of one principal (they are
			// sorted by principal): each run goes to its shard only.
			runs := make([][][2]int, len(shards))
			pending := make([]bool, len(shards))
			ss, err := store.ScanRollup(gctx, st, []string{f}, q, func(rows []columns.RollupRow) error {
				for i := range runs {
					runs[i] = runs[i][:0]
				}
				for lo := 0; lo < len(rows); {
					hi := lo + 1
					for hi < len(rows) && rows[hi].PrincipalARN == rows[lo].PrincipalARN {
						hi++
					}
					i := shardOf(rows[lo].PrincipalARN, len(shards))
					runs[i] = append(runs[i], [2]int{lo, hi})
					lo = hi
				}
				left := 0
				for i := range pending {
					pending[i] = len(runs[i]) > 0
					if pending[i] {
						left++
					}
				}
				add := func(i int) {
					for _, r := range runs[i] {
						shards[i].AddRollup(rows[r[0]:r[1]])
					}
					locks[i].Unlock()
					pending[i] = false
					left--
				}
				for left > 0 {
					took := false
					for i := range shards {
						if pending[i] && locks[i].TryLock() {
							add(i)
							took = true
						}
					}
					if !took { // every shard left is busy: wait for the first
						i := slices.Index(pending, true)
						locks[i].Lock()
						add(i)
					}
				}
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

// shards returns n empty aggregators set up as a, each keeping those of
// a's principals whose ARN hashes to it. A principal's rows all go to one
// shard, so once every row is in, absorbing the shards gives a what it
// would have summed alone.
func (a *Aggregator) shards(n int) []*Aggregator {
	out := make([]*Aggregator, n)
	for i := range out {
		s := &Aggregator{m: a.m, accounts: a.accounts, from: a.from, to: a.to, topN: a.topN,
			by: map[string]*usageAgg{}, dataSeen: map[string]bool{}, dataAll: a.dataAll || a.keep == nil}
		// Rows come sorted by principal: the last answer is kept (its
		// strings copied, as the rows' may be reused).
		keep, shard := a.keep, uint64(i)
		var lastARN, lastKind string
		var lastOK, seen bool
		s.keep = func(arn, kind string) bool {
			if seen && arn == lastARN && kind == lastKind {
				return lastOK
			}
			ok := shardOf(arn, n) == shard && (keep == nil || keep(arn, kind))
			lastARN, lastKind, lastOK, seen = strings.Clone(arn), strings.Clone(kind), ok, true
			return ok
		}
		out[i] = s
	}
	return out
}

// shardOf is the shard of n that holds principal arn (FNV-1a).
func shardOf(arn string, n int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(arn); i++ {
		h ^= uint64(arn[i])
		h *= 1099511628211
	}
	return h % uint64(n)
}

// absorb moves the shards' principals and data sources into a.
func (a *Aggregator) absorb(shards []*Aggregator) {
	for _, s := range shards {
		for k, p := range s.by {
			a.by[k] = p
		}
		for k := range s.dataSeen {
			a.dataSeen[k] = true
		}
	}
}

// AddRollup folds rows of the usage rollup in, as Add folds the events
// they sum: the result is the same. The rows must come from whole days of
// the window (rows outside it are dropped whole) and, when accounts are
// selected, from their partitions only (the facet rows name no account).
// It copies what it keeps.
func (a *Aggregator) AddRollup(rows []columns.RollupRow) {
	for i := range rows {
		r := &rows[i]
		if r.LastSeen < a.from || r.FirstSeen > a.to {
			continue
		}
		kept := r.PrincipalARN != "" && (a.keep == nil || a.keep(r.PrincipalARN, r.PrincipalKind))
		switch r.Facet {
		case columns.FacetCall:
			if !a.inAccounts(r.RecipientAccount, r.PrincipalAccount) {
				continue
			}
			if r.EventCategory == "Data" && (kept || a.dataAll || a.keep == nil) {
				a.seeData(r.EventSource)
			}
			if kept {
				a.addCallRow(r)
			}
		case columns.FacetPrincipal:
			// The days a principal was active: a monthly file's call rows
			// sum a month, its principal rows keep their day.
			if kept && a.inAccounts(r.RecipientAccount, r.PrincipalAccount) {
				p := a.principalOf(r.PrincipalARN, r.PrincipalKind, r.FirstSeen)
				p.days[floorDiv(r.FirstSeen, 86_400_000)] = struct{}{}
				p.days[floorDiv(r.LastSeen, 86_400_000)] = struct{}{}
			}
		case columns.FacetOrigin, columns.FacetAccessKey:
			if kept {
				a.addOriginRow(r)
			}
		}
	}
}

func (a *Aggregator) addCallRow(r *columns.RollupRow) {
	p := a.principalOf(r.PrincipalARN, r.PrincipalKind, r.FirstSeen)
	n := r.Calls
	p.events += n
	p.first, p.last = min(p.first, r.FirstSeen), max(p.last, r.LastSeen)
	if r.PrincipalAccount != "" {
		if _, ok := p.own[r.PrincipalAccount]; !ok {
			p.own[strings.Clone(r.PrincipalAccount)] = struct{}{}
		}
	}
	p.days[floorDiv(r.FirstSeen, 86_400_000)] = struct{}{}
	p.days[floorDiv(r.LastSeen, 86_400_000)] = struct{}{}
	p.mfa += r.MFACalls
	outcome := OutcomeOf(r.ErrorCode)
	if outcome == Allowed {
		p.origins.Calls += n
		p.origins.MFA += r.MFACalls
	}
	c := a.call(p, a.usageRow(r), outcome, r.FirstSeen)
	c.calls += n
	c.first, c.last = min(c.first, r.FirstSeen), max(c.last, r.LastSeen)
}

// usageRow is the call row r as the events row it stands for (its call's
// fields), in scratch memory that the next call reuses.
func (a *Aggregator) usageRow(r *columns.RollupRow) *UsageRow {
	u := &a.rollupRow
	*u = UsageRow{PrincipalARN: r.PrincipalARN, PrincipalKind: r.PrincipalKind, EventTime: r.FirstSeen,
		EventSource: r.EventSource, EventName: r.EventName, EventType: r.EventType, EventCategory: r.EventCategory,
		AWSRegion: r.AWSRegion, RecipientAccount: r.RecipientAccount, PrincipalAccount: r.PrincipalAccount,
		UserIdentityARN: r.UserIdentityARN, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage,
		RequestParameters: r.RequestParameters, Resources: a.rollupRes[:0]}
	for _, x := range r.Resources {
		u.Resources = append(u.Resources, RowResource{ARN: x.ARN, Type: x.Type, AccountID: x.AccountID})
	}
	a.rollupRes = u.Resources
	return u
}

// addOriginRow adds an origin or access_key row.
func (a *Aggregator) addOriginRow(r *columns.RollupRow) {
	p := a.principalOf(r.PrincipalARN, r.PrincipalKind, r.FirstSeen)
	n := r.Calls
	if r.Facet == columns.FacetOrigin {
		allowed := r.Outcome == cloudtrail.OutcomeAllowed
		incBy(p.ips, r.SourceIP, n)
		if allowed && isIP(r.SourceIP) {
			incBy(p.okIPs, r.SourceIP, n)
		}
		incBy(p.agents, r.UserAgent, n)
		incBy(p.vpces, r.VPCEndpointID, n)
		if allowed {
			incBy(p.okVPCEs, r.VPCEndpointID, n)
		}
		return
	}
	p.addKey(r.AccessKeyID, n, r.FirstSeen, r.LastSeen)
}

// AddRollup counts the principal rows of the usage rollup, as Add counts
// the events they sum; the other facets' rows are ignored. The rows must
// come from whole days of the window and, when accounts are selected, from
// their partitions only.
func (l *PrincipalLister) AddRollup(rows []columns.RollupRow) {
	for i := range rows {
		r := &rows[i]
		if r.Facet != columns.FacetPrincipal || r.LastSeen < l.from || r.FirstSeen > l.to {
			continue
		}
		if !l.selects(r.PrincipalKind, r.RecipientAccount, r.PrincipalAccount) {
			continue
		}
		a := l.agg(r.PrincipalARN, r.PrincipalKind, r.FirstSeen)
		a.sum.Events += r.Calls
		if r.Outcome != cloudtrail.OutcomeAllowed {
			a.sum.Errors += r.Calls
		}
		a.first = min(a.first, r.FirstSeen)
		a.last = max(a.last, r.LastSeen)
		if r.PrincipalAccount != "" {
			addKey(a.own, r.PrincipalAccount)
		}
		if r.RecipientAccount != "" {
			addKey(a.calls, r.RecipientAccount)
		}
		if cloudtrail.IsCrossAccount(r.PrincipalAccount, r.RecipientAccount) {
			a.sum.CrossAccountEvents += r.Calls
		}
	}
}

// ListPrincipals returns the principals that opts select, sorted by ARN
// then kind, and what it read them from: the rollup's principal rows for a
// window of whole days (SourceAuto; the rollup of events files written
// without one is built first), the events' six columns otherwise.
func ListPrincipals(ctx context.Context, st *store.Store, opts PrincipalOptions) ([]PrincipalSummary, Source, error) {
	l := NewPrincipalLister(opts)
	if opts.Reader != nil {
		if !wholeDays(opts.From, opts.To) {
			return nil, "", errNotWholeDays
		}
		q := RollupQuery{Accounts: opts.Accounts, From: opts.From, To: opts.To}
		if err := opts.Reader.ReadRollup(ctx, q, []string{columns.FacetPrincipal}, func(rows []columns.RollupRow) error {
			l.AddRollup(rows)
			return nil
		}); err != nil {
			return nil, "", err
		}
		return l.Summaries(), SourceRollup, nil
	}
	if opts.Source != SourceEvents && wholeDays(opts.From, opts.To) {
		files, ok, err := rollupFiles(ctx, st, opts.Accounts, opts.From, opts.To, opts.Notice)
		if err != nil {
			return nil, "", err
		}
		if ok {
			if files, err = st.MonthlyPlan(ctx, files); err != nil {
				return nil, "", err
			}
			q := store.RollupQuery{Facets: []string{columns.FacetPrincipal}}
			if _, err := scanRollup(ctx, st, files, q, 0, l.AddRollup); err != nil {
				return nil, "", err
			}
			return l.Summaries(), SourceRollup, nil
		}
	}
	if opts.Source == SourceRollup {
		return nil, "", errNotWholeDays
	}
	q := store.Query{Accounts: opts.Accounts, From: opts.From, To: opts.To}
	if _, err := store.Scan(ctx, st, q, func(rows []PrincipalRow) error {
		l.Add(rows)
		return nil
	}); err != nil {
		return nil, "", err
	}
	return l.Summaries(), SourceEvents, nil
}
