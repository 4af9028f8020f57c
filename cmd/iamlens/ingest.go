package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/ingest/store/s3store"
)

type ingestOptions struct {
	Sources      []string
	Store        string
	Profile      string
	S3Region     string
	EndpointURL  string
	PathStyle    bool
	Accounts     []string
	Regions      []string
	From, To     string
	Workers      int
	Fetchers     int
	FetchMB      int64
	Compression  string
	MaxFileMB    int64
	Strict       bool
	Format       string
	Progress     bool
	Now          func() time.Time
	Stdout       io.Writer
	Stderr       io.Writer
	MaxRetries   int
	RowGroupRows int64
	MemoryMB     int64
	// RebuildRollup builds the usage rollup again from the stored events
	// instead of ingesting.
	RebuildRollup bool
	// Shard is INDEX/COUNT: this worker's share of the bucket.
	Shard string
	// LateMargin: an incremental listing starts this long before where
	// the last run got; FullListing lists everything instead.
	LateMargin  time.Duration
	FullListing bool
	// CompactFiles compacts, after the run, the partitions it wrote that
	// hold more than this many files (0: never).
	CompactFiles int
}

// ingestDefaults are the ingest flag defaults, shared with analyze --logs.
func ingestDefaults() ingestOptions {
	return ingestOptions{Compression: "snappy", RowGroupRows: 16384, MaxFileMB: 256, MaxRetries: 8, MemoryMB: 1024, Format: "table", Fetchers: 16, FetchMB: 64,
		LateMargin: ingest.DefaultLateMargin, CompactFiles: 64}
}

func newIngestCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	d := ingestDefaults()
	o := &ingestOptions{}
	cmd := &cobra.Command{
		Use:   "ingest SOURCE...",
		Short: "Read CloudTrail logs from S3 or a folder into the local Parquet dataset",
		Long: `Read CloudTrail log files (*.json.gz, or plain *.json with a {"Records":[...]} wrapper)
from an S3 bucket or a local folder into the dataset under --store.

Both the account-trail layout (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/)
and the organization-trail layout (AWSLogs/<org-id>/<account>/CloudTrail/...) are
understood: --account, --region, --from and --to become listing prefixes. A folder
without that layout is read whole. In a folder, files are chosen by name; digest,
insight and other files are skipped, counted and named. A file named on its own
is read by its content whatever its name: a CloudTrail log, a bare array of
records, records one a line, or one record, gzipped or not.

Ingest is incremental and exactly-once: objects already ingested (same key and
ETag) are not read again, and an eventID already in the dataset is dropped. An
interrupted run resumes where it stopped.

Beside the events, ingest writes their usage rollup (docs/rollup.md), which
principals, analyze --all, diff --all, review and keys read. --rebuild-rollup
builds it again from the events already stored, for a store written by an
iamlens older than the rollup (the commands that read it also build what is
missing, once). On a store that has a monthly rollup (iamlens compact writes
it), ingest writes again the months its run added to, once a month's new
rollup files are an eighth of its monthly file (readers read the newer ones
beside it); after a backfill, run iamlens compact once.`,
		Example: `  # the bundled sample (no AWS account needed)
  iamlens ingest testdata/sample

  # one day of it, as JSON for machines
  iamlens ingest testdata/sample --from 2023-07-10 --to 2023-07-10 --format json

  # templates (put your own bucket, account and endpoint):
  # one week of one account's us-east-1 trail
  iamlens ingest s3://my-trail-bucket --account 123456789012 --region us-east-1 \
      --from 2026-11-01 --to 2026-11-07

  # an S3-compatible server
  iamlens ingest s3://my-trail-bucket/cloudtrail --endpoint-url http://127.0.0.1:9000

  # a distant bucket: more GETs in flight, more read ahead
  iamlens ingest s3://my-trail-bucket --fetch 64 --fetch-mb 128

  # worker 3 of 16 on an organization trail, the dataset on S3 (docs/scale.md)
  iamlens ingest s3://org-trail --shard 3/16 --store s3://my-dataset/iamlens

  # the usage rollup of a store written before it existed
  iamlens ingest --rebuild-rollup`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.RebuildRollup {
				if len(args) > 0 {
					return usageErrorf("", "--rebuild-rollup reads the stored events: give no SOURCE")
				}
				return nil
			}
			return cobra.MinimumNArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Sources = args
			o.Store = g.Store
			o.Profile = g.Profile
			o.Progress = env.Interactive && !g.NoProgress
			o.Now = env.Now
			o.Stdout, o.Stderr = env.Stdout, env.Stderr
			return runIngest(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Accounts, "account", nil, "only these account IDs (repeatable, comma-separated)")
	regionFlag(f, &o.Regions, "only these trail regions, e.g. us-east-1 (repeatable, comma-separated)")
	f.StringVar(&o.From, "from", "", "first delivery day, YYYY-MM-DD (or RFC 3339)")
	f.StringVar(&o.To, "to", "", "last delivery day, YYYY-MM-DD (or RFC 3339)")
	addS3Flags(f, o)
	f.IntVar(&o.Workers, "workers", 0, "files decoded in parallel (0: one per CPU)")
	f.StringVar(&o.Compression, "compression", d.Compression, "Parquet compression: snappy, zstd (smaller, slower) or none")
	f.Int64Var(&o.RowGroupRows, "row-group-rows", d.RowGroupRows, "rows per Parquet row group")
	f.Int64Var(&o.MaxFileMB, "max-file-mb", d.MaxFileMB, "reject a log file larger than this once decompressed, in MiB")
	f.Int64Var(&o.MemoryMB, "memory-mb", d.MemoryMB, "soft memory limit for the Go heap, in MiB (0: none; GOMEMLIMIT wins)")
	f.BoolVar(&o.Strict, "strict", false, "fail (exit 3) on the first bad file or record instead of counting it")
	f.StringVar(&o.Format, "format", d.Format, "summary format: table or json")
	f.BoolVar(&o.RebuildRollup, "rebuild-rollup", false, "build the usage rollup again from the stored events (no SOURCE)")
	f.StringVar(&o.Shard, "shard", "", "INDEX/COUNT, e.g. 3/16: this worker's share of the bucket's (account, day) folders (INDEX from 0)")
	f.DurationVar(&o.LateMargin, "late-margin", d.LateMargin, "an S3 source is listed from this long before where the last run got, for late deliveries")
	f.BoolVar(&o.FullListing, "full-listing", false, "list an S3 source whole, not from where the last run got (objects added to old days)")
	f.IntVar(&o.CompactFiles, "compact-files", d.CompactFiles, "after the run, compact the partitions it wrote that hold more than this many files (0: never)")
	completeValues(cmd, "format", "table", "json")
	completeValues(cmd, "compression", "snappy", "zstd", "none")
	return cmd
}

// s3FlagNames are the flags addS3Flags adds.
var s3FlagNames = []string{"s3-region", "endpoint-url", "fetch", "fetch-mb", "max-retries"}

// addS3Flags adds the flags of reading logs from S3, shared by ingest and
// analyze --logs.
func addS3Flags(f *pflag.FlagSet, o *ingestOptions) {
	d := ingestDefaults()
	f.StringVar(&o.S3Region, "s3-region", "", "region of the S3 bucket (default: the SDK's chain, then us-east-1)")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "S3-compatible endpoint, e.g. http://127.0.0.1:9000 (implies path-style)")
	f.IntVar(&o.Fetchers, "fetch", d.Fetchers, "objects read at once, ahead of the decoders (S3 answers each GET after tens of ms)")
	f.Int64Var(&o.FetchMB, "fetch-mb", d.FetchMB, "objects read ahead and not yet decoded, at most, in MiB")
	f.IntVar(&o.MaxRetries, "max-retries", d.MaxRetries, "S3 request attempts, the first included, on throttling and 5xx")
}

