package athena

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/athena/athenatest"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// TestEngineThroughServerOnDuckDB runs the whole engine, SDK included,
// against athenatest's server: Athena's protocol outside, DuckDB inside,
// over the sample's rollup; the results equal the local engine's, over
// several pages of results.
func TestEngineThroughServerOnDuckDB(t *testing.T) {
	db := athenatest.NewDuckDB(t)
	st := ingestDir(t, ingesttest.Sample(t))
	srv := athenatest.NewServer(t, db, map[string]string{`"audit"."usage_rollup"`: athenatest.RollupTable(st.RollupDir())})
	accounts, _ := analyzer.Accounts(st)
	e := New(newFakeClient(t, nil, srv), Options{Database: "audit", Accounts: accounts, Sleep: func(context.Context, time.Duration) error { return nil }})
	ctx := context.Background()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := actionmap.New(cat)
	first, _ := analyzer.FirstDay(st, nil)
	q := analyzer.Query{All: true, From: first}
	lu, _, err := analyzer.Analyze(ctx, st, q, m, analyzer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ru, stats, err := analyzer.Analyze(ctx, st, q, m, analyzer.Options{Reader: e})
	if err != nil {
		t.Fatal(err)
	}
	if stats.RollupRowsRead <= athenatest.PageSize {
		t.Fatalf("%d rows: fewer than a page, the pagination is not exercised", stats.RollupRowsRead)
	}
	samePolicies(t, "analyze --all through the server", cat, lu, ru)

	// A query DuckDB refuses fails with its message, as Athena's do.
	bad := New(newFakeClient(t, nil, srv), Options{Database: "nosuchdb", Sleep: func(context.Context, time.Duration) error { return nil }})
	_, _, err = analyzer.ListPrincipals(ctx, st, analyzer.PrincipalOptions{Reader: bad})
	if err == nil || !strings.Contains(err.Error(), "failed") || !strings.Contains(err.Error(), "nosuchdb") {
		t.Fatalf("error %v, want the query's failure with DuckDB's reason", err)
	}
}
