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
