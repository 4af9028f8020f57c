package review

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Period describes a periodic key or principal.
type Period struct {
	// Name names the period: "weekly", "monthly", "quarterly", "every 45
	// days".
	Name string `json:"name"`
	// Days is the typical gap between uses (the median), in days.
	Days int `json:"days"`
	// DaysUsed counts the distinct days with successful calls.
	DaysUsed        int `json:"days_used"`
	SmallestGapDays int `json:"smallest_gap_days"`
	LargestGapDays  int `json:"largest_gap_days"`
	// LastUse is the last day with a successful call; NextExpected is
	// LastUse plus the typical gap.
	LastUse      time.Time `json:"last_use"`
	NextExpected time.Time `json:"next_expected"`
	// Dates are the days with successful calls (YYYY-MM-DD).
	Dates []string `json:"dates"`
}

// periodic applies the periodic rule to the subject's days with successful
// calls up to "now": at least PeriodicMinDays of them, every gap at least
// PeriodicMinGap, and the last no longer ago than the largest gap plus
// PeriodicGrace.
func (rv *reviewer) periodic(s *Subject) (*Period, bool) {
	if s == nil {
		return nil, false
	}
	r := rv.opts.Rules
	var used []time.Time
	for _, d := range s.Days {
		if d.OK > 0 && !d.Date.After(rv.at) {
			used = append(used, d.Date)
		}
	}
	if len(used) < r.PeriodicMinDays {
		return nil, false
	}
	gaps := make([]int, 0, len(used)-1)
	for i := 1; i < len(used); i++ {
		g := int(used[i].Sub(used[i-1]) / day)
		if time.Duration(g)*day < r.PeriodicMinGap {
			return nil, false
		}
		gaps = append(gaps, g)
	}
	sorted := append([]int(nil), gaps...)
	sort.Ints(sorted)
	largest := sorted[len(sorted)-1]
	last := used[len(used)-1]
	if rv.at.Sub(last) > time.Duration(largest)*day+r.PeriodicGrace {
		return nil, false // lapsed: the next use is overdue
	}
	median := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		median = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	p := &Period{Name: periodName(median), Days: median, DaysUsed: len(used), SmallestGapDays: sorted[0],
		LargestGapDays: largest, LastUse: last, NextExpected: last.Add(time.Duration(median) * day)}
	for _, d := range used {
		p.Dates = append(p.Dates, d.Format(time.DateOnly))
	}
	return p, true
}

// next says when the next use is expected.
func (p *Period) next(at time.Time) string {
	if p.NextExpected.Before(at) {
		return fmt.Sprintf("next use was expected about %s (%d days ago, within the grace)", p.NextExpected.Format(time.DateOnly), int(at.Sub(p.NextExpected)/day))
	}
	return "next use expected about " + p.NextExpected.Format(time.DateOnly)
}

// periodName names a typical gap in days.
func periodName(days int) string {
	switch {
	case days >= 6 && days <= 8:
		return "weekly"
	case days >= 13 && days <= 16:
		return "every two weeks"
	case days >= 27 && days <= 33:
		return "monthly"
	case days >= 56 && days <= 65:
		return "every two months"
	case days >= 84 && days <= 98:
		return "quarterly"
	case days >= 175 && days <= 190:
		return "twice a year"
	case days >= 355 && days <= 375:
		return "yearly"
	}
	return fmt.Sprintf("every %d days", days)
}

// Failing describes a key or principal whose every recent call failed.
type Failing struct {
	WindowDays int   `json:"window_days"`
	Calls      int64 `json:"calls"` // in the window
	Denied     int64 `json:"denied"`
	Failed     int64 `json:"failed"`
	// ErrorCodes are the subject's error codes, most frequent first.
	ErrorCodes []Count `json:"error_codes"`
	// FirstFailure is the first failed call after the last successful one
	// (to the day when both fall on the same day), or the first call when
	// none ever succeeded.
	FirstFailure time.Time `json:"first_failure"`
	LastCall     time.Time `json:"last_call"`
	// LastSuccess is the last successful call in the dataset (zero: none).
	LastSuccess time.Time `json:"last_success,omitzero"`
	PerHour     float64   `json:"calls_per_hour"`
	Rate        string    `json:"rate"`
}

// failing applies the failing-only rule: calls in the FailingWindow before
// "now", none of them successful. Days are UTC days; the window's first
// day counts when its calls fall after the window's start.
func (rv *reviewer) failing(s *Subject) (*Failing, bool) {
	if s == nil {
		return nil, false
	}
	start := rv.at.Add(-rv.opts.Rules.FailingWindow)
	f := &Failing{WindowDays: int(rv.opts.Rules.FailingWindow / day), ErrorCodes: s.ErrorCodes}
	var first time.Time
	var lastOK time.Time
	for _, d := range s.Days {
		if d.Date.After(rv.at) {
			break
		}
		if d.OK > 0 {
			lastOK = d.LastOK
		}
		if d.Date.Add(day).Before(start) {
			continue
		}
		if d.OK > 0 && !d.LastOK.Before(start) {
			return nil, false
		}
		if d.Failures() == 0 || d.LastFail.Before(start) {
			continue
		}
		f.Calls += d.Failures()
		f.Denied += d.Denied
		f.Failed += d.Failed
		if first.IsZero() {
			first = maxTime(d.FirstFail, start)
		}
		f.LastCall = d.LastFail
	}
	if f.Calls == 0 {
		return nil, false
	}
	f.LastSuccess = lastOK
	// The first failure after the last success.
	for _, d := range s.Days {
		if d.Failures() == 0 || d.Date.After(rv.at) {
			continue
		}
		if lastOK.IsZero() || d.Date.After(lastOK) {
			f.FirstFailure = d.FirstFail
			break
		}
		if d.LastFail.After(lastOK) {
			f.FirstFailure = d.LastFail // same day as the last success
			break
		}
	}
	span := f.LastCall.Sub(first)
	if span < time.Minute {
		span = time.Minute
	}
	f.PerHour = math.Round(float64(f.Calls)/span.Hours()*100) / 100
	f.Rate = rate(f.Calls, span)
	return f, true
}

// rate says how often calls came: "about 1 call a minute".
func rate(calls int64, span time.Duration) string {
	perMin := float64(calls) / span.Minutes()
	switch {
	case calls == 1:
		return "a single call"
	case perMin >= 0.95:
		return fmt.Sprintf("about %s a minute", plural(perMin, "call"))
	case perMin*60 >= 0.95:
		return fmt.Sprintf("about %s an hour", plural(perMin*60, "call"))
	default:
		return fmt.Sprintf("about %s a day", plural(perMin*60*24, "call"))
	}
}

func plural(n float64, word string) string {
	if n < 10 {
		v := math.Round(n*10) / 10
		if v == 1 {
			return "1 " + word
		}
		return fmt.Sprintf("%g %ss", v, word)
	}
	return fmt.Sprintf("%d %ss", int(math.Round(n)), word)
}
