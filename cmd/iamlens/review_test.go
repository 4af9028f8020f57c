package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/cis/collect/awsfake"
	"github.com/iamlens/iamlens/analyzer/review/reviewtest"
	"github.com/iamlens/iamlens/policygen/keyplan"
)

// runAt runs iamlens with the wall clock fixed at now.
func runAt(t *testing.T, now time.Time, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cmdEnv{Stdout: &out, Stderr: &errb, Now: func() time.Time { return now }}
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	ctx := context.Background()
	err := root.ExecuteContext(ctx)
	return exitCode(err, ctx, &errb), out.String(), errb.String()
}

var (
	reviewOnce  sync.Once
	reviewStore string
	reviewSnap  string
)

// reviewFixture ingests the generated account's logs with 'review --logs'
// once, and writes its snapshot.
func reviewFixture(t *testing.T) (storeDir, snapshot string) {
	t.Helper()
	reviewOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iamlens-review-cli-")
		if err != nil {
			t.Fatal(err)
		}
		logs := filepath.Join(dir, "logs")
		reviewtest.WriteLogs(t, logs)
		reviewSnap = reviewtest.WriteSnapshot(t, dir)
		reviewStore = filepath.Join(dir, "store")
		code, _, stderr := runAt(t, time.Now(), "review", "--store", reviewStore, "--no-progress", "--logs", logs, "--snapshot", reviewSnap)
		if code != 0 {
			t.Fatalf("review --logs: exit %d: %s", code, stderr)
		}
	})
	if reviewStore == "" {
		t.Fatal("the review fixture failed")
	}
	return reviewStore, reviewSnap
}

func TestMain(m *testing.M) {
	code := m.Run()
	if reviewStore != "" {
		os.RemoveAll(filepath.Dir(reviewStore))
	}
	os.Exit(code)
}

// wallClock is a wall clock far from the state's time: the review must not
// use it.
var wallClock = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)

func TestReviewFormatsGolden(t *testing.T) {
	st, snap := reviewFixture(t)
	for format, ext := range map[string]string{"table": "txt", "markdown": "md", "json": "json", "csv": "csv", "html": "html"} {
		code, out, stderr := runAt(t, wallClock, "review", "--store", st, "--snapshot", snap, "--format", format)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		// The snapshot's directory is a temporary one.
		out = strings.ReplaceAll(out, filepath.Dir(snap), "TMP")
		goldenFile(t, filepath.Join("..", "..", "testdata", "review", "review."+ext), out)
	}
}

func goldenFile(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./cmd/iamlens -run %s -update rewrites it); got:\n%s", path, t.Name(), got)
	}
}

