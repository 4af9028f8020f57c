//go:build unix

package private

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// withUmask runs the test under umask mask (process-wide: these tests do
// not run in parallel).
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestModesWhateverTheUmask: under umask 000 (which lets os.Create make
// 0666 files and os.MkdirAll 0777 folders) and under umask 077, what this
// package creates is 0600 or 0700; files that existed with wider modes are
// narrowed; folders that existed are left alone.
func TestModesWhateverTheUmask(t *testing.T) {
	for _, mask := range []int{0o000, 0o022, 0o077} {
		withUmask(t, mask)
		root := t.TempDir()
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		deep := filepath.Join(root, "a", "b", "c")
		if err := MkdirAll(deep); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{filepath.Join(root, "a"), filepath.Join(root, "a", "b"), deep} {
			if m := mode(t, d); m != DirMode {
				t.Errorf("umask %03o: folder %s is %v, want %v", mask, d, m, DirMode)
			}
		}
		if m := mode(t, root); m != 0o755 {
			t.Errorf("umask %03o: MkdirAll changed an existing folder to %v", mask, m)
		}

		created := filepath.Join(deep, "new")
		f, err := Create(created)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		wide := filepath.Join(deep, "wide")
		if err := os.WriteFile(wide, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(wide, 0o666); err != nil {
			t.Fatal(err)
		}
		if f, err = OpenAppend(wide); err != nil {
			t.Fatal(err)
		}
		f.Close()
		appended := filepath.Join(deep, "log")
		if f, err = OpenAppend(appended); err != nil {
			t.Fatal(err)
		}
		f.Close()
		written := filepath.Join(deep, "report.json")
		if err := os.WriteFile(written, []byte("old"), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(written, []byte("new")); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{created, wide, appended, written} {
			if m := mode(t, p); m != FileMode {
				t.Errorf("umask %03o: file %s is %v, want %v", mask, filepath.Base(p), m, FileMode)
			}
		}
		if b, _ := os.ReadFile(written); string(b) != "new" {
			t.Errorf("WriteFile left %q", b)
		}
		if ents, _ := os.ReadDir(deep); len(ents) != 4 {
			t.Errorf("%d files in the folder, want 4 (no temporary file left)", len(ents))
		}
	}
}

// TestMkdirAllOverAFile: a file where a folder should be is an error.
func TestMkdirAllOverAFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAll(filepath.Join(p, "sub")); err == nil {
		t.Error("MkdirAll below a file succeeded")
	}
	if err := MkdirAll(p); err == nil {
		t.Error("MkdirAll of a file succeeded")
	}
}
