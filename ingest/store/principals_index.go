package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// Each data file has a principal index beside it, written and committed
// with it: part-<batch>-<n>.principals lists, for every principal in the
// file, the row group and the rows it occupies (rows are sorted by
// principal, so each principal is one run per row group). A reader that
// wants a few principals reads these small files first, skips every data
// file that does not hold them without opening it, and seeks straight to
// their rows in the others. Files without an index (written before it
// existed) are read through their statistics as before.
//
// Format: a header line, then one line per (principal, row group), sorted:
//
//	iamlens-principals v1
//	"<principal ARN, Go-quoted>"\t<row group>\t<first row>\t<rows>
const (
	indexSuffix = ".principals"
	indexHeader = "iamlens-principals v1\n"
)

// indexPath is the principal index of a data file.
func indexPath(parquetPath string) string {
	return strings.TrimSuffix(parquetPath, ".parquet") + indexSuffix
}

// writeIndex writes the principal index of rows (sorted by principal) laid
// out in row groups of rg rows.
func writeIndex(w io.Writer, rows Rows, rg int64) error {
	if _, err := io.WriteString(w, indexHeader); err != nil {
		return err
	}
	var line []byte
	for a, n := 0, rows.Len(); a < n; {
		arn := rows.PrincipalARN(a)
		b := a + 1
		for b < n && rows.PrincipalARN(b) == arn {
			b++
		}
		if arn != "" {
			for lo := int64(a); lo < int64(b); {
				g := lo / rg
				hi := min(int64(b), (g+1)*rg)
				line = strconv.AppendQuote(line[:0], arn)
				line = append(line, '\t')
				line = strconv.AppendInt(line, g, 10)
				line = append(line, '\t')
				line = strconv.AppendInt(line, lo-g*rg, 10)
				line = append(line, '\t')
				line = strconv.AppendInt(line, hi-lo, 10)
				line = append(line, '\n')
				if _, err := w.Write(line); err != nil {
					return err
				}
				lo = hi
			}
		}
		a = b
	}
	return nil
}

// rowSpan is the rows [lo, hi) of one row group.
type rowSpan struct{ lo, hi int64 }

// readIndex returns, by row group, the span of rows that holds the given
// principals in the data file at parquetPath: empty when the file has none
// of them. ok is false when the file has no index.
func (s *Store) readIndex(ctx context.Context, parquetPath string, principals []string) (spans map[int]rowSpan, ok bool, err error) {
	data, err := s.readSmall(ctx, indexPath(parquetPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	spans, err = parseIndex(data, principals)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", indexPath(parquetPath), err)
	}
	return spans, true, nil
}

// parseIndex reads a principal index (principals_index.go's format) and
// returns, by row group, the span of rows that holds the principals.
func parseIndex(data []byte, principals []string) (map[int]rowSpan, error) {
	if !bytes.HasPrefix(data, []byte(indexHeader)) {
		return nil, fmt.Errorf("not a principal index")
	}
	spans := map[int]rowSpan{}
	var key []byte
	for _, p := range principals {
		key = append(strconv.AppendQuote(append(key[:0], '\n'), p), '\t')
		rest := data[len(indexHeader)-1:] // from the header's newline
		for {
			i := bytes.Index(rest, key)
			if i < 0 {
				break
			}
			rest = rest[i+len(key):]
			end := bytes.IndexByte(rest, '\n')
			if end < 0 {
				return nil, fmt.Errorf("principal index: truncated line")
			}
			f := strings.Split(string(rest[:end]), "\t")
			if len(f) != 3 {
				return nil, fmt.Errorf("principal index: bad line")
			}
			g, err1 := strconv.Atoi(f[0])
			lo, err2 := strconv.ParseInt(f[1], 10, 64)
			n, err3 := strconv.ParseInt(f[2], 10, 64)
			if err := errors.Join(err1, err2, err3); err != nil {
				return nil, fmt.Errorf("principal index: %w", err)
			}
			s, seen := spans[g]
			if !seen {
				s = rowSpan{lo: lo, hi: lo + n}
			}
			s.lo, s.hi = min(s.lo, lo), max(s.hi, lo+n)
			spans[g] = s
			rest = rest[end:] // keep the newline: the next key starts with it
		}
	}
	return spans, nil
}
