package athena

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/iamlens/iamlens/ingest/columns"
)

// DDLOptions say what the DDL describes.
type DDLOptions struct {
	// Location is the store's root: s3://bucket/prefix (the tables are its
	// events/ and rollup/ folders).
	Location string
	// Database holds the tables (default DefaultDatabase).
	Database string
	// Accounts are the account partitions present in the store; FirstDay
	// its first date partition (the start of the projected date range).
	Accounts []string
	FirstDay time.Time
}

// MaxEnumAccounts is the most accounts the DDL enumerates in the account
// partition's projection; more are injected. Athena sets no hard limit on
// an enum but the table's metadata must stay under AWS Glue's limit of
// about 1 MB gzip-compressed, shared with the columns and the rest, and
// the documentation recommends "a few dozen or less" (docs/scale.md). A
// thousand 12-digit IDs are 13 KB of table property: within the limit with
// room to spare, and planning still cheap. Past it, the accounts are
// injected: every query must name its accounts, which `--engine athena`
// always does (it names every account of the store).
const MaxEnumAccounts = 1000

// hiveType is the Athena (Hive DDL) type of a Go field of the schema.
func hiveType(f reflect.StructField) string {
	tag := strings.Split(f.Tag.Get("parquet"), ",")
	t := f.Type
	switch {
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool, t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() == reflect.Int64 && hasOpt(tag, "timestamp(millisecond)"):
		return "timestamp"
	case t.Kind() == reflect.Int64:
		return "bigint"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		var fields []string
		for i := range t.Elem().NumField() {
			ef := t.Elem().Field(i)
			fields = append(fields, strings.Split(ef.Tag.Get("parquet"), ",")[0]+":"+hiveType(ef))
		}
		return "array<struct<" + strings.Join(fields, ",") + ">>"
	}
	panic("athena: no Athena type for " + f.Name + " of type " + t.String())
}

// tableColumns are the columns of a table whose rows are of type t (a
// struct of the schema: columns.Event, columns.RollupRow), in file order.
func tableColumns(t reflect.Type) [][2]string {
	var out [][2]string
	for i := range t.NumField() {
		f := t.Field(i)
		out = append(out, [2]string{strings.Split(f.Tag.Get("parquet"), ",")[0], hiveType(f)})
	}
	return out
}

// WriteDDL writes the CREATE EXTERNAL TABLE statements of the events and
// the usage rollup, Hive-partitioned by account and date with partition
// projection, so that no partition is ever added or repaired: dates are a
// range from the first day to NOW, accounts enumerated or injected
// (MaxEnumAccounts; a comment line says which and why).
func WriteDDL(w io.Writer, o DDLOptions) error {
	if !strings.HasPrefix(o.Location, "s3://") {
		return fmt.Errorf("the tables' location must be s3://bucket/prefix, not %q", o.Location)
	}
	if strings.ContainsAny(o.Location, "'`\\\n") {
		return fmt.Errorf("the tables' location %q holds a quote, backslash or newline", o.Location)
	}
	for _, a := range o.Accounts {
		if a == "" || strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return fmt.Errorf("account partition %q: not a name a projection can hold", a)
		}
	}
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if strings.Trim(o.Database, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return fmt.Errorf("database %q: Athena's names are lower-case letters, digits and underscores", o.Database)
	}
	root := strings.TrimSuffix(o.Location, "/")
	first := o.FirstDay
	if first.IsZero() {
		first = time.Now().UTC()
	}
	var accountsNote string
	var accountProps [][2]string
	switch {
	case len(o.Accounts) > 0 && len(o.Accounts) <= MaxEnumAccounts:
		accountsNote = fmt.Sprintf("-- accounts: enum of the %d account partition(s) in the store (at most %d are enumerated): run `iamlens athena ddl` again when accounts are added.", len(o.Accounts), MaxEnumAccounts)
		accountProps = [][2]string{{"projection.account.type", "enum"}, {"projection.account.values", strings.Join(o.Accounts, ",")}}
	case len(o.Accounts) == 0:
		accountsNote = "-- accounts: injected (the store holds no account yet): every query must name its accounts (account = '…' or account IN (…))."
		accountProps = [][2]string{{"projection.account.type", "injected"}}
	default:
		accountsNote = fmt.Sprintf("-- accounts: injected: the store holds %d account partitions, more than the %d enumerated within Athena's table-metadata limit; every query must name its accounts (account = '…' or account IN (…)), as --engine athena does.", len(o.Accounts), MaxEnumAccounts)
		accountProps = [][2]string{{"projection.account.type", "injected"}}
	}
	fmt.Fprintf(w, "-- iamlens dataset at %s: the events and the usage rollup (docs/schema.md, docs/rollup.md).\n", root)
	fmt.Fprintf(w, "-- Generated by `iamlens athena ddl` from the schema in ingest/store/schema (rollup format version %d).\n", columns.RollupVersion)
	fmt.Fprintln(w, accountsNote)
	fmt.Fprintf(w, "-- dates: a projected range from %s, the store's first day, to NOW.\n", first.Format(time.DateOnly))
	fmt.Fprintf(w, "CREATE DATABASE IF NOT EXISTS `%s`;\n", o.Database)
	for _, tb := range []struct {
		name, folder, about string
		row                 reflect.Type
	}{
		{EventsTable, "events", "one row per CloudTrail event", reflect.TypeFor[columns.Event]()},
		{RollupTable, "rollup", "the usage rollup: rows of one facet sum to the events; never add rows of different facets", reflect.TypeFor[columns.RollupRow]()},
	} {
		loc := root + "/" + tb.folder + "/"
		fmt.Fprintf(w, "\n-- %s: %s.\n", tb.name, tb.about)
		fmt.Fprintf(w, "CREATE EXTERNAL TABLE IF NOT EXISTS `%s`.`%s` (\n", o.Database, tb.name)
		cols := tableColumns(tb.row)
		for i, c := range cols {
			sep := ","
			if i == len(cols)-1 {
				sep = ""
			}
			fmt.Fprintf(w, "  `%s` %s%s\n", c[0], c[1], sep)
		}
		fmt.Fprintln(w, ")")
		fmt.Fprintln(w, "PARTITIONED BY (`account` string, `date` string)")
		fmt.Fprintln(w, "STORED AS PARQUET")
		fmt.Fprintf(w, "LOCATION '%s'\n", loc)
		props := [][2]string{{"projection.enabled", "true"}}
		props = append(props, accountProps...)
		props = append(props, [][2]string{
			{"projection.date.type", "date"},
			{"projection.date.format", "yyyy-MM-dd"},
			{"projection.date.range", first.Format(time.DateOnly) + ",NOW"},
			{"projection.date.interval", "1"},
			{"projection.date.interval.unit", "DAYS"},
			{"storage.location.template", loc + "account=${account}/date=${date}/"},
		}...)
		fmt.Fprintln(w, "TBLPROPERTIES (")
		for i, p := range props {
			sep := ","
			if i == len(props)-1 {
				sep = ""
			}
			fmt.Fprintf(w, "  '%s'='%s'%s\n", p[0], p[1], sep)
		}
		fmt.Fprintln(w, ");")
	}
	return nil
}
