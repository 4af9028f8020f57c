// Package s3store keeps an iamlens store on S3 (or an S3-compatible
// server): it is the store.Backend that package store reaches S3 through,
// so that the SDK stays out of the store itself.
//
// What it relies on of S3: conditional writes (If-None-Match: * to create
// an object only if absent, If-Match to replace only the version read:
// the store's commit log is built on them), ranged GETs (a file is read
// by its tail, then by the ranges the reader asks for, never whole), and
// strongly consistent listings. Every request is counted (Stats).
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/ingest/store"
)

// API is the part of the S3 client the backend uses; *s3.Client has it.
type API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Stats counts a backend's requests by kind, and the bytes GETs returned.
type Stats struct {
	Lists   int64 `json:"list"`
	Gets    int64 `json:"get"`
	Puts    int64 `json:"put"`
	Deletes int64 `json:"delete"`
	// BytesRead are the bytes of GET responses; BytesWritten of PUTs.
	BytesRead    int64 `json:"bytes_read"`
	BytesWritten int64 `json:"bytes_written"`
}

type counters struct{ lists, gets, puts, deletes, read, written atomic.Int64 }

// Backend is a store on s3://bucket/prefix.
type Backend struct {
	client API
	bucket string
	prefix string // "" or ending in "/"
	n      counters
	// TailBytes is how much of a file's end its first GET reads: the
	// footer, usually the page index, and the whole of a small file
	// (default 128 KiB).
	TailBytes int64
	// MinRead is the least a read that misses fetches (default 64 KiB).
	MinRead int64
	// Gap: ranges asked for together that lie within Gap bytes of each
	// other are fetched by one GET (default 64 KiB).
	Gap int64
}

// New returns the backend of the store at s3://bucket/prefix.
func New(client API, bucket, prefix string) *Backend {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Backend{client: client, bucket: bucket, prefix: prefix, TailBytes: 128 << 10, MinRead: 64 << 10, Gap: 64 << 10}
}

// URI names the store.
func (b *Backend) URI() string { return "s3://" + b.bucket + "/" + b.prefix }

// Stats returns the requests made so far.
func (b *Backend) Stats() Stats {
	return Stats{Lists: b.n.lists.Load(), Gets: b.n.gets.Load(), Puts: b.n.puts.Load(), Deletes: b.n.deletes.Load(),
		BytesRead: b.n.read.Load(), BytesWritten: b.n.written.Load()}
}

func (b *Backend) key(name string) *string { return aws.String(b.prefix + name) }

// Get reads a whole object.
func (b *Backend) Get(ctx context.Context, name string) ([]byte, string, error) {
	b.n.gets.Add(1)
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: b.key(name)})
	if err != nil {
		return nil, "", b.wrap("get", name, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	b.n.read.Add(int64(len(data)))
	if err != nil {
		return nil, "", fmt.Errorf("s3 get %s: %w", b.URI()+name, err)
	}
	return data, aws.ToString(out.ETag), nil
}

// Put writes an object, conditionally.
func (b *Backend) Put(ctx context.Context, name string, data []byte, cond store.PutCondition) (string, error) {
	in := &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: b.key(name), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data)))}
	if cond.IfAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	if cond.IfMatch != "" {
		in.IfMatch = aws.String(cond.IfMatch)
	}
	b.n.puts.Add(1)
	out, err := b.client.PutObject(ctx, in)
	if err != nil {
		return "", b.wrap("put", name, err)
	}
	b.n.written.Add(int64(len(data)))
	return aws.ToString(out.ETag), nil
}

// Delete removes an object (a missing one is not an error).
func (b *Backend) Delete(ctx context.Context, name string) error {
	b.n.deletes.Add(1)
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: b.key(name)})
	if err != nil && !errors.Is(b.wrap("delete", name, err), fs.ErrNotExist) {
		return b.wrap("delete", name, err)
	}
	return nil
}

