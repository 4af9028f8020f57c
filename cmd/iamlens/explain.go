package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// callMapper is what explain needs of actionmap.Mapper (tests pass a fake).
type callMapper interface {
	Map(c *actionmap.Call) actionmap.Result
}

type explainOptions struct {
	Inputs     []string
	Store      string
	Format     string
	Principals []string
	EventIDs   []string
	From, To   string
	MaxFileMB  int64
	Stdout     io.Writer
	Stderr     io.Writer
	// Mapper maps calls; nil loads the embedded catalogue.
	Mapper callMapper
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

LOGS are CloudTrail log files or folders of them (*.json.gz, *.json with a
{"Records":[...]} wrapper; a single file may also hold a bare array of records
or one record). With no LOGS, the dataset under --store is read; narrow it with
--principal, --event-id, --from and --to.

Run it when a line of a generated policy surprises you.`,
		Example: `  # why does the policy of this role hold s3:GetObject?
  iamlens explain --principal arn:aws:iam::123456789012:role/app --from 2026-11-01

  # one event, as JSON lines
  iamlens explain --event-id 3bcc9d61-5936-429a-8b49-d5cb8e7b0e06 --format json

  # a log file straight from the bucket, without ingesting it
  iamlens explain 123456789012_CloudTrail_us-east-1_20261101T0000Z_abc.json.gz`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Inputs = args
			o.Store = g.Store
			o.Stdout, o.Stderr = env.Stdout, env.Stderr
			return runExplain(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Principals, "principal", nil, "only records of these principal ARNs (repeatable)")
	f.StringSliceVar(&o.EventIDs, "event-id", nil, "only these event IDs (repeatable)")
	f.StringVar(&o.From, "from", "", "first day, YYYY-MM-DD (or RFC 3339)")
	f.StringVar(&o.To, "to", "", "last day, YYYY-MM-DD, inclusive (or RFC 3339)")
	f.Int64Var(&o.MaxFileMB, "max-file-mb", 256, "reject a log file larger than this once decompressed")
	f.StringVar(&o.Format, "format", "table", "output format: table, or json (one JSON object per line)")
	return cmd
}

// explainFilter selects records; zero values mean "all".
type explainFilter struct {
	principals, eventIDs []string
	from, to             int64 // Unix ms; to is inclusive
}

func (f *explainFilter) keep(eventID, principal string, t int64) bool {
	return (len(f.eventIDs) == 0 || slices.Contains(f.eventIDs, eventID)) &&
		(len(f.principals) == 0 || slices.Contains(f.principals, principal)) &&
		t >= f.from && t <= f.to
}

func runExplain(ctx context.Context, o *explainOptions) error {
	if o.Format != "table" && o.Format != "json" {
		return usageErrorf("", "--format must be table or json, not %q", o.Format)
	}
	from, to, err := parseRange(o.From, o.To)
	if err != nil {
		return err
	}
	flt := &explainFilter{principals: o.Principals, eventIDs: o.EventIDs, from: minMillis, to: maxMillis}
	if !from.IsZero() {
		flt.from = from.UnixMilli()
	}
	if !to.IsZero() {
		flt.to = to.UnixMilli()
	}
	m := o.Mapper
	if m == nil {
		cat, err := catalog.Load()
		if err != nil {
			return fmt.Errorf("explain needs the IAM catalogue, which did not load: %w", err)
		}
		m = actionmap.New(cat)
	}
	w := newExplainWriter(o.Stdout, o.Format)
	n := 0
	emit := func(e *explanation) error {
		n++
		return w.write(e)
	}
	if len(o.Inputs) == 0 {
		st, err := openStoreForRead(o.Store)
		if err != nil {
			return err
		}
		q := store.Query{Principals: o.Principals, From: from, To: to}
		if err := explainDataset(ctx, st, q, flt, m, emit); err != nil {
			return err
		}
	} else {
		for _, in := range o.Inputs {
			if err := explainInput(ctx, in, o.MaxFileMB<<20, flt, m, emit); err != nil {
				return err
			}
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(o.Stderr, "iamlens: no records match")
	}
	return nil
}

const (
	minMillis = -1 << 63
	maxMillis = 1<<63 - 1
)

// explanation is what explain prints for one record (one JSON line).
type explanation struct {
	Source        string          `json:"source,omitempty"` // file the record came from
	EventID       string          `json:"event_id"`
	EventTime     string          `json:"event_time"`
	Principal     string          `json:"principal"`
	PrincipalKind string          `json:"principal_kind"`
	InvokedBy     string          `json:"invoked_by,omitempty"`
	AssumesRole   string          `json:"assumes_role,omitempty"` // web-identity and SAML: the role their session becomes
	CrossAccount  bool            `json:"cross_account,omitempty"`
	Event         string          `json:"event"` // eventSource:eventName
	ErrorCode     string          `json:"error_code,omitempty"`
	Status        string          `json:"status"`
	Actions       []explainAction `json:"actions,omitempty"`
	NotObservable []string        `json:"not_observable,omitempty"`
	Reason        string          `json:"reason,omitempty"`
}

type explainAction struct {
	Action    string   `json:"action"`
	Resources []string `json:"resources"`
	Note      string   `json:"note,omitempty"`
}

// explain maps one call and puts the answer next to the principal.
func explain(m callMapper, call *actionmap.Call, eventID string, t time.Time, p cloudtrail.Principal) *explanation {
	r := m.Map(call)
	e := &explanation{
		EventID:       eventID,
		EventTime:     t.UTC().Format(time.RFC3339),
		Principal:     p.ARN,
		PrincipalKind: p.Kind,
		InvokedBy:     p.InvokedBy,
		AssumesRole:   p.TargetRole,
		CrossAccount:  cloudtrail.IsCrossAccount(p.Account, call.RecipientAccount),
		Event:         call.EventSource + ":" + call.EventName,
		ErrorCode:     call.ErrorCode,
		Status:        string(r.Status),
		NotObservable: r.NotObservable,
		Reason:        r.Reason,
	}
	if t.IsZero() {
		e.EventTime = ""
	}
	for _, a := range r.Actions {
		res := a.Resources
		if res == nil {
			res = []string{}
		}
		e.Actions = append(e.Actions, explainAction{Action: a.Name, Resources: res, Note: a.ResourceNote})
	}
	if r.Status != actionmap.Mapped && e.Reason == "" {
		e.Reason = "the mapper gave no reason"
	}
	return e
}

// explainRecord explains one raw record, or returns nil when the filter
// drops it.
func explainRecord(m callMapper, rec gjson.Result, flt *explainFilter) *explanation {
	id := rec.Get("eventID").Str
	t, _ := columns.ParseTime(rec.Get("eventTime").Str)
	p := cloudtrail.ResolveRecord(rec)
	ms := int64(0)
	if !t.IsZero() {
		ms = t.UnixMilli()
	}
	if !flt.keep(id, p.ARN, ms) {
		return nil
	}
	call := actionmap.CallFromRecord(rec)
	p.ARN, p.InvokedBy, p.TargetRole = strings.Clone(p.ARN), strings.Clone(p.InvokedBy), strings.Clone(p.TargetRole)
	return explain(m, &call, strings.Clone(id), t, p)
}

// explainInput explains every record of a file or folder.
func explainInput(ctx context.Context, in string, maxBytes int64, flt *explainFilter, m callMapper, emit func(*explanation) error) error {
	d, err := source.NewDir(in)
	if err != nil {
		return usageErrorf("Give CloudTrail log files or folders of them.", "%s: %v", in, err)
	}
	single := !isDir(in)
	rd := &cloudtrail.Reader{MaxBytes: maxBytes}
	return d.Walk(ctx, source.Filter{}, func(obj source.Object) error {
		if !single && cloudtrail.Classify(obj.Key) != cloudtrail.KindLog {
			return nil
		}
		name := d.URI(obj.Key)
		f, err := d.Open(ctx, obj.Key)
		if err != nil {
			return err
		}
		data, err := rd.Read(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var ferr error
		each := func(rec gjson.Result) bool {
			e := explainRecord(m, rec, flt)
			if e == nil {
				return true
			}
			e.Source = name
			ferr = emit(e)
			return ferr == nil && ctx.Err() == nil
		}
		_, err = cloudtrail.Records(data, each)
		if errors.Is(err, cloudtrail.ErrNotLog) {
			// A single event copied from the console, or a bare array of them.
			root := gjson.ParseBytes(data)
			switch {
			case root.IsArray():
				root.ForEach(func(_, rec gjson.Result) bool { return each(rec) })
				err = nil
			case root.Get("eventID").Exists():
				each(root)
				err = nil
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if ferr != nil {
			return ferr
		}
		return ctx.Err()
	})
}

// explainRow is one event as explain reads it from the dataset: the
// columns analyze reads (among them every one actionmap.Call needs), plus the
// event's ID and the service that acted for the principal.
type explainRow struct {
	analyzer.UsageRow
	EventID   string `parquet:"event_id"`
	InvokedBy string `parquet:"invoked_by,optional"`
}

func explainDataset(ctx context.Context, st *store.Store, q store.Query, flt *explainFilter, m callMapper, emit func(*explanation) error) error {
	_, err := store.Scan(ctx, st, q, func(rows []explainRow) error {
		for i := range rows {
			r := &rows[i]
			if !flt.keep(r.EventID, r.PrincipalARN, r.EventTime) {
				continue
			}
			call := r.Call()
			p := cloudtrail.Principal{ARN: r.PrincipalARN, Kind: r.PrincipalKind, Account: r.PrincipalAccount, InvokedBy: r.InvokedBy}
			if p.Kind == cloudtrail.KindWebIdentity || p.Kind == cloudtrail.KindSAML {
				p.TargetRole = gjson.Get(call.RequestParameters, "roleArn").Str
			}
			if err := emit(explain(m, &call, r.EventID, time.UnixMilli(r.EventTime), p)); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// explainWriter renders explanations as blocks of a two-column table, or
// as JSON lines.
type explainWriter struct {
	w      io.Writer
	format string
	enc    *json.Encoder
	n      int
}

func newExplainWriter(w io.Writer, format string) *explainWriter {
	ew := &explainWriter{w: w, format: format}
	if format == "json" {
		ew.enc = json.NewEncoder(w)
		ew.enc.SetEscapeHTML(false)
	}
	return ew
}

func (ew *explainWriter) write(e *explanation) error {
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

func (ew *explainWriter) flush() error { return nil }

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
