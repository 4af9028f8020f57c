package review

import (
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// TestIAMCallRowTags keeps iamCallRow's tags equal to the files' types, so
// store.Scan reads the columns without converting rows.
func TestIAMCallRowTags(t *testing.T) {
	if bad := ingesttest.ColumnTagMismatches(iamCallRow{}, columns.Event{}); len(bad) > 0 {
		t.Error(strings.Join(bad, "\n"))
	}
}
