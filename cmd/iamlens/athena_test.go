package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamlens/iamlens/analyzer"
	athenaengine "github.com/iamlens/iamlens/analyzer/athena"
	"github.com/iamlens/iamlens/analyzer/athena/athenatest"
	"github.com/iamlens/iamlens/ingest/columns"
)

func TestEngineFlags(t *testing.T) {
	st := filepath.Join(t.TempDir(), "store")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"principals", "--engine", "spark"}, `--engine must be local or athena, not "spark"`},
		{[]string{"principals", "--engine", "athena"}, "--engine athena needs --store s3://bucket/prefix"},
		{[]string{"analyze", "--all", "--engine", "athena"}, "--engine athena needs --store s3://bucket/prefix"},
		{[]string{"diff", "--all", "--gaad", "x.json", "--engine", "athena"}, "--engine athena needs --store s3://bucket/prefix"},
		{[]string{"athena", "ddl"}, "athena ddl needs --store s3://bucket/prefix"},
		{[]string{"review", "--engine", "athena"}, "--engine athena needs --store s3://bucket/prefix"},
	} {
		code, _, stderr := runCLI(t, append(tc.args, "--store", st)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	code, _, stderr := runCLI(t, "principals", "--store", "s3://b/p", "--engine", "athena", "--athena-output", "/tmp/out")
	if code != exitUsage || !strings.Contains(stderr, "--athena-output must be an s3:// location") {
		t.Errorf("exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(st); err == nil {
		t.Error("a refused command created the store")
	}
}

// TestEngineAthenaEndToEnd: the sample ingested into a store on the real
// MinIO; `athena ddl` describes it; principals and analyze --all with
// --engine athena, against athenatest's server (Athena's protocol, DuckDB
// running the SQL over the same sample's rollup), print exactly what the
// local engine prints.
func TestEngineAthenaEndToEnd(t *testing.T) {
	ep := os.Getenv("IAMLENS_MINIO_ENDPOINT")
	if ep == "" {
		t.Skip("IAMLENS_MINIO_ENDPOINT not set: run scripts/test.sh for the real S3 server")
	}
	db := athenatest.NewDuckDB(t)
	key, secret := os.Getenv("IAMLENS_MINIO_ACCESS_KEY"), os.Getenv("IAMLENS_MINIO_SECRET_KEY")
	awsEnv(t, key, secret)
	ctx := context.Background()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(ep), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	bucket := fmt.Sprintf("iamlens-athena-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	remote := "s3://" + bucket + "/iamlens"
	if code, _, stderr := runCLI(t, "ingest", "--store", remote, "--store-endpoint-url", ep, "--no-progress", sampleDir); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	local := sampleStore(t)

	code, ddl, stderr := runCLI(t, "athena", "ddl", "--store", remote, "--store-endpoint-url", ep)
	for _, want := range []string{"LOCATION '" + remote + "/rollup/'", "'projection.account.values'='123837392027'",
		"'projection.date.range'='2023-07-10,NOW'", "-- accounts: enum of the 1 account partition(s)"} {
		if code != 0 || !strings.Contains(ddl, want) {
			t.Fatalf("athena ddl: exit %d, %s, output lacks %q:\n%s", code, stderr, want, ddl)
		}
	}

	srv := athenatest.NewServer(t, db, map[string]string{`"iamlens"."usage_rollup"`: athenatest.RollupTable(filepath.Join(local, "rollup"))})
	t.Setenv("IAMLENS_ATHENA_ENDPOINT_URL", srv.URL)
	athenaArgs := []string{"--store", remote, "--store-endpoint-url", ep, "--engine", "athena", "--athena-workgroup", "wg",
		"--athena-output", "s3://results/iamlens/"}
	for _, args := range [][]string{
		{"principals", "--format", "json"},
		{"analyze", "--all", "--from", "2023-07-01", "--format", "policy"},
		{"analyze", "--principal", "benjamin", "--from", "2023-07-01", "--format", "policy"},
		{"review", "--format", "json"},
	} {
		lc, lout, lerr := runCLI(t, append(args, "--store", local)...)
		rc, rout, rerr := runCLI(t, append(args, athenaArgs...)...)
		if lc != 0 || rc != 0 || lout == "" || lout != rout {
			t.Errorf("%v: local exit %d %s, athena exit %d %s\nlocal:\n%.1500s\nathena:\n%.1500s", args, lc, lerr, rc, rerr, lout, rout)
		}
		if !strings.Contains(rerr, "athena query q-") {
			t.Errorf("%v: stderr %q does not name the query", args, rerr)
		}
	}
	code, _, stderr = runCLI(t, append([]string{"principals"}, append(athenaArgs, "--athena-database", "nosuchdb")...)...)
	if code != exitError || !strings.Contains(stderr, "failed") || !strings.Contains(stderr, "Create the tables first: iamlens athena ddl --store "+remote+" --athena-database nosuchdb") {
		t.Errorf("no table: exit %d, %q", code, stderr)
	}
	t.Setenv("AWS_REGION", "")
	if code, _, stderr := runCLI(t, append([]string{"principals"}, athenaArgs...)...); code != exitUsage || !strings.Contains(stderr, "--engine athena needs an AWS region") {
		t.Errorf("no region: exit %d, %q", code, stderr)
	}
	if len(srv.Started) == 0 {
		t.Fatal("no query reached the server")
	}
	s := srv.Started[0]
	if s["WorkGroup"] != "wg" || s["ResultConfiguration"].(map[string]any)["OutputLocation"] != "s3://results/iamlens/" ||
		s["QueryExecutionContext"].(map[string]any)["Database"] != "iamlens" {
		t.Errorf("StartQueryExecution %v", s)
	}
}

// TestAthenaErrorHints: what Athena answers to a caller without the
// permissions, or about a workgroup that does not exist, comes with what
// to do (the answers in Athena's JSON protocol).
func TestAthenaErrorHints(t *testing.T) {
	for _, tc := range []struct{ typ, msg, hint string }{
		{"AccessDeniedException", "User: arn:aws:iam::111122223333:user/x is not authorized to perform: athena:StartQueryExecution", "The caller needs athena:StartQueryExecution"},
		{"InvalidRequestException", "WorkGroup wg is not found.", "Check --athena-workgroup (wg)"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":%q,"Message":%q}`, tc.typ, tc.msg)
		}))
		client := athena.New(athena.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
		o := &engineOptions{Engine: engineAthena, Workgroup: "wg", Database: "iamlens"}
		r := &athenaReader{Engine: athenaengine.New(client, athenaengine.Options{Workgroup: "wg"}), store: "s3://b/p", o: o}
		err := r.ReadRollup(context.Background(), analyzer.RollupQuery{}, nil, func([]columns.RollupRow) error { return nil })
		var he *hintError
		if !errors.As(err, &he) || !strings.Contains(he.hint, tc.hint) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, hint %+v", tc.typ, err, he)
		}
		srv.Close()
	}
}
