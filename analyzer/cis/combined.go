package cis

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Combined is the report of several accounts: each account's score ranked
// best first, the picture of each control across the accounts, the
// overall score, and each account's report.
type Combined struct {
	Benchmark Benchmark `json:"benchmark"`
	Level     int       `json:"level"`
	// Score is the overall Security Hub style score: the passed controls
	// of every account over their scored (passed or failed) controls.
	Score    *float64        `json:"score"`
	Passed   int             `json:"passed"`
	Scored   int             `json:"scored"`
	Accounts []AccountScore  `json:"accounts"`
	Controls []ControlAcross `json:"controls"`
	// Unread lists the accounts that could not be read at all.
	Unread  []AccountError `json:"unread,omitempty"`
	Reports []*Report      `json:"reports"`
}

// AccountScore is one account's line of the ranking.
type AccountScore struct {
	Rank        int      `json:"rank"`
	AccountID   string   `json:"accountId"`
	AccountName string   `json:"accountName,omitempty"`
	Score       *float64 `json:"score"`
	Passed      int      `json:"passed"`
	Scored      int      `json:"scored"`
	Failures    int      `json:"failures"`
	Critical    int      `json:"criticalFailures"`
}

// AccountError is an account that could not be read (its role could not
// be assumed, its snapshot could not be read).
type AccountError struct {
	AccountID   string `json:"accountId"`
	AccountName string `json:"accountName,omitempty"`
	Error       string `json:"error"`
}

// ControlAcross is one control over every account.
type ControlAcross struct {
	CheckID       string   `json:"checkId"`
	Control       string   `json:"control"`
	Title         string   `json:"title"`
	Severity      Severity `json:"severity"`
	Pass          int      `json:"pass"`
	Fail          int      `json:"fail"`
	NotAssessable int      `json:"notAssessable"`
	Other         int      `json:"other"`
	// Failing names the accounts where the control fails.
	Failing []string `json:"failing,omitempty"`
}

func pct(passed, scored int) *float64 {
	if scored == 0 {
		return nil
	}
	s := float64(int(float64(passed)*1000/float64(scored)+0.5)) / 10
	return &s
}

// Combine builds the report of several accounts.
func Combine(reports []*Report, unread []AccountError) *Combined {
	c := &Combined{Reports: reports, Unread: unread}
	across := map[string]*ControlAcross{}
	var order []string
	for _, r := range reports {
		c.Benchmark, c.Level = r.Benchmark, r.Level
		a := AccountScore{AccountID: r.AccountID, AccountName: r.AccountName, Score: r.Summary.Score, Passed: r.Summary.Pass, Scored: r.Summary.Pass + r.Summary.Fail}
		for _, f := range r.Findings {
			if f.Status == Fail && f.Suppressed == nil {
				a.Failures++
				if f.Severity == Critical {
					a.Critical++
				}
			}
		}
		c.Passed += a.Passed
		c.Scored += a.Scored
		c.Accounts = append(c.Accounts, a)
		for _, ctl := range r.Controls {
			x := across[ctl.CheckID]
			if x == nil {
				x = &ControlAcross{CheckID: ctl.CheckID, Control: ctl.Control, Title: ctl.Title, Severity: ctl.Severity}
				across[ctl.CheckID] = x
				order = append(order, ctl.CheckID)
			}
			switch ctl.Status {
			case Pass:
				x.Pass++
			case Fail:
				x.Fail++
				x.Failing = append(x.Failing, r.accountText())
			case NotAssessable:
				x.NotAssessable++
			default:
				x.Other++
			}
		}
	}
	c.Score = pct(c.Passed, c.Scored)
	sort.SliceStable(c.Accounts, func(i, j int) bool {
		a, b := c.Accounts[i], c.Accounts[j]
		sa, sb := -1.0, -1.0
		if a.Score != nil {
			sa = *a.Score
		}
		if b.Score != nil {
			sb = *b.Score
		}
		if sa != sb {
			return sa > sb
		}
		if a.Critical != b.Critical {
			return a.Critical < b.Critical
		}
		return a.AccountID < b.AccountID
	})
	for i := range c.Accounts {
		c.Accounts[i].Rank = i + 1
	}
	for _, id := range order {
		c.Controls = append(c.Controls, *across[id])
	}
	sort.SliceStable(c.Controls, func(i, j int) bool {
		if x := compareControls(c.Controls[i].Control, c.Controls[j].Control); x != 0 {
			return x < 0
		}
		return c.Controls[i].CheckID < c.Controls[j].CheckID
	})
	sort.SliceStable(c.Reports, func(i, j int) bool { return c.Reports[i].AccountID < c.Reports[j].AccountID })
	return c
}

