package athena

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/ingest/columns"
)

// The SQL the engine sends: one SELECT over the rollup table that sums the
// rows of each date sharing a key and returns rows of columns.RollupRow's
// shape. It keeps to what Trino (Athena engine version 3) and DuckDB both
// run the same way (docs/scale.md lists the constructs and why), so that
// the test suite runs the very same string on DuckDB over the Parquet files
// ingest writes. The one thing that differs between the two is the table:
// an Athena table name, or DuckDB's read_parquet(…) of the store's folder,
// passed in as from.

// rollupColumn is one column of the result: the SQL that computes it and
// the RollupRow field it fills.
type rollupColumn struct {
	name  string // the Parquet column
	field int    // index in RollupRow
	kind  colKind
}

type colKind int

const (
	keyString colKind = iota // grouped, returned as is
	keyList                  // grouped, returned as JSON
	sumInt                   // summed
	minTime                  // earliest, in Unix milliseconds
	maxTime                  // latest, in Unix milliseconds
)

// rollupColumns derives the result's columns from columns.RollupRow, the
// one declaration of the rollup's schema: every string and list is part
// of the key, the counts are summed, first_seen is the earliest and
// last_seen the latest.
var rollupColumns = sync.OnceValue(func() []rollupColumn {
	t := reflect.TypeFor[columns.RollupRow]()
	var out []rollupColumn
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("parquet"), ",")
		c := rollupColumn{name: tag[0], field: i}
		switch {
		case f.Type.Kind() == reflect.String:
			c.kind = keyString
		case f.Type.Kind() == reflect.Slice:
			c.kind = keyList
		case f.Type.Kind() == reflect.Int64 && hasOpt(tag, "timestamp(millisecond)"):
			switch c.name {
			case columns.FirstSeen:
				c.kind = minTime
			case columns.LastSeen:
				c.kind = maxTime
			default:
				panic("athena: no aggregate for the rollup's time column " + c.name)
			}
		case f.Type.Kind() == reflect.Int64:
			c.kind = sumInt
		default:
			panic("athena: no SQL for the rollup's column " + c.name + " of type " + f.Type.String())
		}
		out = append(out, c)
	}
	return out
})

func hasOpt(tag []string, opt string) bool {
	for _, o := range tag[1:] {
		if o == opt {
			return true
		}
	}
	return false
}

// epoch is the zero of the millisecond times: date_diff from it is the
// same number in Trino (timestamp columns) and DuckDB (timestamptz, with
// the session in UTC).
const epoch = "TIMESTAMP '1970-01-01 00:00:00'"

// quoteIdent quotes a column name as both engines read it.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quote is a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func inList(col string, values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = quote(v)
	}
	return quoteIdent(col) + " IN (" + strings.Join(q, ", ") + ")"
}

// RollupSQL is the query of the rollup rows of q's window (whole days),
// accounts and principals, and of the facets given (all when none), from
// the table from. accounts, when q names none, are the partitions to read
// (every account of the store: a table whose accounts are injected needs
// them named; empty reads every partition).
func RollupSQL(from string, q analyzer.RollupQuery, facets []string, accounts []string) string {
	var sel, group []string
	for _, c := range rollupColumns() {
		id := quoteIdent(c.name)
		switch c.kind {
		case keyString:
			sel = append(sel, id)
			group = append(group, id)
		case keyList:
			// Nested values come back from Athena as text in no standard
			// form; as JSON, in both engines.
			sel = append(sel, "CAST("+id+" AS JSON) AS "+quoteIdent(c.name+"_json"))
			group = append(group, id)
		case sumInt:
			sel = append(sel, "CAST(SUM("+id+") AS BIGINT) AS "+id)
		case minTime:
			sel = append(sel, "date_diff('millisecond', "+epoch+", MIN("+id+")) AS "+id)
		case maxTime:
			sel = append(sel, "date_diff('millisecond', "+epoch+", MAX("+id+")) AS "+id)
		}
	}
	var where []string
	if !q.From.IsZero() {
		where = append(where, quoteIdent("date")+" >= "+quote(q.From.UTC().Format(time.DateOnly)))
	}
	if !q.To.IsZero() {
		where = append(where, quoteIdent("date")+" <= "+quote(q.To.UTC().Format(time.DateOnly)))
	}
	switch {
	case len(q.Accounts) > 0:
		where = append(where, inList("account", q.Accounts))
	case len(accounts) > 0:
		where = append(where, inList("account", accounts))
	}
	if len(facets) > 0 {
		where = append(where, inList(columns.Facet, facets))
	}
	if len(q.Principals) > 0 {
		where = append(where, inList(columns.PrincipalARN, q.Principals))
	}
	var b strings.Builder
	b.WriteString("SELECT " + strings.Join(sel, ", ") + "\nFROM " + from)
	if len(where) > 0 {
		b.WriteString("\nWHERE " + strings.Join(where, "\n  AND "))
	}
	// The date keeps each day's rows apart: the readers count days from
	// a row's first and last time.
	b.WriteString("\nGROUP BY " + quoteIdent("date") + ", " + strings.Join(group, ", "))
	return b.String()
}

// resultHeader is the first row of the first page of a SELECT's results
// in Athena: the column labels.
func resultHeader() []string {
	var h []string
	for _, c := range rollupColumns() {
		if c.kind == keyList {
			h = append(h, c.name+"_json")
		} else {
			h = append(h, c.name)
		}
	}
	return h
}

// decodeRow fills r from one result row (nil for NULL, which the rollup
// writes for an empty string).
func decodeRow(vals []*string, r *columns.RollupRow) error {
	cols := rollupColumns()
	if len(vals) != len(cols) {
		return fmt.Errorf("a result row of %d columns, want %d", len(vals), len(cols))
	}
	*r = columns.RollupRow{}
	v := reflect.ValueOf(r).Elem()
	for i, c := range cols {
		if vals[i] == nil {
			if c.kind != keyString && c.kind != keyList {
				return fmt.Errorf("column %s: null", c.name)
			}
			continue
		}
		s := *vals[i]
		f := v.Field(c.field)
		switch c.kind {
		case keyString:
			f.SetString(s)
		case keyList:
			if err := decodeList(s, f); err != nil {
				return fmt.Errorf("column %s: %w", c.name, err)
			}
		default:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("column %s: %w", c.name, err)
			}
			f.SetInt(n)
		}
	}
	return nil
}

// decodeList decodes a JSON array of structs into the slice f. Each
// element may be an object (DuckDB, and Trino for a row with field names)
// or an array of the fields in order (Trino's older cast of a row).
func decodeList(s string, f reflect.Value) error {
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(s), &elems); err != nil {
		return err
	}
	if len(elems) == 0 {
		return nil
	}
	et := f.Type().Elem()
	out := reflect.MakeSlice(f.Type(), len(elems), len(elems))
	for i, raw := range elems {
		var obj map[string]*string
		var arr []*string
		el := out.Index(i)
		if err := json.Unmarshal(raw, &obj); err == nil {
			for j := range et.NumField() {
				name := strings.Split(et.Field(j).Tag.Get("parquet"), ",")[0]
				if p := obj[name]; p != nil {
					el.Field(j).SetString(*p)
				}
			}
		} else if err := json.Unmarshal(raw, &arr); err == nil && len(arr) == et.NumField() {
			for j, p := range arr {
				if p != nil {
					el.Field(j).SetString(*p)
				}
			}
		} else {
			return fmt.Errorf("element %d: not an object or array of %d strings: %s", i, et.NumField(), raw)
		}
	}
	f.Set(out)
	return nil
}
