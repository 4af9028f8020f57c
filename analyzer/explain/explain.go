// Package explain shows, record by record, how iamlens reads CloudTrail:
// the principal a record is attributed to, the call, and the IAM actions
// and resources the mapper derives, or why it derives none. Files reads log
// files and folders of them (or standard input); Dataset reads the events
// dataset. Both take principals as ARNs, names or globs, as analyze does.
package explain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// Mapper maps calls (*actionmap.Mapper; tests pass fakes).
type Mapper interface {
	Map(c *actionmap.Call) actionmap.Result
}

// Explanation is what explain says of one record (one JSON line).
type Explanation struct {
	Source        string   `json:"source,omitempty"` // file the record came from
	EventID       string   `json:"event_id"`
	EventTime     string   `json:"event_time"`
	Principal     string   `json:"principal"`
	PrincipalKind string   `json:"principal_kind"`
	InvokedBy     string   `json:"invoked_by,omitempty"`
	AssumesRole   string   `json:"assumes_role,omitempty"` // web-identity and SAML: the role their session becomes
	CrossAccount  bool     `json:"cross_account,omitempty"`
	Event         string   `json:"event"` // eventSource:eventName
	ErrorCode     string   `json:"error_code,omitempty"`
	Status        string   `json:"status"`
	Actions       []Action `json:"actions,omitempty"`
	NotObservable []string `json:"not_observable,omitempty"`
	Reason        string   `json:"reason,omitempty"`
}

// Action is one IAM action derived from a record, with its resources.
type Action struct {
	Action    string   `json:"action"`
	Resources []string `json:"resources"`
	Note      string   `json:"note,omitempty"`
}

// Filter selects records; zero values select all.
type Filter struct {
	// Principals are ARNs, names (a user or role name) or globs over
	// either, as in analyzer.Query.
	Principals []string
	EventIDs   []string
	// From and To bound the event time, inclusive.
	From, To time.Time
}

// Options tune Files and Dataset.
type Options struct {
	// Mapper maps calls; it is required.
	Mapper Mapper
	// MaxFileBytes caps one decompressed file (default
	// cloudtrail.DefaultMaxFileBytes).
	MaxFileBytes int64
	// Stdin is read for the input "-".
	Stdin io.Reader
}

// Stats say what was read.
type Stats struct {
	Files     int `json:"files"`     // files read
	Records   int `json:"records"`   // records read
	Explained int `json:"explained"` // records the filter kept
	// SkippedByName counts files of a folder passed over for their name.
	SkippedByName int `json:"skipped_by_name"`
	// BadFiles are the files of a folder that could not be read; a file
	// named on its own that cannot be read is an error instead.
	BadFiles []BadFile `json:"bad_files,omitempty"`
}

// BadFile is a file skipped because it could not be read as CloudTrail.
type BadFile struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// InputError is an input that does not exist or cannot be opened.
type InputError struct {
	Input string
	Err   error
}

