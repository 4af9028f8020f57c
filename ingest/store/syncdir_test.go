package store

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestSyncDir: Publish's folder sync works on a real folder here, and
// reports a folder that is not there (on Windows it does nothing: there is
// no folder fsync).
func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syncDir(dir); err != nil {
		t.Fatalf("syncDir(%s): %v", dir, err)
	}
	err := syncDir(filepath.Join(dir, "missing"))
	if runtime.GOOS == "windows" {
		if err != nil {
			t.Fatalf("syncDir on Windows: %v, want nothing done", err)
		}
	} else if err == nil {
		t.Fatal("syncDir of a missing folder reported nothing")
	}
}
