package cis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseBenchmark(t *testing.T) {
	for in, want := range map[string]Benchmark{"v3.0.0": V300, "3.0.0": V300, "3.0": V300, "3": V300, "V1.4.0": V140, "1.5": V150, "1.2.0": V120,
		"v1.2.0": V120, "1.2": V120, "cis-1.2": V120, "CIS v1.4.0": V140, "cis_1.5": V150, " cis-v3.0 ": V300} {
		if got, err := ParseBenchmark(in); err != nil || got != want {
			t.Errorf("%q: got %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "v2.0.0", "latest", "1.2.0.1", "cis-9"} {
		_, err := ParseBenchmark(in)
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		// The message quotes the input as typed, nothing derived from it.
		if !strings.Contains(err.Error(), fmt.Sprintf("benchmark %q:", in)) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestSeverityJSON(t *testing.T) {
	b, _ := json.Marshal(struct{ S Severity }{High})
	if string(b) != `{"S":"HIGH"}` {
		t.Errorf("marshal: %s", b)
	}
	var v struct{ S Severity }
	if err := json.Unmarshal([]byte(`{"S":"critical"}`), &v); err != nil || v.S != Critical {
		t.Errorf("unmarshal: %v %v", v.S, err)
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Error("urgent: no error")
	}
}

func TestTimeForms(t *testing.T) {
	want := time.Date(2016, 1, 28, 23, 2, 24, 0, time.UTC)
	for _, in := range []string{`"2016-01-28T23:02:24Z"`, `"2016-01-28 23:02:24+00:00"`, `"2016-01-29T00:02:24+01:00"`, `1454022144`, `1454022144.0`} {
		var got Time
		if err := json.Unmarshal([]byte(in), &got); err != nil || !got.Equal(want) {
			t.Errorf("%s: got %v, %v", in, got, err)
		}
	}
	var bad Time
	if err := json.Unmarshal([]byte(`"yesterday"`), &bad); err == nil {
		t.Error("yesterday: no error")
	}
	b, _ := json.Marshal(Time{Time: want})
	if string(b) != `"2016-01-28T23:02:24Z"` {
		t.Errorf("marshal %s", b)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := loadSnapshot(t, "pass")
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, s); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	a, b := evaluate(t, s, V300), evaluate(t, back, V300)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Error("the report differs after a write/read round trip")
	}
	if _, err := ReadSnapshot(strings.NewReader(`{"format":"iamlens-cis-snapshot/9"}`)); err == nil {
		t.Error("unknown format accepted")
	}
}
