package ingest_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
)

// countingTransport counts the S3 requests that go through it: GETs of
// objects, LISTs with a delimiter (folders), LISTs of keys, and the keys
// those returned.
type countingTransport struct {
	next                    http.RoundTripper
	gets, dirLists, keyList atomic.Int64
	mu                      sync.Mutex
	got                     []string // keys read
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && q.Has("list-type"):
		if q.Get("delimiter") != "" {
			c.dirLists.Add(1)
		} else {
			c.keyList.Add(1)
		}
	case r.Method == http.MethodGet:
		c.gets.Add(1)
		_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		c.mu.Lock()
		c.got = append(c.got, key)
		c.mu.Unlock()
	}
	return c.next.RoundTrip(r)
}

func (c *countingTransport) reset() (gets, dirLists, keyLists int64, got []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	got, c.got = c.got, nil
	return c.gets.Swap(0), c.dirLists.Swap(0), c.keyList.Swap(0), got
}

// countingClient is a MinIO client whose requests ct counts.
func countingClient(t *testing.T) (*s3.Client, *countingTransport) {
	t.Helper()
	minioClient(t) // skips without the server
	ct := &countingTransport{next: http.DefaultTransport}
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(os.Getenv("IAMLENS_MINIO_ENDPOINT")), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(
			os.Getenv("IAMLENS_MINIO_ACCESS_KEY"), os.Getenv("IAMLENS_MINIO_SECRET_KEY"), ""),
		HTTPClient: &http.Client{Transport: ct},
	}), ct
}

