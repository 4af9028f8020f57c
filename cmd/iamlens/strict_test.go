package main

import (
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// TestIngestStrictExit: with --strict a bad file ends the run with exit 3
// (findings) and names the file; without it the file is counted and the
// run succeeds. runIngest tells the strict stop from other errors with
// errors.Is(err, ingest.ErrStrict).
func TestIngestStrictExit(t *testing.T) {
	logs := t.TempDir()
	good := ingesttest.LogJSON(t, ingesttest.NewRecord("e1", "2024-05-01T10:00:00Z", "alice", "s3.amazonaws.com", "ListBuckets"))
	ingesttest.WriteFile(t, logs, ingesttest.Key("111122223333", "us-east-1", "2024/05/01", 1), ingesttest.Gzip(t, good))
	ingesttest.WriteFile(t, logs, ingesttest.Key("111122223333", "us-east-1", "2024/05/01", 2), []byte("not gzip at all"))

	code, _, stderr := runCLI(t, "ingest", "--store", t.TempDir(), "--no-progress", "--strict", logs)
	if code != exitFindings || !strings.Contains(stderr, "strict mode") || !strings.Contains(stderr, "_0002.json.gz") {
		t.Errorf("--strict on a bad file: exit %d, stderr %q; want exit %d naming the file", code, stderr, exitFindings)
	}
	code, stdout, stderr := runCLI(t, "ingest", "--store", t.TempDir(), "--no-progress", "--format", "json", logs)
	if code != exitOK || !strings.Contains(stdout, `"invalid JSON": 1`) {
		t.Errorf("without --strict: exit %d, stdout %q, stderr %q; want exit 0 counting the bad file", code, stdout, stderr)
	}
}
