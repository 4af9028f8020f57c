package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamlens/iamlens/ingest"
)

// awsEnv gives the SDK static credentials and nothing else to look at
// (no profile, shared files or instance metadata).
func awsEnv(t *testing.T, key, secret string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// closedPort is a local port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestS3Unreachable: an endpoint that refuses the connection fails at
// once (no retries), naming the endpoint and what to check; so does
// analyze --logs, which takes the same flags.
func TestS3Unreachable(t *testing.T) {
	awsEnv(t, "AKIAEXAMPLE", "secret")
	ep := "http://" + closedPort(t)
	for _, args := range [][]string{
		{"ingest", "s3://trail-bucket", "--endpoint-url", ep, "--max-retries", "8"},
		{"analyze", "--logs", "s3://trail-bucket", "--endpoint-url", ep, "--principal", "benjamin"},
	} {
		start := time.Now()
		code, out, stderr := runCLI(t, append(args, "--store", filepath.Join(t.TempDir(), "store"))...)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: took %s", args[0], took)
		}
		if code != exitError || out != "" || !strings.Contains(stderr, "iamlens: cannot reach S3 at "+ep+": connection refused\nCheck --endpoint-url, and that the server is running.") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", args[0], code, out, stderr)
		}
	}
}

// TestS3Silent: an endpoint that takes the connection and never answers
// fails once its answer is overdue (not after retries), naming the
// endpoint.
func TestS3Silent(t *testing.T) {
	awsEnv(t, "AKIAEXAMPLE", "secret")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() { defer c.Close(); _, _ = io.Copy(io.Discard, c) }() // read, never answer
		}
	}()
	old := s3AnswerTimeout
	s3AnswerTimeout = 300 * time.Millisecond
	defer func() { s3AnswerTimeout = old }()
	ep := "http://" + l.Addr().String()
	start := time.Now()
	code, out, stderr := runCLI(t, "ingest", "s3://trail-bucket", "--endpoint-url", ep, "--max-retries", "8", "--store", filepath.Join(t.TempDir(), "store"))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	if code != exitError || out != "" || !strings.Contains(stderr, "iamlens: cannot reach S3 at "+ep+": no answer within 300ms\nCheck --endpoint-url") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections: the request was retried", n)
	}
}

// TestS3RetriesCounted: the retries the SDK makes on 503 are counted for
// the progress line (an httptest server answering S3's wire format).
func TestS3RetriesCounted(t *testing.T) {
	awsEnv(t, "AKIAEXAMPLE", "secret")
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
	}))
	defer srv.Close()
	c, err := newS3Client(context.Background(), "", "", srv.URL, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	if n := c.retries.Load(); n != 2 || calls.Load() != 3 {
		t.Errorf("%d retries counted, %d requests", n, calls.Load())
	}
	line := ingestProgressLine(ingest.Progress{Objects: 3, Listed: 10, Records: 50, Elapsed: time.Second}, c.retries.Load())
	if line != "objects 3/10 listed · records 50 (50/s) · 2 S3 retries" {
		t.Errorf("progress line %q", line)
	}
}

// TestS3MinIO ingests from the real MinIO server scripts/test.sh starts:
// nothing but the summary is printed (no SDK log lines about checksums or
// IMDS), and wrong credentials, a missing bucket and a missing profile
// each get a message that says what to do.
func TestS3MinIO(t *testing.T) {
	ep := os.Getenv("IAMLENS_MINIO_ENDPOINT")
	if ep == "" {
		t.Skip("IAMLENS_MINIO_ENDPOINT not set: run scripts/test.sh for the real S3 server")
	}
	key, secret := os.Getenv("IAMLENS_MINIO_ACCESS_KEY"), os.Getenv("IAMLENS_MINIO_SECRET_KEY")
	awsEnv(t, key, secret)
	ctx := context.Background()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(ep), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	bucket := fmt.Sprintf("iamlens-cli-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(sampleDir, "AWSLogs", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz"))
	if err != nil || len(files) < 3 {
		t.Fatalf("sample: %v %v", files, err)
	}
	for _, f := range files[:3] {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(sampleDir, f)
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(filepath.ToSlash(rel)), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	st := filepath.Join(t.TempDir(), "store")
	code, out, stderr := runCLI(t, "ingest", "--store", st, "--endpoint-url", ep, "s3://"+bucket, "--format", "json")
	if code != 0 || stderr != "" || !strings.Contains(out, `"objects_read": 3`) {
		t.Errorf("ingest: exit %d, stderr %q\n%s", code, stderr, out)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		env    func()
		want   string
		status int
	}{
		{"wrong secret", []string{"s3://" + bucket}, func() { t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong") },
			"S3 refused the credentials (SignatureDoesNotMatch)", exitError},
		{"unknown key", []string{"s3://" + bucket}, func() { t.Setenv("AWS_ACCESS_KEY_ID", "AKIANOSUCHKEY") },
			"S3 refused the credentials (InvalidAccessKeyId)", exitError},
		{"no bucket", []string{"s3://" + bucket + "-missing"}, func() {}, "no bucket s3://" + bucket + "-missing", exitError},
		{"no profile", []string{"s3://" + bucket, "--profile", "nosuchprofile"}, func() {}, `no AWS profile "nosuchprofile"`, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awsEnv(t, key, secret)
			tc.env()
			code, _, stderr := runCLI(t, append([]string{"ingest", "--store", filepath.Join(t.TempDir(), "s"), "--endpoint-url", ep}, tc.args...)...)
			if code != tc.status || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, %q; want %d and %q", code, stderr, tc.status, tc.want)
			}
			if tc.status == exitError && !strings.Contains(stderr, "\n") {
				t.Errorf("no hint: %q", stderr)
			}
		})
	}
}