func (e *InputError) Error() string { return e.Input + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// StdinName names standard input in messages and Explanation.Source.
const StdinName = "(standard input)"

// Files explains every record of the inputs (files, folders, or "-" for
// standard input) that f selects, calling emit in file order. A file named
// on its own is read by content (a log, a bare array of records, records
// one a line, one record); a folder's files are chosen by name (*.json,
// *.json.gz) and one that cannot be read is skipped and listed in
// Stats.BadFiles. When a principal of f matches no record read, the error
// is an *analyzer.NotFoundError naming principals that resemble it.
func Files(ctx context.Context, inputs []string, f Filter, o Options, emit func(*Explanation) error) (Stats, error) {
	var stats Stats
	if o.Mapper == nil {
		return stats, errors.New("explain: no mapper")
	}
	m := newMatcher(f)
	rd := &cloudtrail.Reader{MaxBytes: o.MaxFileBytes}
	file := func(name string, data []byte) error {
		data, _, err := cloudtrail.Normalize(data)
		if err != nil {
			return err
		}
		stats.Files++
		var ferr error
		_, err = cloudtrail.Records(data, func(rec gjson.Result) bool {
			stats.Records++
			e := m.record(o.Mapper, rec)
			if e == nil {
				return true
			}
			stats.Explained++
			e.Source = name
			ferr = emit(e)
			return ferr == nil && ctx.Err() == nil
		})
		if err != nil {
			return err
		}
		if ferr != nil {
			return &emitError{ferr}
		}
		return ctx.Err()
	}
	for _, in := range inputs {
		if in == "-" {
			if o.Stdin == nil {
				return stats, &InputError{Input: "-", Err: errors.New("no standard input")}
			}
			data, err := rd.Read(o.Stdin)
			if err == nil {
				err = file(StdinName, data)
			}
			if err != nil {
				return stats, fmt.Errorf("%s: %w", StdinName, unwrapEmit(err))
			}
			continue
		}
		st, err := os.Stat(in)
		if err != nil {
			return stats, &InputError{Input: in, Err: err}
		}
		d, err := source.NewDir(in)
		if err != nil {
			return stats, &InputError{Input: in, Err: err}
		}
		err = d.Walk(ctx, source.Filter{}, func(obj source.Object) error {
			if st.IsDir() && cloudtrail.Classify(obj.Key) != cloudtrail.KindLog {
				stats.SkippedByName++
				return nil
			}
			name := d.URI(obj.Key)
			r, err := d.Open(ctx, obj.Key)
			if err != nil {
				return err
			}
			data, err := rd.Read(r)
			r.Close()
			if err == nil {
				err = file(name, data)
			}
			var ee *emitError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &ee) || ctx.Err() != nil:
				return err
			case st.IsDir():
				stats.BadFiles = append(stats.BadFiles, BadFile{File: name, Reason: err.Error()})
				return nil
			default:
				return fmt.Errorf("%s: %w", name, err)
			}
		})
		if err != nil {
			return stats, unwrapEmit(err)
		}
	}
	return stats, m.missing()
}

