package source

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dir reads log files from a local folder (or a single file).
type Dir struct {
	root   string // OS path of the folder
	single string // set when the input is one file
	// Skipped records folders passed over by name during the last Walk.
	Skipped Skipped
}

// NewDir returns a source over path, which may be a folder or a single file.
func NewDir(path string) (*Dir, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return &Dir{root: filepath.Dir(path), single: filepath.Base(path)}, nil
	}
	return &Dir{root: path}, nil
}

// String names the source for messages.
func (d *Dir) String() string {
	if d.single != "" {
		return filepath.Join(d.root, d.single)
	}
	return d.root
}

// Walk calls fn for each file the filter selects, in key order.
func (d *Dir) Walk(ctx context.Context, f Filter, fn func(Object) error) error {
	d.Skipped = Skipped{}
	if d.single != "" {
		st, err := os.Stat(filepath.Join(d.root, d.single))
		if err != nil {
			return err
		}
		o := fileObject(d.single, st)
		o.Account, o.Region, o.OrgID, _ = ParseKey(o.Key)
		o.Named = true
		return fn(o)
	}
	return discover(ctx, dirLister{root: d.root}, "", f, &d.Skipped, fn)
}

// Open opens the file with the given key.
func (d *Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(d.root, filepath.FromSlash(key)))
}

type dirLister struct{ root string }

func (l dirLister) dirs(ctx context.Context, prefix string) ([]string, []Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ents, err := os.ReadDir(filepath.Join(l.root, filepath.FromSlash(prefix)))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var out []string
	var files []Object
	for _, e := range ents {
		switch {
		case e.IsDir():
			out = append(out, prefix+e.Name()+"/")
		case e.Type().IsRegular():
			st, err := e.Info()
			if err != nil {
				return nil, nil, err
			}
			files = append(files, fileObject(prefix+e.Name(), st))
		}
	}
	sort.Strings(out)
	return out, files, nil
}

func (l dirLister) objects(ctx context.Context, prefix, startAfter string, fn func(Object) error) error {
	start := filepath.Join(l.root, filepath.FromSlash(prefix))
	if _, err := os.Stat(start); os.IsNotExist(err) {
		return nil
	}
	// WalkDir visits in lexical order, so keys come out sorted.
	return filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("list %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		if !e.Type().IsRegular() {
			return nil // symlinks, sockets: not ours to follow
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		st, err := e.Info()
		if err != nil {
			return err
		}
		o := fileObject(filepath.ToSlash(rel), st)
		if startAfter != "" && o.Key <= startAfter {
			return nil
		}
		return fn(o)
	})
}

func fileObject(key string, st fs.FileInfo) Object {
	key = strings.TrimPrefix(key, "./")
	return Object{
		Key:  key,
		Size: st.Size(),
		ETag: fmt.Sprintf("%x-%x", st.Size(), st.ModTime().UnixNano()),
	}
}

// URI names one file.
func (d *Dir) URI(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }
