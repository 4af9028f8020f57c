// Package athena is the Athena engine: it answers the whole-dataset
// questions of principals, analyze and diff with SQL over the usage
// rollup's table in Amazon Athena (the table `iamlens athena ddl` creates),
// and hands the rows it gets back to the same code as the local engine
// (analyzer.RollupReader). It also writes that DDL, from the one schema
// declaration of ingest/columns.
package athena

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/ingest/columns"
)

// API is what the engine calls of Athena (*athena.Client implements it).
type API interface {
	StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, optFns ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, in *athena.GetQueryExecutionInput, optFns ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(ctx context.Context, in *athena.GetQueryResultsInput, optFns ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
	StopQueryExecution(ctx context.Context, in *athena.StopQueryExecutionInput, optFns ...func(*athena.Options)) (*athena.StopQueryExecutionOutput, error)
}

// Options say where the queries run.
type Options struct {
	// Workgroup is the Athena workgroup (default "primary").
	Workgroup string
	// Output is the s3:// location of the query results; empty leaves it
	// to the workgroup's setting.
	Output string
	// Database holds the tables `iamlens athena ddl` creates (default
	// DefaultDatabase).
	Database string
	// Accounts are the store's account partitions: named in every query
	// that selects no account, so that a table whose accounts are
	// injected can be read whole.
	Accounts []string
	// Sleep waits between polls of a running query (default: a timer
	// that ctx cancels); tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error
	// Queries, when set, is told of every query started: its ID and the
	// bytes it scanned once it succeeded.
	Queries func(id string, scanned int64)
}

// DefaultDatabase is the Glue database of the tables.
const DefaultDatabase = "iamlens"

// Table names of the DDL.
const (
	EventsTable = "events"
	RollupTable = "usage_rollup"
)

// Engine runs the rollup's queries. It implements analyzer.RollupReader.
type Engine struct {
	q        querier
	from     string
	accounts []string
}

var _ analyzer.RollupReader = (*Engine)(nil)

// querier runs one SQL query and passes its rows, page by page (a value
// is nil for NULL), without the header.
type querier interface {
	query(ctx context.Context, sql string, page func(rows [][]*string) error) error
}

// New returns the engine that queries Athena through api.
func New(api API, o Options) *Engine {
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if o.Workgroup == "" {
		o.Workgroup = "primary"
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return &Engine{q: &athenaQuerier{api: api, o: o}, from: quoteIdent(o.Database) + "." + quoteIdent(RollupTable), accounts: o.Accounts}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// MaxQueryBytes is the longest query string Athena takes
// (StartQueryExecution's QueryString).
const MaxQueryBytes = 262_144

// ReadRollup runs RollupSQL for q and facets and passes the rows to fn, a
// page of results at a time.
func (e *Engine) ReadRollup(ctx context.Context, q analyzer.RollupQuery, facets []string, fn func([]columns.RollupRow) error) error {
	sql := RollupSQL(e.from, q, facets, e.accounts)
	if len(sql) > MaxQueryBytes {
		return fmt.Errorf("athena: the query names %d principal(s) and %d account(s): %d bytes, more than Athena's %d; name fewer",
			len(q.Principals), max(len(q.Accounts), len(e.accounts)), len(sql), MaxQueryBytes)
	}
	var rows []columns.RollupRow
	return e.q.query(ctx, sql, func(page [][]*string) error {
		rows = slices.Grow(rows[:0], len(page))[:len(page)]
		for i, vals := range page {
			if err := decodeRow(vals, &rows[i]); err != nil {
				return fmt.Errorf("athena result: %w", err)
			}
		}
		return fn(rows)
	})
}

// QueryError is a query that Athena ran and that failed or was cancelled.
type QueryError struct {
	ID     string
	State  types.QueryExecutionState
	Reason string // Athena's StateChangeReason
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("athena query %s %s: %s", e.ID, strings.ToLower(string(e.State)), e.Reason)
}

type athenaQuerier struct {
	api API
	o   Options
}

// Polling: from the first interval, doubled up to the last.
const (
	firstPoll = 200 * time.Millisecond
	maxPoll   = 2 * time.Second
)

func (a *athenaQuerier) query(ctx context.Context, sql string, page func([][]*string) error) error {
	in := &athena.StartQueryExecutionInput{
		QueryString:           aws.String(sql),
		WorkGroup:             aws.String(a.o.Workgroup),
		QueryExecutionContext: &types.QueryExecutionContext{Database: aws.String(a.o.Database)},
	}
	if a.o.Output != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(a.o.Output)}
	}
	out, err := a.api.StartQueryExecution(ctx, in)
	if err != nil {
		return fmt.Errorf("athena: start the query: %w", err)
	}
	id := aws.ToString(out.QueryExecutionId)
	if err := a.wait(ctx, id); err != nil {
		if ctx.Err() != nil {
			// Stop it: a cancelled command must not leave a query scanning.
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_, _ = a.api.StopQueryExecution(stop, &athena.StopQueryExecutionInput{QueryExecutionId: aws.String(id)})
		}
		return err
	}
	var token *string
	first := true
	for {
		res, err := a.api.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id), NextToken: token, MaxResults: aws.Int32(1000)})
		if err != nil {
			return fmt.Errorf("athena: results of query %s: %w", id, err)
		}
		var rows [][]*string
		if res.ResultSet != nil {
			for _, r := range res.ResultSet.Rows {
				vals := make([]*string, len(r.Data))
				for i, d := range r.Data {
					vals[i] = d.VarCharValue
				}
				rows = append(rows, vals)
			}
		}
		if first {
			first = false
			want := resultHeader()
			if len(rows) == 0 || !sameHeader(rows[0], want) {
				return fmt.Errorf("athena: results of query %s: the first row is not the header %s", id, strings.Join(want, ","))
			}
			rows = rows[1:]
		}
		if len(rows) > 0 {
			if err := page(rows); err != nil {
				return err
			}
		}
		token = res.NextToken
		if token == nil || *token == "" {
			return nil
		}
	}
}

func sameHeader(row []*string, want []string) bool {
	if len(row) != len(want) {
		return false
	}
	for i, v := range row {
		if v == nil || *v != want[i] {
			return false
		}
	}
	return true
}

// wait polls the query until it ends: nil when it succeeded, a
// *QueryError when it failed or was cancelled.
func (a *athenaQuerier) wait(ctx context.Context, id string) error {
	d := firstPoll
	for {
		out, err := a.api.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			return fmt.Errorf("athena: state of query %s: %w", id, err)
		}
		qe := out.QueryExecution
		if qe == nil || qe.Status == nil {
			return fmt.Errorf("athena: state of query %s: no status in the answer", id)
		}
		switch qe.Status.State {
		case types.QueryExecutionStateSucceeded:
			if a.o.Queries != nil {
				var scanned int64
				if qe.Statistics != nil {
					scanned = aws.ToInt64(qe.Statistics.DataScannedInBytes)
				}
				a.o.Queries(id, scanned)
			}
			return nil
		case types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			reason := aws.ToString(qe.Status.StateChangeReason)
			if reason == "" && qe.Status.AthenaError != nil {
				reason = aws.ToString(qe.Status.AthenaError.ErrorMessage)
			}
			if reason == "" {
				reason = "no reason given"
			}
			return &QueryError{ID: id, State: qe.Status.State, Reason: reason}
		}
		if err := a.o.Sleep(ctx, d); err != nil {
			return err
		}
		d = min(2*d, maxPoll)
	}
}
