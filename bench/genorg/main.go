// Command genorg writes a simulated organization trail into an S3 bucket
// (the MinIO of bench/scale.sh) or a folder: for each account, region and
// day, -per-day gzipped CloudTrail files of -records records each, made
// from the real records of testdata/sample (ingesttest.OrgTrail: the
// sample's account rewritten to the object's, fresh eventIDs, times within
// the day). Deterministic.
//
//	go run ./bench/genorg -bucket org-trail -accounts 200 -regions 4 -days 7
//	go run ./bench/genorg -out bench/out/org -accounts 200 -regions 4 -days 7
//
// The S3 endpoint and keys come from IAMLENS_MINIO_ENDPOINT,
// IAMLENS_MINIO_ACCESS_KEY and IAMLENS_MINIO_SECRET_KEY.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

func main() {
	templates := flag.String("templates", "testdata/sample", "folder of real CloudTrail logs used as templates")
	bucket := flag.String("bucket", "", "S3 bucket to write into (created if missing)")
	out := flag.String("out", "", "folder to write into instead")
	accounts := flag.Int("accounts", 200, "accounts")
	first := flag.Int64("first-account", 0, "number of the first account (IDs are 100000000000+n)")
	regions := flag.Int("regions", 4, "regions (at most 8)")
	days := flag.Int("days", 7, "days")
	start := flag.String("start", "2026-11-01", "first day")
	perDay := flag.Int("per-day", 4, "objects each (account, region, day)")
	records := flag.Int("records", 25, "records each object")
	conc := flag.Int("concurrency", 32, "PUTs in flight")
	flag.Parse()
	day, err := time.Parse("2006-01-02", *start)
	if err != nil {
		log.Fatal(err)
	}
	recs, err := ingesttest.LoadSampleRecords(*templates)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	var client *s3.Client
	if *bucket != "" {
		client = s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(os.Getenv("IAMLENS_MINIO_ENDPOINT")), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("IAMLENS_MINIO_ACCESS_KEY"), os.Getenv("IAMLENS_MINIO_SECRET_KEY"), "")})
		_, _ = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
	} else if *out == "" {
		log.Fatal("give -bucket or -out")
	}
	type obj struct {
		key  string
		body []byte
	}
	jobs := make(chan obj, *conc)
	var wg sync.WaitGroup
	var n, size atomic.Int64
	var firstErr atomic.Value
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range jobs {
				var err error
				if client != nil {
					_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(o.key), Body: bytes.NewReader(o.body)})
				} else {
					p := filepath.Join(*out, filepath.FromSlash(o.key))
					if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
						err = os.WriteFile(p, o.body, 0o644)
					}
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
				n.Add(1)
				size.Add(int64(len(o.body)))
			}
		}()
	}
	t0 := time.Now()
	err = ingesttest.OrgTrail(recs, ingesttest.OrgTrailOptions{Accounts: *accounts, FirstAccount: *first, Regions: *regions, Days: *days,
		Start: day, PerDay: *perDay, Records: *records}, func(key string, body []byte) error {
		jobs <- obj{key, body}
		return nil
	})
	close(jobs)
	wg.Wait()
	if err != nil {
		log.Fatal(err)
	}
	if e := firstErr.Load(); e != nil {
		log.Fatal(e)
	}
	fmt.Fprintf(os.Stderr, "genorg: %d objects, %d bytes, %d records, in %.1fs\n", n.Load(), size.Load(), n.Load()*int64(*records), time.Since(t0).Seconds())
}
