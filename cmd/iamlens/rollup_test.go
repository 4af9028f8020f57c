package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	logs := orgTrailLogs(t, ingesttest.OrgTrailOptions{Accounts: 1, Regions: 1, Days: 2, PerDay: 1, Records: 50})
	code, out, errs = runCLI(t, "ingest", "--store", st, "--no-progress", logs)
	if code != 0 || !strings.Contains(out, "monthly rollup") || !strings.Contains(out, "1 month written from 2 twins") {
		t.Fatalf("ingest into a store with a monthly rollup: exit %d, %s\n%s", code, errs, out)
	}
	// A damaged monthly file: readers say which and how to mend it; the
	// next ingest writes its month again from the rollup files.
	damaged, err := filepath.Glob(filepath.Join(st, "rollup_month", "*", "month=2026-11", "*.parquet"))
	if err != nil || len(damaged) != 1 {
		t.Fatalf("the monthly file: %v %v", damaged, err)
	}
	if err := os.WriteFile(damaged[0], []byte("PAR1 not a parquet file PAR1"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "principals", "--store", st)
	if code == 0 || !strings.Contains(errs, filepath.Base(damaged[0])) || !strings.Contains(errs, "iamlens compact writes the month again") {
		t.Fatalf("principals beside a damaged monthly file: exit %d, %s", code, errs)
	}
	more := func(day int) string {
		return orgTrailLogs(t, ingesttest.OrgTrailOptions{Accounts: 1, Regions: 1, Days: 1, PerDay: 1, Records: 50,
			Start: time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC)})
	}
	code, out, errs = runCLI(t, "ingest", "--store", st, "--no-progress", more(20))
	if code != 0 || !strings.Contains(out, "1 month written from 3 twins") {
		t.Fatalf("ingest beside a damaged monthly file: exit %d, %s\n%s", code, errs, out)
	}
	if code, _, errs = runCLI(t, "principals", "--store", st); code != 0 {
		t.Fatalf("principals after the month was written again: exit %d, %s", code, errs)
	}
	// A month that cannot be written again (here: one of its rollup files
	// damaged, ...) is said, and the run, whose events are committed,
	// succeeds.
	twins, err := filepath.Glob(filepath.Join(st, "rollup", "*", "date=2026-11-20", "*.parquet"))
	if err != nil || len(twins) == 0 {
		t.Fatalf("the rollup files of 2026-11-20: %v %v", twins, err)
	}
	if err := os.WriteFile(twins[0], []byte("PAR1 not a parquet file PAR1"), 0o600); err != nil {
		t.Fatal(err)
	}
	// and the month's monthly files too, so that it is written from all
	// its rollup files
	months, err := filepath.Glob(filepath.Join(st, "rollup_month", "*", "month=2026-11", "*.parquet"))
	if err != nil || len(months) == 0 {
		t.Fatalf("the monthly files: %v %v", months, err)
	}
	for _, f := range months {
		if err := os.WriteFile(f, []byte("PAR1 not a parquet file PAR1"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs = runCLI(t, "ingest", "--store", st, "--no-progress", more(21))
	if code != 0 || !strings.Contains(errs, "the monthly rollup was not brought up to date") || !strings.Contains(errs, filepath.Base(twins[0])) {
		t.Fatalf("ingest when a month cannot be written: exit %d, %s\n%s", code, errs, out)
	}
	if code, _, errs := runCLI(t, "ingest", "--store", st, "--rebuild-rollup", sampleDir); code != 2 || !strings.Contains(errs, "give no SOURCE") {
		t.Errorf("--rebuild-rollup with a SOURCE: exit %d, %s", code, errs)
	}
}

// Ingest, which may run every few minutes, writes a month of the monthly
// rollup again only once its new rollup files are an eighth of the month's
// file: a small run leaves it for later and says so, readers read the new
// files beside the month's file with the same answers, and compact writes
// it.
func TestIngestDefersMonthlyRollup(t *testing.T) {
	logs := func(day, regions, perDay, records int) string {
		return orgTrailLogs(t, ingesttest.OrgTrailOptions{Accounts: 1, Regions: regions, Days: 1, PerDay: perDay, Records: records,
			Start: time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC)})
	}
	st := filepath.Join(t.TempDir(), "store")
	if code, _, errs := runCLI(t, "ingest", "--store", st, "--no-progress", logs(1, 8, 2, 800)); code != 0 {
		t.Fatalf("ingest: exit %d, %s", code, errs)
	}
	if code, out, errs := runCLI(t, "compact", "--store", st); code != 0 || !strings.Contains(out, "1 month written") {
		t.Fatalf("compact: exit %d, %s\n%s", code, errs, out)
	}
	monthFiles := func() []string {
		fs, err := filepath.Glob(filepath.Join(st, "rollup_month", "*", "month=2026-11", "*.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	first := monthFiles()
	if len(first) != 1 {
		t.Fatalf("monthly files after compact: %v", first)
	}

	// A small run: its one new rollup file is under an eighth.
	code, out, errs := runCLI(t, "ingest", "--store", st, "--no-progress", logs(2, 1, 1, 5))
	if code != 0 || !strings.Contains(out, "1 month left for a later run") || strings.Contains(out, "written from") {
		t.Fatalf("a small ingest into a store with a monthly rollup: exit %d, %s\n%s", code, errs, out)
	}
	if got := monthFiles(); strings.Join(got, " ") != strings.Join(first, " ") {
		t.Fatalf("the month was written again: %v", got)
	}
	// Readers read the new file beside the month's: the answers of the
	// twins alone.
	answers := func() string {
		var b strings.Builder
		for _, args := range [][]string{{"principals", "--format", "json"}, {"analyze", "--all", "--format", "json"}} {
			code, out, errs := runCLI(t, append(args, "--store", st)...)
			if code != 0 {
				t.Fatalf("%v: exit %d, %s", args, code, errs)
			}
			b.WriteString(out)
		}
		return b.String()
	}
	beside := answers()
	if !strings.Contains(beside, "2026-11-02") {
		t.Fatalf("the small run's events are not in the answers")
	}
	aside := filepath.Join(st, "rollup_month.aside")
	if err := os.Rename(filepath.Join(st, "rollup_month"), aside); err != nil {
		t.Fatal(err)
	}
	if twins := answers(); twins != beside {
		t.Errorf("the answers from the month's file and the new twin differ from the twins'")
	}
	if err := os.Rename(aside, filepath.Join(st, "rollup_month")); err != nil {
		t.Fatal(err)
	}

	// A second small run: the two new files are over an eighth together.
	code, out, errs = runCLI(t, "ingest", "--store", st, "--no-progress", "--format", "json", logs(3, 1, 1, 5))
	var rep struct {
		Monthly *struct {
			Months   int `json:"months"`
			Twins    int `json:"twins_read"`
			Deferred int `json:"months_deferred"`
		} `json:"monthly_rollup"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Monthly == nil || rep.Monthly.Months != 1 || rep.Monthly.Twins != 2 || rep.Monthly.Deferred != 0 {
		t.Fatalf("a second small ingest: exit %d, %s\n%s", code, errs, out)
	}
	if got := monthFiles(); len(got) != 2 {
		t.Fatalf("monthly files after the month was written again: %v", got)
	}
}

// orgTrailLogs writes the logs of an organization trail made of the
// sample's records (ingesttest.OrgTrail) to a new folder.
func orgTrailLogs(t *testing.T, o ingesttest.OrgTrailOptions) string {
	t.Helper()
	recs, err := ingesttest.LoadSampleRecords(sampleDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ingesttest.OrgTrail(recs, o, func(key string, body []byte) error {
		ingesttest.WriteFile(t, dir, key, body)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}
