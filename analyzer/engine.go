package analyzer

import (
	"context"

	"github.com/iamlens/iamlens/ingest/columns"
)

// RollupReader reads the usage rollup somewhere else than in the store's
// files: a query engine that sums its rows in SQL (the Athena engine,
// analyzer/athena). It returns rows of the rollup's own shape, one per
// (date, facet, every column of the row's key) of q's window and facets,
// so that everything after the rows is the local engine's code: the
// principal listing, the aggregator, the activity report.
//
// The rows of one call to fn may be reused after it returns. Summing rows
// of one date that share a key is what the rollup's readers do anyway: the
// answer is the same as from the files one by one.
type RollupReader interface {
	ReadRollup(ctx context.Context, q RollupQuery, facets []string, fn func([]columns.RollupRow) error) error
}

// readerFacets are the facets Analyze reads: all four (the principal
// rows give the days a principal was active).
var readerFacets = []string{columns.FacetCall, columns.FacetPrincipal, columns.FacetOrigin, columns.FacetAccessKey}

// readWith feeds agg from an engine: the rollup's rows of sq's window.
func readWith(ctx context.Context, r RollupReader, q RollupQuery, agg *Aggregator, stats *Stats) error {
	if !wholeDays(q.From, q.To) {
		return errNotWholeDays
	}
	stats.Source = SourceRollup
	return r.ReadRollup(ctx, q, readerFacets, func(rows []columns.RollupRow) error {
		stats.RollupRowsRead += int64(len(rows))
		stats.RowsRead += int64(len(rows))
		agg.AddRollup(rows)
		return nil
	})
}
