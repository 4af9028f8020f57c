package policygen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// devLogs writes every record of the real logs (ingesttest.DevRecords:
// the sample and the third-party CloudTrail inputs, what
// ../shared/data/cloudtrail/dev holds: gzipped log files, JSON lines,
// single-event samples, arrays) into CloudTrail log files under a new
// folder, 200 records a file, and returns it.
func devLogs(t *testing.T) string {
	t.Helper()
	var recs []string
	for _, d := range ingesttest.DevRecords(t) {
		recs = append(recs, d.Rec.Raw)
	}
	if len(recs) < 3500 {
		t.Fatalf("only %d records in the real logs", len(recs))
	}
	dir := t.TempDir()
	for i := 0; i*200 < len(recs); i++ {
		part := recs[i*200 : min(len(recs), (i+1)*200)]
		doc := []byte(`{"Records":[` + strings.Join(part, ",") + `]}`)
		ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/01/01", i), ingesttest.Gzip(t, doc))
	}
	return dir
}

// outputs renders usages as analyze does: the JSON report and the policy.
func outputs(t *testing.T, cat *catalog.Catalog, us []*analyzer.Usage) string {
	t.Helper()
	var rs []*Result
	for _, u := range us {
		r, err := Generate(u, cat, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	var report, policy bytes.Buffer
	if err := WriteReport(&report, rs); err != nil {
		t.Fatal(err)
	}
	// WriteReport encodes batches of results on every core: the bytes are
	// those of one indented encoding of the array.
	if whole, err := marshal(rs, true); err != nil || string(whole) != report.String() {
		t.Fatalf("WriteReport differs from one encoding of its results (%v) %s", err, firstDiff(string(whole), report.String()))
	}
	if err := WritePolicy(&policy, rs); err != nil {
		t.Fatal(err)
	}
	return report.String() + "\n" + policy.String()
}

// firstDiff shows where two outputs part.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return fmt.Sprintf("at byte %d:\n%s\n---\n%s", i, a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
}

// checkRollupMatchesEvents analyses every principal of st, one by one and
// all at once (--all), from the events and from the rollup (and the
// default, which picks file by file), and requires the same report and
// policy byte for byte; and the same principals listing.
func checkRollupMatchesEvents(t *testing.T, st *store.Store, windows []analyzer.Query) {
	cat, _ := realCatalog(t)
	ctx := context.Background()
	// analyze as the command runs it: the mapper learns the IAM paths the
	// dataset shows, afresh for each run
	analyze := func(q analyzer.Query, src analyzer.Source, workers ...int) ([]*analyzer.Usage, analyzer.Stats, error) {
		paths := actionmap.NewPaths()
		opts := analyzer.Options{Source: src, Paths: paths}
		if len(workers) > 0 {
			opts.Workers = workers[0]
		}
		return analyzer.Analyze(ctx, st, q, actionmap.New(cat).WithPaths(paths), opts)
	}
	checked := 0
	for _, w := range windows {
		lo := analyzer.PrincipalOptions{From: w.From, To: w.To}
		if w.From.IsZero() { // analyze's default window
			last, err := analyzer.LastDay(st, nil)
			if err != nil {
				t.Fatal(err)
			}
			lo.From = last.Add(24 * time.Hour).Add(-analyzer.DefaultWindow)
		}
		sums, src, err := analyzer.ListPrincipals(ctx, st, withSource(lo, analyzer.SourceEvents))
		if err != nil || src != analyzer.SourceEvents {
			t.Fatal(src, err)
		}
		rsums, src, err := analyzer.ListPrincipals(ctx, st, withSource(lo, analyzer.SourceRollup))
		if err != nil || src != analyzer.SourceRollup {
			t.Fatal(src, err)
		}
		a, _ := json.Marshal(sums)
		b, _ := json.Marshal(rsums)
		if string(a) != string(b) {
			t.Errorf("principals from %s: the rollup's listing differs from the events' %s", w.From.Format(time.DateOnly), firstDiff(string(a), string(b)))
		}
		for _, s := range sums {
			if s.ARN == "" {
				continue
			}
			q := w
			q.Principals = []string{s.ARN}
			var outs []string
			for _, src := range []analyzer.Source{analyzer.SourceEvents, analyzer.SourceRollup, analyzer.SourceAuto} {
				us, stats, err := analyze(q, src)
				if err != nil {
					t.Fatalf("%s from %s: %v", s.ARN, src, err)
				}
				if src != analyzer.SourceAuto && stats.Source != src {
					t.Fatalf("%s: asked for %q, read %q", s.ARN, src, stats.Source)
				}
				outs = append(outs, outputs(t, cat, us))
			}
			for i, src := range []string{"rollup", "default"} {
				if outs[i+1] != outs[0] {
					t.Errorf("%s: the output from the %s differs from the events' %s", s.ARN, src, firstDiff(outs[0], outs[i+1]))
				}
			}
			checked++
		}
		q := w
		q.All = true
		ev, _, err := analyze(q, analyzer.SourceEvents)
		if err != nil {
			t.Fatal(err)
		}
		ro, stats, err := analyze(q, analyzer.SourceAuto)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Source != analyzer.SourceRollup {
			t.Errorf("--all read %q, want the rollup", stats.Source)
		}
		if a, b := outputs(t, cat, ev), outputs(t, cat, ro); a != b {
			t.Errorf("--all: the output from the rollup differs from the events' %s", firstDiff(a, b))
		}
		// --all sums the rollup in one aggregator a worker (principals
		// split by a hash of their ARN): any number gives the same output.
		for _, workers := range []int{1, 3, 7} {
			sh, stats, err := analyze(q, analyzer.SourceAuto, workers)
			if err != nil || stats.Source != analyzer.SourceRollup {
				t.Fatal(stats.Source, err)
			}
			if a, b := outputs(t, cat, ev), outputs(t, cat, sh); a != b {
				t.Errorf("--all on %d workers: the output from the rollup differs from the events' %s", workers, firstDiff(a, b))
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d principals compared", checked)
	}
	t.Logf("%d principal analyses compared three ways, and --all", checked)
}

func withSource(o analyzer.PrincipalOptions, s analyzer.Source) analyzer.PrincipalOptions {
	o.Source = s
	return o
}

// For every principal of the bundled sample (it runs on a fresh clone),
// the report and policy from the rollup equal those from the events, byte
// for byte, and so does the principals listing.
func TestRollupMatchesEventsSample(t *testing.T) {
	st := ingestDir(t, ingesttest.Sample(t))
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	checkRollupMatchesEvents(t, st, []analyzer.Query{
		{}, // the default window
		{From: day("2023-07-10"), To: day("2023-07-10").Add(24*time.Hour - time.Millisecond)},
	})
}

// The same for every principal of all the real logs (those of
// ../shared/data/cloudtrail/dev, committed under testdata).
func TestRollupMatchesEventsRealLogs(t *testing.T) {
	st := ingestDir(t, devLogs(t))
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	checkRollupMatchesEvents(t, st, []analyzer.Query{{From: day("2000-01-01")}, {}})
}

// A store written without a rollup (by an iamlens older than it) gets one
// the first time a command that wants it reads it, with a notice before and
// after; the answers equal the events'; ingest --rebuild-rollup's
// RebuildRollup builds the same again.
func TestRollupBuiltForOldStore(t *testing.T) {
	cat, m := realCatalog(t)
	ctx := context.Background()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.NewDir(ingesttest.Sample(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, src, st, ingest.Options{Workers: 2, BatchBytes: 1 << 20, Write: store.WriteOptions{NoRollup: true}}); err != nil {
		t.Fatal(err)
	}
	cov, err := st.Coverage(nil, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if cov.Usable || len(cov.Events) < 2 || cov.Missing != len(cov.Events) {
		t.Fatalf("a store written without a rollup: %+v", cov)
	}
	ev, _, err := analyzer.Analyze(ctx, st, analyzer.Query{All: true}, m, analyzer.Options{Source: analyzer.SourceEvents})
	if err != nil {
		t.Fatal(err)
	}
	var notices []analyzer.RollupNotice
	ro, stats, err := analyzer.Analyze(ctx, st, analyzer.Query{All: true}, m, analyzer.Options{Notice: func(n analyzer.RollupNotice) { notices = append(notices, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Source != analyzer.SourceRollup || len(notices) != 2 || notices[0].Files != len(cov.Events) || !notices[1].Done {
		t.Fatalf("read %q with notices %+v", stats.Source, notices)
	}
	if a, b := outputs(t, cat, ev), outputs(t, cat, ro); a != b {
		t.Fatalf("--all from the rollup built for an old store differs from the events' %s", firstDiff(a, b))
	}
	// Built once: the next reader finds it complete.
	notices = nil
	if _, _, err := analyzer.ListPrincipals(ctx, st, analyzer.PrincipalOptions{Notice: func(n analyzer.RollupNotice) { notices = append(notices, n) }}); err != nil || len(notices) != 0 {
		t.Fatalf("second reader: %v, notices %+v", err, notices)
	}
	if err := st.RebuildRollup(ctx, store.WriteOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	again, _, err := analyzer.Analyze(ctx, st, analyzer.Query{All: true}, m, analyzer.Options{Source: analyzer.SourceRollup})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := outputs(t, cat, ev), outputs(t, cat, again); a != b {
		t.Fatalf("--all after RebuildRollup differs from the events' %s", firstDiff(a, b))
	}
	checkRollupMatchesEvents(t, st, []analyzer.Query{{}})
}

// The monthly rollup (store.MergeRollup) changes what is read, never the
// answer: the real logs ingested in two runs, the months merged after the
// first, read again after the second (the monthly files and the new twins
// they do not cover), merged again (from the monthly files and the new
// twins only), and after a compaction replaced the twins (the monthly files
// then stale, and never read, until merged again): every analysis, --all
// and the principals listing equal the events', byte for byte, each time.
func TestMonthlyRollupMatchesEvents(t *testing.T) {
	ctx := context.Background()
	logs := devLogs(t)
	entries, err := os.ReadDir(filepath.Join(logs, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01"))
	if err != nil || len(entries) < 4 {
		t.Fatalf("the real logs' files: %v (%d)", err, len(entries))
	}
	// The second run's logs: every third file, moved aside.
	later := t.TempDir()
	for i, e := range entries {
		if i%3 != 2 {
			continue
		}
		rel := filepath.Join("AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01", e.Name())
		if err := os.MkdirAll(filepath.Dir(filepath.Join(later, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(logs, rel), filepath.Join(later, rel)); err != nil {
			t.Fatal(err)
		}
	}
	st := ingestDir(t, logs)
	windows := []analyzer.Query{{From: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}, {}}
	twins := func() []string {
		cov, err := st.Coverage(nil, time.Time{}, time.Time{})
		if err != nil || !cov.Complete() {
			t.Fatalf("coverage: %+v, %v", cov, err)
		}
		return cov.Rollup
	}
	// allReads is how many rollup files --all over all time reads.
	allReads := func() int {
		cat, _ := realCatalog(t)
		_, stats, err := analyzer.Analyze(ctx, st, analyzer.Query{All: true, From: windows[0].From}, actionmap.New(cat), analyzer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return stats.RollupFiles
	}
	merge := func(o ...store.MergeOptions) store.MergeStats {
		mo := append(o, store.MergeOptions{})[0]
		mo.ChunkRows = 64 // a month's rows summed in many chunks
		ms, err := st.MergeRollup(ctx, mo)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	files := func() int {
		fs, err := filepath.Glob(filepath.Join(st.Root, store.MonthlyRollupTable, "*", "*", "*.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		return len(fs)
	}

	first := merge()
	n := len(twins())
	if first.Months == 0 || first.Twins != n || first.RowsWritten >= first.RowsRead || first.Removed != 0 {
		t.Fatalf("first merge: %+v of %d twins", first, n)
	}
	if got := allReads(); got != first.Months {
		t.Fatalf("--all read %d rollup files after the merge, want the %d monthly files", got, first.Months)
	}
	checkRollupMatchesEvents(t, st, windows)
	if again := merge(); again.Months != 0 {
		t.Fatalf("a merge with nothing new wrote %+v", again)
	}

	// The second run: new twins beside the monthly files.
	src, err := source.NewDir(later)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, src, st, ingest.Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	added := len(twins()) - n
	plan, err := st.MonthlyPlan(ctx, twins())
	if err != nil {
		t.Fatal(err)
	}
	if added == 0 || len(plan) != first.Months+added {
		t.Fatalf("after a second run of %d twins the plan reads %d files (%d monthly)", added, len(plan), first.Months)
	}
	checkRollupMatchesEvents(t, st, windows)
	before := files()
	second := merge()
	if second.Twins != added || second.Months == 0 || second.Removed != 0 {
		t.Fatalf("second merge: %+v, want the %d new twins read and the replaced files kept", second, added)
	}
	// The files it replaced stay for the grace period; readers take the
	// newest of each month.
	replaced := files() - monthsOf(t, st)
	if files() != before+second.Months || replaced == 0 {
		t.Fatalf("%d monthly files after the second merge wrote %d to %d: none replaced kept", files(), second.Months, before)
	}
	if got, months := allReads(), monthsOf(t, st); got != months {
		t.Fatalf("--all read %d rollup files after the second merge, want %d monthly files", got, months)
	}
	checkRollupMatchesEvents(t, st, windows)
	past := merge(store.MergeOptions{Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
	if past.Months != 0 || past.Removed != replaced || files() != monthsOf(t, st) {
		t.Fatalf("a merge past the grace period: %+v, %d files left of %d months", past, files(), monthsOf(t, st))
	}

	// A compaction replaces the twins of the days it compacts: the monthly
	// files of their months are stale, and only those months' twins read.
	if _, err := st.Compact(ctx, store.CompactOptions{MinFiles: 2, Grace: -1}); err != nil {
		t.Fatal(err)
	}
	fresh, err := st.MonthlyFor(ctx, twins())
	if err != nil {
		t.Fatal(err)
	}
	stale := monthsOf(t, st) - len(fresh)
	covered := 0
	for _, mf := range fresh {
		covered += len(mf.Covers)
	}
	if stale == 0 {
		t.Fatal("no monthly file made stale by the compaction")
	}
	if got, want := allReads(), len(fresh)+len(twins())-covered; got != want {
		t.Fatalf("--all read %d rollup files after a compaction, want %d (%d monthly files still whole)", got, want, len(fresh))
	}
	checkRollupMatchesEvents(t, st, windows)
	third := merge()
	if third.Months != stale || third.Twins != len(twins())-covered {
		t.Fatalf("merge after a compaction: %+v, want the %d stale months written from their twins", third, stale)
	}
	if got, months := allReads(), monthsOf(t, st); got != months {
		t.Fatalf("--all read %d rollup files after the last merge, want %d monthly files", got, months)
	}
	checkRollupMatchesEvents(t, st, windows)
}

// monthsOf counts the (account, month) partitions of st's monthly rollup.
func monthsOf(t *testing.T, st *store.Store) int {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(st.Root, store.MonthlyRollupTable, "account=*", "month=*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(dirs)
}
