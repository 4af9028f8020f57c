package athena

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
	"github.com/iamlens/iamlens/analyzer/athena/athenatest"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/ingesttest/dataset"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/policygen"
)

// The SQL the engine sends, run on DuckDB over the Parquet files ingest
// writes: DuckDB stands in for Athena (both run the common subset the SQL
// keeps to), and everything else is the engine's own code (the SQL
// builder, the row decoder) and the local engine's (the aggregation).

// duckQuerier runs the engine's queries on DuckDB.
type duckQuerier struct{ db *athenatest.DuckDB }

func newDuckQuerier(t *testing.T) *duckQuerier { return &duckQuerier{athenatest.NewDuckDB(t)} }

func (d *duckQuerier) query(_ context.Context, sql string, page func([][]*string) error) error {
	cols, rows, err := d.db.Query(sql)
	if err != nil {
		return fmt.Errorf("%w\nSQL:\n%s", err, sql)
	}
	if strings.Join(cols, ",") != strings.Join(resultHeader(), ",") {
		return fmt.Errorf("columns %v, want %v", cols, resultHeader())
	}
	// Pages of 1,000 rows, as Athena's.
	for len(rows) > 0 {
		n := min(len(rows), 1000)
		if err := page(rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// duckTable is the one place where the table differs: DuckDB reads the
// store's rollup folder.
func duckTable(st *store.Store) string { return athenatest.RollupTable(st.RollupDir()) }

func ingestDir(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, _ := dataset.Ingest(t, dir, ingest.Options{Workers: 2})
	return st
}

func TestSQLOnDuckDBMatchesLocalSample(t *testing.T) {
	d := newDuckQuerier(t)
	matchLocal(t, d, ingestDir(t, ingesttest.Sample(t)))
}

func TestSQLOnDuckDBMatchesLocalDev(t *testing.T) {
	dev := filepath.Join(ingesttest.RepoRoot(t), "..", "shared", "data", "cloudtrail", "dev")
	if _, err := os.Stat(dev); err != nil {
		t.Skip("needs ../shared/data/cloudtrail/dev (absent; it is beside the repository in the project's worktrees only): the sample's test stands")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	d := newDuckQuerier(t)
	matchLocal(t, d, ingestDir(t, dev))
}

// matchLocal checks that principals, analyze --all, analyze --principal
// (every principal) and the activity report give the same answers from
// the engine's SQL as from the local engine.
func matchLocal(t *testing.T, d *duckQuerier, st *store.Store) {
	ctx := context.Background()
	accounts, err := analyzer.Accounts(st)
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{q: d, from: duckTable(st), accounts: accounts}
	first, _ := analyzer.FirstDay(st, nil)
	last, _ := analyzer.LastDay(st, nil)

	// principals: the whole dataset, and a window of its last day.
	for _, w := range [][2]time.Time{{}, {last, last.Add(24*time.Hour - time.Millisecond)}} {
		local, src, err := analyzer.ListPrincipals(ctx, st, analyzer.PrincipalOptions{From: w[0], To: w[1]})
		if err != nil || src != analyzer.SourceRollup {
			t.Fatalf("local principals: %v, source %q", err, src)
		}
		remote, _, err := analyzer.ListPrincipals(ctx, st, analyzer.PrincipalOptions{From: w[0], To: w[1], Reader: e})
		if err != nil {
			t.Fatal(err)
		}
		if len(local) == 0 {
			t.Fatal("no principals: the comparison would prove nothing")
		}
		sameJSON(t, fmt.Sprintf("principals %v", w), local, remote)
	}

	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := actionmap.New(cat)
	all := analyzer.Query{All: true, From: first}
	lu, lstats, err := analyzer.Analyze(ctx, st, all, m, analyzer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ru, stats, err := analyzer.Analyze(ctx, st, all, m, analyzer.Options{Reader: e})
	if err != nil {
		t.Fatal(err)
	}
	if stats.RollupRowsRead == 0 || len(lu) == 0 {
		t.Fatalf("analyze --all read %d rows for %d principals", stats.RollupRowsRead, len(lu))
	}
	samePolicies(t, "analyze --all", cat, lu, ru)
	t.Logf("analyze --all: %d rollup rows in %d files read here; %d rows from the SQL (a day's rows of one key summed)",
		lstats.RollupRowsRead, lstats.RollupFiles, stats.RollupRowsRead)

	for _, u := range lu {
		q := analyzer.Query{Principals: []string{u.Principal}, From: first}
		lp, _, err := analyzer.Analyze(ctx, st, q, m, analyzer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rp, _, err := analyzer.Analyze(ctx, st, q, m, analyzer.Options{Reader: e})
		if err != nil {
			t.Fatal(err)
		}
		samePolicies(t, "analyze --principal "+u.Principal, cat, lp, rp)
	}

	la, err := analyzer.Activity(ctx, st, analyzer.RollupQuery{})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := analyzer.Activity(ctx, st, analyzer.RollupQuery{Reader: e})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "activity", la, ra)

	// Values are quoted as SQL literals: a quote in one is data.
	n := 0
	if err := e.ReadRollup(ctx, analyzer.RollupQuery{Principals: []string{"arn:aws:iam::1:user/o'brien", `x\' OR 1=1 --`}}, nil,
		func(rows []columns.RollupRow) error { n += len(rows); return nil }); err != nil || n != 0 {
		t.Fatalf("principals with quotes: %d rows, %v", n, err)
	}

	for _, sql := range d.db.Queries() {
		if !strings.Contains(sql, duckTable(st)) || strings.Count(sql, "read_parquet") != 1 {
			t.Fatalf("the table is not substituted in one place:\n%s", sql)
		}
	}
}

func sameJSON(t *testing.T, what string, want, got any) {
	t.Helper()
	w, _ := json.MarshalIndent(want, "", " ")
	g, _ := json.MarshalIndent(got, "", " ")
	if !bytes.Equal(w, g) {
		t.Fatalf("%s: the engine's SQL and the local engine differ\nlocal:  %.2000s\nengine: %.2000s", what, w, g)
	}
}

// samePolicies renders both engines' usages as analyze does (the policies
// and the report with its evidence) and wants the same bytes.
func samePolicies(t *testing.T, what string, cat *catalog.Catalog, local, remote []*analyzer.Usage) {
	t.Helper()
	render := func(us []*analyzer.Usage) (string, string) {
		var rs []*policygen.Result
		for _, u := range us {
			r, err := policygen.Generate(u, cat, policygen.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		var p, r bytes.Buffer
		if err := policygen.WritePolicy(&p, rs); err != nil {
			t.Fatal(err)
		}
		if err := policygen.WriteReport(&r, rs); err != nil {
			t.Fatal(err)
		}
		return p.String(), r.String()
	}
	lp, lr := render(local)
	rp, rr := render(remote)
	if lp != rp {
		t.Fatalf("%s: policies differ\nlocal:  %.3000s\nengine: %.3000s", what, lp, rp)
	}
	if lr != rr {
		t.Fatalf("%s: reports differ\nlocal:  %.3000s\nengine: %.3000s", what, lr, rr)
	}
}
