// Package private creates files only their owner can read (0600) and
// folders only their owner can enter (0700), whatever the process's umask:
// the dataset and everything iamlens writes from it say who did what from
// where in an AWS account. The store writes all its files through it;
// report and log writers should too.
//
// The modes are set exactly (a umask can only take bits away, and a file
// created before may have had wider ones), on Unix. On Windows a mode sets
// only the read-only flag; files there inherit the folder's access list.
package private

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

const (
	// FileMode is the mode of every file iamlens writes.
	FileMode fs.FileMode = 0o600
	// DirMode is the mode of every folder iamlens creates.
	DirMode fs.FileMode = 0o700
)

// MkdirAll creates dir and any missing parents with DirMode. Folders that
// exist already are left as they are.
func MkdirAll(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: errors.New("not a directory")}
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := MkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, DirMode); err != nil {
		if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() {
			return nil // made meanwhile, by another goroutine or process
		}
		return err
	}
	return os.Chmod(dir, DirMode)
}

// Create creates or truncates the file at path, with FileMode, open for
// writing and reading.
func Create(path string) (*os.File, error) {
	return open(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
}

// OpenAppend opens the file at path for appending, creating it if needed,
// with FileMode (an existing file's mode is narrowed to it).
func OpenAppend(path string) (*os.File, error) {
	return open(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND)
}

func open(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag, FileMode)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// WriteFile writes data to path with FileMode, atomically: into a new
// temporary file in path's folder, synced, then renamed over path. A
// reader sees the old file or the new one, never a part.
func WriteFile(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(FileMode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
