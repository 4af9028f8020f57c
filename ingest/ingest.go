// Package ingest turns CloudTrail log objects into the Parquet dataset of
// package store. Run wires one bounded pipeline under an errgroup:
//
//	lister (1 goroutine): Source.Walk → skip non-logs and objects already
//	   done → take each object's share of FetchBytes, in order
//	   ├─▶ jobs ──chan(F)──▶ F fetchers: Open and read each object whole
//	   │     (retrying reads cut in transit)
//	   └─▶ queue ──chan(F)──▶ W workers, taking objects in listing order, each
//	         on its own: wait for the object's bytes → gunzip (size-capped)
//	         → cloudtrail.Splitter (validate and split
//	         the records in one pass) → columns.Builder, appending file after file
//	         until about BatchBytes of JSON; then, for that batch: drop duplicate
//	         eventIDs (one shared set per partition), sort each partition's rows
//	         by (principal_arn, event_time), write Parquet and the rows'
//	         usage rollup (store.WriteTemp) under temporary names,
//	         unsynced; reset the builder and go on
//	         └─▶ pub ──chan(W)──▶ 1 publisher: sync the batch's files, rename
//	               them into place, append the batch to the manifest (the
//	               commit point), one batch at a time
//
// Fetching is its own stage because S3 answers each GetObject after tens of
// milliseconds and CloudTrail's objects are small: F (16) requests in
// flight keep W decoders busy where W alone would wait on the network.
//
// A worker writes its own batches, so decoding and Parquet encoding run on
// every core and no batch is copied from goroutine to goroutine; what a
// batch then waits on is the disk (a few fsyncs, milliseconds each), which
// the publisher does while the workers decode the next. Every
// goroutine returns when its input channel closes or the context is
// cancelled (first error, or SIGINT); a cancelled run leaves only
// uncommitted files, which the next run's store.Recover removes, so it
// resumes without duplicates or gaps.
//
// Memory budget: peak ≈ W × (BatchBytes of rows in column form + one
// partition's rows as the writer takes them + the Parquet writer's buffers +
// the largest decompressed file) + FetchBytes of objects read ahead + the
// dedup sets (capped at Options.MaxDedupKeys, beyond it only by the
// partitions being written).
// With the defaults (W = cores, BatchBytes = 32 MiB) that is a few hundred
// MiB whatever the size of the input.
package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/gunzip"
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
	// Fetchers read objects ahead of the workers, in parallel (default 16):
	// an S3 GET waits tens of milliseconds, a small object then takes
	// microseconds to decode.
	Fetchers int
	// FetchBytes bounds the stored bytes that fetchers hold, read and not
	// yet decoded (default 64 MiB); an object larger than it is fetched
	// alone.
	FetchBytes int64
	// MaxFileBytes caps one decompressed file (default cloudtrail.DefaultMaxFileBytes).
	MaxFileBytes int64
	// BatchBytes of decompressed JSON are gathered before a commit (default
	// 32 MiB, at most columns.MaxBatchBytes).
	BatchBytes int64
	// Write tunes the Parquet files.
	Write store.WriteOptions
	// Strict fails the run on the first bad file or record.
	Strict bool
	// Retries of an object whose read failed in transit (default 3).
	Retries int
	// MaxDedupKeys bounds the eventIDs held in memory for deduplication
	// (about 30 bytes each; default 1<<18, ~8 MiB). Partitions beyond it
	// are forgotten least recently used first and read back from their
	// committed files when a later batch returns to them. The partitions
	// the last Workers batches used are kept even beyond it, so a busy
	// partition-day is never read back batch after batch.
	MaxDedupKeys int
	// Incremental lists each region folder of CloudTrail's layout from
	// where the store's cursors say earlier runs over the same source and
	// shard got (less Filter.LateMargin, DefaultLateMargin when zero),
	// instead of whole (cursor.go).
	Incremental bool
	// Progress, when set, is called after each file, never concurrently.
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
	Source            string `json:"source"`
	Store             string `json:"store"`
	ObjectsListed     int64  `json:"objects_listed"`
	ObjectsRead       int64  `json:"objects_read"`
	ObjectsAlreadyIn  int64  `json:"objects_already_ingested"`
	BytesRead         int64  `json:"bytes_read"`
	BytesDecompressed int64  `json:"bytes_decompressed"`
	Records           int64  `json:"records"`
	RowsWritten       int64  `json:"rows_written"`
	Duplicates        int64  `json:"duplicates_dropped"`
	// DedupSetsReread counts partitions whose eventIDs were read back from
	// their files after the dedup cache had dropped them (events that
	// arrive for a day the run had moved past). Large figures mean
	// MaxDedupKeys is small for the input's order.
	DedupSetsReread  int64          `json:"dedup_sets_reread"`
	FilesWritten     int            `json:"files_written"`
	Batches          int            `json:"batches"`
	RecoveredOrphans int            `json:"uncommitted_files_removed"`
	SkippedObjects   map[string]int `json:"skipped_objects"`
	// Skipped names the objects skipped by name (the first 50).
	Skipped          []Problem      `json:"skipped,omitempty"`
	SkippedOmitted   int            `json:"skipped_omitted,omitempty"`
	RejectedRecords  map[string]int `json:"rejected_records"`
	Problems         []Problem      `json:"problems,omitempty"`
	ProblemsOmitted  int            `json:"problems_omitted,omitempty"`
	Seconds          float64        `json:"seconds"`
	RecordsPerSecond float64        `json:"records_per_second"`
	// Partitions are those the run wrote files into, sorted.
	Partitions []store.Partition `json:"-"`
}

