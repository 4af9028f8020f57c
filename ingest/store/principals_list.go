package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
)

// IndexedPrincipals returns the distinct principal ARNs of the files q
// selects (accounts and date partitions; not q.Principals), sorted, from
// the files' principal indexes alone: a few KiB of text per file, where
// PrincipalARNs opens every Parquet file and reads its principal_arn
// chunks. A file without an index is read as PrincipalARNs reads it.
// Unlike PrincipalARNs it does not prune row groups by time: a file that
// straddles the window gives all its principals. files is how many files'
// principals were read.
func IndexedPrincipals(ctx context.Context, s *Store, q Query) (principals []string, files int, err error) {
	paths, err := s.Files(q.Accounts, q.From, q.To)
	if err != nil {
		return nil, 0, err
	}
	set := map[string]struct{}{}
	for _, path := range paths {
		if err := ctx.Err(); err != nil {
			return nil, files, err
		}
		files++
		data, err := s.readSmall(ctx, indexPath(path))
		if errors.Is(err, fs.ErrNotExist) {
			if err := principalsOfFile(ctx, s, path, q, set); err != nil {
				return nil, files, fmt.Errorf("read %s: %w", path, err)
			}
			continue
		}
		if err != nil {
			return nil, files, err
		}
		if err := indexedNames(data, set); err != nil {
			return nil, files, fmt.Errorf("%s: %w", indexPath(path), err)
		}
	}
	principals = make([]string, 0, len(set))
	for p := range set {
		principals = append(principals, p)
	}
	slices.Sort(principals)
	return principals, files, nil
}

// indexedNames adds the principals a principal index lists to set.
func indexedNames(data []byte, set map[string]struct{}) error {
	rest, ok := bytes.CutPrefix(data, []byte(indexHeader))
	if !ok {
		return fmt.Errorf("not a principal index")
	}
	var last []byte
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		tab := bytes.IndexByte(line, '\t')
		if tab < 0 {
			return fmt.Errorf("bad line")
		}
		q := line[:tab]
		if bytes.Equal(q, last) {
			continue // the same principal in the next row group
		}
		last = q
		p, err := strconv.Unquote(string(q))
		if err != nil {
			return fmt.Errorf("bad principal %s: %w", q, err)
		}
		set[p] = struct{}{}
	}
	return nil
}
