package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// TestDecoderPanicIsABadFile: a panic while decoding a file (in gunzip, the
// splitter, or the columns builder partway through the file's records)
// makes that file a bad file, counted under "decoder panic" and named with
// where it happened; the run goes on, the rows of the file appended before
// the panic are taken back out of the batch, and the file is not recorded
// as done, so a later run reads it again. The panics are injected through
// the test hook before each stage (ingest.SetDecodeHook). Without the
// recover, the test binary crashes.
func TestDecoderPanicIsABadFile(t *testing.T) {
	dir := t.TempDir()
	ids := map[int][]string{} // file → its eventIDs
	days := []string{"2026/11/01", "2026/11/02", "2026/11/01", "2026/11/03", "2026/11/02"}
	for n, day := range days {
		var recs []ingesttest.Record
		for i := range 3 {
			id := fmt.Sprintf("33333333-0000-4000-8000-%012d", n*10+i)
			// the second file's first record opens a partition (a day)
			// of its own: the rollback must drop it again
			when := strings.ReplaceAll(day, "/", "-") + "T10:00:0" + fmt.Sprint(i) + "Z"
			recs = append(recs, ingesttest.NewRecord(id, when, "alice", "s3.amazonaws.com", "ListBuckets"))
			ids[n+1] = append(ids[n+1], id)
		}
		ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", day, n+1), ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
	}
	file := func(uri string) int { // its number: Key's _NNNN.json.gz
		base := strings.TrimSuffix(filepath.Base(uri), ".json.gz")
		n, _ := strconv.Atoi(base[len(base)-4:])
		return n
	}
	panicAt := map[int]string{2: "append", 3: "gunzip", 4: "split"}
	ingest.SetDecodeHook(t, func(uri, stage string, record int) {
		if n := file(uri); panicAt[n] == stage && (stage != "append" || record == 2) {
			panic(fmt.Sprintf("boom in file %d", n))
		}
	})
	src, _ := source.NewDir(dir)
	st := openStore(t)
	stats := runIngest(t, src, st, ingest.Options{Workers: 1})

	if stats.SkippedObjects["decoder panic"] != 3 {
		t.Errorf("skipped %v, want 3 decoder panics", stats.SkippedObjects)
	}
	named := map[int]string{}
	for _, p := range stats.Problems {
		if p.Reason == "decoder panic" {
			named[file(p.Object)] = p.Detail
		}
	}
	for n := range panicAt {
		d := named[n]
		if !strings.HasPrefix(d, fmt.Sprintf("decoder panic: boom in file %d at ", n)) || !strings.Contains(d, "TestDecoderPanicIsABadFile") {
			t.Errorf("file %d: problem detail %q, want the panic and where it happened", n, d)
		}
	}
	want := append(slices.Clone(ids[1]), ids[5]...)
	if got := eventIDs(t, st); !slices.Equal(got, sorted(want)) {
		t.Errorf("stored %v, want only the good files' %v", got, sorted(want))
	}
	if stats.RowsWritten != 6 || stats.Records != 6 || stats.ObjectsRead != 5 {
		t.Errorf("rows %d, records %d, objects read %d; want 6, 6, 5", stats.RowsWritten, stats.Records, stats.ObjectsRead)
	}

	// strict mode stops on the panic like on any bad file
	_, err := ingest.Run(context.Background(), src, openStore(t), ingest.Options{Workers: 1, Strict: true})
	if !errors.Is(err, ingest.ErrStrict) || !strings.Contains(err.Error(), "decoder panic") {
		t.Errorf("strict: err = %v, want ErrStrict naming the decoder panic", err)
	}

	// the files were not recorded as done: once decoding works, a re-run
	// ingests exactly them
	ingest.SetDecodeHook(t, nil)
	again := runIngest(t, src, st, ingest.Options{Workers: 1})
	if again.RowsWritten != 9 || len(again.SkippedObjects) != 0 {
		t.Errorf("re-run: rows %d, skipped %v; want the 9 rows of files 2-4", again.RowsWritten, again.SkippedObjects)
	}
	var all []string
	for _, v := range ids {
		all = append(all, v...)
	}
	if got := eventIDs(t, st); !slices.Equal(got, sorted(all)) {
		t.Errorf("after the re-run the store holds %d events, want all %d once", len(got), len(all))
	}
}

// eventIDs lists the store's events' IDs, sorted.
func eventIDs(t *testing.T, st *store.Store) []string {
	t.Helper()
	var ids []string
	for _, r := range readAll(t, st) {
		ids = append(ids, r.EventID)
	}
	return sorted(ids)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