// List lists objects (or, with delim, folders and objects) below prefix
// after startAfter, page by page (1,000 keys a request).
func (b *Backend) List(ctx context.Context, prefix, startAfter, delim string, fn func(store.Entry) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket), Prefix: b.key(prefix)}
	if startAfter != "" {
		in.StartAfter = b.key(startAfter)
	}
	if delim != "" {
		in.Delimiter = aws.String(delim)
	}
	p := s3.NewListObjectsV2Paginator(b.client, in)
	for p.HasMorePages() {
		b.n.lists.Add(1)
		page, err := p.NextPage(ctx)
		if err != nil {
			return b.wrap("list", prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			if err := fn(store.Entry{Name: strings.TrimPrefix(aws.ToString(cp.Prefix), b.prefix), Dir: true}); err != nil {
				return stop(err)
			}
		}
		for _, o := range page.Contents {
			e := store.Entry{Name: strings.TrimPrefix(aws.ToString(o.Key), b.prefix), Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)}
			if err := fn(e); err != nil {
				return stop(err)
			}
		}
	}
	return nil
}

func stop(err error) error {
	if errors.Is(err, store.ErrStopList) {
		return nil
	}
	return err
}

// wrap turns S3's answers into the errors package store knows: a missing
// object is fs.ErrNotExist, a condition that did not hold (412, or 409
// when another conditional write to the key was in flight) is
// store.ErrPrecondition.
func (b *Backend) wrap(op, name string, err error) error {
	var nsk *types.NoSuchKey
	var ae smithy.APIError
	var re *awshttp.ResponseError
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case errors.As(err, &nsk), status == http.StatusNotFound && !isNoSuchBucket(err):
		return fmt.Errorf("s3 %s %s: %w (%w)", op, b.URI()+name, fs.ErrNotExist, err)
	case status == http.StatusPreconditionFailed, status == http.StatusConflict,
		errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict"):
		return fmt.Errorf("s3 %s %s: %w (%w)", op, b.URI()+name, store.ErrPrecondition, err)
	}
	return fmt.Errorf("s3 %s %s: %w", op, b.URI()+name, err)
}

func isNoSuchBucket(err error) bool {
	var nb *types.NoSuchBucket
	var ae smithy.APIError
	return errors.As(err, &nb) || errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket"
}

// Open opens an object for reading by ranges. Its first GET reads the
// object's tail (TailBytes), which also tells its size.
func (b *Backend) Open(ctx context.Context, name string, size int64) (store.RemoteFile, error) {
	f := &file{b: b, ctx: ctx, name: name, size: size}
	rng := fmt.Sprintf("bytes=-%d", b.TailBytes)
	if size >= 0 && size <= b.TailBytes {
		rng = ""
	}
	data, total, err := f.get(rng)
	if err != nil {
		return nil, err
	}
	f.size = total
	f.insert(total-int64(len(data)), data)
	return f, nil
}

// file is an object open for reading: the ranges fetched so far, kept
// until it is closed (a store file is read once, by one reader).
type file struct {
	b        *Backend
	ctx      context.Context
	name     string
	size     int64
	mu       sync.Mutex
	blocks   []block // sorted by off, not overlapping
	requests atomic.Int64
	bytes    atomic.Int64
}

type block struct {
	off  int64
	data []byte
}

func (f *file) Size() int64 { return f.size }

func (f *file) Stats() (int64, int64) { return f.requests.Load(), f.bytes.Load() }

func (f *file) Close() error {
	f.mu.Lock()
	f.blocks = nil
	f.mu.Unlock()
	return nil
}

// get fetches a range ("" for the whole object) and returns it with the
// object's size.
func (f *file) get(rng string) ([]byte, int64, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(f.b.bucket), Key: f.b.key(f.name)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	f.b.n.gets.Add(1)
	f.requests.Add(1)
	out, err := f.b.client.GetObject(f.ctx, in)
	if err != nil {
		return nil, 0, f.b.wrap("get", f.name, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	f.b.n.read.Add(int64(len(data)))
	f.bytes.Add(int64(len(data)))
	if err != nil {
		return nil, 0, fmt.Errorf("s3 get %s: %w", f.b.URI()+f.name, err)
	}
	total := int64(len(data))
	if cr := aws.ToString(out.ContentRange); cr != "" {
		// bytes first-last/total
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				total = n
			}
		}
	}
	return data, total, nil
}

