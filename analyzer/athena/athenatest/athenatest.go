// Package athenatest is Athena for tests: DuckDB (through its Node API,
// the one DuckDB client installable here) runs the SQL, and Server answers
// Athena's JSON protocol with it, so that a command run with --engine
// athena is tested end to end without AWS.
package athenatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// DuckDBDir is the folder whose node_modules holds @duckdb/node-api:
// $IAMLENS_DUCKDB_DIR (scripts/test.sh installs it and sets it), else the
// folders scripts/test.sh and bench/compare.sh install it into. The test
// skips, saying why, when node or the package is absent.
func DuckDBDir(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the SQL is not run on DuckDB (scripts/test.sh installs what it needs)")
	}
	root := ingesttest.RepoRoot(t)
	for _, d := range []string{os.Getenv("IAMLENS_DUCKDB_DIR"), filepath.Join(root, ".cache", "duckdb"), filepath.Join(root, "bench", "out", "duckdb")} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "node_modules", "@duckdb", "node-api", "package.json")); err == nil {
			return d
		}
	}
	t.Skip("@duckdb/node-api is not installed (IAMLENS_DUCKDB_DIR unset, none in .cache/duckdb): the SQL is not run on DuckDB; scripts/test.sh installs it")
	return ""
}

// runner reads one SQL query on stdin and prints its column names and rows
// as JSON, every value text or null: as Athena's GetQueryResults gives
// them (VarCharValue).
const runner = `import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(process.env.IAMLENS_DUCKDB_DIR + '/');
const { DuckDBInstance } = require('@duckdb/node-api');
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await db.connect();
const r = await conn.runAndReadAll(readFileSync(0, 'utf8'));
const rows = r.getRowsJson().map(row => row.map(v => v === null ? null : (typeof v === 'string' ? v : JSON.stringify(v))));
process.stdout.write(JSON.stringify({ columns: r.columnNames(), rows }));
`

// DuckDB runs SQL through node.
type DuckDB struct {
	dir, script string
	mu          sync.Mutex
	queries     []string
}

// NewDuckDB returns a runner, or skips the test (DuckDBDir).
func NewDuckDB(t testing.TB) *DuckDB {
	dir := DuckDBDir(t)
	script := filepath.Join(t.TempDir(), "run.mjs")
	if err := os.WriteFile(script, []byte(runner), 0o600); err != nil {
		t.Fatal(err)
	}
	return &DuckDB{dir: dir, script: script}
}

// Query runs sql and returns the result's column names and rows (nil for
// NULL); err carries DuckDB's message.
func (d *DuckDB) Query(sql string) (columns []string, rows [][]*string, err error) {
	d.mu.Lock()
	d.queries = append(d.queries, sql)
	d.mu.Unlock()
	cmd := exec.Command("node", d.script)
	cmd.Env = append(os.Environ(), "IAMLENS_DUCKDB_DIR="+d.dir)
	cmd.Stdin = strings.NewReader(sql)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if i := strings.Index(msg, "Error: "); i >= 0 {
			msg = msg[i:]
		}
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return nil, nil, fmt.Errorf("duckdb: %v: %s", err, msg)
	}
	var res struct {
		Columns []string    `json:"columns"`
		Rows    [][]*string `json:"rows"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, nil, err
	}
	return res.Columns, res.Rows, nil
}

// Queries are the SQL strings run, in order.
func (d *DuckDB) Queries() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.queries...)
}

// RollupTable is the DuckDB table of a store's usage rollup under root (a
// folder): its Hive partitions as text, as Athena's partition columns are
// strings (DuckDB would otherwise make the accounts numbers).
func RollupTable(rollupDir string) string {
	return "read_parquet('" + strings.ReplaceAll(filepath.ToSlash(rollupDir), "'", "''") + "/*/*/*.parquet'" +
		", hive_partitioning = true, hive_types = {'account': VARCHAR, 'date': VARCHAR})"
}

// Server answers Athena's JSON protocol (POST /, X-Amz-Target
// AmazonAthena.<operation>) by running each query on DuckDB, with the
// Athena table names of Tables replaced by their DuckDB tables. A query
// DuckDB refuses is FAILED with its message as the StateChangeReason.
type Server struct {
	URL    string
	DB     *DuckDB
	Tables map[string]string // `"db"."table"` → DuckDB table

	mu      sync.Mutex
	results map[string]*result
	// Started are the StartQueryExecution requests' bodies.
	Started []map[string]any
}

type result struct {
	columns []string
	rows    [][]*string
	err     error
}

// PageSize is the rows of a GetQueryResults page (Athena's maximum).
const PageSize = 1000

// NewServer starts a Server, closed when the test ends.
func NewServer(t testing.TB, db *DuckDB, tables map[string]string) *Server {
	s := &Server{DB: db, Tables: tables, results: map[string]*result{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonAthena.")
	var in map[string]any
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if err := json.Unmarshal(body, &in); err != nil || r.Method != http.MethodPost {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"__type": "InvalidRequestException", "Message": "not a JSON request"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := in["QueryExecutionId"].(string)
	var out any
	switch op {
	case "StartQueryExecution":
		s.Started = append(s.Started, in)
		sql, _ := in["QueryString"].(string)
		for name, table := range s.Tables {
			sql = strings.ReplaceAll(sql, name, table)
		}
		res := &result{}
		res.columns, res.rows, res.err = s.DB.Query(sql)
		id = "q-" + strconv.Itoa(len(s.Started))
		s.results[id] = res
		out = map[string]any{"QueryExecutionId": id}
	case "GetQueryExecution":
		res := s.results[id]
		if res == nil {
			w.WriteHeader(http.StatusBadRequest)
			out = map[string]any{"__type": "InvalidRequestException", "Message": "QueryExecution " + id + " was not found"}
			break
		}
		status := map[string]any{"State": "SUCCEEDED"}
		if res.err != nil {
			status = map[string]any{"State": "FAILED", "StateChangeReason": res.err.Error()}
		}
		out = map[string]any{"QueryExecution": map[string]any{"QueryExecutionId": id, "Status": status,
			"Statistics": map[string]any{"DataScannedInBytes": 1 << 20}}}
	case "GetQueryResults":
		res := s.results[id]
		if res == nil || res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			out = map[string]any{"__type": "InvalidRequestException", "Message": "query " + id + " has no results"}
			break
		}
		start := 0
		if tok, _ := in["NextToken"].(string); tok != "" {
			start, _ = strconv.Atoi(tok)
		}
		var rows []any
		if start == 0 { // the header row, first page only
			var data []any
			for _, c := range res.columns {
				data = append(data, map[string]any{"VarCharValue": c})
			}
			rows = append(rows, map[string]any{"Data": data})
		}
		end := min(start+PageSize-len(rows), len(res.rows))
		for _, vals := range res.rows[start:end] {
			var data []any
			for _, v := range vals {
				if v == nil {
					data = append(data, map[string]any{})
				} else {
					data = append(data, map[string]any{"VarCharValue": *v})
				}
			}
			rows = append(rows, map[string]any{"Data": data})
		}
		page := map[string]any{"ResultSet": map[string]any{"Rows": rows}}
		if end < len(res.rows) {
			page["NextToken"] = strconv.Itoa(end)
		}
		out = page
	case "StopQueryExecution":
		out = map[string]any{}
	default:
		w.WriteHeader(http.StatusBadRequest)
		out = map[string]any{"__type": "InvalidRequestException", "Message": "unknown operation " + op}
	}
	_ = json.NewEncoder(w).Encode(out)
}
