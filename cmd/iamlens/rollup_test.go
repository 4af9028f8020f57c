package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// A store without a usage rollup (written by an iamlens older than it):
// principals builds it first and says so on stderr, with the same listing;
// ingest --rebuild-rollup builds it again from the events and reports what
// it read; it takes no SOURCE.
func TestRollupCLI(t *testing.T) {
	st := sampleStore(t)
	code, before, errs := runCLI(t, "principals", "--store", st, "--format", "json")
	if code != 0 || errs != "" {
		t.Fatalf("principals: exit %d: %s", code, errs)
	}
	for _, p := range []string{filepath.Join(st, "rollup"), filepath.Join(st, "_state", "rollup.json")} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	code, after, errs := runCLI(t, "principals", "--store", st, "--format", "json")
	if code != 0 || !strings.Contains(errs, "building the usage rollup of 2 events file(s)") || !strings.Contains(errs, "built the usage rollup") {
		t.Fatalf("principals on a store without a rollup: exit %d, stderr %q", code, errs)
	}
	if after != before {
		t.Errorf("principals from the rollup it built differs:\n%s\n---\n%s", after, before)
	}
	if code, _, errs = runCLI(t, "principals", "--store", st, "--format", "json"); code != 0 || errs != "" {
		t.Errorf("the rollup was not kept: exit %d, stderr %q", code, errs)
	}

	code, out, errs := runCLI(t, "ingest", "--store", st, "--rebuild-rollup", "--format", "json")
	if code != 0 {
		t.Fatalf("ingest --rebuild-rollup: exit %d: %s", code, errs)
	}
	var sum struct {
		FilesBuilt   int   `json:"rollup_files_built"`
		EventsRead   int64 `json:"events_read"`
		MonthlyFiles int   `json:"monthly_files_written"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.FilesBuilt != 2 || sum.EventsRead != 2900 || sum.MonthlyFiles != 1 {
		t.Fatalf("ingest --rebuild-rollup printed %s (%v)", out, err)
	}
	if code, out, _ := runCLI(t, "principals", "--store", st, "--format", "json"); code != 0 || out != before {
		t.Errorf("principals after --rebuild-rollup: exit %d, differs: %v", code, out != before)
	}
	// A store with a monthly rollup has it kept current by ingest: the
	// months of a new run's twins are written again.
	recs, err := ingesttest.LoadSampleRecords(sampleDir)
	if err != nil {
		t.Fatal(err)
	}
	logs := t.TempDir()
	if err := ingesttest.OrgTrail(recs, ingesttest.OrgTrailOptions{Accounts: 1, Regions: 1, Days: 2, PerDay: 1, Records: 50},
		func(key string, body []byte) error {
			ingesttest.WriteFile(t, logs, key, body)
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "ingest", "--store", st, "--no-progress", logs)
	if code != 0 || !strings.Contains(out, "monthly rollup") || !strings.Contains(out, "1 month written from 2 twins") {
		t.Fatalf("ingest into a store with a monthly rollup: exit %d, %s\n%s", code, errs, out)
	}
	if code, _, errs := runCLI(t, "ingest", "--store", st, "--rebuild-rollup", sampleDir); code != 2 || !strings.Contains(errs, "give no SOURCE") {
		t.Errorf("--rebuild-rollup with a SOURCE: exit %d, %s", code, errs)
	}
}
