package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
)

// minioClient returns a client for the MinIO server that scripts/test.sh
// starts, or skips when the test runs without it.
func minioClient(t *testing.T) *s3.Client {
	t.Helper()
	ep := os.Getenv("IAMLENS_MINIO_ENDPOINT")
	if ep == "" {
		t.Skip("IAMLENS_MINIO_ENDPOINT not set: run scripts/test.sh for the real S3 server")
	}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ep),
		UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(
			os.Getenv("IAMLENS_MINIO_ACCESS_KEY"), os.Getenv("IAMLENS_MINIO_SECRET_KEY"), ""),
	})
}

// TestMinIO ingests more than 1,000 objects in both the account and the
// organization layout from a real S3 server through the real SDK.
func TestMinIO(t *testing.T) {
	client := minioClient(t)
	ctx := context.Background()
	bucket := fmt.Sprintf("iamlens-test-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}

	const perLayout = 600 // 1,200 log objects: listings span pages of 1,000
	type obj struct {
		key  string
		body []byte
	}
	var objs []obj
	for i := 0; i < perLayout; i++ {
		day := fmt.Sprintf("2026/11/%02d", 1+i%5)
		date := fmt.Sprintf("2026-11-%02dT10:%02d:00Z", 1+i%5, i%60)
		acct := ingesttest.NewRecord(fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", i), date, fmt.Sprintf("user%d", i%17), "s3.amazonaws.com", "ListBuckets")
		org := ingesttest.NewRecord(fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012d", i), date, fmt.Sprintf("role%d", i%13), "iam.amazonaws.com", "ListRoles")
		org["recipientAccountId"] = "444455556666"
		objs = append(objs,
			obj{ingesttest.Key("111122223333", "us-east-1", day, i), ingesttest.Gzip(t, ingesttest.LogJSON(t, acct))},
			obj{ingesttest.OrgKey("o-abcdefghij", "444455556666", "eu-west-1", day, i), ingesttest.Gzip(t, ingesttest.LogJSON(t, org))})
	}
	objs = append(objs, obj{"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_x.json.gz", []byte("{}")})

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, o := range objs {
		g.Go(func() error {
			_, err := client.PutObject(gctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key), Body: bytes.NewReader(o.body)})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	st := openStore(t)
	src := source.NewS3(client, bucket, "")
	stats := runIngest(t, src, st, ingest.Options{})
	if stats.ObjectsRead != 2*perLayout || stats.RowsWritten != 2*perLayout {
		t.Fatalf("read %d objects, wrote %d rows; want %d", stats.ObjectsRead, stats.RowsWritten, 2*perLayout)
	}
	if len(src.Skipped.Folders) != 1 {
		t.Errorf("skipped folders %v, want the digest folder", src.Skipped.Folders)
	}
	rows := readAll(t, st)
	byAccount := map[string]int{}
	for _, r := range rows {
		byAccount[r.RecipientAccount]++
	}
	if byAccount["111122223333"] != perLayout || byAccount["444455556666"] != perLayout {
		t.Fatalf("rows by account %v", byAccount)
	}

	// Filters become prefixes: one account, one day.
	st2 := openStore(t)
	f := source.Filter{Accounts: []string{"444455556666"}, From: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}
	stats = runIngest(t, src, st2, ingest.Options{Filter: f})
	if stats.ObjectsListed != perLayout/5 || stats.RowsWritten != perLayout/5 {
		t.Fatalf("filtered run listed %d, wrote %d; want %d", stats.ObjectsListed, stats.RowsWritten, perLayout/5)
	}

	// A second run reads nothing.
	again := runIngest(t, src, st, ingest.Options{})
	if again.ObjectsRead != 0 || again.ObjectsAlreadyIn != 2*perLayout {
		t.Fatalf("second run read %d, already in %d", again.ObjectsRead, again.ObjectsAlreadyIn)
	}
}
