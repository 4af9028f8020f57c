package athena

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/ingest/columns"
)

// fakeAthena answers Athena's JSON protocol (awsJson1_1: POST /, the
// operation in X-Amz-Target) as the service does, for one query.
type fakeAthena struct {
	t      *testing.T
	mu     sync.Mutex
	states []string // the states GetQueryExecution returns, in turn (the last repeats)
	reason string   // StateChangeReason of a FAILED query
	pages  [][][]*string
	calls  []string
	start  map[string]any // the StartQueryExecution request
	tokens []string       // the NextTokens asked for
}

func (f *fakeAthena) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AmazonAthena.")
	if r.Method != http.MethodPost || !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		f.t.Errorf("request %s %s, target %q, content type %q", r.Method, r.URL, target, r.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.t.Errorf("%s: the request is not signed", op)
	}
	var in map[string]any
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		f.t.Errorf("%s: body %q: %v", op, body, err)
	}
	f.calls = append(f.calls, op)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var out any
	switch op {
	case "StartQueryExecution":
		f.start = in
		out = map[string]any{"QueryExecutionId": "q-1"}
	case "GetQueryExecution":
		if in["QueryExecutionId"] != "q-1" {
			f.t.Errorf("GetQueryExecution of %v", in["QueryExecutionId"])
		}
		state := f.states[0]
		if len(f.states) > 1 {
			f.states = f.states[1:]
		}
		status := map[string]any{"State": state}
		if state == "FAILED" {
			status["StateChangeReason"] = f.reason
			status["AthenaError"] = map[string]any{"ErrorCategory": 2, "ErrorType": 1006, "ErrorMessage": f.reason}
		}
		out = map[string]any{"QueryExecution": map[string]any{"QueryExecutionId": "q-1", "Status": status,
			"Statistics": map[string]any{"DataScannedInBytes": 4096}}}
	case "GetQueryResults":
		tok, _ := in["NextToken"].(string)
		f.tokens = append(f.tokens, tok)
		i := 0
		if tok != "" {
			i = int(tok[len("page-")] - '0')
		}
		var rows []any
		for _, vals := range f.pages[i] {
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
		res := map[string]any{"ResultSet": map[string]any{"Rows": rows, "ResultSetMetadata": map[string]any{"ColumnInfo": []any{}}}, "UpdateCount": 0}
		if i+1 < len(f.pages) {
			res["NextToken"] = "page-" + string(rune('0'+i+1))
		}
		out = res
	case "StopQueryExecution":
		out = map[string]any{}
	default:
		w.WriteHeader(http.StatusBadRequest)
		out = map[string]any{"__type": "InvalidRequestException", "Message": "unknown operation " + op}
	}
	_ = json.NewEncoder(w).Encode(out)
}

func newFakeClient(t *testing.T, f *fakeAthena, h ...http.Handler) *athena.Client {
	var handler http.Handler = f
	if f == nil {
		handler = h[0]
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return athena.New(athena.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   srv.Client(),
	})
}

func sp(s string) *string { return &s }

