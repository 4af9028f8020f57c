// Package s3storetest gives tests a store on the real S3 server of the
// test suite: the MinIO that scripts/test.sh starts and names in
// IAMLENS_MINIO_ENDPOINT, IAMLENS_MINIO_ACCESS_KEY and
// IAMLENS_MINIO_SECRET_KEY. Without it, the tests that ask skip.
package s3storetest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/ingest/store/s3store"
)

// Env is the MinIO server's endpoint and credentials ("" when there is
// none).
func Env() (endpoint, key, secret string) {
	return os.Getenv("IAMLENS_MINIO_ENDPOINT"), os.Getenv("IAMLENS_MINIO_ACCESS_KEY"), os.Getenv("IAMLENS_MINIO_SECRET_KEY")
}

// Client returns a client of the MinIO server, or skips the test.
func Client(t testing.TB) *s3.Client {
	t.Helper()
	ep, key, secret := Env()
	if ep == "" {
		t.Skip("IAMLENS_MINIO_ENDPOINT not set: run scripts/test.sh for the real S3 server")
	}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ep),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
	})
}

var buckets atomic.Int64

// Bucket creates a bucket of its own for the test.
func Bucket(t testing.TB, c *s3.Client) string {
	t.Helper()
	name := fmt.Sprintf("iamlens-%d-%d", time.Now().UnixNano(), buckets.Add(1))
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	return name
}

// Store opens a new, empty store on a bucket of its own, and returns its
// backend too (for its request counts).
func Store(t testing.TB) (*store.Store, *s3store.Backend) {
	t.Helper()
	c := Client(t)
	b := s3store.New(c, Bucket(t, c), "store")
	st, err := store.OpenRemote(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return st, b
}

// Reopen opens the store b holds again, as another process would.
func Reopen(t testing.TB, b *s3store.Backend) *store.Store {
	t.Helper()
	st, err := store.OpenRemote(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