// Dataset explains the records of the dataset that f selects, in the
// store's order (by partition, then principal and time). Names and globs
// are resolved against the dataset's principals (analyzer.Resolve); one
// that matches none, or an ARN without events, is an
// *analyzer.NotFoundError.
func Dataset(ctx context.Context, st *store.Store, f Filter, o Options, emit func(*Explanation) error) (Stats, error) {
	var stats Stats
	if o.Mapper == nil {
		return stats, errors.New("explain: no mapper")
	}
	q := store.Query{From: f.From, To: f.To}
	if len(f.Principals) > 0 {
		arns, _, err := analyzer.Resolve(ctx, st, analyzer.Query{Principals: f.Principals, From: f.From, To: f.To})
		if err != nil {
			return stats, err
		}
		q.Principals = arns
	}
	m := newMatcher(Filter{EventIDs: f.EventIDs, From: f.From, To: f.To})
	found := map[string]bool{}
	_, err := store.Scan(ctx, st, q, func(rows []row) error {
		for i := range rows {
			r := &rows[i]
			stats.Records++
			found[r.PrincipalARN] = true
			if !m.keep(r.EventID, "", r.EventTime) {
				continue
			}
			stats.Explained++
			call := analyzer.CallOf(&r.UsageRow)
			p := cloudtrail.Principal{ARN: r.PrincipalARN, Kind: r.PrincipalKind, Account: r.PrincipalAccount, InvokedBy: r.InvokedBy}
			if p.Kind == cloudtrail.KindWebIdentity || p.Kind == cloudtrail.KindSAML {
				p.TargetRole = gjson.Get(call.RequestParameters, "roleArn").Str
			}
			if err := emit(explain(o.Mapper, &call, r.EventID, time.UnixMilli(r.EventTime), p)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return stats, err
	}
	// Resolve found the names and globs; an ARN given in full is checked
	// here, against the rows read.
	for _, a := range q.Principals {
		if slices.Contains(f.Principals, a) && !found[a] {
			known, err := store.PrincipalARNs(ctx, st, store.Query{From: f.From, To: f.To})
			if err != nil {
				return stats, err
			}
			return stats, &analyzer.NotFoundError{Principal: a, Close: analyzer.ClosePrincipals(a, known)}
		}
	}
	return stats, nil
}

// row is one event as Dataset reads it: the columns analyze reads (among
// them every one actionmap.Call needs), plus the event's ID and the service
// that acted for the principal.
type row = store.ExplainRow

// emitError carries an error of the caller's emit through the walk.
type emitError struct{ err error }

func (e *emitError) Error() string { return e.err.Error() }
func (e *emitError) Unwrap() error { return e.err }

func unwrapEmit(err error) error {
	var ee *emitError
	if errors.As(err, &ee) {
		return ee.err
	}
	return err
}

// matcher applies a Filter to raw records and remembers, for each
// principal pattern, whether it matched, and every principal seen.
type matcher struct {
	f        Filter
	from, to int64 // Unix ms, inclusive
	matched  map[string]bool
	seen     map[string]bool
}

func newMatcher(f Filter) *matcher {
	m := &matcher{f: f, from: -1 << 63, to: 1<<63 - 1, matched: map[string]bool{}, seen: map[string]bool{}}
	if !f.From.IsZero() {
		m.from = f.From.UnixMilli()
	}
	if !f.To.IsZero() {
		m.to = f.To.UnixMilli()
	}
	return m
}

// keep applies the filter; principal is checked against the patterns
// unless it is "" (Dataset has selected the principals already).
func (m *matcher) keep(eventID, principal string, t int64) bool {
	if principal != "" || len(m.f.Principals) > 0 {
		m.seen[principal] = true
		ok := len(m.f.Principals) == 0
		for _, p := range m.f.Principals {
			if analyzer.MatchPrincipal(p, principal) {
				m.matched[p] = true
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return (len(m.f.EventIDs) == 0 || slices.Contains(m.f.EventIDs, eventID)) && t >= m.from && t <= m.to
}

// record explains one raw record, or returns nil when the filter drops it.
func (m *matcher) record(mp Mapper, rec gjson.Result) *Explanation {
	id := rec.Get("eventID").Str
	t, _ := columns.ParseTime(rec.Get("eventTime").Str)
	p := cloudtrail.ResolveRecord(rec)
	ms := int64(0)
	if !t.IsZero() {
		ms = t.UnixMilli()
	}
	if !m.keep(id, strings.Clone(p.ARN), ms) {
		return nil
	}
	call := actionmap.CallFromRecord(rec)
	p.ARN, p.InvokedBy, p.TargetRole = strings.Clone(p.ARN), strings.Clone(p.InvokedBy), strings.Clone(p.TargetRole)
	return explain(mp, &call, strings.Clone(id), t, p)
}

// missing is the first principal pattern that matched no record.
func (m *matcher) missing() error {
	for _, p := range m.f.Principals {
		if !m.matched[p] {
			known := make([]string, 0, len(m.seen))
			for a := range m.seen {
				if a != "" {
					known = append(known, a)
				}
			}
			sort.Strings(known)
			return &analyzer.NotFoundError{Principal: p, Close: analyzer.ClosePrincipals(p, known)}
		}
	}
	return nil
}

// explain maps one call and puts the answer next to the principal.
func explain(m Mapper, call *actionmap.Call, eventID string, t time.Time, p cloudtrail.Principal) *Explanation {
	r := m.Map(call)
	e := &Explanation{
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
		e.Actions = append(e.Actions, Action{Action: a.Name, Resources: res, Note: a.ResourceNote})
	}
	if r.Status != actionmap.Mapped && e.Reason == "" {
		e.Reason = "the mapper gave no reason"
	}
	return e
}
