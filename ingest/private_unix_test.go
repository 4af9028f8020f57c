//go:build unix

package ingest_test

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/private"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// TestIngestedStoreIsPrivate: a whole run under umask 000 leaves a store
// whose every folder is 0700 and every file 0600 (the dataset says who did
// what from where). umask is process-wide: no t.Parallel.
func TestIngestedStoreIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	root := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := source.NewDir(ingesttest.Invictus(t))
	if stats := runIngest(t, src, st, ingest.Options{BatchBytes: 1 << 20}); stats.FilesWritten < 2 {
		t.Fatalf("%d files written: the test wants several", stats.FilesWritten)
	}
	files := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := private.FileMode
		if d.IsDir() {
			want = private.DirMode
		} else {
			files++
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s is %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil || files < 3 {
		t.Fatalf("walked %d files: %v", files, err)
	}
}
