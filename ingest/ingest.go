// Package ingest turns CloudTrail log objects into the Parquet dataset of
// package store. Run wires one bounded pipeline under an errgroup:
//
//	lister (1 goroutine): Source.Walk → skip non-logs and objects already done
//	   └─▶ objects ──chan(2W)──▶ W workers: Open → gunzip (size-capped) → gjson →
//	                               columns.Builder → one Arrow record per file
//	   └─▶ files ──chan(W)──▶ committer (1 goroutine): gather files into a batch of
//	        about BatchBytes of JSON; per partition drop duplicate eventIDs, sort by
//	        (principal_arn, event_time), write Parquet under a temporary name;
//	        rename into place; append the batch to the manifest (the commit point).
//
// Every goroutine returns when its input channel closes or the context is
// cancelled (first error, or SIGINT); a cancelled run leaves only
// uncommitted files, which the next run's store.Recover removes, so it
// resumes without duplicates or gaps.
//
// Memory budget: peak ≈ W × 2 × (largest decompressed file; the buffer plus
// its Arrow copy) + 3 × BatchBytes (the batch's records, their concatenation,
// one partition's sorted copy) + the Parquet writer's row-group buffers. With
// the defaults (W = cores, BatchBytes = 32 MiB) that is under 300 MiB
// whatever the size of the input.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/tidwall/gjson"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// Source is where log objects come from (source.Dir, source.S3).
type Source interface {
	// Walk calls fn for each object the filter selects.
	Walk(ctx context.Context, f source.Filter, fn func(source.Object) error) error
	// Open streams one object.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// URI names an object for messages and the source_object column.
	URI(key string) string
}

// ErrStrict is wrapped by Run's error when --strict turned a bad file or
// record into a failure.
var ErrStrict = errors.New("strict mode")

// Options tune a run. The zero value works.
type Options struct {
	Filter source.Filter
	// Workers decode files in parallel (default: the number of CPUs).
	Workers int
	// MaxFileBytes caps one decompressed file (default cloudtrail.DefaultMaxFileBytes).
	MaxFileBytes int64
	// BatchBytes of decompressed JSON are gathered before a commit (default 32 MiB).
	BatchBytes int64
	// Write tunes the Parquet files.
	Write store.WriteOptions
	// Strict fails the run on the first bad file or record.
	Strict bool
	// Retries of an object whose read failed in transit (default 3).
	Retries int
	// Progress, when set, is called from one goroutine after each file.
	Progress func(Progress)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Mem allocates Arrow memory (default the Go allocator).
	Mem memory.Allocator
}

// Progress is a running count, passed to Options.Progress.
type Progress struct {
	Objects  int64 // objects read
	Listed   int64 // objects listed so far
	Bytes    int64 // compressed bytes read
	Records  int64 // records decoded
	Elapsed  time.Duration
	Finished bool
}

