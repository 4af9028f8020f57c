package s3store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/ingest/store/s3store"
	"github.com/iamlens/iamlens/ingest/store/s3store/s3storetest"
)

// The ranged reader's benchmark: one principal's rows read from a busy
// account's day (80,000 events of the sample's records, in files of
// several row groups) on the real S3 server (MinIO), beside the same
// store in a folder. Each op opens the store afresh (as a command does)
// and reads the principal's index, then its rows: GETs/op and bytes/op
// are what one `analyze --principal` costs on S3 per partition.

var (
	benchOnce          sync.Once
	benchRemote        *s3store.Backend
	benchLocal         string
	benchARN           string
	benchErr           error
	benchEventsPerFile int64
)

func benchStores(b *testing.B) {
	client := s3storetest.Client(b)
	benchOnce.Do(func() {
		ctx := context.Background()
		recs, err := ingesttest.LoadSampleRecords(ingesttest.Sample(b))
		if err != nil {
			benchErr = err
			return
		}
		logs := b.TempDir()
		err = ingesttest.OrgTrail(recs, ingesttest.OrgTrailOptions{Accounts: 1, Regions: 2, Days: 1, PerDay: 40, Records: 1000},
			func(key string, body []byte) error {
				ingesttest.WriteFile(b, logs, key, body)
				return nil
			})
		if err != nil {
			benchErr = err
			return
		}
		dir, _ := source.NewDir(logs)
		benchRemote = s3store.New(client, s3storetest.Bucket(b, client), "bench")
		remote, err := store.OpenRemote(ctx, benchRemote)
		if err != nil {
			benchErr = err
			return
		}
		benchLocal = filepath.Join(b.TempDir(), "store")
		local, err := store.Open(benchLocal)
		if err != nil {
			benchErr = err
			return
		}
		for _, st := range []*store.Store{remote, local} {
			if _, err := ingest.Run(ctx, dir, st, ingest.Options{BatchBytes: 1 << 30}); err != nil {
				benchErr = err
				return
			}
		}
		benchARN = "arn:aws:iam::" + ingesttest.AccountID(0) + ":user/benjamin"
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
}

type principalRow struct {
	PrincipalARN string `parquet:"principal_arn,optional"`
	EventTime    int64  `parquet:"event_time"`
	EventSource  string `parquet:"event_source,optional"`
	EventName    string `parquet:"event_name,optional"`
	ErrorCode    string `parquet:"error_code,optional"`
}

// readPrincipal reads the principal's rows as analyze does: each file's
// principal index, then the row groups and pages it names.
func readPrincipal(b *testing.B, st *store.Store) int64 {
	ctx := context.Background()
	files, err := st.Files(nil, time.Time{}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	q := store.Query{Principals: []string{benchARN}}
	var n int64
	for _, f := range files {
		x, err := st.ReadEventIndex(ctx, f, q.Principals)
		if err != nil {
			b.Fatal(err)
		}
		_, err = store.ScanIndexed(ctx, st, f, x, q, func(rows []principalRow) error {
			for _, r := range rows {
				if r.PrincipalARN == benchARN {
					n++
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return n
}

func BenchmarkRangedReader(b *testing.B) {
	benchStores(b)
	var want int64
	b.Run("s3", func(b *testing.B) {
		ctx := context.Background()
		var io store.IOStats
		for b.Loop() {
			st, err := store.OpenRemote(ctx, benchRemote)
			if err != nil {
				b.Fatal(err)
			}
			want = readPrincipal(b, st)
			io = st.IOStats()
		}
		b.ReportMetric(float64(io.Requests), "GETs/op")
		b.ReportMetric(float64(io.Bytes), "bytes/op")
		b.ReportMetric(float64(want), "rows/op")
	})
	b.Run("folder", func(b *testing.B) {
		var io store.IOStats
		var got int64
		for b.Loop() {
			st, err := store.OpenExisting(benchLocal)
			if err != nil {
				b.Fatal(err)
			}
			got = readPrincipal(b, st)
			io = st.IOStats()
		}
		if want > 0 && got != want {
			b.Fatalf("%d rows from the folder, %d from S3", got, want)
		}
		b.ReportMetric(float64(io.Requests), "reads/op")
		b.ReportMetric(float64(io.Bytes), "bytes/op")
		b.ReportMetric(float64(got), "rows/op")
	})
}
