package store_test

import (
	"testing"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/store"
)

// TestRowsAreViews keeps every reading row a view of the written columns:
// a renamed column, or a type or optionality that differs from the file's,
// fails here rather than making Scan convert every row.
func TestRowsAreViews(t *testing.T) {
	for _, tc := range []struct{ row, written any }{
		{store.UsageRow{}, columns.Event{}},
		{store.RowResource{}, columns.Resource{}},
		{store.PrincipalRow{}, columns.Event{}},
		{store.EvidenceRow{}, columns.Event{}},
		{store.ExplainRow{}, columns.Event{}},
		{store.CallerRow{}, columns.Event{}},
	} {
		for _, m := range ingesttest.ColumnTagMismatches(tc.row, tc.written) {
			t.Error(m)
		}
	}
}
