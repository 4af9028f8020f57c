// Command testsummary reads `go test -json` on stdin, prints what a person
// needs (each package's result line, the full output of every failing test,
// build errors) and ends with the counts: tests passed, failed and skipped,
// the skips that need ../shared (optional extra checks a fresh clone
// cannot run) and the other reasons for skipping, and packages. It exits 1
// when a test or a package failed. scripts/test.sh pipes the suite into it
// and prints the counts (-counts FILE) at its very end.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output, build-fail
}

// needsShared starts the skip message of tests that need ../shared/data
// (ingesttest.NeedsShared).
const needsShared = "needs ../shared"

// Summary is what the run came to.
type Summary struct {
	Passed, Failed, Skipped int
	// SkipReasons counts skipped tests by the message of their t.Skip.
	SkipReasons map[string]int
	// NeedShared is how many skipped tests need ../shared.
	NeedShared int
	// FailedTests names the failing tests, "package TestName".
	FailedTests []string
	// Packages by result: ok, FAIL, or "no tests".
	PackagesOK, PackagesFailed, PackagesNoTests int
	BuildFailed                                 []string
}

var logLine = regexp.MustCompile(`^\s+\S+\.go:\d+: (.*)$`)

// Summarize reads events from r and writes the human part to w.
func Summarize(r io.Reader, w io.Writer) (Summary, error) {
	s := Summary{SkipReasons: map[string]int{}}
	outputs := map[string][]string{} // by package + test
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, string(line)) // not an event: pass it on
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Action == "build-fail":
			s.BuildFailed = append(s.BuildFailed, e.ImportPath)
		case e.Test == "" && e.Action == "output":
			// The package's own lines: "ok  pkg 1.2s", "FAIL pkg", panics
			// outside a test.
			if !strings.HasPrefix(e.Output, "=== ") && !strings.HasPrefix(e.Output, "PASS\n") && !strings.HasPrefix(e.Output, "FAIL\n") {
				fmt.Fprint(w, e.Output)
			}
		case e.Test == "" && e.Action == "pass":
			s.PackagesOK++
		case e.Test == "" && e.Action == "fail":
			s.PackagesFailed++
		case e.Test == "" && e.Action == "skip":
			s.PackagesNoTests++
		case e.Action == "output":
			outputs[key] = append(outputs[key], e.Output)
		case e.Action == "pass":
			s.Passed++
			delete(outputs, key)
		case e.Action == "fail":
			s.Failed++
			s.FailedTests = append(s.FailedTests, e.Package+" "+e.Test)
			for _, o := range outputs[key] {
				if !strings.HasPrefix(o, "=== ") {
					fmt.Fprint(w, o)
				}
			}
			delete(outputs, key)
		case e.Action == "skip":
			s.Skipped++
			reason := skipReason(outputs[key])
			s.SkipReasons[reason]++
			if strings.HasPrefix(reason, needsShared) {
				s.NeedShared++
			}
			delete(outputs, key)
		}
	}
	return s, sc.Err()
}

// skipReason is the last message logged by a skipped test: its t.Skip.
func skipReason(out []string) string {
	for i := len(out) - 1; i >= 0; i-- {
		if m := logLine.FindStringSubmatch(strings.TrimRight(out[i], "\n")); m != nil {
			return m[1]
		}
	}
	return "(no reason given)"
}

// Write prints the counts.
func (s Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "\ntests: %d ran: %d passed, %d failed, %d skipped (%d need ../shared)\n",
		s.Passed+s.Failed+s.Skipped, s.Passed, s.Failed, s.Skipped, s.NeedShared)
	reasons := make([]string, 0, len(s.SkipReasons))
	for r := range s.SkipReasons {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if s.SkipReasons[reasons[i]] != s.SkipReasons[reasons[j]] {
			return s.SkipReasons[reasons[i]] > s.SkipReasons[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	for _, r := range reasons {
		fmt.Fprintf(w, "  skipped %d: %s\n", s.SkipReasons[r], r)
	}
	for _, f := range s.FailedTests {
		fmt.Fprintf(w, "  failed: %s\n", f)
	}
	for _, b := range s.BuildFailed {
		fmt.Fprintf(w, "  did not build: %s\n", b)
	}
	fmt.Fprintf(w, "packages: %d ok, %d failed, %d without tests\n", s.PackagesOK, s.PackagesFailed, s.PackagesNoTests)
}

// OK reports whether nothing failed.
func (s Summary) OK() bool {
	return s.Failed == 0 && s.PackagesFailed == 0 && len(s.BuildFailed) == 0
}

func main() { os.Exit(run()) }

func run() int {
	counts := flag.String("counts", "", "write the counts to this file instead of standard output")
	flag.Parse()
	s, err := Summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
	}
	w := os.Stdout
	if *counts != "" {
		f, ferr := os.Create(*counts)
		if ferr != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", ferr)
			return 1
		}
		defer f.Close()
		w = f
	}
	s.Write(w)
	if err != nil || !s.OK() {
		return 1
	}
	return 0
}
