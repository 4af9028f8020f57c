package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// rowKeys are the stored rows, each as its full text, sorted: equal
// before and after a compaction that neither lost nor doubled a row.
func rowKeys(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	for _, r := range readAll(t, st) {
		out = append(out, fmtRow(r))
	}
	slices.Sort(out)
	return out
}

func fmtRow(r fullRow) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// later moves a store's clock past the grace of replaced files.
func later(st *store.Store, d time.Duration) { st.Now = func() time.Time { return time.Now().Add(d) } }

// TestCompactExactlyOnce ingests the sample a file a batch (55 files in
// its partitions), compacts, and reads the same rows and rollup, each
// event once, from far fewer files; from another view of the store too.
// The replaced files stay for the grace period, then go.
func TestCompactExactlyOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dir, _ := source.NewDir(ingesttest.Invictus(t))
		st := b.open(t)
		runIngest(t, dir, st, ingest.Options{BatchBytes: 1, Workers: 2})
		before := rowKeys(t, st)
		filesBefore, _ := st.Files(nil, time.Time{}, time.Time{})
		cs, err := st.Compact(context.Background(), store.CompactOptions{})
		if err != nil {
			t.Fatal(err)
		}
		filesAfter, _ := st.Files(nil, time.Time{}, time.Time{})
		t.Logf("%s: %+v", b.name, cs)
		if cs.Partitions == 0 || len(filesAfter) != cs.PartitionsSeen || len(filesBefore) != cs.FilesBefore || cs.Rows != 2900 {
			t.Errorf("compacted %d files into %d (%+v)", len(filesBefore), len(filesAfter), cs)
		}
		if after := rowKeys(t, st); !slices.Equal(before, after) {
			for i := range before {
				if before[i] != after[i] {
					t.Fatalf("rows differ after compaction:\n%s\n%s", before[i], after[i])
				}
			}
		}
		other := b.open(t)
		if got := rowKeys(t, other); !slices.Equal(before, got) {
			t.Fatalf("another view reads %d rows, %d before", len(got), len(before))
		}
		// Nothing to do the second time; the replaced files are kept
		// until the grace period is over, then removed.
		again, err := other.Compact(context.Background(), store.CompactOptions{})
		if err != nil || again.Partitions != 0 || again.ReplacedRetained == 0 {
			t.Errorf("second compaction: %+v, %v", again, err)
		}
		later(other, 2*time.Hour)
		gone, err := other.Compact(context.Background(), store.CompactOptions{})
		if err != nil || gone.ReplacedRemoved == 0 || gone.ReplacedRemoved != again.ReplacedRetained {
			t.Errorf("after the grace: %+v, %v (kept %d)", gone, err, again.ReplacedRetained)
		}
		eachEventOnce(t, b.open(t), 2900, "after compaction")
		// An ingest of the same objects afterwards reads nothing.
		if s := runIngest(t, dir, b.open(t), ingest.Options{}); s.ObjectsRead != 0 {
			t.Errorf("ingest after compaction read %d objects", s.ObjectsRead)
		}
	})
}

// TestCompactRacingIngest compacts a partition while another writer
// ingests more events into it, and two compactions race each other:
// every event is stored once at the end.
func TestCompactRacingIngest(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		dir, _ := source.NewDir(ingesttest.Invictus(t))
		runIngest(t, dir, b.open(t), ingest.Options{BatchBytes: 1, Workers: 2})
		// More events of the sample's account and day, in objects of
		// their own.
		recs, err := ingesttest.LoadSampleRecords(ingesttest.Sample(t))
		if err != nil {
			t.Fatal(err)
		}
		more := t.TempDir()
		n := 0
		first := int64(23837392027) // AccountID(first) is the sample's account
		err = ingesttest.OrgTrail(recs, ingesttest.OrgTrailOptions{Accounts: 1, FirstAccount: first, Regions: 1, Days: 1,
			Start: time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC), PerDay: 30, Records: 20}, func(key string, body []byte) error {
			n += 20
			ingesttest.WriteFile(t, more, key, body)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		moreSrc, _ := source.NewDir(more)
		var wg sync.WaitGroup
		errs := make([]error, 3)
		stats := make([]store.CompactStats, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stats[i], errs[i] = b.open(t).Compact(ctx, store.CompactOptions{})
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[2] = ingest.Run(ctx, moreSrc, b.open(t), ingest.Options{BatchBytes: 1, Workers: 2})
		}()
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: compactions %+v and %+v", b.name, stats[0], stats[1])
		if stats[0].Partitions+stats[1].Partitions == 0 {
			t.Error("neither compaction compacted")
		}
		st := b.open(t)
		ids := map[string]int{}
		for _, r := range readAll(t, st) {
			ids[r.EventID]++
		}
		for id, c := range ids {
			if c != 1 {
				t.Errorf("event %s stored %d times", id, c)
			}
		}
		if len(ids) != 2900+n {
			t.Fatalf("%d events, want %d", len(ids), 2900+n)
		}
		// Once more, and once the replaced files' grace is over.
		later(st, 2*time.Hour)
		if _, err := st.Compact(ctx, store.CompactOptions{}); err != nil {
			t.Fatal(err)
		}
		st = b.open(t)
		later(st, 4*time.Hour)
		if _, err := st.Compact(ctx, store.CompactOptions{}); err != nil {
			t.Fatal(err)
		}
		if files, _ := st.Files(nil, time.Time{}, time.Time{}); len(files) != 1 {
			t.Errorf("%d files after the last compaction", len(files))
		}
		eachEventOnce(t, b.open(t), 2900+n, "after the race")
	})
}
