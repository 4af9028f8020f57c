package cis

import (
	"strings"
	"testing"
	"time"
)

// farFuture is a wall clock no test result may depend on.
func farFuture() time.Time { return time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) }

func statusAt(t *testing.T, s *Snapshot, b Benchmark, at time.Time) (map[string]Status, *Report) {
	t.Helper()
	r, err := Evaluate(s, Options{Benchmark: b, At: at, Now: farFuture})
	if err != nil {
		t.Fatal(err)
	}
	return controlStatus(r), r
}

// TestSnapshotJudgedAtItsTime: the clock snapshot (collected 2026-06-01)
// gives the same answers whatever the wall clock says, and each age-based
// control flips at its own time, not before.
func TestSnapshotJudgedAtItsTime(t *testing.T) {
	s := loadSnapshot(t, "clock")
	collected := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	st, r := statusAt(t, s, V300, time.Time{})
	if !r.EvaluatedAt.Equal(collected) || r.TimeBasis != TimeCollectedAt {
		t.Fatalf("judged at %v (%s), want the snapshot's collectedAt", r.EvaluatedAt, r.TimeBasis)
	}
	want := map[string]Status{
		"iam-key-rotation":                Pass, // 88 days
		"iam-unused-credentials":          Pass, // 42 days
		"iam-root-usage":                  Fail, // 85 days ago
		"iam-expired-server-certificates": Pass, // expires in 9 days
	}
	if st15, _ := statusAt(t, s, V150, time.Time{}); st15["cloudtrail-cloudwatch-logs"] != Pass { // 12 hours ago
		t.Errorf("at collectedAt: cloudtrail-cloudwatch-logs is %s", st15["cloudtrail-cloudwatch-logs"])
	}
	for id, w := range want {
		if st[id] != w {
			t.Errorf("at collectedAt: %s is %s, want %s", id, st[id], w)
		}
	}
	if !strings.Contains(r.TimeText(), "2026-06-01T00:00:00Z, the snapshot's collectedAt") {
		t.Errorf("time text %q", r.TimeText())
	}

	flips := []struct {
		id            string
		bench         Benchmark
		before, after time.Time
		from, to      Status
	}{
		{"cloudtrail-cloudwatch-logs", V150, time.Date(2026, 6, 1, 11, 59, 0, 0, time.UTC), time.Date(2026, 6, 1, 12, 1, 0, 0, time.UTC), Pass, Fail},
		{"iam-key-rotation", V300, time.Date(2026, 6, 2, 23, 0, 0, 0, time.UTC), time.Date(2026, 6, 3, 1, 0, 0, 0, time.UTC), Pass, Fail},
		{"iam-unused-credentials", V300, time.Date(2026, 6, 3, 23, 0, 0, 0, time.UTC), time.Date(2026, 6, 4, 0, 0, 0, 0, time.UTC), Pass, Fail},
		{"iam-unused-credentials", V120, time.Date(2026, 7, 18, 23, 0, 0, 0, time.UTC), time.Date(2026, 7, 19, 0, 0, 0, 0, time.UTC), Pass, Fail},
		{"iam-root-usage", V300, time.Date(2026, 6, 5, 23, 0, 0, 0, time.UTC), time.Date(2026, 6, 6, 1, 0, 0, 0, time.UTC), Fail, Pass},
		{"iam-expired-server-certificates", V300, time.Date(2026, 6, 9, 23, 0, 0, 0, time.UTC), time.Date(2026, 6, 10, 1, 0, 0, 0, time.UTC), Pass, Fail},
	}
	for _, f := range flips {
		before, rb := statusAt(t, s, f.bench, f.before)
		after, _ := statusAt(t, s, f.bench, f.after)
		if before[f.id] != f.from || after[f.id] != f.to {
			t.Errorf("%s (%s): %s at %s and %s at %s, want %s then %s", f.id, f.bench, before[f.id], f.before.Format(time.RFC3339), after[f.id], f.after.Format(time.RFC3339), f.from, f.to)
		}
		if rb.TimeBasis != TimeAt || !strings.Contains(rb.TimeText(), "(--at; collected 2026-06-01T00:00:00Z)") {
			t.Errorf("--at report says %q (%s)", rb.TimeText(), rb.TimeBasis)
		}
	}

	// The wall clock is never read while collectedAt is there: two very
	// different clocks, one report.
	a, _ := Evaluate(s, Options{Benchmark: V300, Now: farFuture})
	b, _ := Evaluate(s, Options{Benchmark: V300, Now: func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if ja, jb := mustJSON(t, a), mustJSON(t, b); ja != jb {
		t.Error("the report depends on the wall clock")
	}

	// Without collectedAt the wall clock is used, and the report says so.
	s.CollectedAt = Time{}
	r, err := Evaluate(s, Options{Benchmark: V300, Now: farFuture})
	if err != nil {
		t.Fatal(err)
	}
	if r.TimeBasis != TimeNow || !r.EvaluatedAt.Equal(farFuture()) || len(r.Notes) == 0 || !strings.Contains(r.Notes[0], "no collectedAt") {
		t.Errorf("no collectedAt: %s %v %v", r.TimeBasis, r.EvaluatedAt, r.Notes)
	}
}

// TestSuppressionExpiryAtSnapshotTime: a suppression that expired after the
// snapshot was collected still applies to that snapshot.
func TestSuppressionExpiryAtSnapshotTime(t *testing.T) {
	s := loadSnapshot(t, "fail") // collected 2026-11-20
	sups, err := ReadSuppressions(strings.NewReader(`[{"checkId":"iam-root-mfa","reason":"device on order","expires":"2026-11-25"}]`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate(s, Options{Benchmark: V300, Suppressions: sups, Now: farFuture})
	if err != nil {
		t.Fatal(err)
	}
	if st := controlStatus(r)["iam-root-mfa"]; st != Suppressed {
		t.Errorf("judged at collectedAt the suppression applies: got %s", st)
	}
	r, _ = Evaluate(s, Options{Benchmark: V300, Suppressions: sups, At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	if st := controlStatus(r)["iam-root-mfa"]; st != Fail {
		t.Errorf("judged on 2026-12-01 the suppression has expired: got %s", st)
	}
}