// changedOf returns the first of the named flags given on the command line.
func changedOf(cmd *cobra.Command, names ...string) string {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return n
		}
	}
	return ""
}

// validate refuses values that make no sense, naming the flag.
func (o *ingestOptions) validate() error {
	for _, c := range []struct {
		flag string
		v    int64
		min  int64
		note string
	}{
		{"workers", int64(o.Workers), 0, " (0: one per CPU)"},
		{"fetch", int64(o.Fetchers), 1, ""},
		{"fetch-mb", o.FetchMB, 1, ""},
		{"max-retries", int64(o.MaxRetries), 1, " (1: no retries)"},
		{"max-file-mb", o.MaxFileMB, 1, ""},
		{"row-group-rows", o.RowGroupRows, 1, ""},
		{"memory-mb", o.MemoryMB, 0, " (0: no limit)"},
		{"compact-files", int64(o.CompactFiles), 0, " (0: never)"},
	} {
		if c.v < c.min {
			return usageErrorf("", "--%s must be at least %d%s, not %d", c.flag, c.min, c.note, c.v)
		}
	}
	return nil
}

func runIngest(ctx context.Context, o *ingestOptions) error {
	if o.Format != "table" && o.Format != "json" {
		return usageErrorf("", "--format must be table or json, not %q", o.Format)
	}
	if err := o.validate(); err != nil {
		return err
	}
	if o.MemoryMB > 0 && os.Getenv("GOMEMLIMIT") == "" {
		// A safety valve: the pipeline's own budget (see the ingest package
		// doc) keeps the heap near 200 MiB; the soft limit only makes the GC
		// work harder if something pathological grows it. Set close to the
		// working set it makes the GC thrash (measured: 2x slower at 448).
		debug.SetMemoryLimit(o.MemoryMB << 20)
	}
	filter := source.Filter{Accounts: o.Accounts, Regions: o.Regions, LateMargin: o.LateMargin}
	var err error
	if o.Shard != "" {
		if filter.Shard, err = source.ParseShard(o.Shard); err != nil {
			return usageErrorf("", "--shard: %v", err)
		}
	}
	if o.LateMargin < 0 {
		return usageErrorf("", "--late-margin must not be negative, not %s", o.LateMargin)
	}
	if filter.From, err = parseDay(o.From); err != nil {
		return usageErrorf("", "--from: %v", err)
	}
	if filter.To, err = parseDay(o.To); err != nil {
		return usageErrorf("", "--to: %v", err)
	}
	if !filter.From.IsZero() && !filter.To.IsZero() && filter.To.Before(filter.From) {
		return usageErrorf("", "--to %s is before --from %s", o.To, o.From)
	}
	st, err := openStore(ctx, o.Store, true)
	if err != nil {
		if isRemoteStore(o.Store) {
			return err
		}
		return usageErrorf("", "%v", err)
	}
	if o.RebuildRollup {
		return rebuildRollup(ctx, st, o)
	}
	opts := ingest.Options{
		Filter:       filter,
		Workers:      o.Workers,
		Fetchers:     o.Fetchers,
		FetchBytes:   o.FetchMB << 20,
		MaxFileBytes: o.MaxFileMB << 20,
		Write:        store.WriteOptions{Compression: o.Compression, RowGroupRows: o.RowGroupRows},
		Strict:       o.Strict,
		Now:          o.Now,
	}
	if err := opts.Write.Validate(); err != nil {
		return usageErrorf("", "--compression: %v", err)
	}
	var all []ingestReport
	for _, s := range o.Sources {
		src, client, err := openSource(ctx, s, o)
		if err != nil {
			return err
		}
		retries := func() int64 { return 0 }
		if client != nil {
			retries = client.retries.Load
		}
		opts.Incremental = client != nil && !o.FullListing
		var bar *progressbar.ProgressBar
		if o.Progress {
			bar = newIngestBar(o.Stderr, s)
			opts.Progress = func(p ingest.Progress) { updateIngestBar(bar, p, retries()) }
		}
		stats, err := ingest.Run(ctx, src, st, opts)
		if bar != nil {
			_ = bar.Finish()
			fmt.Fprintln(o.Stderr)
		}
		rep := ingestReport{Stats: stats, Shard: filter.Shard.String()}
		if client != nil {
			c := client.requests.snapshot()
			rep.SourceRequests = &c
		}
		if err == nil && o.CompactFiles > 0 && stats.Batches > 0 {
			cs, cerr := st.Compact(ctx, store.CompactOptions{Partitions: stats.Partitions, MinFiles: o.CompactFiles + 1, Write: opts.Write})
			if cerr != nil {
				err = fmt.Errorf("compact: %w", cerr)
			} else if cs.Partitions > 0 {
				rep.Compacted = &cs
			}
		}
		if err == nil && stats.Batches > 0 {
			// A store with a monthly rollup (iamlens compact writes it)
			// has it kept current: the months of the new twins, and those
			// whose twins a compaction replaced, written again.
			// The events are committed: a monthly rollup left behind
			// costs readers time, not answers (they read the twins).
			// A month is written again once its new twins are an eighth
			// of its file, not at every run of a frequent schedule.
			ms, merr := st.MergeRollup(ctx, store.MergeOptions{IfPresent: true, MinNewShare: 1.0 / 8, Write: opts.Write, Now: o.Now})
			switch {
			case merr != nil && ctx.Err() == nil:
				fmt.Fprintf(o.Stderr, "iamlens: the monthly rollup was not brought up to date (%v); `iamlens compact` writes it\n", merr)
			case merr == nil && (ms.Months > 0 || ms.Deferred > 0):
				rep.Monthly = &ms
			}
		}
		rep.StoreRequests = storeRequests(ctx)
		all = append(all, rep)
		if err != nil {
			if errors.Is(err, ingest.ErrStrict) {
				_ = writeIngestSummary(o.Stdout, o.Format, all)
				return &findingsError{msg: "iamlens: " + err.Error()}
			}
			if ctx.Err() == nil && stats.ObjectsListed > 0 {
				_ = writeIngestSummary(o.Stdout, o.Format, all)
			}
			return s3Error(err, s, o)
		}
	}
	if err := writeIngestSummary(o.Stdout, o.Format, all); err != nil {
		return err
	}
	var empty []string
	for _, s := range all {
		if msg := nothingIngested(s.Stats); msg != "" {
			fmt.Fprintf(o.Stderr, "iamlens: %s\n", msg)
			empty = append(empty, s.Source)
		}
	}
	if o.Strict && len(empty) > 0 {
		return &findingsError{msg: "iamlens: --strict: nothing ingested from " + strings.Join(empty, ", ")}
	}
	return nil
}