// maxProblems caps how many individual problems the summary lists; the
// counts by reason are always complete.
const maxProblems = 50

func (s *Stats) skip(reason string) { s.SkippedObjects[reason]++ }

// skipByName counts and names an object passed over for its name.
func (s *Stats) skipByName(object, reason string) {
	s.SkippedObjects[reason]++
	if len(s.Skipped) < maxProblems {
		s.Skipped = append(s.Skipped, Problem{Object: object, Reason: reason})
	} else {
		s.SkippedOmitted++
	}
}

func (s *Stats) problem(p Problem) {
	if len(s.Problems) < maxProblems {
		s.Problems = append(s.Problems, p)
	} else {
		s.ProblemsOmitted++
	}
}

// fileResult is what became of one object: its rows went into the
// worker's builder (rows of them), or it was bad.
type fileResult struct {
	obj      source.Object
	seq      int64 // the listing's number (watermark)
	json     int64 // decompressed bytes
	rows     int   // rows appended to the builder
	rejected map[string]int
	bad      *Problem // the object could not be read
	vanished bool
}

type rowMeta struct {
	part int32 // index into batch.parts
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
	opts.BatchBytes = min(opts.BatchBytes, columns.MaxBatchBytes)
	if opts.Fetchers <= 0 {
		opts.Fetchers = 16
	}
	if opts.FetchBytes <= 0 {
		opts.FetchBytes = 64 << 20
	}
	if opts.Retries <= 0 {
		opts.Retries = 3
	}
	if opts.MaxDedupKeys <= 0 {
		opts.MaxDedupKeys = 1 << 18
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
	c := newCommitter(st, opts, &stats, start)
	c.wm = newWatermark(cursorSpace(fmt.Sprint(src), opts.Filter.Shard.String()))
	if opts.Incremental && opts.Filter.Resume == nil {
		opts.Filter.Resume = resume(st, c.wm.space)
		if opts.Filter.Until.IsZero() {
			opts.Filter.Until = opts.Now().UTC().Add(24 * time.Hour) // and a day of clock skew
		}
		if opts.Filter.LateMargin <= 0 {
			opts.Filter.LateMargin = DefaultLateMargin
		}
	}
	// Registered, the run's files are left alone by other writers'
	// recovery while it runs (one store, several ingests or shards).
	endRun, err := st.BeginRun(ctx, c.runID)
	if err != nil {
		return stats, err
	}
	defer endRun()
	removed, err := st.Recover(ctx)
	stats.RecoveredOrphans = removed
	if err != nil {
		return stats, err
	}
	if !opts.Write.NoRollup {
		// Each events file gets its usage rollup twin, unless the store's
		// rollup is of a newer format than this iamlens writes.
		ok, err := st.PrepareRollup()
		if err != nil {
			return stats, err
		}
		opts.Write.NoRollup = !ok
		c.opts.Write.NoRollup = opts.Write.NoRollup
	}

	runCtx := ctx // the errgroup's is cancelled once it is done
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	// Every object to read goes to the fetchers (jobs) and, in listing
	// order, to the workers (queue), who wait for its bytes. Order is
	// kept so that a partition's files are decoded together, as listed.
	// The lister takes each object's share of the byte budget, in order,
	// so an object never waits for budget that later ones hold.
	jobs := make(chan *fetched, opts.Fetchers)
	queue := make(chan *fetched, opts.Fetchers)
	budget := semaphore.NewWeighted(opts.FetchBytes)

	// Lister: exits when the walk ends (closing jobs and queue) or ctx is
	// cancelled.
	g.Go(func() error {
		defer close(jobs)
		defer close(queue)
		return src.Walk(ctx, opts.Filter, func(o source.Object) error {
			c.mu.Lock()
			stats.ObjectsListed++
			c.mu.Unlock()
			seq := c.wm.listed(o.Key)
			if k := cloudtrail.Classify(o.Key); k != cloudtrail.KindLog && !o.Named {
				c.mu.Lock()
				stats.skipByName(src.URI(o.Key), k.String())
				c.mu.Unlock()
				c.wm.settle([]string{o.Key}, []int64{seq})
				return nil
			}
			if st.Done(o.Key, o.ETag) {
				c.mu.Lock()
				stats.ObjectsAlreadyIn++
				c.mu.Unlock()
				c.wm.settle([]string{o.Key}, []int64{seq})
				return nil
			}
			held := min(max(o.Size, 1), opts.FetchBytes)
			if err := budget.Acquire(ctx, held); err != nil {
				return err
			}
			f := &fetched{obj: o, seq: seq, done: make(chan struct{}), release: func() { budget.Release(held) }}
			for _, ch := range []chan *fetched{queue, jobs} {
				select {
				case ch <- f:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	})

	// Fetchers: each reads objects whole, in the order listed.
	for i := 0; i < opts.Fetchers; i++ {
		g.Go(func() error {
			for f := range jobs {
				fetch(ctx, src, opts, f)
				close(f.done)
			}
			return nil
		})
	}

	// Publisher: syncs, renames into place and commits the batches the
	// workers have written, one at a time, while they go on decoding.
	pub := make(chan *written, opts.Workers)
	g.Go(func() error {
		for wb := range pub {
			if err := c.publish(ctx, wb); err != nil {
				return err
			}
		}
		return nil
	})

	// Workers: each decodes objects into its own batch and writes the
	// batch when it is full, for the publisher; each exits when queue
	// closes (after writing what it holds) or ctx is cancelled (dropping
	// it, uncommitted). The last one out closes pub.
	var working sync.WaitGroup
	working.Add(opts.Workers)
	for i := 0; i < opts.Workers; i++ {
		g.Go(func() error {
			defer working.Done()
			w := newWorker(src, opts, c, pub)
			for f := range queue {
				select {
				case <-f.done:
				case <-ctx.Done():
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				res := w.process(f)
				res.seq = f.seq
				f.free()
				if err := c.account(res); err != nil {
					return err
				}
				if res.bad != nil {
					continue
				}
				w.files = append(w.files, res)
				if w.b.DataBytes() >= opts.BatchBytes {
					if err := w.flush(ctx); err != nil {
						return err
					}
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			return w.flush(ctx)
		})
	}

	go func() {
		working.Wait()
		close(pub)
	}()
	err = g.Wait()
	if err == nil {
		// Positions that moved with no batch to carry them (a run that
		// found nothing new listed its folders all the same).
		err = c.commitCursors(runCtx)
	}
	if err == nil {
		// An object store's commit log gets a checkpoint when it has
		// grown enough since the last.
		err = st.Checkpoint(context.WithoutCancel(ctx))
	}
	stats.DedupSetsReread = c.rereads
	for p := range c.parts {
		stats.Partitions = append(stats.Partitions, p)
	}
	slices.SortFunc(stats.Partitions, func(a, b store.Partition) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Date, b.Date))
	})
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
	c    *committer
	pub  chan<- *written // where flush sends a written batch
	rd   cloudtrail.Reader
	sp   cloudtrail.Splitter
	b    *columns.Builder

	// the batch being gathered: files whose rows are in b, one rowMeta per
	// row, and the partitions the rows go to.
	files    []*fileResult
	rows     []rowMeta
	parts    []store.Partition
	last     int32 // index of the partition of the previous row,
	lastDay  int64 // its UTC day number
	lastAcct string
}

func newWorker(src Source, opts Options, c *committer, pub chan<- *written) *worker {
	return &worker{
		src: src, opts: opts, c: c, pub: pub,
		rd: cloudtrail.Reader{MaxBytes: opts.MaxFileBytes},
		sp: cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields},
		b:  columns.NewBuilder(opts.Mem),
	}
}

// flush writes the batch gathered so far and hands it to the publisher.
func (w *worker) flush(ctx context.Context) error {
	if len(w.files) == 0 {
		return nil
	}
	b := &batch{rows: w.b, meta: w.rows, parts: w.parts, files: w.files}
	wb, err := w.c.write(ctx, b)
	w.b.Reset()
	w.files, w.rows, w.parts, w.last = nil, w.rows[:0], nil, 0
	if err != nil {
		return err
	}
	select {
	case w.pub <- wb:
		return nil
	case <-ctx.Done():
		w.c.done(wb.b)
		w.c.settled(wb.id)
		return ctx.Err() // its temp files are left for Recover
	}
}

// partition returns the index in the batch's partitions of the partition a
// row with this account and time goes to. Consecutive rows nearly always
// share one, so the previous answer is checked first, by account and UTC day,
// without formatting a date.
func (w *worker) partition(account string, t time.Time) int32 {
	day := t.Unix() / 86400
	if t.Unix() < 0 {
		day = (t.Unix() - 86399) / 86400
	}
	if len(w.parts) > 0 && day == w.lastDay && account == w.lastAcct {
		return w.last
	}
	p := store.PartitionOf(account, t)
	w.lastDay, w.lastAcct = day, strings.Clone(account) // account aliases the read buffer
	for i := range w.parts {
		if w.parts[i] == p {
			w.last = int32(i)
			return w.last
		}
	}
	p.Account = strings.Clone(p.Account)
	w.parts = append(w.parts, p)
	w.last = int32(len(w.parts) - 1)
	return w.last
}

// fetched is one object as stored, read whole by a fetcher, or why it
// could not be read; done closes when it is either.
type fetched struct {
	obj     source.Object
	seq     int64
	done    chan struct{}
	raw     []byte
	buf     *[]byte // raw's pooled buffer
	err     error
	release func() // returns its share of the byte budget
}

// rawBuffers are the fetchers' read buffers, reused once a worker has
// decoded them.
var rawBuffers = sync.Pool{New: func() any { return new([]byte) }}

// free returns the buffer and the budget once the bytes are decoded.
func (f *fetched) free() {
	if f.buf != nil && cap(f.raw) <= gunzip.KeepBytes {
		*f.buf = f.raw[:0]
		rawBuffers.Put(f.buf)
	}
	f.buf, f.raw = nil, nil
	f.release()
}

// fetch reads f's object whole, retrying a read cut in transit with
// backoff.
func fetch(ctx context.Context, src Source, opts Options, f *fetched) {
	f.buf = rawBuffers.Get().(*[]byte)
	for attempt := 0; ; attempt++ {
		f.raw, f.err = readObject(ctx, src, opts.MaxFileBytes, f.obj, *f.buf)
		if f.err == nil || ctx.Err() != nil || !retryable(f.err) || attempt+1 >= opts.Retries {
			return
		}
		select {
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// readObject reads one object's stored bytes into buf's memory.
func readObject(ctx context.Context, src Source, maxBytes int64, o source.Object, buf []byte) ([]byte, error) {
	rc, err := src.Open(ctx, o.Key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := &transportReader{r: rc}
	raw, err := cloudtrail.ReadRaw(tr, maxBytes, buf, o.Size)
	if tr.err != nil {
		return nil, &transportError{err: tr.err}
	}
	return raw, err
}

func (w *worker) process(f *fetched) (res *fileResult) {
	o := f.obj
	res = &fileResult{obj: o}
	uri := w.src.URI(o.Key)
	defer w.recoverDecoder(res, uri, len(w.rows), len(w.parts))
	err := f.err
	var data []byte
	if err == nil {
		w.hook(uri, "gunzip", 0)
		data, err = w.rd.Decode(f.raw)
	}
	if err != nil {
		if isNotFound(err) {
			res.vanished = true
			res.bad = &Problem{Object: uri, Reason: "deleted after listing", Detail: err.Error()}
			return res
		}
		res.bad = badFile(uri, err)
		return res
	}
	res.json = int64(len(data))
	// The whole file is validated before any of its rows is appended, so a
	// bad file leaves nothing behind in the batch.
	w.hook(uri, "split", 0)
	n, err := w.sp.Split(data)
	if errors.Is(err, cloudtrail.ErrNotLog) || errors.Is(err, cloudtrail.ErrInvalidJSON) {
		// Not CloudTrail's own form: records as an array, one a line, or
		// one alone are read as well (a copy, wrapped as a log).
		if wrapped, _, nerr := cloudtrail.Normalize(data); nerr == nil {
			data = wrapped
			n, err = w.sp.Split(data)
		}
	}
	if err != nil {
		res.bad = badFile(uri, err)
		return res
	}
	for i := 0; i < n; i++ {
		w.hook(uri, "append", i)
		row, aerr := w.b.AppendSpans(data, w.sp.Record(i), w.sp.Values(i), uri)
		if aerr != nil {
			if res.rejected == nil {
				res.rejected = map[string]int{}
			}
			res.rejected[aerr.Error()]++
			continue
		}
		w.rows = append(w.rows, rowMeta{part: w.partition(row.Account, row.EventTime), key: store.IDKey(row.EventID)})
		res.rows++
	}
	w.b.AddDataBytes(res.json)
	return res
}

// reasonPanic is the reason given for a file whose decoding panicked.
const reasonPanic = "decoder panic"

// recoverDecoder turns a panic in decoding one file (gunzip, the splitter
// or the columns builder, all reading untrusted bytes) into a bad file:
// counted and named like any other, its rows taken back out of the batch,
// and the run going on with the next file. A panic is a bug in iamlens;
// the detail names where it happened, for a bug report.
func (w *worker) recoverDecoder(res *fileResult, uri string, rows, parts int) {
	r := recover()
	if r == nil {
		return
	}
	// Back to the batch as it was before the file (rows and parts are its
	// lengths then), with a fresh decoder and splitter.
	w.b.Rollback(rows)
	w.rows, w.parts = w.rows[:rows], w.parts[:parts]
	w.last, w.lastDay, w.lastAcct = 0, math.MinInt64, "" // partition's memo may name a dropped partition
	w.rd = cloudtrail.Reader{MaxBytes: w.opts.MaxFileBytes}
	w.sp = cloudtrail.Splitter{Slot: columns.Slot, Fields: columns.NumFields}
	*res = fileResult{obj: res.obj, bad: &Problem{Object: uri, Reason: reasonPanic, Detail: fmt.Sprintf("%s: %v%s", reasonPanic, r, panicSite())}}
}

// panicSite names the function a panic came from (" at pkg.f (file:line)"),
// called from a deferred function while the panic unwinds.
func panicSite() string {
	pc := make([]uintptr, 32)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	for past := false; ; {
		f, more := frames.Next()
		if past && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf(" at %s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		past = past || f.Function == "runtime.gopanic"
		if !more {
			return ""
		}
	}
}

// decodeHook, when set (by tests only, through export_test.go), runs before
// each stage of decoding a file: "gunzip", "split", and "append" before
// each record.
var decodeHook func(uri, stage string, record int)

func (w *worker) hook(uri, stage string, record int) {
	if decodeHook != nil {
		decodeHook(uri, stage, record)
	}
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

// badFile is the problem of an object that could not be read: the reason,
// and the detail without the reason said again.
func badFile(uri string, err error) *Problem {
	reason := reasonOf(err)
	detail := err.Error()
	if detail == reason {
		detail = ""
	}
	detail = strings.TrimPrefix(detail, reason+": ")
	return &Problem{Object: uri, Reason: reason, Detail: detail}
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
