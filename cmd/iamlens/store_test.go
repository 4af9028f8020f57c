package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadCommandsCreateNothing: reading a folder that is not a store
// leaves it as it was and says the store holds no events; a store path
// that is a file is refused with a clear message (exit 2).
func TestReadCommandsCreateNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.Mkdir(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"principals"},
		{"analyze", "--principal", "benjamin"},
		{"explain", "--principal", "benjamin"},
	} {
		code, _, stderr := runCLI(t, append(args, "--store", plain)...)
		if code != exitError || !strings.Contains(stderr, "the store holds no events") {
			t.Errorf("%v on a plain folder: exit %d, %q", args, code, stderr)
		}
		if ents, _ := os.ReadDir(plain); len(ents) != 0 {
			t.Fatalf("%v created %s in a folder that is not a store", args, ents[0].Name())
		}
		code, _, stderr = runCLI(t, append(args, "--store", file)...)
		if code != exitUsage || !strings.Contains(stderr, "the store "+file+" is a file: --store takes a folder") {
			t.Errorf("%v on a file: exit %d, %q", args, code, stderr)
		}
	}
	code, _, stderr := runCLI(t, "ingest", "--store", file, sampleDir)
	if code != exitUsage || !strings.Contains(stderr, "is a file: --store takes a folder") {
		t.Errorf("ingest into a file: exit %d, %q", code, stderr)
	}
	code, _, _ = runCLI(t, "cis", "--snapshot", cisFixture("pass"), "--store", plain)
	if ents, _ := os.ReadDir(plain); code == exitError || len(ents) != 0 {
		t.Errorf("cis: exit %d, created %v", code, ents)
	}
}

// TestFlagValidation: values that make no sense are refused (exit 2),
// naming the flag and its minimum, before anything is read.
func TestFlagValidation(t *testing.T) {
	st := filepath.Join(t.TempDir(), "store")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ingest", "--workers", "-3", sampleDir}, "--workers must be at least 0 (0: one per CPU), not -3"},
		{[]string{"ingest", "--max-file-mb", "0", sampleDir}, "--max-file-mb must be at least 1, not 0"},
		{[]string{"ingest", "--max-retries", "0", sampleDir}, "--max-retries must be at least 1 (1: no retries), not 0"},
		{[]string{"ingest", "--fetch", "0", sampleDir}, "--fetch must be at least 1, not 0"},
		{[]string{"ingest", "--fetch-mb", "-1", sampleDir}, "--fetch-mb must be at least 1, not -1"},
		{[]string{"ingest", "--row-group-rows", "0", sampleDir}, "--row-group-rows must be at least 1, not 0"},
		{[]string{"ingest", "--memory-mb", "-5", sampleDir}, "--memory-mb must be at least 0 (0: no limit), not -5"},
		{[]string{"analyze", "--logs", sampleDir, "--max-retries", "0", "--principal", "benjamin"}, "--max-retries must be at least 1"},
		{[]string{"analyze", "--principal", "benjamin", "--max-resources", "0"}, "--max-resources must be at least 1, not 0"},
		{[]string{"explain", "--max-file-mb", "0", mixedFile}, "--max-file-mb must be at least 1, not 0"},
		{[]string{"collect", "--concurrency", "0", "--out", "x.json"}, "--concurrency must be at least 1, not 0"},
	} {
		code, _, stderr := runCLI(t, append(tc.args, "--store", st)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(st); err == nil {
		t.Error("a refused command created the store")
	}
}
