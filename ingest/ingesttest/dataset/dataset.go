// Package dataset gives tests above ingest a store made from a folder of
// logs (a package of its own: ingest's own tests cannot import ingest).
package dataset

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// Ingest ingests the logs under dir into a new store in a temporary folder
// of t, with opts, and fails t unless it stored some events.
func Ingest(t testing.TB, dir string, opts ingest.Options) (*store.Store, ingest.Stats) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := ingest.Run(context.Background(), src, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Records == 0 {
		t.Fatalf("nothing ingested from %s: %+v", dir, stats)
	}
	return st, stats
}