// rollupSummary is what ingest --rebuild-rollup prints.
type rollupSummary struct {
	Store        string  `json:"store"`
	FilesBuilt   int     `json:"rollup_files_built"`
	EventsRead   int64   `json:"events_read"`
	MonthlyFiles int     `json:"monthly_files_written"`
	Seconds      float64 `json:"seconds"`
}

// rebuildRollup builds st's usage rollup again from its events.
func rebuildRollup(ctx context.Context, st *store.Store, o *ingestOptions) error {
	start := time.Now()
	var last store.BuildProgress
	var bar *progressbar.ProgressBar
	if o.Progress {
		bar = newIngestBar(o.Stderr, "rollup")
	}
	err := st.RebuildRollup(ctx, store.WriteOptions{Compression: o.Compression, RowGroupRows: o.RowGroupRows}, func(p store.BuildProgress) {
		last = p
		if bar != nil {
			bar.Describe(fmt.Sprintf("rollup of events file %d/%d · %d events", p.Done, p.Total, p.Rows))
			_ = bar.Set64(p.Rows)
		}
	})
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(o.Stderr)
	}
	if err != nil {
		return fmt.Errorf("rebuild the usage rollup: %w", err)
	}
	ms, err := st.MergeRollup(ctx, store.MergeOptions{Write: store.WriteOptions{Compression: o.Compression}, Now: o.Now})
	if err != nil {
		return fmt.Errorf("rebuild the monthly rollup: %w", err)
	}
	sum := rollupSummary{Store: st.Root, FilesBuilt: last.Done, EventsRead: last.Rows, MonthlyFiles: ms.Months, Seconds: time.Since(start).Seconds()}
	if o.Format == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s\n", sum.Store)
	fmt.Fprintf(tw, "rollup files built\t%d\n", sum.FilesBuilt)
	fmt.Fprintf(tw, "events read\t%d\n", sum.EventsRead)
	fmt.Fprintf(tw, "monthly rollup files\t%d\n", sum.MonthlyFiles)
	fmt.Fprintf(tw, "time\t%.2fs\n", sum.Seconds)
	return tw.Flush()
}