// resultRow is r as Athena returns it (every value text, nil for NULL).
func resultRow(r columns.RollupRow, resources string) []*string {
	var out []*string
	v := reflect.ValueOf(r)
	for _, c := range rollupColumns() {
		f := v.Field(c.field)
		switch c.kind {
		case keyString:
			if f.String() == "" {
				out = append(out, nil)
			} else {
				out = append(out, sp(f.String()))
			}
		case keyList:
			if resources == "" {
				out = append(out, nil)
			} else {
				out = append(out, sp(resources))
			}
		default:
			out = append(out, sp(strings.TrimSpace(strings.ReplaceAll(jsonInt(f.Int()), "\n", ""))))
		}
	}
	return out
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func header() []*string {
	var h []*string
	for _, s := range resultHeader() {
		h = append(h, sp(s))
	}
	return h
}

func TestEngineAgainstAthenaProtocol(t *testing.T) {
	a := columns.RollupRow{Facet: columns.FacetCall, PrincipalARN: "arn:aws:iam::111122223333:user/alice", PrincipalKind: "user",
		Outcome: "allowed", EventSource: "s3.amazonaws.com", EventName: "GetObject", Calls: 3, MFACalls: 1, FirstSeen: 1_700_000_000_000, LastSeen: 1_700_000_360_500,
		Resources: []columns.RollupResource{{ARN: "arn:aws:s3:::b/k", Type: "AWS::S3::Object"}, {ARN: "arn:aws:s3:::b", Type: "AWS::S3::Bucket", AccountID: "111122223333"}}}
	b := columns.RollupRow{Facet: columns.FacetOrigin, PrincipalARN: "arn:aws:iam::111122223333:user/alice", Outcome: "denied", SourceIP: "198.51.100.7", Calls: 2, FirstSeen: 1_700_000_100_000, LastSeen: 1_700_000_200_000}
	c := columns.RollupRow{Facet: columns.FacetAccessKey, PrincipalARN: "arn:aws:iam::111122223333:user/bob", AccessKeyID: "AKIAEXAMPLE", Outcome: "failed", ErrorCode: "NoSuchKey", Calls: 1, FirstSeen: 5, LastSeen: 5}
	// Trino casts a row with field names to a JSON object; the positional
	// array of older engines decodes the same.
	aJSON := `[{"arn":"arn:aws:s3:::b/k","type":"AWS::S3::Object","account_id":null},["arn:aws:s3:::b","AWS::S3::Bucket","111122223333"]]`
	f := &fakeAthena{t: t, states: []string{"QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"},
		pages: [][][]*string{{header(), resultRow(a, aJSON), resultRow(b, "")}, {resultRow(c, "[]")}}}
	var slept []time.Duration
	var scanned int64
	e := New(newFakeClient(t, f), Options{Workgroup: "wg", Output: "s3://results/x/", Database: "audit", Accounts: []string{"111122223333"},
		Sleep:   func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
		Queries: func(_ string, n int64) { scanned = n }})
	q := analyzer.RollupQuery{From: time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC), To: time.Date(2023, 11, 15, 23, 59, 59, 999e6, time.UTC)}
	var got []columns.RollupRow
	var batches int
	if err := e.ReadRollup(context.Background(), q, []string{columns.FacetCall}, func(rows []columns.RollupRow) error {
		batches++
		got = append(got, rows...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []columns.RollupRow{a, b, c}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n got %+v\nwant %+v", got, want)
	}
	if batches != 2 {
		t.Errorf("%d batches, want one per page (2)", batches)
	}
	if !reflect.DeepEqual(f.tokens, []string{"", "page-1"}) {
		t.Errorf("NextTokens asked %q", f.tokens)
	}
	if !reflect.DeepEqual(slept, []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}) {
		t.Errorf("slept %v between polls (QUEUED, RUNNING, RUNNING, SUCCEEDED)", slept)
	}
	if scanned != 4096 {
		t.Errorf("scanned %d, want the statistics' 4096", scanned)
	}
	s := f.start
	wantSQL := RollupSQL(`"audit"."usage_rollup"`, q, []string{columns.FacetCall}, []string{"111122223333"})
	if s["QueryString"] != wantSQL || s["WorkGroup"] != "wg" ||
		s["QueryExecutionContext"].(map[string]any)["Database"] != "audit" ||
		s["ResultConfiguration"].(map[string]any)["OutputLocation"] != "s3://results/x/" {
		t.Errorf("StartQueryExecution %v", s)
	}
	for _, w := range []string{`"date" >= '2023-11-14'`, `"date" <= '2023-11-15'`, `"account" IN ('111122223333')`, `"facet" IN ('call')`} {
		if !strings.Contains(wantSQL, w) {
			t.Errorf("the SQL lacks %s:\n%s", w, wantSQL)
		}
	}
}

func TestEngineFailedQuery(t *testing.T) {
	f := &fakeAthena{t: t, states: []string{"RUNNING", "FAILED"}, reason: "TABLE_NOT_FOUND: line 2:6: Table 'awsdatacatalog.audit.usage_rollup' does not exist"}
	e := New(newFakeClient(t, f), Options{Database: "audit", Sleep: func(context.Context, time.Duration) error { return nil }})
	err := e.ReadRollup(context.Background(), analyzer.RollupQuery{}, nil, func([]columns.RollupRow) error {
		t.Fatal("rows of a failed query")
		return nil
	})
	var qe *QueryError
	if !errors.As(err, &qe) || qe.ID != "q-1" || !strings.Contains(err.Error(), "failed: TABLE_NOT_FOUND") || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("error %v, want the query's StateChangeReason", err)
	}
	if strings.Join(f.calls, ",") != "StartQueryExecution,GetQueryExecution,GetQueryExecution" {
		t.Errorf("calls %v: no results are read of a failed query", f.calls)
	}
}

func TestEngineCancelStopsQuery(t *testing.T) {
	f := &fakeAthena{t: t, states: []string{"RUNNING"}}
	ctx, cancel := context.WithCancel(context.Background())
	e := New(newFakeClient(t, f), Options{Sleep: func(context.Context, time.Duration) error { cancel(); return context.Canceled }})
	err := e.ReadRollup(ctx, analyzer.RollupQuery{}, nil, func([]columns.RollupRow) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
	if f.calls[len(f.calls)-1] != "StopQueryExecution" {
		t.Errorf("calls %v: a cancelled command leaves its query running", f.calls)
	}
}

func TestEngineWrongHeader(t *testing.T) {
	f := &fakeAthena{t: t, states: []string{"SUCCEEDED"}, pages: [][][]*string{{{sp("x")}}}}
	e := New(newFakeClient(t, f), Options{})
	err := e.ReadRollup(context.Background(), analyzer.RollupQuery{}, nil, func([]columns.RollupRow) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "header") {
		t.Fatalf("error %v", err)
	}
}
