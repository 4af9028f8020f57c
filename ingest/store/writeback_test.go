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

// TestWriteFileBuffersDoNotLeak writes files through writeFile's pooled
// buffers after a failed write left bytes unflushed in one: each file holds
// exactly its own bytes, and the failed one is gone.
func TestWriteFileBuffersDoNotLeak(t *testing.T) {
	dir := t.TempDir()
	failed := filepath.Join(dir, "failed.tmp")
	err := writeFile(failed, func(w io.Writer) error {
		if _, err := w.Write([]byte("half a file")); err != nil {
			return err
		}
		return io.ErrUnexpectedEOF
	})
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("writeFile = %v, want the write's error", err)
	}
	if _, err := os.Stat(failed); !os.IsNotExist(err) {
		t.Errorf("the failed file is still there: %v", err)
	}
	for i, want := range []string{"first", "", "third, longer than the first"} {
		path := filepath.Join(dir, "ok.tmp")
		if err := writeFile(path, func(w io.Writer) error { _, err := io.WriteString(w, want); return err }); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("file %d holds %q, want %q", i, got, want)
		}
	}
}
