// Package cloudtrail knows the CloudTrail log-file format and nothing else:
// which objects are log files, how to read one (gzip or plain, size-capped),
// how to walk its Records array without building maps, and how to name the
// principal behind a userIdentity block. It knows nothing of S3, Arrow or
// Parquet.
package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strings"
	"unsafe"

	"github.com/iamlens/iamlens/ingest/gunzip"
	"github.com/tidwall/gjson"
)

// DefaultMaxFileBytes caps the decompressed size of one log file. CloudTrail
// delivers files far below this (a few MB at most); anything larger is a
// hostile or foreign object and is rejected rather than read into memory.
const DefaultMaxFileBytes = 256 << 20

// Sentinel errors for bad files. Callers count them by kind; each is wrapped
// with the detail of what went wrong.
var (
	// ErrTooLarge means the decompressed file exceeds the size cap.
	ErrTooLarge = errors.New("file exceeds the size cap")
	// ErrCorrupt means the bytes are not valid gzip, or the gzip stream is truncated.
	ErrCorrupt = errors.New("corrupt or truncated gzip")
	// ErrInvalidJSON means the file is not valid JSON.
	ErrInvalidJSON = errors.New("invalid JSON")
	// ErrNotLog means the JSON is valid but has no top-level Records array.
	ErrNotLog = errors.New("no Records array: not a CloudTrail log file")
)

// Kind classifies an object key before it is read.
type Kind int

const (
	// KindLog is a CloudTrail log file (gzip or plain JSON).
	KindLog Kind = iota
	// KindDigest is a CloudTrail-Digest file (log-file integrity validation).
	KindDigest
	// KindInsight is a CloudTrail-Insight file.
	KindInsight
	// KindOther is any other object (stray files, folders, manifests).
	KindOther
)

// String names the kind for summaries.
func (k Kind) String() string {
	switch k {
	case KindLog:
		return "log"
	case KindDigest:
		return "digest file"
	case KindInsight:
		return "insight file"
	default:
		return "not a log file"
	}
}

// Classify tells from a key alone whether an object is a CloudTrail log
// file. Digest and Insight files are recognised by the folder CloudTrail
// writes them to and by their names; anything not ending in .json.gz or
// .json is KindOther.
func Classify(key string) Kind {
	base := path.Base(key)
	switch {
	case strings.Contains(key, "/CloudTrail-Digest/") || strings.Contains(base, "_CloudTrail-Digest_"):
		return KindDigest
	case strings.Contains(key, "/CloudTrail-Insight/") || strings.Contains(base, "_CloudTrail-Insight_"):
		return KindInsight
	case strings.HasSuffix(base, ".json.gz"), strings.HasSuffix(base, ".json"):
		return KindLog
	default:
		return KindOther
	}
}

// Reader reads log files into reusable buffers. One Reader belongs to one
// goroutine; the bytes returned by Read and Decode are valid until its next
// call.
//
// An object is read whole and then decompressed whole (package gunzip):
// CloudTrail's files are small, and decoding from one slice into another
// runs about 1.6 times as fast as a streaming gzip reader.
type Reader struct {
	// MaxBytes caps the decompressed size; zero means DefaultMaxFileBytes.
	// No file is read past 2 GiB, whatever it says.
	MaxBytes int64

	raw []byte
	gz  gunzip.Decoder
}

// fileLimit is the decompressed size cap that maxBytes (0: the default)
// sets. Spans are 32-bit, so it is never above 2 GiB.
func fileLimit(maxBytes int64) int64 {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFileBytes
	}
	return min(maxBytes, math.MaxInt32)
}

// rawLimit is the largest stored object that can hold a file of at most
// limit bytes: deflate's stored blocks add 5 bytes per 64 KiB.
func rawLimit(limit int64) int64 { return limit + limit>>10 + 1<<16 }

// Read reads one whole object and decodes it (Decode). Gzip is detected
// from the magic bytes, not the key, so a mislabelled file still reads. The
// returned slice aliases the Reader's buffers.
func (r *Reader) Read(src io.Reader) ([]byte, error) {
	if cap(r.raw) > gunzip.KeepBytes {
		r.raw = nil // a huge file's buffer is not kept for the small ones after it
	}
	raw, err := ReadRaw(src, r.MaxBytes, r.raw, 0)
	if err != nil {
		return nil, err
	}
	r.raw = raw
	return r.Decode(raw)
}

// ReadRaw reads one whole object as it is stored, into buf's memory when
// it is large enough (sizeHint, when known, sizes a new buffer once). It
// stops with ErrTooLarge past what a file of maxBytes (0: the default)
// decompressed can take, so a huge object is not read whole.
func ReadRaw(src io.Reader, maxBytes int64, buf []byte, sizeHint int64) ([]byte, error) {
	limit := rawLimit(fileLimit(maxBytes))
	b := bytes.NewBuffer(buf[:0])
	if sizeHint > 0 {
		b.Grow(int(min(sizeHint, limit)) + bytes.MinRead)
	}
	n, err := b.ReadFrom(io.LimitReader(src, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, tooLarge(fileLimit(maxBytes))
	}
	return b.Bytes(), nil
}

// Decode turns an object's stored bytes (ReadRaw) into its JSON:
// decompressed when they are gzip, as they are otherwise, at most MaxBytes
// either way. Gzip output aliases the Reader's buffer; plain JSON is raw
// itself.
func (r *Reader) Decode(raw []byte) ([]byte, error) {
	limit := fileLimit(r.MaxBytes)
	if !gunzip.IsGzip(raw) {
		if int64(len(raw)) > limit {
			return nil, tooLarge(limit)
		}
		return raw, nil
	}
	if int64(len(raw)) > rawLimit(limit) {
		return nil, tooLarge(limit)
	}
	data, err := r.gz.Decode(raw, int(limit))
	switch {
	case errors.Is(err, gunzip.ErrTooLarge):
		return nil, tooLarge(limit)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return data, nil
}

func tooLarge(limit int64) error { return fmt.Errorf("%w of %d bytes", ErrTooLarge, limit) }

// Records validates data as JSON and calls fn for each element of its
// top-level Records array, in order, stopping early if fn returns false.
// It returns the number of elements visited.
//
// The gjson.Result values alias data (no copy is made); anything that must
// outlive data has to be copied, which Arrow builders do on append.
func Records(data []byte, fn func(rec gjson.Result) bool) (int, error) {
	if !gjson.ValidBytes(data) {
		return 0, ErrInvalidJSON
	}
	s := unsafe.String(unsafe.SliceData(data), len(data))
	recs := gjson.Get(s, "Records")
	if !recs.IsArray() {
		return 0, ErrNotLog
	}
	n := 0
	recs.ForEach(func(_, rec gjson.Result) bool {
		n++
		return fn(rec)
	})
	return n, nil
}
