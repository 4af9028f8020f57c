package store

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestStartWriteback holds writeFile's advice to the kernel to what it must
// be: on Linux the call reaches sync_file_range and succeeds on a file just
// written (it fails on a closed one, so the call is really made), and the
// file keeps every byte written.
func TestStartWriteback(t *testing.T) {
	dir := t.TempDir()
	want := bytes.Repeat([]byte("iamlens writeback "), 1<<16) // about 1 MiB: many dirty pages
	path := filepath.Join(dir, "f.tmp")
	if err := writeFile(path, func(w io.Writer) error { _, err := w.Write(want); return err }); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes, wrote %d", len(got), len(want))
	}

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("dirty again")); err != nil {
		t.Fatal(err)
	}
	if err := startWriteback(f); err != nil {
		t.Errorf("startWriteback on a written file: %v", err)
	}
	f.Close()
	err = startWriteback(f)
	if runtime.GOOS == "linux" && err == nil {
		t.Error("startWriteback on a closed file succeeded: the system call is not made")
	}
	if runtime.GOOS != "linux" && err != nil {
		t.Errorf("startWriteback without sync_file_range: %v, want nil", err)
	}
}
