package review

import (
	"bytes"
	"strings"
	"testing"
)

// TestHTMLEscapesValues: every value on the page, in element text and in
// attributes, is escaped: markup or quotes in log-derived strings (a
// principal's name, a user agent, a tag) never become markup.
func TestHTMLEscapesValues(t *testing.T) {
	const evil = `<img src=x onerror="alert(1)">'&`
	tl := &htmlTimeline{Anchor: "t1", Label: evil, Width: 10, OKDays: 1,
		Rects: []htmlRect{{X: "0", W: "1", Class: "ok", Title: evil}}}
	v := &htmlView{Title: evil, Headline: evil, Inputs: evil, Rules: evil, From: evil, To: evil,
		ByKind: []kindCount{{Kind: evil, Count: 1}}, Notes: []string{evil}, Problems: []string{evil},
		Rows: []htmlRow{{N: 1, Severity: "high", Kind: evil, Subject: evil, Principal: evil, Summary: evil, Action: evil,
			LastUse: evil, LastUseSort: evil, FirstClue: evil, Labels: []string{evil}, Evidence: []string{evil},
			Clues: []string{evil}, Timeline: tl}},
		Timelines: []*htmlTimeline{tl}}
	var buf bytes.Buffer
	if err := v.write(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<img") || strings.Contains(page, `"alert`) {
		t.Errorf("a value became markup:\n%s", page)
	}
	want := `&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&#39;&amp;`
	if n := strings.Count(page, want); n < 25 {
		t.Errorf("the escaped value appears %d times, want every place (25 or more)", n)
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(page, "</html>\n") || strings.Contains(page, "<!--") {
		t.Error("the page's fixed parts are not whole")
	}
}