// fetch reads [off, off+n) and keeps it.
func (f *file) fetch(off, n int64) error {
	data, _, err := f.get(fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	if err != nil {
		return err
	}
	if int64(len(data)) != n {
		return fmt.Errorf("s3 get %s: %d bytes at %d, want %d", f.b.URI()+f.name, len(data), off, n)
	}
	f.mu.Lock()
	f.insert(off, data)
	f.mu.Unlock()
	return nil
}

// insert adds data at off, keeping the blocks sorted and without overlap
// (what is already held wins).
func (f *file) insert(off int64, data []byte) {
	for _, g := range f.missing(off, int64(len(data))) {
		nb := block{off: g.Off, data: data[g.Off-off : g.Off-off+g.Len]}
		i := 0
		for i < len(f.blocks) && f.blocks[i].off < nb.off {
			i++
		}
		f.blocks = append(f.blocks, block{})
		copy(f.blocks[i+1:], f.blocks[i:])
		f.blocks[i] = nb
	}
}

// missing returns the parts of [off, off+n) that no block holds.
func (f *file) missing(off, n int64) []store.ByteRange {
	var out []store.ByteRange
	pos, end := off, off+n
	for _, bl := range f.blocks {
		bEnd := bl.off + int64(len(bl.data))
		if bEnd <= pos {
			continue
		}
		if bl.off >= end {
			break
		}
		if bl.off > pos {
			out = append(out, store.ByteRange{Off: pos, Len: bl.off - pos})
		}
		pos = max(pos, bEnd)
		if pos >= end {
			return out
		}
	}
	if pos < end {
		out = append(out, store.ByteRange{Off: pos, Len: end - pos})
	}
	return out
}

// ReadAt reads from the blocks held, fetching what they miss (at least
// MinRead bytes a request, up to the next block held).
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), f.size-off)
	f.mu.Lock()
	gaps := f.missing(off, want)
	f.mu.Unlock()
	for _, g := range gaps {
		n := max(g.Len, f.b.MinRead)
		n = min(n, f.size-g.Off)
		f.mu.Lock()
		// Up to the next block held, not into it.
		for _, bl := range f.blocks {
			if bl.off > g.Off {
				n = min(n, max(g.Len, bl.off-g.Off))
				break
			}
		}
		f.mu.Unlock()
		if err := f.fetch(g.Off, n); err != nil {
			return 0, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	copied := int64(0)
	for _, bl := range f.blocks {
		bEnd := bl.off + int64(len(bl.data))
		pos := off + copied
		if bEnd <= pos || bl.off > pos {
			continue
		}
		copied += int64(copy(p[copied:want], bl.data[pos-bl.off:]))
		if copied == want {
			break
		}
	}
	if copied < int64(len(p)) {
		return int(copied), io.EOF
	}
	return int(copied), nil
}

// Prefetch fetches the parts of ranges not held yet, those within Gap of
// each other by one request, several requests at once.
func (f *file) Prefetch(ranges []store.ByteRange) error {
	f.mu.Lock()
	var need []store.ByteRange
	for _, r := range ranges {
		end := min(r.Off+r.Len, f.size)
		if r.Off < end {
			need = append(need, f.missing(r.Off, end-r.Off)...)
		}
	}
	f.mu.Unlock()
	need = store.Coalesce(need, f.b.Gap)
	if len(need) == 0 {
		return nil
	}
	g := new(errgroup.Group)
	g.SetLimit(8)
	for _, r := range need {
		g.Go(func() error {
			f.mu.Lock()
			gaps := f.missing(r.Off, r.Len) // another fetch may have got some
			f.mu.Unlock()
			if len(gaps) == 0 {
				return nil
			}
			lo, hi := gaps[0].Off, gaps[len(gaps)-1].Off+gaps[len(gaps)-1].Len
			return f.fetch(lo, hi-lo)
		})
	}
	return g.Wait()
}