// TestShardedIngestRequests splits a simulated organization trail on the
// real S3 server (MinIO) among 3 shards, one after another, on one store:
// every object is read by exactly one GET, by one shard; listing reads
// only the shards' own day folders, a LIST per folder (each holds fewer
// than 1,000 keys); every event is stored once. Then a day is added: the
// shards' incremental runs read that day's objects only, and list only
// it, and the last object before it of each region folder (within the
// late-delivery margin).
func TestShardedIngestRequests(t *testing.T) {
	client, ct := countingClient(t)
	ctx := context.Background()
	bucket := "iamlens-shards-" + strings.ToLower(time.Now().UTC().Format("20060102t150405.000000000"))
	bucket = strings.ReplaceAll(bucket, ".", "-")
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	recs, err := ingesttest.LoadSampleRecords(ingesttest.Sample(t))
	if err != nil {
		t.Fatal(err)
	}
	put := func(o ingesttest.OrgTrailOptions) int {
		n := 0
		err := ingesttest.OrgTrail(recs, o, func(key string, body []byte) error {
			n++
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const accounts, regions, days, perDay, records = 8, 2, 3, 3, 4
	base := ingesttest.OrgTrailOptions{Accounts: accounts, Regions: regions, Days: days, PerDay: perDay, Records: records}
	total := put(base)
	ct.reset()
	st := openStore(t)
	const shards = 3
	src := source.NewS3(client, bucket, "")
	read := map[string]int{}
	var rows int64
	for i := 0; i < shards; i++ {
		sh := source.Shard{Index: i, Count: shards}
		stats := runIngest(t, src, st, ingest.Options{Filter: source.Filter{Shard: sh}, Incremental: true})
		gets, dirLists, keyLists, got := ct.reset()
		for _, k := range got {
			read[k]++
		}
		rows += stats.RowsWritten
		owned := 0
		for a := 0; a < accounts; a++ {
			for d := 0; d < days; d++ {
				if sh.Owns(acctID(a), base.Start0().AddDate(0, 0, d).Format("2006/01/02")) {
					owned++
				}
			}
		}
		t.Logf("shard %s: %d objects read by %d GETs; %d LISTs of keys (%d day folders owned × %d regions), %d of folders",
			sh, stats.ObjectsRead, gets, keyLists, owned, regions, dirLists)
		if gets != stats.ObjectsRead || int(stats.ObjectsRead) != owned*regions*perDay {
			t.Errorf("shard %s: %d GETs for %d objects read, %d owned", sh, gets, stats.ObjectsRead, owned*regions*perDay)
		}
		if keyLists != int64(owned*regions) {
			t.Errorf("shard %s: %d LISTs of keys, want one per owned day folder (%d)", sh, keyLists, owned*regions)
		}
	}
	if len(read) != total {
		t.Errorf("the shards read %d distinct objects of %d", len(read), total)
	}
	for k, n := range read {
		if n != 1 {
			t.Errorf("%s read %d times", k, n)
		}
	}
	eachEventOnce(t, st, total*records, "after the shards")

	// One more day, and the shards run again.
	next := base
	next.Days = 1
	next.Start = base.Start0().AddDate(0, 0, days)
	added := put(next)
	ct.reset()
	read = map[string]int{}
	for i := 0; i < shards; i++ {
		sh := source.Shard{Index: i, Count: shards}
		// The run's day is the new one's: the day folders since each
		// cursor are named, not listed.
		now := func() time.Time { return next.Start.Add(20 * time.Hour) }
		stats := runIngest(t, src, st, ingest.Options{Filter: source.Filter{Shard: sh}, Incremental: true, Now: now})
		gets, dirLists, keyLists, got := ct.reset()
		// The organization's accounts, each one's kinds and regions; and
		// the years, months and days of the region folders the shard has
		// no cursor in (it had no day of them yet), and only those.
		walked := int64(0)
		for a := 0; a < accounts; a++ {
			owned := false
			for d := 0; d < days; d++ {
				owned = owned || sh.Owns(acctID(a), base.Start0().AddDate(0, 0, d).Format("2006/01/02"))
			}
			if !owned {
				walked += 3 * regions
			}
		}
		if discovery := int64(3+2*accounts) + walked; dirLists != discovery {
			t.Errorf("shard %s: %d LISTs of folders, want %d (the organization's accounts, each one's kinds and regions, %d to walk folders without a cursor)",
				sh, dirLists, discovery, walked)
		}
		for _, k := range got {
			read[k]++
			if !strings.Contains(k, next.Start.Format("/2006/01/02/")) {
				t.Errorf("shard %s read %s, not of the new day", sh, k)
			}
		}
		t.Logf("shard %s, incremental: %d listed, %d read by %d GETs; %d LISTs of keys, %d of folders",
			sh, stats.ObjectsListed, stats.ObjectsRead, gets, keyLists, dirLists)
		if again := stats.ObjectsListed - stats.ObjectsRead; again > accounts*regions || stats.ObjectsAlreadyIn != again {
			t.Errorf("shard %s listed %d objects already in (at most one a region folder: %d)", sh, again, accounts*regions)
		}
		if keyLists > int64(accounts*regions*2) {
			t.Errorf("shard %s: %d LISTs of keys for %d region folders", sh, keyLists, accounts*regions)
		}
	}
	if len(read) != added {
		t.Errorf("the incremental runs read %d objects, %d were added", len(read), added)
	}
	eachEventOnce(t, st, (total+added)*records, "after the incremental runs")

	// Unsharded and without the cursors (a full listing), nothing is
	// read, and each region folder is listed whole by one LIST (it holds
	// fewer than 1,000 keys), none to find its days.
	stats := runIngest(t, src, st, ingest.Options{})
	_, dirLists, keyLists, got := ct.reset()
	if len(got) != 0 || stats.ObjectsListed != int64(total+added) || keyLists != int64(accounts*regions) || dirLists != int64(3+2*accounts) {
		t.Errorf("full listing: read %d, listed %d of %d objects by %d LISTs of keys and %d of folders", len(got), stats.ObjectsListed, total+added, keyLists, dirLists)
	}
	// Unsharded and incremental: the same LISTs, each from its cursor.
	more := base
	more.Days, more.Start = 1, next.Start.AddDate(0, 0, 1)
	added2 := put(more)
	ct.reset()
	stats = runIngest(t, src, st, ingest.Options{Incremental: true})
	gets, dirLists, keyLists, _ := ct.reset()
	t.Logf("unsharded, incremental: %d listed, %d read by %d GETs; %d LISTs of keys, %d of folders", stats.ObjectsListed, stats.ObjectsRead, gets, keyLists, dirLists)
	if gets != int64(added2) || keyLists != int64(accounts*regions) || stats.ObjectsListed > int64(added2+accounts*regions) {
		t.Errorf("unsharded incremental run: %d GETs for %d new objects, %d listed, %d LISTs", gets, added2, stats.ObjectsListed, keyLists)
	}
	eachEventOnce(t, st, (total+added+added2)*records, "after the unsharded run")
}

func acctID(a int) string { return ingesttest.AccountID(int64(a)) }
