package ingest

import (
	"testing"

	"github.com/iamlens/iamlens/ingest/columns"
)

// SortRows sorts rows the way a batch's partitions are sorted before they
// are written, for the benchmarks.
func SortRows(idx []int32, b *columns.Builder) { sortRows(idx, b, nil) }

// SetDecodeHook runs f before each stage of decoding a file (see
// decodeHook) until the test ends.
func SetDecodeHook(t testing.TB, f func(uri, stage string, record int)) {
	decodeHook = f
	t.Cleanup(func() { decodeHook = nil })
}

// SetCommitHook runs f after each batch's files are in place and before
// its commit, until the test ends.
func SetCommitHook(t testing.TB, f func(batch string)) {
	commitHook = f
	t.Cleanup(func() { commitHook = nil })
}
