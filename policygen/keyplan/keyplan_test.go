package keyplan_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/analyzer/review"
	"github.com/iamlens/iamlens/analyzer/review/reviewtest"
	"github.com/iamlens/iamlens/policygen/keyplan"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/review")

const day = 24 * time.Hour

var (
	once   sync.Once
	genRep *review.Report
	genErr error
)

// generatedReview reviews the generated account (shared with the review's
// tests) at its state's time.
func generatedReview(t *testing.T) *review.Report {
	t.Helper()
	once.Do(func() {
		st, _ := reviewtest.Store(t)
		act, err := (&review.RollupUsage{Store: st}).Activity(context.Background(), reviewtest.Query(t))
		if err != nil {
			genErr = err
			return
		}
		in, err := iamstate.ReadSnapshot(bytes.NewReader(reviewtest.Snapshot()))
		if err != nil {
			genErr = err
			return
		}
		genRep, genErr = review.Review(context.Background(), review.Options{Rules: review.DefaultRules(), At: reviewtest.At,
			Account: iamstate.Build(in), Activity: act})
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	return genRep
}

func mustBuild(t *testing.T, rep *review.Report, o keyplan.Options) *keyplan.Plan {
	t.Helper()
	p, err := keyplan.Build(rep, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildGenerated(t *testing.T) {
	rep := generatedReview(t)
	p := mustBuild(t, rep, keyplan.Options{Now: reviewtest.At})
	var keys []string
	for _, ks := range p.Schedule {
		keys = append(keys, ks.AccessKeyID)
	}
	slices.Sort(keys)
	// Periodic keys are never planned; stale ones are rotated, not retired.
	want := []string{reviewtest.BobKey, reviewtest.InternKey, reviewtest.OldJobKey}
	if !slices.Equal(keys, want) {
		t.Fatalf("planned %v, want %v", keys, want)
	}
	if len(p.Skipped) != 1 || p.Skipped[0].AccessKeyID != reviewtest.DeployerKey || !strings.Contains(p.Skipped[0].Reason, "periodic") {
		t.Errorf("skipped %+v", p.Skipped)
	}
	for _, ks := range p.Schedule {
		wantStop := keyplan.StopOnAnyUse
		if ks.AccessKeyID == reviewtest.OldJobKey {
			wantStop = keyplan.StopOnSuccess
		}
		if ks.StopOn != wantStop {
			t.Errorf("%s stops on %s", ks.AccessKeyID, ks.StopOn)
		}
		if ks.AccessKeyID == reviewtest.InternKey && !ks.LastUsed.IsZero() {
			t.Errorf("the never-used key has a last use %s", ks.LastUsed)
		}
	}

	// At is Monday 2026-06-01 12:00 UTC: stage 1 starts Tuesday 10:00;
	// stage 2 three days later (Friday), back on Saturday; stage 3 a week
	// after that falls on a Saturday and moves to Monday; the delete 30
	// days later.
	ks := p.Schedule[0]
	wantSteps := []struct {
		stage  int
		action string
		at     string
	}{
		{1, keyplan.Deactivate, "2026-06-02T10:00:00Z"},
		{1, keyplan.Reactivate, "2026-06-02T10:10:00Z"},
		{2, keyplan.Deactivate, "2026-06-05T10:00:00Z"},
		{2, keyplan.Reactivate, "2026-06-06T10:00:00Z"},
		{3, keyplan.Deactivate, "2026-06-15T10:00:00Z"},
		{4, keyplan.Delete, "2026-07-15T10:00:00Z"},
	}
	if len(ks.Stages) != len(wantSteps) {
		t.Fatalf("%d steps", len(ks.Stages))
	}
	for i, w := range wantSteps {
		s := ks.Stages[i]
		if s.Stage != w.stage || s.Action != w.action || s.At.Format(time.RFC3339) != w.at {
			t.Errorf("step %d: %d %s %s, want %d %s %s", i+1, s.Stage, s.Action, s.At.Format(time.RFC3339), w.stage, w.action, w.at)
		}
	}
	if c := ks.Stages[0].Command; c != "aws iam update-access-key --user-name "+ks.User+" --access-key-id "+ks.AccessKeyID+" --status Inactive" {
		t.Errorf("command %q", c)
	}
	if ks.Stages[0].Rollback != ks.Stages[1].Command || !strings.HasPrefix(ks.Stages[5].Command, "aws iam delete-access-key --user-name ") {
		t.Errorf("rollback %q, delete %q", ks.Stages[0].Rollback, ks.Stages[5].Command)
	}
}

func TestWeekends(t *testing.T) {
	rep := generatedReview(t)
	sat := time.Date(2026, 6, 6, 9, 0, 0, 0, time.UTC)
	p := mustBuild(t, rep, keyplan.Options{Now: reviewtest.At, Start: sat})
	if got := p.Schedule[0].Stages[0].At; !got.Equal(time.Date(2026, 6, 8, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("a Saturday start became %s, want Monday 09:00", got)
	}
	p = mustBuild(t, rep, keyplan.Options{Now: reviewtest.At, Start: sat, Weekends: true})
	if got := p.Schedule[0].Stages[0].At; !got.Equal(sat) {
		t.Errorf("with weekends allowed, the start became %s", got)
	}
	// In UTC+13, Friday 20:00 UTC is Saturday 09:00: moved to Monday 09:00
	// there, Sunday 20:00 UTC.
	tz := time.FixedZone("UTC+13", 13*3600)
	fri := time.Date(2026, 6, 5, 20, 0, 0, 0, time.UTC)
	p = mustBuild(t, rep, keyplan.Options{Now: reviewtest.At, Start: fri, Location: tz})
	if got := p.Schedule[0].Stages[0].At; !got.Equal(time.Date(2026, 6, 7, 20, 0, 0, 0, time.UTC)) {
		t.Errorf("in UTC+13 the start became %s", got)
	}
	for _, ks := range p.Schedule {
		for _, s := range ks.Stages {
			if s.Action != keyplan.Reactivate {
				if wd := s.At.In(tz).Weekday(); wd == time.Saturday || wd == time.Sunday {
					t.Errorf("%s %s starts on a %s", ks.AccessKeyID, s.Title, wd)
				}
			}
		}
	}
}

func TestReadRoundTrip(t *testing.T) {
	p := mustBuild(t, generatedReview(t), keyplan.Options{Now: reviewtest.At})
	var b bytes.Buffer
	if err := keyplan.WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	back, err := keyplan.Read(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Schedule) != 3 || !back.Schedule[2].Stages[5].At.Equal(p.Schedule[2].Stages[5].At) || back.Schedule[0].StopOn != p.Schedule[0].StopOn {
		t.Errorf("round trip: %+v", back.Schedule)
	}
	for _, bad := range []string{`{"format":"other"}`, `{"format":"iamlens-key-plan/1","schedule":[{"access_key_id":"AKIA1","user":"u","stop_on":"any-use","stages":[{"action":"explode","at":"2026-01-01T00:00:00Z"}]}]}`,
		`{"format":"iamlens-key-plan/1","schedule":[{"access_key_id":"AKIA1","user":"u","stop_on":"any-use","stages":[{"action":"delete","at":"2026-02-01T00:00:00Z"},{"action":"deactivate","at":"2026-01-01T00:00:00Z"}]}]}`,
		`not json`} {
		if _, err := keyplan.Read(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestDue(t *testing.T) {
	p := mustBuild(t, generatedReview(t), keyplan.Options{Now: reviewtest.At})
	ks := p.Schedule[0]
	if _, ok := ks.Due(ks.Stages[0].At.Add(-time.Second), 0); ok {
		t.Error("a step is due before the first")
	}
	if s, ok := ks.Due(ks.Stages[0].At.Add(5*time.Minute), 0); !ok || s.Action != keyplan.Deactivate {
		t.Errorf("5 minutes into stage 1: %+v", s)
	}
	if s, ok := ks.Due(ks.Stages[1].At, 0); !ok || s.Action != keyplan.Reactivate {
		t.Errorf("at the end of stage 1: %+v", s)
	}
	if s, ok := ks.Due(ks.Stages[5].At.Add(day), 2); !ok || s.Stage != 2 || s.Action != keyplan.Reactivate {
		t.Errorf("stage 2 long after: %+v", s)
	}
	if _, ok := ks.Due(ks.Stages[1].At, 2); ok {
		t.Error("stage 2 due before its time")
	}
}

// TestICS parses the calendar back: CRLF lines of at most 75 octets,
// folds that never split a character, VEVENTs with UID, DTSTAMP from the
// clock, DTSTART before DTEND, and the commands in the descriptions.
func TestICS(t *testing.T) {
	rep := generatedReview(t)
	p := mustBuild(t, rep, keyplan.Options{Now: reviewtest.At})
	// A user name with multi-byte characters, to fold inside them.
	p.Schedule[0].User = strings.Repeat("ü", 40) + ",;\\"
	now := time.Date(2026, 6, 1, 13, 14, 15, 0, time.UTC)
	var b bytes.Buffer
	if err := keyplan.WriteICS(&b, p, now); err != nil {
		t.Fatal(err)
	}
	cal := parseICS(t, b.String())
	events := cal["VEVENT"]
	if len(events) != 4*len(p.Schedule) {
		t.Fatalf("%d events for %d keys", len(events), len(p.Schedule))
	}
	uids := map[string]bool{}
	for _, ev := range events {
		if ev["DTSTAMP"] != "20260601T131415Z" {
			t.Errorf("DTSTAMP %q", ev["DTSTAMP"])
		}
		if uids[ev["UID"]] || ev["UID"] == "" {
			t.Errorf("UID %q missing or repeated", ev["UID"])
		}
		uids[ev["UID"]] = true
		start, err1 := time.Parse("20060102T150405Z", ev["DTSTART"])
		end, err2 := time.Parse("20060102T150405Z", ev["DTEND"])
		if err1 != nil || err2 != nil || !end.After(start) {
			t.Errorf("event %s: %q to %q", ev["UID"], ev["DTSTART"], ev["DTEND"])
		}
	}
	first := events[0]
	desc := unescapeICS(first["DESCRIPTION"])
	if !strings.Contains(desc, p.Schedule[0].Stages[0].Command) || !strings.Contains(desc, "\n") {
		t.Errorf("description %q lacks the command %q", desc, p.Schedule[0].Stages[0].Command)
	}
	if !strings.Contains(unescapeICS(first["SUMMARY"]), p.Schedule[0].User) {
		t.Errorf("summary %q lacks the user", first["SUMMARY"])
	}
	// Stage 1 lasts 10 minutes, stage 3 until the delete.
	if first["DTSTART"] != "20260602T100000Z" || first["DTEND"] != "20260602T101000Z" {
		t.Errorf("stage 1 event %s to %s", first["DTSTART"], first["DTEND"])
	}
	if ev := events[2]; ev["DTSTART"] != "20260615T100000Z" || ev["DTEND"] != "20260715T100000Z" {
		t.Errorf("stage 3 event %s to %s", ev["DTSTART"], ev["DTEND"])
	}
}

// parseICS checks the calendar's lines and returns each component's
// properties (unfolded, parameters dropped) by component name.
func parseICS(t *testing.T, s string) map[string][]map[string]string {
	t.Helper()
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatal("the calendar does not end with CRLF")
	}
	raw := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	var lines []string
	for i, l := range raw {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d holds a bare CR or LF: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 character: %q", i+1, l)
		}
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			if len(lines) == 0 {
				t.Fatal("the calendar starts with a continuation")
			}
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	out := map[string][]map[string]string{}
	var stack []string
	var cur map[string]string
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("line without a colon: %q", l)
		}
		name, _, _ = strings.Cut(name, ";")
		switch name {
		case "BEGIN":
			stack = append(stack, value)
			cur = map[string]string{}
			out[value] = append(out[value], cur)
		case "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				t.Fatalf("END:%s does not close %v", value, stack)
			}
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				comps := out[stack[len(stack)-1]]
				cur = comps[len(comps)-1]
			}
		default:
			if _, dup := cur[name]; dup {
				t.Errorf("property %s repeated", name)
			}
			cur[name] = value
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed %v", stack)
	}
	c := out["VCALENDAR"]
	if len(c) != 1 || c[0]["VERSION"] != "2.0" || c[0]["PRODID"] == "" {
		t.Fatalf("VCALENDAR %v", c)
	}
	return out
}

func unescapeICS(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\;`, `;`, `\,`, `,`, `\n`, "\n", `\N`, "\n").Replace(s)
}

func TestShellQuote(t *testing.T) {
	for user, want := range map[string]string{
		"alice":           "--user-name alice ",
		"a.b+c=d,e@f-g_h": "--user-name a.b+c=d,e@f-g_h ",
		"x'; rm -rf /":    `--user-name 'x'\''; rm -rf /' `,
		"$(id)":           "--user-name '$(id)' ",
	} {
		if c := keyplan.Command(keyplan.Deactivate, user, "AKIA1"); !strings.Contains(c, want) {
			t.Errorf("user %q: %s", user, c)
		}
	}
}

// TestGolden renders the generated plan in each format.
func TestGolden(t *testing.T) {
	p := mustBuild(t, generatedReview(t), keyplan.Options{Now: reviewtest.At})
	now := reviewtest.At
	for _, format := range keyplan.Formats {
		var b bytes.Buffer
		if err := keyplan.Render(&b, p, format, now); err != nil {
			t.Fatal(err)
		}
		ext := map[string]string{"json": "json", "csv": "csv", "ics": "ics", "markdown": "md"}[format]
		golden(t, filepath.Join("..", "..", "testdata", "review", "plan."+ext), b.Bytes())
	}
	if err := keyplan.Render(&bytes.Buffer{}, p, "yaml", now); err == nil {
		t.Error("an unknown format was accepted")
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
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
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test -update rewrites it); got:\n%s", path, got)
	}
}