// nothingIngested says why a run read no records, or "" when it read some
// or found everything already ingested.
func nothingIngested(s ingest.Stats) string {
	if s.Records > 0 || s.ObjectsAlreadyIn > 0 {
		return ""
	}
	if s.ObjectsListed == 0 {
		return fmt.Sprintf("nothing ingested from %s: no files found there (with the filters given)", s.Source)
	}
	skipped := 0
	for _, n := range s.SkippedObjects {
		skipped += n
	}
	return fmt.Sprintf("nothing ingested from %s: %s listed, %s skipped or bad, none with a record (see the summary)",
		s.Source, plural(int(s.ObjectsListed), "object"), plural(skipped, "object"))
}

// openSource builds a Dir or an S3 source from a command-line argument;
// retries counts an S3 source's retried requests (always 0 for a folder).
func openSource(ctx context.Context, arg string, o *ingestOptions) (src ingest.Source, client *s3Client, err error) {
	var none *s3Client
	if !strings.HasPrefix(arg, "s3://") {
		d, err := source.NewDir(arg)
		if err != nil {
			return nil, none, usageErrorf("Give a folder, a file, or s3://BUCKET/PREFIX.", "source %s: %v", arg, err)
		}
		return d, none, nil
	}
	bucket, prefix, err := source.ParseS3URL(arg)
	if err != nil {
		return nil, none, usageErrorf("", "%v", err)
	}
	client, err = newS3Client(ctx, o.Profile, o.S3Region, o.EndpointURL, o.MaxRetries)
	if err != nil {
		return nil, none, err
	}
	return source.NewS3(client, bucket, prefix), client, nil
}

// parseDay accepts YYYY-MM-DD or RFC 3339.
func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want YYYY-MM-DD or RFC 3339, got %q", s)
	}
	return t.UTC(), nil
}

func newIngestBar(w io.Writer, name string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("ingest "+name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
	)
}

func updateIngestBar(bar *progressbar.ProgressBar, p ingest.Progress, retries int64) {
	bar.Describe(ingestProgressLine(p, retries))
	_ = bar.Set64(p.Bytes)
}

// ingestProgressLine is the progress bar's description: objects, records,
// their rate, and the S3 requests retried so far.
func ingestProgressLine(p ingest.Progress, retries int64) string {
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Records) / s
	}
	line := fmt.Sprintf("objects %d/%d listed · records %d (%.0f/s)", p.Objects, p.Listed, p.Records, rate)
	if retries > 0 {
		line += " · " + plural(int(retries), "S3 retry")
	}
	return line
}

// ingestReport is what ingest prints of one source: the run's statistics,
// and the requests it made of S3.
type ingestReport struct {
	ingest.Stats
	Shard          string              `json:"shard,omitempty"`
	SourceRequests *RequestCounts      `json:"source_requests,omitempty"`
	StoreRequests  *s3store.Stats      `json:"store_requests,omitempty"`
	Compacted      *store.CompactStats `json:"compacted,omitempty"`
	Monthly        *store.MergeStats   `json:"monthly_rollup,omitempty"`
}

