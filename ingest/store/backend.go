package store

import (
	"context"
	"errors"
	"io"
	"time"
)

// Backend is where a store's files live when they are not in a local
// folder: an object store such as S3 (package s3store). The store keeps the
// same layout there (events/, rollup/, _state/) and reaches it through
// these few calls, so that the SDK stays out of this package. Names are
// slash-separated and relative to the store's root.
//
// An object store has no rename and no append: a file is written whole
// under its final name (a batch's files are named after the batch, so no
// two writers ever write the same name, and they stay invisible to readers
// until the batch is committed), and the commit log is a sequence of
// objects each created only if absent (Put with IfAbsent), which is what
// makes commits exactly-once with several writers at once.
type Backend interface {
	// Open opens the object name for reads at any offset. size is its
	// length when the caller knows it (from a listing), else -1.
	Open(ctx context.Context, name string, size int64) (RemoteFile, error)
	// Get reads a whole object and returns its ETag. A missing object is
	// an error that errors.Is(err, fs.ErrNotExist).
	Get(ctx context.Context, name string) ([]byte, string, error)
	// List calls fn for the objects whose names start with prefix and
	// sort after startAfter, in name order. With delim "/", the folders
	// directly below prefix come as entries with Dir set instead of the
	// objects in them. fn returning ErrStopList ends the listing early.
	List(ctx context.Context, prefix, startAfter, delim string, fn func(Entry) error) error
	// Put writes data as the object name and returns its ETag. With
	// cond.IfAbsent it fails if the object exists; with cond.IfMatch only
	// if the object's ETag is that one. A condition that does not hold is
	// an error that errors.Is(err, ErrPrecondition).
	Put(ctx context.Context, name string, data []byte, cond PutCondition) (string, error)
	// Delete removes the object; a missing one is not an error.
	Delete(ctx context.Context, name string) error
	// URI names the store's root (s3://bucket/prefix) for messages.
	URI() string
}

// RemoteFile is an object open for reading at any offset. ReadAt fetches
// what it does not hold yet; Prefetch fetches ranges ahead of the reads
// that will need them (a reader that knows, from the footer and the page
// index, which bytes it will read asks for them in as few requests as
// they allow).
type RemoteFile interface {
	io.ReaderAt
	Size() int64
	Prefetch(ranges []ByteRange) error
	// Stats says how many requests the file made so far, and how many
	// bytes they returned.
	Stats() (requests, bytes int64)
	Close() error
}

// ByteRange is the bytes [Off, Off+Len) of a file.
type ByteRange struct{ Off, Len int64 }

// Entry is one listed object, or folder (Dir).
type Entry struct {
	Name    string
	Size    int64
	ModTime time.Time
	Dir     bool
}

// PutCondition makes a Put conditional.
type PutCondition struct {
	// IfAbsent: only if no object has the name (If-None-Match: *).
	IfAbsent bool
	// IfMatch: only if the object's ETag is this one (If-Match).
	IfMatch string
}

var (
	// ErrPrecondition is wrapped by a conditional Put that did not hold:
	// another writer got there first.
	ErrPrecondition = errors.New("precondition failed")
	// ErrStopList ends a List early without an error.
	ErrStopList = errors.New("stop listing")
)
