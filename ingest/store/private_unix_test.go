//go:build unix

package store

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/iamlens/iamlens/ingest/private"
)

// TestStoreIsPrivate: under umask 000, every folder the store creates is
// 0700 and every file it writes is 0600: the temporary data and index
// files as written, then the published ones, the manifest, and a manifest
// that an older version left 0644. (umask is process-wide: no t.Parallel.)
func TestStoreIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	root := filepath.Join(t.TempDir(), "new", "store")
	st, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := st.WriteTemp(context.Background(), Partition{Account: "111122223333", Date: "2026-01-02"}, "b1", 0, rowsOf([]int{2, 3}), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{pf.Tmp, pf.IndexTmp, pf.RollupTmp} {
		checkMode(t, p, private.FileMode)
	}
	if err := st.Publish([]PendingFile{pf}); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(Batch{ID: "b1", Files: []string{pf.Final}}); err != nil {
		t.Fatal(err)
	}
	checkTree(t, filepath.Dir(root)) // "new" was created for the store too
	if n := countFiles(t, root); n != 4 {
		t.Errorf("%d files in the store, want 4 (data, index, rollup, manifest)", n)
	}

	// a manifest written 0644 by an older iamlens is narrowed at the next commit
	if err := os.Chmod(st.manifestPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(Batch{ID: "b2"}); err != nil {
		t.Fatal(err)
	}
	checkMode(t, st.manifestPath(), private.FileMode)
}

func checkMode(t *testing.T, p string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s is %v, want %v", p, fi.Mode().Perm(), want)
	}
}

// checkTree checks every folder below and at root is 0700, every file 0600.
func checkTree(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		want := private.FileMode
		if d.IsDir() {
			want = private.DirMode
		}
		checkMode(t, p, want)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func countFiles(t *testing.T, root string) int {
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	return n
}
