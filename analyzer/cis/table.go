package cis

import (
	"fmt"
	"sort"
	"strings"
)

// ControlTable is the Markdown table of every check and its control number
// in each benchmark version (the crosswalk), in the order of the v3.0.0
// numbering, then the checks v3.0.0 dropped. docs/cis.md holds it
// (TestDocsControlTable).
func ControlTable() string {
	cs := Checks()
	key := func(c Check) string {
		for _, b := range []Benchmark{V300, V150, V140, V120} {
			if ctl, ok := c.Controls[b]; ok {
				return string(b) + " " + ctl.ID
			}
		}
		return ""
	}
	sort.SliceStable(cs, func(i, j int) bool {
		bi, ci, _ := strings.Cut(key(cs[i]), " ")
		bj, cj, _ := strings.Cut(key(cs[j]), " ")
		if bi != bj {
			return bi > bj // v3.0.0 first
		}
		return compareControls(ci, cj) < 0
	})
	var b strings.Builder
	b.WriteString("| Check | Section | v1.2.0 | v1.4.0 | v1.5.0 | v3.0.0 | How |\n|---|---|---|---|---|---|---|\n")
	for _, c := range cs {
		cell := func(v Benchmark) string {
			ctl, ok := c.Controls[v]
			if !ok {
				return "-"
			}
			return fmt.Sprintf("%s (L%d)", ctl.ID, ctl.Level)
		}
		how := "automated"
		if c.Manual {
			how = "manual"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", c.ID, c.Section, cell(V120), cell(V140), cell(V150), cell(V300), how)
	}
	return b.String()
}