// Problem is one bad object or record class, for the summary.
type Problem struct {
	Object string `json:"object"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// Stats is the summary of a run; `--format json` prints it as is.
type Stats struct {
	Source            string         `json:"source"`
	Store             string         `json:"store"`
	ObjectsListed     int64          `json:"objects_listed"`
	ObjectsRead       int64          `json:"objects_read"`
	ObjectsAlreadyIn  int64          `json:"objects_already_ingested"`
	BytesRead         int64          `json:"bytes_read"`
	BytesDecompressed int64          `json:"bytes_decompressed"`
	Records           int64          `json:"records"`
	RowsWritten       int64          `json:"rows_written"`
	Duplicates        int64          `json:"duplicates_dropped"`
	FilesWritten      int            `json:"files_written"`
	Batches           int            `json:"batches"`
	RecoveredOrphans  int            `json:"uncommitted_files_removed"`
	SkippedObjects    map[string]int `json:"skipped_objects"`
	RejectedRecords   map[string]int `json:"rejected_records"`
	Problems          []Problem      `json:"problems,omitempty"`
	ProblemsOmitted   int            `json:"problems_omitted,omitempty"`
	Seconds           float64        `json:"seconds"`
	RecordsPerSecond  float64        `json:"records_per_second"`
}

// maxProblems caps how many individual problems the summary lists; the
// counts by reason are always complete.
const maxProblems = 50

func (s *Stats) skip(reason string) { s.SkippedObjects[reason]++ }

func (s *Stats) problem(p Problem) {
	if len(s.Problems) < maxProblems {
		s.Problems = append(s.Problems, p)
	} else {
		s.ProblemsOmitted++
	}
}

// fileResult is one decoded object travelling from a worker to the committer.
type fileResult struct {
	obj      source.Object
	rec      arrow.Record // nil when the object was bad
	rows     []rowMeta
	parts    []store.Partition
	json     int64 // decompressed bytes
	records  int   // Records elements seen
	rejected map[string]int
	bad      *Problem // the object could not be read
	vanished bool
}

type rowMeta struct {
	part int32 // index into fileResult.parts
	key  [16]byte
}

// Run ingests everything src holds that the store has not seen.
func Run(ctx context.Context, src Source, st *store.Store, opts Options) (Stats, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 32 << 20
	}
	if opts.Retries <= 0 {
		opts.Retries = 3
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Mem == nil {
		opts.Mem = memory.NewGoAllocator()
	}
	stats := Stats{
		Store:           st.Root,
		SkippedObjects:  map[string]int{},
		RejectedRecords: map[string]int{},
	}
	if err := opts.Write.Validate(); err != nil {
		return stats, err
	}
	start := opts.Now()
	if err := st.LoadObjects(); err != nil {
		return stats, err
	}
	removed, err := st.Recover()
	stats.RecoveredOrphans = removed
	if err != nil {
		return stats, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	objs := make(chan source.Object, 2*opts.Workers)
	results := make(chan *fileResult, opts.Workers)
	var mu sync.Mutex // guards stats fields the lister touches

	// Lister: exits when the walk ends (closing objs) or ctx is cancelled.
	g.Go(func() error {
		defer close(objs)
		return src.Walk(ctx, opts.Filter, func(o source.Object) error {
			mu.Lock()
			stats.ObjectsListed++
			mu.Unlock()
			if k := cloudtrail.Classify(o.Key); k != cloudtrail.KindLog {
				mu.Lock()
				stats.skip(k.String())
				mu.Unlock()
				return nil
			}
			if st.Done(o.Key, o.ETag) {
				mu.Lock()
				stats.ObjectsAlreadyIn++
				mu.Unlock()
				return nil
			}
			select {
			case objs <- o:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})

	// Workers: each exits when objs closes or ctx is cancelled; the last
	// one out closes results.
	var wg sync.WaitGroup
	for i := 0; i < opts.Workers; i++ {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			w := newWorker(src, opts)
			defer w.b.Release()
			for o := range objs {
				res := w.process(ctx, o)
				select {
				case results <- res:
				case <-ctx.Done():
					if res.rec != nil {
						res.rec.Release()
					}
					return ctx.Err()
				}
			}
			return nil
		})
	}
	go func() { wg.Wait(); close(results) }()

	// Collector: gathers files into batches; exits when results closes
	// (after cutting the last batch) or on error, closing the batch channel.
	c := newCommitter(st, opts, &stats, &mu, start)
	g.Go(func() error {
		defer close(c.out)
		defer c.releaseAll()
		for res := range results {
			if err := c.add(ctx, res); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return c.cut(ctx)
	})
	// Writer: commits batches in order; exits when the batch channel closes
	// or on error, releasing any batch still queued.
	g.Go(func() error {
		for batch := range c.out {
			if err := c.write(ctx, batch); err != nil {
				for rest := range c.out {
					releaseBatch(rest)
				}
				return err
			}
		}
		return nil
	})

	err = g.Wait()
	// After an error, files decoded but never committed may still sit in the
	// channel; release their Arrow memory. The channel closes once every
	// worker has returned, which g.Wait guarantees is about to happen.
	for res := range results {
		if res.rec != nil {
			res.rec.Release()
		}
	}
	stats.Source = fmt.Sprint(src)
	elapsed := opts.Now().Sub(start)
	stats.Seconds = elapsed.Seconds()
	if stats.Seconds > 0 {
		stats.RecordsPerSecond = float64(stats.Records) / stats.Seconds
	}
	if opts.Progress != nil {
		opts.Progress(Progress{Objects: stats.ObjectsRead, Listed: stats.ObjectsListed, Bytes: stats.BytesRead, Records: stats.Records, Elapsed: elapsed, Finished: true})
	}
	return stats, err
}

type worker struct {
	src  Source
	opts Options
	rd   cloudtrail.Reader
	b    *columns.Builder
}

func newWorker(src Source, opts Options) *worker {
	return &worker{src: src, opts: opts, rd: cloudtrail.Reader{MaxBytes: opts.MaxFileBytes}, b: columns.NewBuilder(opts.Mem)}
}

// transportReader remembers an error from the underlying stream, so a
// connection dropped mid-body (retryable) is told apart from a file that is
// itself truncated (not retryable).
type transportReader struct {
	r   io.Reader
	err error
}

func (t *transportReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

func (w *worker) process(ctx context.Context, o source.Object) *fileResult {
	res := &fileResult{obj: o}
	uri := w.src.URI(o.Key)
	var data []byte
	var err error
	for attempt := 0; ; attempt++ {
		data, err = w.read(ctx, o.Key)
		if err == nil || ctx.Err() != nil || !retryable(err) || attempt+1 >= w.opts.Retries {
			break
		}
		select {
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		case <-ctx.Done():
		}
	}
	if err != nil {
		if isNotFound(err) {
			res.vanished = true
			res.bad = &Problem{Object: uri, Reason: "deleted after listing", Detail: err.Error()}
			return res
		}
		res.bad = &Problem{Object: uri, Reason: reasonOf(err), Detail: err.Error()}
		return res
	}
	res.json = int64(len(data))
	rej := map[string]int{}
	res.records, err = cloudtrail.Records(data, func(rec gjson.Result) bool {
		row, aerr := w.b.Append(rec, uri)
		if aerr != nil {
			rej[aerr.Error()]++
			return true
		}
		p := store.PartitionOf(row.Account, row.EventTime)
		idx := -1
		for i := range res.parts {
			if res.parts[i] == p {
				idx = i
				break
			}
		}
		if idx < 0 {
			idx = len(res.parts)
			p.Account = strings.Clone(p.Account) // row.Account aliases the read buffer
			res.parts = append(res.parts, p)
		}
		res.rows = append(res.rows, rowMeta{part: int32(idx), key: store.IDKey(row.EventID)})
		return true
	})
	res.rec = w.b.NewRecord()
	if err != nil {
		res.rec.Release()
		res.rec = nil
		res.rows = nil
		res.bad = &Problem{Object: uri, Reason: reasonOf(err), Detail: err.Error()}
		return res
	}
	res.rejected = rej
	return res
}

func (w *worker) read(ctx context.Context, key string) ([]byte, error) {
	rc, err := w.src.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := &transportReader{r: rc}
	data, err := w.rd.Read(tr)
	if tr.err != nil {
		return nil, &transportError{err: tr.err}
	}
	return data, err
}

type transportError struct{ err error }

func (e *transportError) Error() string { return "read interrupted: " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func retryable(err error) bool {
	var te *transportError
	return errors.As(err, &te)
}

// NotFound is implemented by source errors for objects that do not exist.
type notFound interface{ NotFound() bool }

func isNotFound(err error) bool {
	var nf notFound
	if errors.As(err, &nf) {
		return nf.NotFound()
	}
	return errors.Is(err, fs.ErrNotExist)
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, cloudtrail.ErrCorrupt):
		return "corrupt or truncated gzip"
	case errors.Is(err, cloudtrail.ErrInvalidJSON):
		return "invalid JSON"
	case errors.Is(err, cloudtrail.ErrNotLog):
		return "not a CloudTrail log file"
	case errors.Is(err, cloudtrail.ErrTooLarge):
		return "file too large"
	case retryable(err):
		return "read interrupted (retries exhausted)"
	default:
		return "read error"
	}
}
