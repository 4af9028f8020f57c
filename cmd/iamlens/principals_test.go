package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// update rewrites the golden files of this package's tests:
// go test ./cmd/iamlens -update
var update = flag.Bool("update", false, "rewrite golden files")

func updateGoldens() bool { return *update }

// checkGolden compares got with testdata/<name> at the repository root.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", filepath.FromSlash(name))
	if updateGoldens() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

const sampleDir = "../../testdata/sample"

// runCLI runs iamlens with args and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// sampleStore ingests testdata/sample into a fresh store.
func sampleStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	if code, _, stderr := runCLI(t, "ingest", "--store", dir, "--no-progress", "--format", "json", sampleDir); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	return dir
}

// sampleRecords counts the sample's records with encoding/json, per
// userIdentity.type ("" when absent).
func sampleRecords(t *testing.T) (total int, byType map[string]int) {
	t.Helper()
	byType = map[string]int{}
	ingesttest.LogFiles(t, sampleDir, func(p string, data []byte) {
		var log struct {
			Records []struct {
				UserIdentity struct{ Type string } `json:"userIdentity"`
			}
		}
		if err := json.Unmarshal(data, &log); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range log.Records {
			total++
			byType[r.UserIdentity.Type]++
		}
	})
	return total, byType
}

type principalOut struct {
	ARN           string    `json:"arn"`
	Kind          string    `json:"kind"`
	Events        int64     `json:"events"`
	Errors        int64     `json:"errors"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
	Accounts      []string  `json:"accounts"`
	CrossAccount  bool      `json:"cross_account"`
	PermissionSet string    `json:"permission_set"`
}

func TestPrincipalsSample(t *testing.T) {
	st := sampleStore(t)
	code, table, stderr := runCLI(t, "principals", "--store", st)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkGolden(t, "principals/sample.table.golden", []byte(table))

	code, js, stderr := runCLI(t, "principals", "--store", st, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkGolden(t, "principals/sample.json.golden", []byte(js))
	var got []principalOut
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	total, byType := sampleRecords(t)
	var events int64
	kinds := map[string]int64{}
	for _, p := range got {
		events += p.Events
		kinds[p.Kind] += p.Events
		if p.ARN == "" {
			t.Errorf("unnamed principal in the sample: %+v", p)
		}
		if p.FirstSeen.After(p.LastSeen) {
			t.Errorf("%s: first seen after last seen", p.ARN)
		}
	}
	if events != int64(total) {
		t.Errorf("principals hold %d events, the sample %d", events, total)
	}
	// Every IAMUser record is an iam-user event; every AssumedRole record a
	// role of some kind; the rest (AWSService and untyped service events)
	// are aws-service events.
	if kinds["iam-user"] != int64(byType["IAMUser"]) {
		t.Errorf("iam-user events %d, IAMUser records %d", kinds["iam-user"], byType["IAMUser"])
	}
	if roles := kinds["role"] + kinds["sso-role"] + kinds["service-linked-role"]; roles != int64(byType["AssumedRole"]) {
		t.Errorf("role events %d, AssumedRole records %d", roles, byType["AssumedRole"])
	}
	if kinds["aws-service"] != int64(byType["AWSService"]+byType[""]) {
		t.Errorf("aws-service events %d, AWSService+untyped records %d", kinds["aws-service"], byType["AWSService"]+byType[""])
	}
}

func TestPrincipalsFilters(t *testing.T) {
	st := sampleStore(t)
	code, js, stderr := runCLI(t, "principals", "--store", st, "--kind", "aws-service", "--sort", "events", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []principalOut
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no aws-service principals")
	}
	for i, p := range got {
		if p.Kind != "aws-service" {
			t.Errorf("kind filter let %s (%s) through", p.ARN, p.Kind)
		}
		if i > 0 && got[i-1].Events < p.Events {
			t.Errorf("not sorted by events: %d before %d", got[i-1].Events, p.Events)
		}
	}

	// A window of one minute holds fewer events than the whole day.
	code, js, _ = runCLI(t, "principals", "--store", st, "--from", "2023-07-10T12:00:00Z", "--to", "2023-07-10T12:00:59Z", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	got = nil
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2023, 7, 10, 12, 0, 0, 0, time.UTC), time.Date(2023, 7, 10, 12, 0, 59, 0, time.UTC)
	for _, p := range got {
		if p.FirstSeen.Before(from) || p.LastSeen.After(to) {
			t.Errorf("%s seen %s..%s, outside the window", p.ARN, p.FirstSeen, p.LastSeen)
		}
	}

	code, out, _ := runCLI(t, "principals", "--store", st, "--account", "999999999999")
	if code != 0 || !strings.Contains(out, "no events match") {
		t.Errorf("other account: exit %d, %q", code, out)
	}
}

func TestPrincipalsErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "none")
	code, _, stderr := runCLI(t, "principals", "--store", empty)
	if code != exitError || !strings.Contains(stderr, "run `iamlens ingest` first") {
		t.Errorf("empty store: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(empty); err == nil {
		t.Error("reading an absent store created it")
	}
	for _, args := range [][]string{
		{"principals", "--store", empty, "--kind", "robot"},
		{"principals", "--store", empty, "--sort", "size"},
		{"principals", "--store", empty, "--format", "yaml"},
		{"principals", "--store", empty, "--from", "2024-02-02", "--to", "2024-02-01"},
	} {
		if code, _, stderr := runCLI(t, args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, stderr)
		}
	}
}

// TestPrincipalsTableFitsTheTerminal: at a terminal narrower than the full
// table, every line fits (days, a count of accounts, principals cut in the
// middle), and without a terminal nothing is cut.
func TestPrincipalsTableFitsTheTerminal(t *testing.T) {
	dir := sampleStore(t)
	run := func(width int) []string {
		t.Helper()
		var out, errb bytes.Buffer
		o := &principalsOptions{Store: dir, Format: "table", Sort: "arn", Stdout: &out, Stderr: &errb, Width: width}
		if err := runPrincipals(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	}
	full := run(0)
	widest := 0
	for _, l := range full {
		widest = max(widest, utf8.RuneCountInString(l))
	}
	if widest <= 100 || !strings.Contains(strings.Join(full, "\n"), "T") {
		t.Fatalf("the full table is %d wide: pick a narrower terminal for this test", widest)
	}
	for _, width := range []int{widest, 120, 112} {
		lines := run(width)
		if len(lines) != len(full) {
			t.Fatalf("width %d: %d lines, want %d", width, len(lines), len(full))
		}
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: a line of %d: %q", width, n, l)
			}
		}
		if width == widest && strings.Join(lines, "\n") != strings.Join(full, "\n") {
			t.Errorf("a table that fits was changed")
		}
		if width == 112 && !strings.Contains(strings.Join(lines, "\n"), "…") {
			t.Errorf("width 112: no principal cut:\n%s", strings.Join(lines, "\n"))
		}
	}
}
