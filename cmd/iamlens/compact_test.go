package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// TestCompactKeepsAnswers: on a store of many small files (the sample a
// file a batch), `iamlens compact` leaves principals and every
// principal's analyze output as they were, from one file.
func TestCompactKeepsAnswers(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := source.NewDir(sampleDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), dir, st, ingest.Options{BatchBytes: 1}); err != nil {
		t.Fatal(err)
	}
	answers := func() map[string]string {
		out := map[string]string{}
		code, list, stderr := runCLI(t, "principals", "--format", "json", "--store", root)
		if code != 0 {
			t.Fatalf("principals: %d %s", code, stderr)
		}
		out["principals"] = list
		var ps []struct {
			Principal string `json:"arn"`
		}
		if err := json.Unmarshal([]byte(list), &ps); err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			code, a, stderr := runCLI(t, "analyze", "--principal", p.Principal, "--format", "json", "--store", root)
			out[p.Principal] = a + stderr
			if code != 0 && code != exitUsage {
				t.Errorf("analyze %s: exit %d, %s", p.Principal, code, stderr)
			}
		}
		_, out["--all"], _ = runCLI(t, "analyze", "--all", "--format", "json", "--store", root)
		return out
	}
	before := answers()
	if len(before) < 10 {
		t.Fatalf("only %d answers", len(before))
	}
	code, out, stderr := runCLI(t, "compact", "--store", root)
	if code != 0 || !strings.Contains(out, "events files            55 → 1") ||
		!strings.Contains(out, "monthly rollup          1 month written from 1 twin") {
		t.Fatalf("compact: exit %d, %s\n%s", code, stderr, out)
	}
	after := answers()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: the answer changed after compaction", k)
		}
	}
	// The replaced files (55 events files and their rollup twins) stay for
	// --grace; --grace 0s removes them now.
	code, out, stderr = runCLI(t, "compact", "--store", root)
	if code != 0 || !strings.Contains(out, "replaced files removed  0 (110 kept for --grace)") ||
		!strings.Contains(out, "monthly rollup          up to date") {
		t.Errorf("compact again: exit %d, %s\n%s", code, stderr, out)
	}
	code, out, stderr = runCLI(t, "compact", "--store", root, "--grace", "0s")
	if code != 0 || !strings.Contains(out, "replaced files removed  110 (0 kept for --grace)") {
		t.Errorf("compact --grace 0s: exit %d, %s\n%s", code, stderr, out)
	}
	if again := answers(); again["--all"] != before["--all"] || again["principals"] != before["principals"] {
		t.Error("the answers changed after the replaced files were removed")
	}
	// Bad flags are usage errors.
	for _, args := range [][]string{{"--min-files", "1"}, {"--format", "yaml"}, {"--target-rows", "0"}} {
		if code, _, _ := runCLI(t, append([]string{"compact", "--store", root}, args...)...); code != exitUsage {
			t.Errorf("compact %v: exit %d", args, code)
		}
	}
}

// TestIngestCompacts: ingest compacts the partitions it wrote that hold
// more than --compact-files files, and says so.
func TestIngestCompacts(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := source.NewDir(sampleDir)
	if _, err := ingest.Run(context.Background(), dir, st, ingest.Options{BatchBytes: 1}); err != nil {
		t.Fatal(err)
	}
	more := orgTrailLogs(t, ingesttest.OrgTrailOptions{Accounts: 1, FirstAccount: 23837392027, Regions: 1, Days: 1,
		Start: time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC), PerDay: 1, Records: 10})
	code, out, stderr := runCLI(t, "ingest", more, "--store", root, "--compact-files", "100", "--format", "json")
	if code != 0 || strings.Contains(out, `"compacted"`) {
		t.Fatalf("ingest under the threshold: exit %d, %s\n%s", code, stderr, out)
	}
	rec := ingesttest.NewRecord("e-extra-1", "2023-07-10T13:00:00Z", "someone", "s3.amazonaws.com", "ListBuckets")
	rec["recipientAccountId"] = ingesttest.SampleAccount
	ingesttest.WriteFile(t, more, ingesttest.Key(ingesttest.SampleAccount, "us-east-1", "2023/07/10", 1),
		ingesttest.Gzip(t, ingesttest.LogJSON(t, rec)))
	code, out, stderr = runCLI(t, "ingest", more, "--store", root, "--compact-files", "10")
	if code != 0 || !strings.Contains(out, "compacted           1 partition: 57 files into 1") {
		t.Fatalf("ingest over the threshold: exit %d, %s\n%s", code, stderr, out)
	}
}

// TestIngestShards: two shards of the sample, one after the other into one
// store, ingest it all once between them; bad --shard and --late-margin
// values are usage errors.
func TestIngestShards(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	var rows int
	for _, sh := range []string{"0/2", "1/2"} {
		code, out, stderr := runCLI(t, "ingest", sampleDir, "--store", root, "--shard", sh, "--format", "json")
		var rep struct {
			Rows  int    `json:"rows_written"`
			Shard string `json:"shard"`
		}
		if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.Shard != sh {
			t.Fatalf("shard %s: exit %d, %v, %s\n%s", sh, code, err, stderr, out)
		}
		rows += rep.Rows
	}
	if rows != 2900 {
		t.Errorf("the two shards wrote %d rows, want the sample's 2900", rows)
	}
	if code, out, _ := runCLI(t, "ingest", sampleDir, "--store", root, "--format", "json"); code != 0 || !strings.Contains(out, `"rows_written": 0`) {
		t.Errorf("an unsharded run after the shards: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"--shard", "2/2"}, {"--shard", "1"}, {"--late-margin", "-1h"}, {"--compact-files", "-1"}} {
		if code, _, stderr := runCLI(t, append([]string{"ingest", sampleDir, "--store", root}, args...)...); code != exitUsage {
			t.Errorf("ingest %v: exit %d, %s", args, code, stderr)
		}
	}
}
