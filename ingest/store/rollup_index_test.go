package store

import (
	"slices"
	"testing"
)

// The footer's principal index gives each principal's rows in each facet,
// the ARNs front-coded and quoted (an ARN's quotes, backslashes and tabs
// escaped); a line of "-" holds the rows that name no principal.
func TestParseRollupIndex(t *testing.T) {
	idx := rollupIndexHeader +
		"-\t\"\"\t1\t1\t0\t0\n" + // rows 0 (call), then principal, origin, access key
		"0\t\"arn:aws:iam::1:role/a\"\t2\t1\t3\t1\n" +
		"20\t\"b\\\"q\\\\\\tz\"\t4\t1\t0\t2\n" + // arn:aws:iam::1:role/b"q\<tab>z
		"20\t\"c\"\t1\t1\t1\t1\n"
	spans := func(ps ...string) []rowSpan {
		t.Helper()
		s, err := parseRollupIndex(idx, ps)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// facets start at rows 0 (8 call rows), 8 (4 principal), 12 (4 origin), 16 (4 access key)
	if got, want := spans("arn:aws:iam::1:role/b\"q\\\tz"), []rowSpan{{3, 7}, {10, 11}, {17, 19}}; !slices.Equal(got, want) {
		t.Errorf("escaped ARN: %v, want %v", got, want)
	}
	if got, want := spans("arn:aws:iam::1:role/a", "arn:aws:iam::1:role/c"), []rowSpan{{1, 3}, {7, 8}, {9, 10}, {11, 12}, {12, 15}, {15, 16}, {16, 17}, {19, 20}}; !slices.Equal(got, want) {
		t.Errorf("two ARNs: %v, want %v", got, want)
	}
	if got := spans("arn:aws:iam::1:role/"); got != nil {
		t.Errorf("a prefix of an ARN matched: %v", got)
	}
	for _, bad := range []string{"0\t\"x\"\t1\t1\t1\n", "9\t\"x\"\t1\t1\t1\t1\n", "0\t\"x\t1\t1\t1\t1\n", "0\t\"x\"\t1\t-1\t1\t1\n", "0\t\"x\"\t1\t1\t1\t1"} {
		if _, err := parseRollupIndex(rollupIndexHeader+bad, []string{"x"}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
