package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/explain"
)

type explainOptions struct {
	Inputs     []string
	Store      string
	Format     string
	Principals []string
	EventIDs   []string
	From, To   string
	MaxFileMB  int64
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	// Mapper maps calls; nil loads the IAM catalogue with LoadCatalog.
	Mapper      explain.Mapper
	LoadCatalog func() (*catalog.Catalog, error)
	// Width is the terminal's width for the table (0: no limit).
	Width int
}

func newExplainCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain [LOGS...]",
		Short: "Show, record by record, the principal, actions and resources iamlens derives",
		Long: `Show how iamlens reads each CloudTrail record: its event ID and time, the
principal it is attributed to (ARN and kind), the call (eventSource:eventName),
the mapper's status, the IAM actions with the resource ARNs derived for each,
actions the call probably needed that CloudTrail never shows, or the reason
nothing was derived.

LOGS are CloudTrail log files, folders of them, or - for standard input. A file
named on its own is read by its content: a {"Records":[...]} log, a bare array
of records, records one a line, or one record, gzipped or not. In a folder,
*.json and *.json.gz files are read and one that cannot be read is skipped and
counted. With no LOGS, the dataset under --store is read.

--principal takes a full ARN, a user or role name, or a glob over either
(repeatable), as analyze does; one that matches nobody exits 2 with the
principals whose names come close. Narrow further with --event-id, --from and
--to.

Run it when a line of a generated policy surprises you.`,
		Example: `  # how every record of the bundled sample was read
  iamlens explain testdata/sample

  # why does the policy of this user hold s3:GetBucketAcl? (from the dataset)
  iamlens ingest testdata/sample
  iamlens explain --principal benjamin --format json

  # one event, by its ID
  iamlens explain testdata/sample --event-id 3bcc9d61-5936-429a-8b49-d5cb8e7b0e06

  # records on standard input (a log, an array, one a line, or one record)
  iamlens explain - < testdata/explain/mixed.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Inputs = args
			o.Store = g.Store
			o.Stdin, o.Stdout, o.Stderr = env.Stdin, env.Stdout, env.Stderr
			o.LoadCatalog, o.Width = env.LoadCatalog, env.Width
			return runExplain(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Principals, "principal", nil, "principal ARN, user or role name, or glob (repeatable, comma-separated)")
	f.StringSliceVar(&o.EventIDs, "event-id", nil, "only these event IDs (repeatable)")
	f.StringVar(&o.From, "from", "", "first day, YYYY-MM-DD (or RFC 3339)")
	f.StringVar(&o.To, "to", "", "last day, YYYY-MM-DD, inclusive (or RFC 3339)")
	f.Int64Var(&o.MaxFileMB, "max-file-mb", 256, "reject a log file larger than this once decompressed, in MiB")
	f.StringVar(&o.Format, "format", "table", "output format: table, or json (one JSON object per line)")
	completeValues(cmd, "format", "table", "json")
	completePrincipals(cmd)
	return cmd
}

func runExplain(ctx context.Context, o *explainOptions) error {
	if o.Format != "table" && o.Format != "json" {
		return usageErrorf("", "--format must be table or json, not %q", o.Format)
	}
	if o.MaxFileMB <= 0 {
		return usageErrorf("", "--max-file-mb must be at least 1, not %d", o.MaxFileMB)
	}
	from, to, err := parseRange(o.From, o.To)
	if err != nil {
		return err
	}
	m := o.Mapper
	if m == nil {
		load := o.LoadCatalog
		if load == nil {
			load = catalog.Load
		}
		cat, err := load()
		if err != nil {
			return fmt.Errorf("explain needs the IAM catalogue, which did not load: %w", err)
		}
		m = actionmap.New(cat)
	}
	w := newExplainWriter(o.Stdout, o.Format)
	w.width = o.Width
	flt := explain.Filter{Principals: o.Principals, EventIDs: o.EventIDs, From: from, To: to}
	opts := explain.Options{Mapper: m, MaxFileBytes: o.MaxFileMB << 20, Stdin: o.Stdin}
	var stats explain.Stats
	if len(o.Inputs) == 0 {
		st, oerr := openStoreForRead(ctx, o.Store)
		if oerr != nil {
			return oerr
		}
		stats, err = explain.Dataset(ctx, st, flt, opts, w.write)
	} else {
		stats, err = explain.Files(ctx, o.Inputs, flt, opts, w.write)
	}
	for _, b := range stats.BadFiles {
		fmt.Fprintf(o.Stderr, "iamlens: skipped %s: %s\n", b.File, b.Reason)
	}
	if n := len(stats.BadFiles); n > 0 {
		fmt.Fprintf(o.Stderr, "iamlens: %s could not be read and %s skipped\n", plural(n, "file"), wasWere(n))
	}
	var nf *analyzer.NotFoundError
	var ie *explain.InputError
	switch {
	case errors.As(err, &nf) && len(o.Inputs) == 0:
		return notFoundUsage(nf, fmt.Sprintf("no events of principal %q in the dataset at %s", nf.Principal, o.Store),
			"Run 'iamlens principals' to list who is in the dataset.")
	case errors.As(err, &nf):
		return notFoundUsage(nf, fmt.Sprintf("no records of principal %q in %s", nf.Principal, strings.Join(o.Inputs, ", ")),
			"Run 'iamlens explain' on them without --principal to see who is there.")
	case errors.As(err, &ie):
		return usageErrorf("Give CloudTrail log files, folders of them, or - for standard input.", "%v", ie)
	case err != nil:
		return err
	}
	if stats.Explained == 0 {
		fmt.Fprintf(o.Stderr, "iamlens: no records match (%s read)\n", plural(stats.Records, "record"))
	}
	return nil
}

// explainWriter renders explanations as blocks of a two-column table, or
// as JSON lines.
type explainWriter struct {
	w      io.Writer
	format string
	enc    *json.Encoder
	n      int
	// width, when set, lists an action's resources one a line, at most
	// five (the JSON lines hold them all).
	width int
}

func newExplainWriter(w io.Writer, format string) *explainWriter {
	ew := &explainWriter{w: w, format: format}
	if format == "json" {
		ew.enc = json.NewEncoder(w)
		ew.enc.SetEscapeHTML(false)
	}
	return ew
}

func (ew *explainWriter) write(e *explain.Explanation) error {
	ew.n++
	if ew.enc != nil {
		return ew.enc.Encode(e)
	}
	if ew.n > 1 {
		fmt.Fprintln(ew.w)
	}
	tw := tabwriter.NewWriter(ew.w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("event", strings.TrimSpace(e.EventID+"  "+e.EventTime))
	if e.Source != "" {
		row("source", e.Source)
	}
	principal := principalName(e.Principal) + " (" + e.PrincipalKind + ")"
	if e.InvokedBy != "" && e.InvokedBy != e.Principal {
		principal += ", invoked by " + e.InvokedBy
	}
	if e.AssumesRole != "" {
		principal += ", assuming " + e.AssumesRole
	}
	if e.CrossAccount {
		principal += ", cross-account"
	}
	row("principal", principal)
	call := e.Event
	if e.ErrorCode != "" {
		call += "  (error " + e.ErrorCode + ")"
	}
	row("call", call)
	row("status", e.Status)
	for _, a := range e.Actions {
		res := strings.Join(a.Resources, ", ")
		if res == "" {
			res = "(no resource derived)"
		}
		if ew.width > 0 && len(a.Resources) > 1 {
			// At a terminal, one resource a line under the action.
			const most = 5
			row("action", a.Action+"  "+a.Resources[0])
			for i, r := range a.Resources[1:] {
				if i == most-1 {
					row("", fmt.Sprintf("  … +%d more (--format json lists all)", len(a.Resources)-most))
					break
				}
				row("", "  "+r)
			}
			if a.Note != "" {
				row("", "  — "+a.Note)
			}
			continue
		}
		if a.Note != "" {
			res += "  — " + a.Note
		}
		row("action", a.Action+"  "+res)
	}
	if len(e.NotObservable) > 0 {
		row("not observable", strings.Join(e.NotObservable, ", "))
	}
	if e.Reason != "" {
		row("reason", e.Reason)
	}
	return tw.Flush()
}
