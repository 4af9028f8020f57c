package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		FilesBuilt int   `json:"rollup_files_built"`
		EventsRead int64 `json:"events_read"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.FilesBuilt != 2 || sum.EventsRead != 2900 {
		t.Fatalf("ingest --rebuild-rollup printed %s (%v)", out, err)
	}
	if code, out, _ := runCLI(t, "principals", "--store", st, "--format", "json"); code != 0 || out != before {
		t.Errorf("principals after --rebuild-rollup: exit %d, differs: %v", code, out != before)
	}
	if code, _, errs := runCLI(t, "ingest", "--store", st, "--rebuild-rollup", sampleDir); code != 2 || !strings.Contains(errs, "give no SOURCE") {
		t.Errorf("--rebuild-rollup with a SOURCE: exit %d, %s", code, errs)
	}
}
