package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
)

// This file is where the store's readers and writers meet the place its
// files live: a local folder, or an object store (Backend), whose files
// are read by ranges and whose folders are listed once per store and
// remembered.

// storeFile is a file of the store open for reading.
type storeFile interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// open opens the store file at p (a path Files returned, or that path
// made) for reading.
func (s *Store) open(ctx context.Context, p string) (storeFile, error) {
	if s == nil { // a local file outside any store
		s = &Store{}
	}
	s.io.files.Add(1)
	if s.remote == nil {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		info, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		return &localFile{File: f, size: info.Size(), io: &s.io}, nil
	}
	rel, err := s.rel(p)
	if err != nil {
		return nil, err
	}
	rf, err := s.remote.Open(ctx, rel, s.listedSize(rel))
	if err != nil {
		return nil, err
	}
	return &remoteFile{RemoteFile: rf, io: &s.io}, nil
}

// localFile counts its reads.
type localFile struct {
	*os.File
	size int64
	io   *ioCounters
}

func (f *localFile) Size() int64 { return f.size }

func (f *localFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.io.requests.Add(1)
	f.io.bytes.Add(int64(n))
	return n, err
}

// remoteFile adds what it fetched to the store's counts when it closes.
type remoteFile struct {
	RemoteFile
	io *ioCounters
}

func (f *remoteFile) Close() error {
	r, b := f.Stats()
	f.io.requests.Add(r)
	f.io.bytes.Add(b)
	return f.RemoteFile.Close()
}

// prefetch asks a file read by ranges to fetch ranges ahead of the reads
// that need them; a local file needs nothing.
func prefetch(f storeFile, ranges []ByteRange) error {
	if r, ok := f.(*remoteFile); ok && len(ranges) > 0 {
		return r.Prefetch(ranges)
	}
	return nil
}

// readSmall reads a small file of the store whole (a principal index, the
// rollup's state). A missing file is fs.ErrNotExist.
func (s *Store) readSmall(ctx context.Context, p string) ([]byte, error) {
	if s.remote == nil {
		data, err := os.ReadFile(p)
		if err == nil {
			s.io.requests.Add(1)
			s.io.bytes.Add(int64(len(data)))
		}
		return data, err
	}
	rel, err := s.rel(p)
	if err != nil {
		return nil, err
	}
	if !s.mayExist(rel) {
		return nil, fs.ErrNotExist
	}
	data, _, err := s.remote.Get(ctx, rel)
	if err == nil {
		s.io.requests.Add(1)
		s.io.bytes.Add(int64(len(data)))
	}
	return data, err
}

// putObject writes what write writes as the object rel, which must not
// exist yet (a batch's files have names of their own).
func (s *Store) putObject(ctx context.Context, rel string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	if _, err := s.remote.Put(ctx, rel, buf.Bytes(), PutCondition{IfAbsent: true}); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	s.listed(rel, int64(buf.Len()))
	return nil
}

// --- an object store's listings ---

// listing is one folder's objects, as listed.
type listing struct {
	names map[string]int64 // name → size (-1: not known)
}

// dirListing returns the objects below dir (a folder name ending in "/"),
// listing it the first time only.
func (s *Store) dirListing(ctx context.Context, dir string) (*listing, error) {
	s.listMu.Lock()
	l, ok := s.lists[dir]
	s.listMu.Unlock()
	if ok {
		return l, nil
	}
	l = &listing{names: map[string]int64{}}
	err := s.remote.List(ctx, dir, "", "", func(e Entry) error {
		l.names[e.Name] = e.Size
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", s.Root, dir, err)
	}
	s.listMu.Lock()
	if s.lists == nil {
		s.lists = map[string]*listing{}
	}
	s.lists[dir] = l
	s.listMu.Unlock()
	return l, nil
}

// accountDir is the listing folder of a file: "<table>/account=<a>/".
func accountDir(rel string) string {
	parts := strings.SplitN(rel, "/", 3)
	if len(parts) < 3 {
		return ""
	}
	return parts[0] + "/" + parts[1] + "/"
}

// listedSize is the size of rel from the listing of its folder, -1 when
// the folder was not listed.
func (s *Store) listedSize(rel string) int64 {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	if l, ok := s.lists[accountDir(rel)]; ok {
		if n, ok := l.names[rel]; ok {
			return n
		}
	}
	return -1
}

// mayExist is false when rel's folder was listed without it.
func (s *Store) mayExist(rel string) bool {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	if l, ok := s.lists[accountDir(rel)]; ok {
		_, ok := l.names[rel]
		return ok
	}
	return true
}

// listed adds an object this store wrote to its folder's listing.
func (s *Store) listed(rel string, size int64) {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	if l, ok := s.lists[accountDir(rel)]; ok {
		l.names[rel] = size
	}
}

// forgetListings drops the listings, after files were removed.
func (s *Store) forgetListings() {
	s.listMu.Lock()
	s.lists = nil
	s.listMu.Unlock()
}

// remoteAccounts lists the account folders of a table.
func (s *Store) remoteAccounts(ctx context.Context, table string) ([]string, error) {
	var out []string
	err := s.remote.List(ctx, table+"/", "", "/", func(e Entry) error {
		if a, ok := strings.CutPrefix(strings.TrimSuffix(path.Base(strings.TrimSuffix(e.Name, "/")), "/"), "account="); ok && e.Dir {
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s/%s/: %w", s.Root, table, err)
	}
	return out, nil
}

// remoteFiles lists the Parquet files of an object store's table, account
// by account (each account's folder once per store: a year of one account
// is a page or two of a listing).
func (s *Store) remoteFiles(ctx context.Context, table string, accounts []string, fromDay, toDay string) ([]string, error) {
	if len(accounts) == 0 {
		var err error
		if accounts, err = s.remoteAccounts(ctx, table); err != nil {
			return nil, err
		}
	}
	var (
		mu  sync.Mutex
		out []string
	)
	for _, a := range accounts {
		l, err := s.dirListing(ctx, table+"/account="+a+"/")
		if err != nil {
			return nil, err
		}
		mu.Lock()
		for name := range l.names {
			if !strings.HasSuffix(name, ".parquet") {
				continue
			}
			p, ok := partitionOfRel(name)
			if !ok || (fromDay != "" && p.Date < fromDay) || (toDay != "" && p.Date > toDay) {
				continue
			}
			out = append(out, name)
		}
		mu.Unlock()
	}
	return out, nil
}

// errNotExist tells a missing file from other errors.
func errNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