func TestReviewJSONContract(t *testing.T) {
	st, snap := reviewFixture(t)
	code, out, stderr := runAt(t, wallClock, "review", "--store", st, "--snapshot", snap, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		At       time.Time `json:"at"`
		Findings []struct {
			Kind        string          `json:"kind"`
			Principal   string          `json:"principal"`
			AccessKeyID string          `json:"access_key_id"`
			Evidence    json.RawMessage `json:"evidence"`
		} `json:"findings"`
		Schedule []struct {
			AccessKeyID string `json:"access_key_id"`
			User        string `json:"user"`
			Stages      []struct {
				Action  string    `json:"action"`
				At      time.Time `json:"at"`
				Command string    `json:"command"`
			} `json:"stages"`
		} `json:"schedule"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.At.Equal(reviewtest.At) {
		t.Errorf("judged at %s, not the snapshot's time %s", doc.At, reviewtest.At)
	}
	kinds := map[string]bool{}
	for _, f := range doc.Findings {
		kinds[f.Kind] = true
		if !strings.HasPrefix(f.Principal, "arn:aws:iam::111122223333:") || len(f.Evidence) < 3 {
			t.Errorf("finding %+v", f)
		}
	}
	for _, k := range []string{"never-used-key", "unused-key", "stale-key", "failing-only-key", "periodic-key", "unused-user", "unused-password", "unused-role"} {
		if !kinds[k] {
			t.Errorf("no %s finding", k)
		}
	}
	if len(doc.Schedule) != 3 {
		t.Fatalf("schedule %+v", doc.Schedule)
	}
	for _, s := range doc.Schedule {
		if s.User == "" || len(s.Stages) != 6 || !strings.HasPrefix(s.Stages[0].Command, "aws iam update-access-key ") || s.Stages[5].Action != "delete" {
			t.Errorf("schedule entry %+v", s)
		}
	}
}

func TestReviewExitCodes(t *testing.T) {
	st, snap := reviewFixture(t)
	empty := filepath.Join(t.TempDir(), "nostore")
	for _, c := range []struct {
		name string
		args []string
		code int
		in   string
	}{
		{"fail on high", []string{"review", "--store", st, "--snapshot", snap, "--fail-on", "high"}, exitFindings, "findings at or above high"},
		{"nothing high with a long window", []string{"review", "--store", empty, "--snapshot", snap, "--fail-on", "high", "--window", "1000d", "--never-used-age", "1000d"}, 0, "IAM review"},
		{"bad format", []string{"review", "--snapshot", snap, "--format", "pdf"}, exitUsage, "--format"},
		{"bad fail-on", []string{"review", "--snapshot", snap, "--fail-on", "info"}, exitUsage, "--fail-on"},
		{"bad window", []string{"review", "--snapshot", snap, "--window", "soon"}, exitUsage, "--window"},
		{"nothing to review", []string{"review", "--store", empty}, exitUsage, "nothing to review"},
		{"missing snapshot", []string{"review", "--snapshot", "nope.json"}, exitUsage, "nope.json"},
		{"files and live", []string{"review", "--snapshot", snap, "--live"}, exitUsage, "not both"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runAt(t, wallClock, c.args...)
			if code != c.code || !strings.Contains(out+stderr, c.in) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s\n%s", code, c.code, c.in, out, stderr)
			}
		})
	}
}

// TestReviewOut: --out writes a private file.
func TestReviewOut(t *testing.T) {
	st, snap := reviewFixture(t)
	p := filepath.Join(t.TempDir(), "review.html")
	code, _, stderr := runAt(t, wallClock, "review", "--store", st, "--snapshot", snap, "--format", "html", "--out", p)
	if code != 0 {
		t.Fatal(stderr)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() < 1000 {
		t.Fatalf("%v %v", fi, err)
	}
}

// TestKeysPlanAndApply: plan with the CLI, then apply the plan through the
// CLI against the fake IAM and STS.
func TestKeysPlanAndApply(t *testing.T) {
	st, snap := reviewFixture(t)
	dir := t.TempDir()
	planPath := filepath.Join(dir, "plan.json")
	code, _, stderr := runAt(t, wallClock, "keys", "plan", "--store", st, "--snapshot", snap, "--out", planPath)
	if code != 0 || !strings.Contains(stderr, "3 keys to retire, 1 not planned") {
		t.Fatalf("keys plan: exit %d: %s", code, stderr)
	}
	for _, format := range []string{"csv", "ics", "markdown"} {
		if code, out, stderr := runAt(t, wallClock, "keys", "plan", "--store", st, "--snapshot", snap, "--format", format); code != 0 || !strings.Contains(out, reviewtest.BobKey) {
			t.Errorf("keys plan --format %s: exit %d: %s", format, code, stderr)
		}
	}
	fh, err := os.Open(planPath)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := keyplan.Read(fh)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}

	f := awsfake.New(t, false)
	var keys []awsfake.Key
	for _, ks := range plan.Schedule {
		keys = append(keys, awsfake.Key{User: ks.User, ID: ks.AccessKeyID, Status: "Active", Created: reviewtest.At.Add(-300 * 24 * time.Hour), LastUsed: ks.LastUsed})
	}
	f.SetKeys(keys...)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	at := plan.Schedule[0].Stages[0].At.Add(time.Minute).Format(time.RFC3339)
	apply := func(extra ...string) (int, string, string) {
		args := append([]string{"keys", "apply", planPath, "--store", st, "--endpoint-url", f.URL(), "--at", at}, extra...)
		return runAt(t, wallClock, args...)
	}

	// The dry run prints the calls and changes nothing. The failing-only
	// key waits: the dataset ends before the plan was made.
	code, out, stderr := apply()
	if code != exitFindings || !strings.Contains(out, "aws iam update-access-key --user-name bob --access-key-id "+reviewtest.BobKey+" --status Inactive") ||
		!strings.Contains(stderr, "dry run") || !strings.Contains(out, "unconfirmed") {
		t.Fatalf("dry run: exit %d:\n%s\n%s", code, out, stderr)
	}
	if n := f.Ops()["iam:UpdateAccessKey"]; n != 0 {
		t.Fatalf("the dry run made %d calls", n)
	}
	code, out, stderr = apply("--yes")
	if code != exitFindings || !strings.Contains(stderr, "2 done") {
		t.Fatalf("--yes: exit %d:\n%s\n%s", code, out, stderr)
	}
	if k, _ := f.Key(reviewtest.BobKey); k.Status != "Inactive" {
		t.Errorf("bob's key is %s", k.Status)
	}
	audit := strings.TrimSuffix(planPath, ".json") + ".audit.jsonl"
	fi, err := os.Stat(audit)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit log: %v %v", fi, err)
	}
	b, _ := os.ReadFile(audit)
	if n := strings.Count(string(b), "\n"); n != 3 {
		t.Errorf("%d audit lines:\n%s", n, b)
	}
	// Again: nothing new.
	code, _, stderr = apply("--yes")
	if b2, _ := os.ReadFile(audit); code != exitFindings || !strings.Contains(stderr, "2 already so") || strings.Count(string(b2), "\n") != 3 {
		t.Errorf("second run: exit %d: %s\n%s", code, stderr, b2)
	}
	if code, out, _ := runAt(t, wallClock, "keys", "apply", "--print-policy"); code != 0 || !strings.Contains(out, "iam:UpdateAccessKey") {
		t.Errorf("--print-policy: %d %s", code, out)
	}
	if code, _, stderr := runAt(t, wallClock, "keys", "apply", filepath.Join(dir, "none.json")); code != exitUsage {
		t.Errorf("a missing plan: exit %d: %s", code, stderr)
	}
}