func (c *Combined) scoreLine() string {
	if c.Score == nil {
		return fmt.Sprintf("no control passed or failed in %d accounts", len(c.Accounts))
	}
	return fmt.Sprintf("overall score %.1f%% (%d of %d scored controls pass across %s)", *c.Score, c.Passed, c.Scored, plural(len(c.Accounts), "account"))
}

func (a AccountScore) name() string {
	if a.AccountName != "" {
		return a.AccountName + " (" + a.AccountID + ")"
	}
	return a.AccountID
}

// rankText is the account's ranking line; a 100% account is celebrated.
func (a AccountScore) rankText() string {
	switch {
	case a.Score == nil:
		return fmt.Sprintf("%d. %s: no control passed or failed", a.Rank, a.name())
	case *a.Score == 100:
		return fmt.Sprintf("%d. %s: 100.0%% (%d of %d): every scored control passes. Well done!", a.Rank, a.name(), a.Passed, a.Scored)
	}
	crit := ""
	if a.Critical > 0 {
		crit = fmt.Sprintf(", %d critical", a.Critical)
	}
	return fmt.Sprintf("%d. %s: %.1f%% (%d of %d), %d failing findings%s", a.Rank, a.name(), *a.Score, a.Passed, a.Scored, a.Failures, crit)
}

func (c *Combined) renderTable(w io.Writer) error {
	fmt.Fprintf(w, "CIS AWS Foundations Benchmark %s, %s, %s\n", c.Benchmark, levelText(c.Level), plural(len(c.Accounts), "account"))
	fmt.Fprintf(w, "%s\n", capitalize(c.scoreLine()))
	fmt.Fprintf(w, "\nRanking (best first):\n")
	for _, a := range c.Accounts {
		fmt.Fprintf(w, "  %s\n", a.rankText())
	}
	for _, u := range c.Unread {
		fmt.Fprintf(w, "  -. %s: not read: %s\n", AccountScore{AccountID: u.AccountID, AccountName: u.AccountName}.name(), u.Error)
	}
	fmt.Fprintf(w, "\nControls across accounts:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tCHECK\tSEVERITY\tPASS\tFAIL\tN/A\tFAILING IN")
	for _, x := range c.Controls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", x.Control, x.CheckID, x.Severity, x.Pass, x.Fail, x.NotAssessable, orPlaceholder(strings.Join(x.Failing, ", "), "-"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range c.Reports {
		fmt.Fprintf(w, "\n%s\n\n", strings.Repeat("=", 78))
		if err := renderTable(w, r); err != nil {
			return err
		}
	}
	return nil
}

func (c *Combined) renderMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "# CIS AWS Foundations Benchmark %s: %s\n\n", c.Benchmark, plural(len(c.Accounts), "account"))
	fmt.Fprintf(w, "**%s**.\n\n## Ranking\n\n| Rank | Account | Score | Passed / scored | Failing findings |\n|---|---|---|---|---|\n", capitalize(c.scoreLine()))
	for _, a := range c.Accounts {
		score := "-"
		if a.Score != nil {
			score = fmt.Sprintf("%.1f%%", *a.Score)
			if *a.Score == 100 {
				score += " 🎉"
			}
		}
		fmt.Fprintf(w, "| %d | %s | %s | %d / %d | %d |\n", a.Rank, mdEscape(a.name()), score, a.Passed, a.Scored, a.Failures)
	}
	for _, u := range c.Unread {
		fmt.Fprintf(w, "| - | %s | not read: %s | | |\n", mdEscape(AccountScore{AccountID: u.AccountID, AccountName: u.AccountName}.name()), mdEscape(u.Error))
	}
	fmt.Fprintf(w, "\n## Controls across accounts\n\n| Control | Check | Severity | Pass | Fail | N/A | Failing in |\n|---|---|---|---|---|---|---|\n")
	for _, x := range c.Controls {
		fmt.Fprintf(w, "| %s | `%s` | %s | %d | %d | %d | %s |\n", x.Control, x.CheckID, x.Severity, x.Pass, x.Fail, x.NotAssessable, mdEscape(orPlaceholder(strings.Join(x.Failing, ", "), "-")))
	}
	for _, r := range c.Reports {
		fmt.Fprintln(w)
		var b strings.Builder
		if err := renderMarkdown(&b, r); err != nil {
			return err
		}
		// Each account's report one heading level down.
		fmt.Fprint(w, strings.ReplaceAll("#"+b.String(), "\n#", "\n##"))
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
