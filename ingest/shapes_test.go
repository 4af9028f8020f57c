package ingest_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
)

// TestIngestReadsByContent: a file the user names is read whatever its
// name, and any file read may hold CloudTrail's log, a bare array of
// records, records one a line or one record; files skipped by name are
// counted and named.
func TestIngestReadsByContent(t *testing.T) {
	dir := t.TempDir()
	rec := func(id, user string) ingesttest.Record {
		return ingesttest.NewRecord("22222222-0000-4000-8000-0000000000"+id, "2026-11-01T10:00:"+id+"Z", user, "s3.amazonaws.com", "ListBuckets")
	}
	marshal := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// a folder: an array, lines and a single record, and two files skipped by name
	ingesttest.WriteFile(t, dir, "logs/array.json", marshal([]any{rec("01", "a"), rec("02", "a")}))
	lines := string(marshal(rec("03", "b"))) + "\n" + string(marshal(rec("04", "b"))) + "\n"
	ingesttest.WriteFile(t, dir, "logs/lines.json.gz", ingesttest.Gzip(t, []byte(lines)))
	ingesttest.WriteFile(t, dir, "logs/one.json", marshal(rec("05", "c")))
	ingesttest.WriteFile(t, dir, "logs/notes.txt", []byte("not read"))
	ingesttest.WriteFile(t, dir, "logs/export.jsonl", []byte(lines))
	// a file named on its own, with an extension ingest would skip in a folder
	named := ingesttest.WriteFile(t, dir, "single/event.cloudtrail", ingesttest.LogJSON(t, rec("06", "d")))

	st := openStore(t)
	src, _ := source.NewDir(filepath.Join(dir, "logs"))
	stats := runIngest(t, src, st, ingest.Options{})
	if stats.RowsWritten != 5 || stats.ObjectsRead != 3 {
		t.Errorf("folder: %d rows from %d objects, want 5 from 3 (%+v)", stats.RowsWritten, stats.ObjectsRead, stats)
	}
	if stats.SkippedObjects["not a log file"] != 2 {
		t.Errorf("skipped %v", stats.SkippedObjects)
	}
	var names []string
	for _, p := range stats.Skipped {
		names = append(names, filepath.Base(p.Object)+": "+p.Reason)
	}
	sort.Strings(names)
	if want := []string{"export.jsonl: not a log file", "notes.txt: not a log file"}; !slices.Equal(names, want) {
		t.Errorf("skipped by name %q, want %q", names, want)
	}

	one, _ := source.NewDir(named)
	stats = runIngest(t, one, st, ingest.Options{})
	if stats.RowsWritten != 1 || len(stats.SkippedObjects) != 0 {
		t.Errorf("named file: %d rows, skipped %v", stats.RowsWritten, stats.SkippedObjects)
	}
	var ids []string
	for _, r := range readAll(t, st) {
		ids = append(ids, r.EventID[len(r.EventID)-2:])
	}
	sort.Strings(ids)
	if got := strings.Join(ids, ","); got != "01,02,03,04,05,06" {
		t.Errorf("events %s", got)
	}
}
