package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
)

// badFolder writes one good file and one of each kind of bad input.
func badFolder(t *testing.T) string {
	dir := t.TempDir()
	day := "2026/11/01"
	key := func(n int) string { return ingesttest.Key("111122223333", "us-east-1", day, n) }
	good := ingesttest.NewRecord("11111111-0000-4000-8000-000000000001", "2026-11-01T10:00:00Z", "alice", "s3.amazonaws.com", "ListBuckets")
	noTime := ingesttest.NewRecord("11111111-0000-4000-8000-000000000002", "redacted", "alice", "s3.amazonaws.com", "ListBuckets")
	noID := ingesttest.NewRecord("", "2026-11-01T10:00:00Z", "alice", "s3.amazonaws.com", "ListBuckets")
	delete(noID, "eventID")
	noIdentity := ingesttest.NewRecord("11111111-0000-4000-8000-000000000003", "2026-11-01T10:00:00Z", "alice", "kms.amazonaws.com", "RotateKey")
	delete(noIdentity, "userIdentity")
	noIdentity["eventType"] = "AwsServiceEvent"

	ingesttest.WriteFile(t, dir, key(1), ingesttest.Gzip(t, ingesttest.LogJSON(t, good, noTime, noID, noIdentity)))
	full := ingesttest.Gzip(t, ingesttest.LogJSON(t, good))
	ingesttest.WriteFile(t, dir, key(2), full[:len(full)/2])                                        // truncated gzip
	ingesttest.WriteFile(t, dir, key(3), []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3, 4}) // corrupt gzip
	ingesttest.WriteFile(t, dir, key(4), ingesttest.Gzip(t, []byte(`{"Records":[{"eventID":`)))     // invalid JSON
	ingesttest.WriteFile(t, dir, key(5), ingesttest.Gzip(t, []byte(`{"foo":1}`)))                   // not a log
	ingesttest.WriteFile(t, dir, key(6), []byte("\x00\x01 not json at all"))                        // random bytes, no gzip
	ingesttest.WriteFile(t, dir, "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/111122223333_CloudTrail-Digest_us-east-1_x.json.gz", full)
	ingesttest.WriteFile(t, dir, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/README.txt", []byte("stray"))
	// plain JSON (no gzip) is a log file too
	plain := ingesttest.NewRecord("11111111-0000-4000-8000-000000000004", "2026-11-01T11:00:00Z", "bob", "iam.amazonaws.com", "ListUsers")
	ingesttest.WriteFile(t, dir, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/plain.json", ingesttest.LogJSON(t, plain))
	// a symlink is not followed
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, filepath.FromSlash("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/01/link.json.gz"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBadInputIsCounted(t *testing.T) {
	dir := badFolder(t)
	src, _ := source.NewDir(dir)
	st := openStore(t)
	stats := runIngest(t, src, st, ingest.Options{})

	if stats.RowsWritten != 3 { // good, noIdentity (kept: an AWS service event), plain
		t.Errorf("rows %d, want 3", stats.RowsWritten)
	}
	wantSkipped := map[string]int{
		"corrupt or truncated gzip": 2,
		"invalid JSON":              2, // key 4, and the random bytes of key 6
		"not a CloudTrail log file": 1, // {"foo":1}: no Records array
		"not a log file":            1, // README.txt, by its name
	}
	for reason, n := range wantSkipped {
		if stats.SkippedObjects[reason] != n {
			t.Errorf("skipped %q = %d, want %d (all: %v)", reason, stats.SkippedObjects[reason], n, stats.SkippedObjects)
		}
	}
	wantRejected := map[string]int{"record without a valid eventTime": 1, "record without eventID": 1}
	for reason, n := range wantRejected {
		if stats.RejectedRecords[reason] != n {
			t.Errorf("rejected %q = %d, want %d (all: %v)", reason, stats.RejectedRecords[reason], n, stats.RejectedRecords)
		}
	}
	// Every bad object is named in the problems list.
	named := map[string]bool{}
	for _, p := range stats.Problems {
		named[filepath.Base(p.Object)] = true
	}
	for _, n := range []int{2, 3, 4, 5, 6} {
		k := filepath.Base(ingesttest.Key("111122223333", "us-east-1", "2026/11/01", n))
		if !named[k] {
			t.Errorf("problem list does not name %s: %+v", k, stats.Problems)
		}
	}
	// The digest folder is not even listed; it is reported as skipped by name.
	if len(src.Skipped.Folders) != 1 {
		t.Errorf("skipped folders %v, want the CloudTrail-Digest folder", src.Skipped.Folders)
	}
	// Bad objects are not recorded as done: a re-run reports them again
	// rather than losing them silently.
	again := runIngest(t, src, st, ingest.Options{})
	if again.RowsWritten != 0 || again.SkippedObjects["corrupt or truncated gzip"] != 2 {
		t.Errorf("re-run: rows %d, skipped %v", again.RowsWritten, again.SkippedObjects)
	}
}

func TestStrictFailsOnBadFile(t *testing.T) {
	src, _ := source.NewDir(badFolder(t))
	st := openStore(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	_, err := ingest.Run(context.Background(), src, st, ingest.Options{Strict: true, Mem: mem})
	if !errors.Is(err, ingest.ErrStrict) {
		t.Fatalf("err = %v, want ErrStrict", err)
	}
	mem.AssertSize(t, 0)
}

func TestFileSizeCap(t *testing.T) {
	dir := t.TempDir()
	var recs []ingesttest.Record
	for i := 0; i < 2000; i++ {
		recs = append(recs, ingesttest.NewRecord("22222222-0000-4000-8000-00000000"+string(rune('a'+i%26))+"000", "2026-11-01T10:00:00Z", "alice", "s3.amazonaws.com", "ListBuckets"))
	}
	ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/11/01", 1), ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
	src, _ := source.NewDir(dir)
	stats := runIngest(t, src, openStore(t), ingest.Options{MaxFileBytes: 64 << 10})
	if stats.SkippedObjects["file too large"] != 1 || stats.RowsWritten != 0 {
		t.Fatalf("skipped %v rows %d, want one file too large", stats.SkippedObjects, stats.RowsWritten)
	}
}
