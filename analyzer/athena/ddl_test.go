package athena

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestDDLGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accounts []string
	}{
		{"enum", []string{"111122223333", "123837392027", "unknown"}},
		{"none", nil},
	} {
		var b bytes.Buffer
		if err := WriteDDL(&b, DDLOptions{Location: "s3://example-bucket/iamlens/", Accounts: tc.accounts, FirstDay: time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "ddl-"+tc.name+".sql")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./analyzer/athena -update)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s: the DDL differs from %s (go test ./analyzer/athena -update rewrites it):\n%s", tc.name, golden, b.String())
		}
	}
}

func TestDDLAccountsInjectedPastLimit(t *testing.T) {
	accounts := make([]string, MaxEnumAccounts+1)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("%012d", i)
	}
	for _, n := range []int{MaxEnumAccounts, MaxEnumAccounts + 1} {
		var b bytes.Buffer
		if err := WriteDDL(&b, DDLOptions{Location: "s3://b/p", Accounts: accounts[:n]}); err != nil {
			t.Fatal(err)
		}
		injected := strings.Count(b.String(), "'projection.account.type'='injected'") == 2
		enum := strings.Count(b.String(), "'projection.account.type'='enum'") == 2
		if injected != (n > MaxEnumAccounts) || enum == injected || !strings.Contains(b.String(), fmt.Sprintf("%d account partition", n)) {
			t.Errorf("%d accounts: injected %v, enum %v:\n%.600s", n, injected, enum, b.String())
		}
	}
}

func TestDDLRejects(t *testing.T) {
	for _, o := range []DDLOptions{
		{Location: "/local/folder"},
		{Location: "s3://b/it's"},
		{Location: "s3://b/p", Accounts: []string{"1234,5678"}},
		{Location: "s3://b/p", Database: "Audit-DB"},
	} {
		if err := WriteDDL(&bytes.Buffer{}, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// ddlColumns parses the DDL's CREATE EXTERNAL TABLE statements: table →
// column → type.
func ddlColumns(t *testing.T, ddl string) map[string]map[string]string {
	out := map[string]map[string]string{}
	table := regexp.MustCompile("^CREATE EXTERNAL TABLE IF NOT EXISTS `[a-z_]+`\\.`([a-z_]+)` \\($")
	col := regexp.MustCompile("^  `([a-z_]+)` ([a-z<>:,_]+?),?$")
	var cur map[string]string
	for _, line := range strings.Split(ddl, "\n") {
		if m := table.FindStringSubmatch(line); m != nil {
			cur = map[string]string{}
			out[m[1]] = cur
			continue
		}
		if line == ")" {
			cur = nil
		}
		if m := col.FindStringSubmatch(line); m != nil && cur != nil {
			cur[m[1]] = m[2]
		}
	}
	return out
}

// hiveOf is the Athena type a Parquet column of a file reads as.
func hiveOf(t *testing.T, n parquet.Node) string {
	var lt format.LogicalTypeValue
	if l := n.Type().LogicalType(); l != nil {
		lt = l.Value
	}
	_, isList := lt.(*format.ListType)
	_, isString := lt.(*format.StringType)
	_, isTime := lt.(*format.TimestampType)
	_, isInt := lt.(*format.IntType)
	switch {
	case isList:
		elem := n.Fields()[0].Fields()[0] // list → element
		return "array<" + hiveOf(t, elem) + ">"
	case !n.Leaf():
		var fs []string
		for _, f := range n.Fields() {
			fs = append(fs, f.Name()+":"+hiveOf(t, f))
		}
		return "struct<" + strings.Join(fs, ",") + ">"
	case isString:
		return "string"
	case isTime:
		return "timestamp"
	case n.Type().Kind() == parquet.Boolean:
		return "boolean"
	case n.Type().Kind() == parquet.Int64 && (lt == nil || isInt):
		return "bigint"
	}
	t.Fatalf("no Athena type for Parquet column %s (%v)", n.String(), n.Type())
	return ""
}

// TestDDLMatchesFiles reads the schema of real files ingest wrote (the
// sample's) and wants every column in the DDL's table with the type
// Athena reads it as, and no column the files lack.
func TestDDLMatchesFiles(t *testing.T) {
	st := ingestDir(t, ingesttest.Sample(t))
	accounts, _ := analyzer.Accounts(st)
	var b bytes.Buffer
	if err := WriteDDL(&b, DDLOptions{Location: "s3://b/p", Accounts: accounts}); err != nil {
		t.Fatal(err)
	}
	tables := ddlColumns(t, b.String())
	files, err := st.Files(nil, time.Time{}, time.Time{})
	if err != nil || len(files) == 0 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	for _, tc := range []struct{ table, file string }{
		{EventsTable, files[0]},
		{RollupTable, st.RollupTwin(files[0])},
	} {
		cols := tables[tc.table]
		if len(cols) == 0 {
			t.Fatalf("no table %s in the DDL:\n%s", tc.table, b.String())
		}
		f, err := os.Open(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		pf, err := parquet.OpenFile(f, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		fields := pf.Schema().Fields()
		for _, fld := range fields {
			got, want := cols[fld.Name()], hiveOf(t, fld)
			if got != want {
				t.Errorf("%s.%s: the DDL says %q, the file %s holds %q", tc.table, fld.Name(), got, filepath.Base(tc.file), want)
			}
		}
		if len(fields) != len(cols) {
			t.Errorf("%s: %d columns in the DDL, %d in the file", tc.table, len(cols), len(fields))
		}
		f.Close()
	}
}
