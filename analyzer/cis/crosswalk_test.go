package cis

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// sourceControl is one line of testdata/cis/crosswalk/controls.tsv, the
// public control list named in its SOURCE.txt.
type sourceControl struct {
	level      string
	assessment string
	title      string
}

func readSourceControls(t *testing.T) map[Benchmark]map[string]sourceControl {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "cis", "crosswalk", "controls.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[Benchmark]map[string]sourceControl{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			continue // header
		}
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 5 {
			t.Fatalf("controls.tsv:%d: %d fields", n, len(parts))
		}
		b := Benchmark(parts[0])
		if out[b] == nil {
			out[b] = map[string]sourceControl{}
		}
		if _, dup := out[b][parts[1]]; dup {
			t.Fatalf("controls.tsv:%d: %s %s twice", n, b, parts[1])
		}
		out[b][parts[1]] = sourceControl{parts[2], parts[3], parts[4]}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// normTitle compares titles across quoting and case: 'root', "root" and
// root; "Enable" and "enable"; a trailing period.
func normTitle(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case r == '*' || r == '/' || r == ':':
			b.WriteRune(r)
		default:
			b.WriteRune(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// notCovered lists the controls of the source that no check implements,
// with why.
var notCovered = map[string]string{
	"v1.4.0 2.1.1": "S3 default encryption: every bucket has been encrypted at rest (SSE-S3) by default since January 2023",
	"v1.5.0 2.1.1": "S3 default encryption: every bucket has been encrypted at rest (SSE-S3) by default since January 2023",
	"v1.5.0 2.1.4": "Macie data discovery: a process question, not a setting",
	"v3.0.0 2.1.3": "Macie data discovery: a process question, not a setting",
}

// TestCrosswalkMatchesSource holds the code's control table (crosswalk.go)
// to the public list: every number the code uses exists in that version,
// with the same title and level; and every control of the list is either
// a check or named in notCovered.
func TestCrosswalkMatchesSource(t *testing.T) {
	src := readSourceControls(t)
	for _, b := range Benchmarks {
		if len(src[b]) == 0 {
			t.Fatalf("the source lists no control of %s", b)
		}
	}
	used := map[string]bool{}
	for _, c := range Checks() {
		for b, ctl := range c.Controls {
			key := string(b) + " " + ctl.ID
			used[key] = true
			s, ok := src[b][ctl.ID]
			if !ok {
				t.Errorf("%s: %s %s is not a control of the source list", c.ID, b, ctl.ID)
				continue
			}
			if normTitle(ctl.Title) != normTitle(s.title) {
				t.Errorf("%s: %s %s title\n got %q\nwant %q", c.ID, b, ctl.ID, ctl.Title, s.title)
			}
			if lvl, err := strconv.Atoi(s.level); err == nil && lvl != ctl.Level {
				t.Errorf("%s: %s %s is level %d, the source says %s", c.ID, b, ctl.ID, ctl.Level, s.level)
			}
			if (s.assessment == "manual" || s.assessment == "not scored") && !c.Manual {
				// Automating a control the benchmark calls manual is fine
				// (the checks say what they read); the reverse is not.
				continue
			}
		}
	}
	for b, ctls := range src {
		for id := range ctls {
			key := string(b) + " " + id
			if !used[key] && notCovered[key] == "" {
				t.Errorf("%s %s (%s) is neither a check nor listed in notCovered", b, id, ctls[id].title)
			}
			if used[key] && notCovered[key] != "" {
				t.Errorf("%s is a check and also listed in notCovered", key)
			}
		}
	}
	for key := range notCovered {
		b, id, _ := strings.Cut(key, " ")
		if _, ok := src[Benchmark(b)][id]; !ok {
			t.Errorf("notCovered names %s, which the source does not list", key)
		}
	}
}

// TestCrosswalkAutomatedAreChecked: every control the source marks
// automated (or scored) has a check that is not manual.
func TestCrosswalkAutomatedAreChecked(t *testing.T) {
	src := readSourceControls(t)
	for _, c := range Checks() {
		for b, ctl := range c.Controls {
			s := src[b][ctl.ID]
			if c.Manual && (s.assessment == "automated") {
				t.Errorf("%s %s (%s) is automated in the benchmark but the check is manual", b, ctl.ID, c.ID)
			}
		}
	}
}

// TestDocsControlTable: the per-version table in docs/cis.md is the one the
// code's crosswalk gives (go test -run TestDocsControlTable -update
// rewrites it between its markers).
func TestDocsControlTable(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "cis.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- control-table:begin -->\n", "<!-- control-table:end -->"
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no control-table markers", path)
	}
	want := ControlTable()
	if got := doc[i+len(begin) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the control table in %s differs from the crosswalk (run with -update)", path)
	}
}
