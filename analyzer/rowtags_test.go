package analyzer

import (
	"testing"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// The reading structs' parquet tags are those of the written columns (less
// the writer-only "dict"): a renamed column, or a type or optionality that
// differs from the file's, would make store.Scan fall back to parquet-go's
// row conversion, several times slower and lossy for null booleans.
func TestRowTagsMatchFiles(t *testing.T) {
	for _, tc := range []struct{ row, written any }{
		{UsageRow{}, columns.Event{}}, {PrincipalRow{}, columns.Event{}}, {RowResource{}, columns.Resource{}},
	} {
		for _, m := range ingesttest.ColumnTagMismatches(tc.row, tc.written) {
			t.Error(m)
		}
	}
}
