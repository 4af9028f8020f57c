package review_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/iamlens/iamlens/analyzer/review"
	"github.com/iamlens/iamlens/analyzer/review/reviewtest"
)

// chromium finds a Chromium or Chrome binary ($IAMLENS_CHROMIUM first).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("IAMLENS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no headless browser: install Debian's chromium (apt-get install -y chromium; CI does) or set IAMLENS_CHROMIUM")
	return ""
}

// TestHTMLInBrowser loads the generated account's report in headless
// Chromium: the summary counts, a click on a column header that re-sorts
// the findings, the timelines drawn, and not one network request.
func TestHTMLInBrowser(t *testing.T) {
	bin := chromium(t)
	act, a := generated(t)
	rep := runReview(t, reviewtest.At, act, a)
	page := filepath.Join(t.TempDir(), "review.html")
	fh, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := review.WriteHTML(fh, rep); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	url := "file://" + page
	var mu sync.Mutex
	var requests []string
	// Listen starts the browser (no timeout on this first call: it would
	// stop the browser).
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("start chromium (%s): %v", bin, err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	if _, err := chromedp.Call(tctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("#findings"))); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(tctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	list := func(js string) []string {
		t.Helper()
		v, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	click := func(sel string) {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	total, high := eval(`document.getElementById('count-total').textContent`), eval(`document.getElementById('count-high').textContent`)
	medium, info := eval(`document.getElementById('count-medium').textContent`), eval(`document.getElementById('count-info').textContent`)
	rows := eval(`String(document.querySelectorAll('#findings tbody tr').length)`)
	rects := eval(`String(document.querySelectorAll('#timelines svg.tl rect').length)`)
	const cells = `Array.from(document.querySelectorAll('#findings tbody tr')).map(r => r.cells[%d].textContent)`
	kindsBefore := list(strings.Replace(cells, "%d", "2", 1))
	click(`#findings thead th:nth-child(3)`)
	kindsAfter := list(strings.Replace(cells, "%d", "2", 1))
	sortState := eval(`document.querySelector('#findings thead th:nth-child(3)').getAttribute('aria-sort')`)
	click(`#findings thead th:nth-child(2)`)
	sevAfter := list(strings.Replace(cells, "%d", "1", 1))
	s := rep.Summary
	if total != itoa(s.Findings) || high != itoa(s.BySeverity[review.High]) || medium != itoa(s.BySeverity[review.Medium]) || info != itoa(s.BySeverity[review.Info]) {
		t.Errorf("summary shows %s total, %s high, %s medium, %s info; the report has %+v", total, high, medium, info, s)
	}
	if rows != itoa(len(rep.Findings)) || s.Findings < 5 {
		t.Errorf("%s rows for %d findings", rows, len(rep.Findings))
	}
	if rects == "0" || rects == "" {
		t.Error("no timeline drawn")
	}
	if slices.Equal(kindsBefore, kindsAfter) {
		t.Errorf("clicking Kind did not change the order: %v", kindsAfter)
	}
	if !slices.IsSorted(kindsAfter) || sortState != "ascending" {
		t.Errorf("after a click on Kind (%s): %v", sortState, kindsAfter)
	}
	// Severity sorts by rank, not by name: info < medium < high.
	rank := func(x string) int { return review.SeverityRank(strings.TrimSpace(x)) }
	if !slices.IsSortedFunc(sevAfter, func(a, b string) int { return rank(a) - rank(b) }) || rank(sevAfter[0]) != 0 {
		t.Errorf("after a click on Severity: %v", sevAfter)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range requests {
		if r != url {
			t.Errorf("the report made a request: %s", r)
		}
	}
	if len(requests) == 0 {
		t.Error("no request seen at all: the network listener did not work")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