func writeIngestSummary(w io.Writer, format string, all []ingestReport) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if len(all) == 1 {
			return enc.Encode(all[0])
		}
		return enc.Encode(all)
	}
	for _, s := range all {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "source\t%s\n", s.Source)
		fmt.Fprintf(tw, "store\t%s\n", s.Store)
		fmt.Fprintf(tw, "objects listed\t%d\n", s.ObjectsListed)
		fmt.Fprintf(tw, "objects read\t%d\n", s.ObjectsRead)
		fmt.Fprintf(tw, "already ingested\t%d\n", s.ObjectsAlreadyIn)
		fmt.Fprintf(tw, "bytes read\t%s (%s decompressed)\n", humanBytes(s.BytesRead), humanBytes(s.BytesDecompressed))
		fmt.Fprintf(tw, "records\t%d\n", s.Records)
		fmt.Fprintf(tw, "rows written\t%d in %s, %s\n", s.RowsWritten, plural(s.FilesWritten, "file"), plural(s.Batches, "batch"))
		fmt.Fprintf(tw, "duplicates dropped\t%d\n", s.Duplicates)
		if s.DedupSetsReread > 0 {
			fmt.Fprintf(tw, "dedup sets re-read\t%d (days revisited after the run moved on)\n", s.DedupSetsReread)
		}
		if s.RecoveredOrphans > 0 {
			fmt.Fprintf(tw, "uncommitted files removed\t%d (from an interrupted run)\n", s.RecoveredOrphans)
		}
		if s.Shard != "" {
			fmt.Fprintf(tw, "shard\t%s\n", s.Shard)
		}
		if r := s.SourceRequests; r != nil {
			fmt.Fprintf(tw, "source requests\t%d LIST, %d GET\n", r.List, r.Get)
		}
		if r := s.StoreRequests; r != nil {
			fmt.Fprintf(tw, "store requests\t%d LIST, %d GET, %d PUT, %d DELETE\n", r.Lists, r.Gets, r.Puts, r.Deletes)
		}
		if c := s.Compacted; c != nil {
			fmt.Fprintf(tw, "compacted\t%s: %d files into %d\n", plural(c.Partitions, "partition"), c.FilesBefore, c.FilesAfter)
		}
		if m := s.Monthly; m != nil {
			var parts []string
			if m.Months > 0 {
				parts = append(parts, plural(m.Months, "month")+" written from "+plural(m.Twins, "twin"))
			}
			if m.Deferred > 0 {
				parts = append(parts, plural(m.Deferred, "month")+" left for a later run (new twins under an eighth of the month's file)")
			}
			fmt.Fprintf(tw, "monthly rollup\t%s\n", strings.Join(parts, "; "))
		}
		fmt.Fprintf(tw, "time\t%.2fs (%.0f records/s)\n", s.Seconds, s.RecordsPerSecond)
		for _, k := range sortedKeys(s.SkippedObjects) {
			fmt.Fprintf(tw, "skipped objects: %s\t%d\n", k, s.SkippedObjects[k])
		}
		for _, k := range sortedKeys(s.RejectedRecords) {
			fmt.Fprintf(tw, "rejected records: %s\t%d\n", k, s.RejectedRecords[k])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(s.Skipped) > 0 {
			fmt.Fprintln(w, "\nskipped by name:")
			for _, p := range s.Skipped {
				fmt.Fprintf(w, "  %s: %s\n", p.Object, p.Reason)
			}
			if s.SkippedOmitted > 0 {
				fmt.Fprintf(w, "  … and %d more (see --format json)\n", s.SkippedOmitted)
			}
		}
		if len(s.Problems) > 0 {
			fmt.Fprintln(w, "\nproblems:")
			for _, p := range s.Problems {
				fmt.Fprintf(w, "  %s: %s", p.Object, p.Reason)
				if p.Detail != "" {
					fmt.Fprintf(w, " (%s)", p.Detail)
				}
				fmt.Fprintln(w)
			}
			if s.ProblemsOmitted > 0 {
				fmt.Fprintf(w, "  … and %d more (see --format json)\n", s.ProblemsOmitted)
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
