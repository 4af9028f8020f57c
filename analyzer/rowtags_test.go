package analyzer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/columns"
)

// The reading structs' parquet tags are those of the written columns (less
// the writer-only "dict"): a renamed column, or a type or optionality that
// differs from the file's, would make store.Scan fall back to parquet-go's
// row conversion, several times slower and lossy for null booleans.
func TestRowTagsMatchFiles(t *testing.T) {
	tags := func(v any) map[string]string {
		m := map[string]string{}
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			tag := rt.Field(i).Tag.Get("parquet")
			name, _, _ := strings.Cut(tag, ",")
			m[name] = strings.Replace(tag, ",dict", "", 1)
		}
		return m
	}
	events, resources := tags(columns.Event{}), tags(columns.Resource{})
	for _, tc := range []struct {
		row     any
		written map[string]string
	}{{UsageRow{}, events}, {PrincipalRow{}, events}, {RowResource{}, resources}} {
		for name, tag := range tags(tc.row) {
			if tc.written[name] != tag {
				t.Errorf("%T reads %q; the files hold %q", tc.row, tag, tc.written[name])
			}
		}
	}
}
