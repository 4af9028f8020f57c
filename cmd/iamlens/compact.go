package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/ingest/store/s3store"
)

type compactOptions struct {
	Store      string
	Accounts   []string
	From, To   string
	MinFiles   int
	TargetRows int64
	Grace      time.Duration
	NoMonthly  bool
	Format     string
	Now        func() time.Time
	Stdout     io.Writer
	Stderr     io.Writer
}

func newCompactCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &compactOptions{}
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "Rewrite the dataset's many small files into few large ones",
		Long: `Rewrite each (account, day) partition of the dataset under --store that holds at
least --min-files events files into few large files (up to --target-rows rows
each), with their usage rollup, in one commit per partition: readers see the old
files up to the commit and the new ones from it on, never both, and each event
stays stored once. Many writers (shards, an organization trail's batches that
touch hundreds of accounts each, a day ingested hour by hour) leave many small
files, and every reader pays for each: a footer, an index, on S3 a request or
more, in Athena a split.

Ingest compacts the partitions it wrote that hold more than --compact-files
files (64 by default) at the end of its run, so this command is for a store
written otherwise, or for other thresholds. It may run while ingests write:
a partition another writer compacted first is left to it. Replaced files are
removed by a later compaction once --grace has passed (readers that listed them
before the commit may still be reading them).

It then writes the monthly rollup: each account's month of usage rollup files
summed into one (STORE/rollup_month/), which analyze --all, diff --all,
principals and analyze --principal read instead of the month's many files, with
the same answers (--no-monthly leaves it). Once a store has it, ingest keeps it
current.`,
		Example: `  iamlens ingest testdata/sample --store /tmp/sample-store
  iamlens compact --store /tmp/sample-store
  iamlens compact --store /tmp/sample-store --min-files 2 --format json

  # the events only, without the monthly rollup
  iamlens compact --store /tmp/sample-store --no-monthly

  # template: one account's November on S3
  iamlens compact --store s3://my-dataset/iamlens --account 123456789012 --from 2026-11-01 --to 2026-11-30`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Store, o.Now = g.Store, env.Now
			o.Stdout, o.Stderr = env.Stdout, env.Stderr
			return runCompact(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Accounts, "account", nil, "only these accounts' partitions (repeatable, comma-separated)")
	f.StringVar(&o.From, "from", "", "first day, YYYY-MM-DD")
	f.StringVar(&o.To, "to", "", "last day, YYYY-MM-DD, inclusive")
	f.IntVar(&o.MinFiles, "min-files", 2, "compact a partition holding at least this many events files")
	f.Int64Var(&o.TargetRows, "target-rows", 1<<18, "most rows of a file written")
	f.DurationVar(&o.Grace, "grace", time.Hour, "remove files replaced by a compaction this long ago")
	f.BoolVar(&o.NoMonthly, "no-monthly", false, "do not write the monthly rollup")
	f.StringVar(&o.Format, "format", "table", "output format: table or json")
	completeValues(cmd, "format", "table", "json")
	completeAccounts(cmd)
	return cmd
}

func runCompact(ctx context.Context, o *compactOptions) error {
	if o.Format != "table" && o.Format != "json" {
		return usageErrorf("", "--format must be table or json, not %q", o.Format)
	}
	if o.MinFiles < 2 {
		return usageErrorf("", "--min-files must be at least 2, not %d", o.MinFiles)
	}
	if o.TargetRows < 1 {
		return usageErrorf("", "--target-rows must be at least 1, not %d", o.TargetRows)
	}
	if o.Grace < 0 {
		return usageErrorf("", "--grace must not be negative, not %s", o.Grace)
	}
	from, to, err := parseRange(o.From, o.To)
	if err != nil {
		return err
	}
	st, err := openStoreForRead(ctx, o.Store)
	if err != nil {
		return err
	}
	if o.Now != nil {
		st.Now = o.Now
	}
	stats, err := st.Compact(ctx, store.CompactOptions{Accounts: o.Accounts, From: from, To: to,
		MinFiles: o.MinFiles, TargetRows: o.TargetRows, Grace: storeGrace(o.Grace)})
	if err != nil {
		return fmt.Errorf("compact %s: %w", o.Store, err)
	}
	sum := compactSummary{Store: st.Root, CompactStats: stats}
	if !o.NoMonthly {
		// A store whose rollup lacks twins gets no monthly rollup: its
		// readers build the twins first.
		start := time.Now()
		ms, err := st.MergeRollup(ctx, store.MergeOptions{Accounts: o.Accounts, Now: o.Now, Grace: storeGrace(o.Grace)})
		switch {
		case errors.Is(err, store.ErrRollupIncomplete):
		case err != nil:
			return fmt.Errorf("compact %s: the monthly rollup: %w", o.Store, err)
		default:
			sum.Monthly = &monthlySummary{MergeStats: ms, Seconds: time.Since(start).Seconds()}
		}
	}
	sum.Requests = storeRequests(ctx)
	if o.Format == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s\n", sum.Store)
	fmt.Fprintf(tw, "partitions compacted\t%d of %d\n", stats.Partitions, stats.PartitionsSeen)
	fmt.Fprintf(tw, "events files\t%d → %d\n", stats.FilesBefore, stats.FilesAfter)
	fmt.Fprintf(tw, "bytes\t%s → %s\n", humanBytes(stats.BytesBefore), humanBytes(stats.BytesAfter))
	fmt.Fprintf(tw, "rows rewritten\t%d\n", stats.Rows)
	if stats.Conflicts > 0 {
		fmt.Fprintf(tw, "left to another writer\t%s\n", plural(stats.Conflicts, "partition"))
	}
	fmt.Fprintf(tw, "replaced files removed\t%d (%d kept for --grace)\n", stats.ReplacedRemoved, stats.ReplacedRetained)
	switch m := sum.Monthly; {
	case m == nil:
	case m.Months == 0:
		fmt.Fprintf(tw, "monthly rollup\tup to date\n")
	default:
		fmt.Fprintf(tw, "monthly rollup\t%s written from %s, %d → %d rows (%.2fs)\n", plural(m.Months, "month"),
			plural(m.Twins, "twin"), m.RowsRead, m.RowsWritten, m.Seconds)
	}
	if m := sum.Monthly; m != nil && m.Removed > 0 {
		fmt.Fprintf(tw, "replaced monthly files removed\t%d\n", m.Removed)
	}
	if m := sum.Monthly; m != nil && m.Damaged > 0 {
		fmt.Fprintf(tw, "damaged monthly files\t%d (their months written again from the rollup files)\n", m.Damaged)
	}
	if stats.OrphansRemoved > 0 {
		fmt.Fprintf(tw, "uncommitted files removed\t%d\n", stats.OrphansRemoved)
	}
	if r := sum.Requests; r != nil {
		fmt.Fprintf(tw, "store requests\t%d LIST, %d GET, %d PUT, %d DELETE\n", r.Lists, r.Gets, r.Puts, r.Deletes)
	}
	fmt.Fprintf(tw, "time\t%.2fs\n", stats.Seconds)
	return tw.Flush()
}

// compactSummary is what compact prints.
type compactSummary struct {
	Store string `json:"store"`
	store.CompactStats
	Monthly  *monthlySummary `json:"monthly_rollup,omitempty"`
	Requests *s3store.Stats  `json:"store_requests,omitempty"`
}

// monthlySummary is what compact says of the monthly rollup it wrote.
type monthlySummary struct {
	store.MergeStats
	Seconds float64 `json:"seconds"`
}

// storeGrace is --grace as store.CompactOptions takes it: 0s removes the
// replaced files at once (the store's zero means its default).
func storeGrace(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
