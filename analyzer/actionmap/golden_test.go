package actionmap

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/actionmap")

// TestGoldenSample maps every record of the repository's sample logs
// (testdata/sample, 2,900 real records from the invictus-ir set) and
// compares a summary, one line per eventSource and eventName, with
// testdata/actionmap/sample.golden: the status, the actions, how many
// calls and how many distinct resources each action got, and the reason
// for anything not mapped. Run with -update after a deliberate change
// and review the diff.
func TestGoldenSample(t *testing.T) {
	m, _ := mapper(t)
	root := ingesttest.Sample(t)
	type line struct {
		status  Status
		reason  string
		calls   int
		actions map[string]map[string]bool
		hidden  map[string]bool
	}
	lines := map[string]*line{}
	n := 0
	var recs []gjson.Result
	ingesttest.LogRecords(t, root, func(_ string, rec gjson.Result) {
		recs = append(recs, rec)
	})
	// The paths iamlens analyze learns: the callers' ARNs (users, and the
	// issuers of role sessions), and every IAM ARN in the calls.
	paths := NewPaths()
	for _, rec := range recs {
		paths.Learn(rec.Get("userIdentity.arn").Str)
		paths.Learn(rec.Get("userIdentity.sessionContext.sessionIssuer.arn").Str)
		c := CallFromRecord(rec)
		for _, r := range c.Resources {
			paths.Learn(r.ARN)
		}
		paths.LearnText(c.RequestParameters)
		paths.LearnCreate(&c)
	}
	m = m.WithPaths(paths)
	for _, rec := range recs {
		{
			n++
			c := CallFromRecord(rec)
			r := m.Map(&c)
			key := c.EventSource + " " + c.EventName
			l := lines[key]
			if l == nil {
				l = &line{status: r.Status, actions: map[string]map[string]bool{}, hidden: map[string]bool{}}
				lines[key] = l
			}
			if l.status != r.Status {
				l.status = "mixed"
			}
			if r.Status != Mapped {
				l.reason = r.Reason
			}
			l.calls++
			for _, a := range r.Actions {
				if l.actions[a.Name] == nil {
					l.actions[a.Name] = map[string]bool{}
				}
				for _, arn := range a.Resources {
					l.actions[a.Name][arn] = true
				}
			}
			for _, h := range r.NotObservable {
				l.hidden[h] = true
			}
		}
	}
	if n != 2900 {
		t.Fatalf("read %d records from %s, want 2900", n, root)
	}
	keys := make([]string, 0, len(lines))
	for k := range lines {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# eventSource eventName ×calls: status; action (distinct resources; \"*\" when not resource-level) …\n")
	for _, k := range keys {
		l := lines[k]
		fmt.Fprintf(&buf, "%s ×%d: %s", k, l.calls, l.status)
		names := make([]string, 0, len(l.actions))
		for a := range l.actions {
			names = append(names, a)
		}
		sort.Strings(names)
		for _, a := range names {
			if l.actions[a]["*"] {
				fmt.Fprintf(&buf, "; %s (*)", a)
			} else {
				fmt.Fprintf(&buf, "; %s (%d)", a, len(l.actions[a]))
			}
		}
		if l.reason != "" {
			fmt.Fprintf(&buf, "; %s", l.reason)
		}
		hidden := make([]string, 0, len(l.hidden))
		for h := range l.hidden {
			hidden = append(hidden, h)
		}
		sort.Strings(hidden)
		if len(hidden) > 0 {
			fmt.Fprintf(&buf, "; not observable: %s", strings.Join(hidden, ", "))
		}
		buf.WriteByte('\n')
	}
	golden := filepath.Join("..", "..", "testdata", "actionmap", "sample.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		gl, wl := strings.Split(buf.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d:\n got  %s\n want %s", i+1, g, w)
				break
			}
		}
		t.Error("mapping of testdata/sample differs from testdata/actionmap/sample.golden (rerun with -update and review the diff)")
	}
}
