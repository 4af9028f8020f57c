package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSummarize runs `go test -json` on a throw-away module whose tests
// pass, fail, skip (one for ../shared, one for another reason, one in a
// subtest) and holds the summary to those counts; a second package has no
// tests and a third does not build.
func TestSummarize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.22\n")
	write("a/a_test.go", `package a

import "testing"

func TestPass(t *testing.T) {}
func TestFail(t *testing.T) { t.Log("the detail"); t.Error("boom") }
func TestShared(t *testing.T) { t.Skip("needs ../shared/data (optional)") }
func TestOther(t *testing.T) { t.Skip("IAMLENS_MINIO_ENDPOINT not set") }
func TestParent(t *testing.T) {
	t.Run("one", func(t *testing.T) {})
	t.Run("two", func(t *testing.T) { t.Skip("needs ../shared/data (optional)") })
}
`)
	write("b/b.go", "package b\n")
	write("c/c_test.go", "package c\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) { undefined() }\n")
	cmd := exec.Command("go", "test", "-count=1", "-json", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	stream, _ := cmd.Output() // fails, as it should
	var out bytes.Buffer
	s, err := Summarize(bytes.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	// TestPass, TestParent, TestParent/one pass; TestFail fails; TestShared,
	// TestOther, TestParent/two skip.
	if s.Passed != 3 || s.Failed != 1 || s.Skipped != 3 || s.NeedShared != 2 {
		t.Errorf("passed %d failed %d skipped %d shared %d, want 3 1 3 2\n%s", s.Passed, s.Failed, s.Skipped, s.NeedShared, stream)
	}
	if s.SkipReasons["IAMLENS_MINIO_ENDPOINT not set"] != 1 {
		t.Errorf("skip reasons %v", s.SkipReasons)
	}
	if s.PackagesOK != 0 || s.PackagesFailed != 2 || s.PackagesNoTests != 1 || len(s.BuildFailed) != 1 {
		t.Errorf("packages ok %d failed %d none %d, build failed %v", s.PackagesOK, s.PackagesFailed, s.PackagesNoTests, s.BuildFailed)
	}
	if s.OK() {
		t.Error("a failing run is OK")
	}
	human := out.String()
	for _, want := range []string{"the detail", "boom", "undefined: undefined", "FAIL\texample.com/m/a"} {
		if !strings.Contains(human, want) {
			t.Errorf("output lacks %q:\n%s", want, human)
		}
	}
	if strings.Contains(human, "TestPass") {
		t.Errorf("a passing test's output is shown:\n%s", human)
	}
	var sum bytes.Buffer
	s.Write(&sum)
	if !strings.Contains(sum.String(), "tests: 7 ran: 3 passed, 1 failed, 3 skipped (2 need ../shared)") {
		t.Errorf("summary:\n%s", sum.String())
	}
}
