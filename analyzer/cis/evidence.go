package cis

import (
	"context"
	"sort"
	"time"

	"github.com/iamlens/iamlens/ingest/store"
)

// EventRow is one event as the monitoring evidence reads it
// (store.EvidenceRow: the store declares the columns it reads).
type EventRow = store.EvidenceRow

// EventEvidence is what the dataset shows for one monitoring control: how
// many matching events, when, and by whom.
type EventEvidence struct {
	Count      int64            `json:"count"`
	First      *time.Time       `json:"first,omitempty"`
	Last       *time.Time       `json:"last,omitempty"`
	Principals []PrincipalCount `json:"principals,omitempty"`
}

// PrincipalCount is one principal's share of the events.
type PrincipalCount struct {
	Principal string `json:"principal"`
	Count     int64  `json:"count"`
}

// EvidenceStats says how much of the dataset was read.
type EvidenceStats struct {
	Files    int
	RowsRead int64
	Matched  int64
}

// EvidenceQuery selects the events: accounts (none: all) and an inclusive
// time range (zero: unbounded).
type EvidenceQuery struct {
	Accounts []string
	From, To time.Time
}

// EvidenceCollector accumulates evidence from rows; Collect wires it to a
// store. It is exported so callers with rows from elsewhere can reuse it.
type EvidenceCollector struct {
	mons  []monitor
	from  int64
	to    int64
	accts map[string]bool
	acc   map[string]*evAcc
	Stats EvidenceStats
}

type evAcc struct {
	n           int64
	first, last int64
	by          map[string]int64
}

// NewEvidenceCollector returns an empty collector for q.
func NewEvidenceCollector(q EvidenceQuery) *EvidenceCollector {
	c := &EvidenceCollector{mons: monitors(), from: -1 << 62, to: 1 << 62, acc: map[string]*evAcc{}}
	if !q.From.IsZero() {
		c.from = q.From.UnixMilli()
	}
	if !q.To.IsZero() {
		c.to = q.To.UnixMilli()
	}
	if len(q.Accounts) > 0 {
		c.accts = map[string]bool{}
		for _, a := range q.Accounts {
			c.accts[a] = true
		}
	}
	return c
}

// Add folds rows in; rows may be reused by the caller afterwards.
func (c *EvidenceCollector) Add(rows []EventRow) {
	for i := range rows {
		r := &rows[i]
		c.Stats.RowsRead++
		if r.EventTime < c.from || r.EventTime > c.to || (c.accts != nil && r.RecipientAccount != "" && !c.accts[r.RecipientAccount]) {
			continue
		}
		for _, m := range c.mons {
			if !m.match(r) {
				continue
			}
			c.Stats.Matched++
			a := c.acc[m.id]
			if a == nil {
				a = &evAcc{first: r.EventTime, last: r.EventTime, by: map[string]int64{}}
				c.acc[m.id] = a
			}
			a.n++
			a.first, a.last = min(a.first, r.EventTime), max(a.last, r.EventTime)
			who := r.PrincipalARN
			if who == "" {
				who = r.UserIdentityARN
			}
			if who == "" {
				who = "(" + r.IdentityType + ")"
			}
			a.by[who]++
		}
	}
}

// Result returns the evidence of every monitoring check: those with no
// matching event get a zero count.
func (c *EvidenceCollector) Result() map[string]*EventEvidence {
	out := map[string]*EventEvidence{}
	for _, m := range c.mons {
		ev := &EventEvidence{}
		if a := c.acc[m.id]; a != nil {
			f, l := time.UnixMilli(a.first).UTC(), time.UnixMilli(a.last).UTC()
			ev.Count, ev.First, ev.Last = a.n, &f, &l
			for p, n := range a.by {
				ev.Principals = append(ev.Principals, PrincipalCount{p, n})
			}
			sort.Slice(ev.Principals, func(i, j int) bool {
				if ev.Principals[i].Count != ev.Principals[j].Count {
					return ev.Principals[i].Count > ev.Principals[j].Count
				}
				return ev.Principals[i].Principal < ev.Principals[j].Principal
			})
		}
		out[m.id] = ev
	}
	return out
}

// CollectEvidence scans the dataset once for the events of every
// monitoring control. It returns nil evidence (and no error) when the
// dataset holds no file for q.
func CollectEvidence(ctx context.Context, st *store.Store, q EvidenceQuery) (map[string]*EventEvidence, EvidenceStats, error) {
	c := NewEvidenceCollector(q)
	ss, err := store.Scan(ctx, st, store.Query{Accounts: q.Accounts, From: q.From, To: q.To}, func(rows []EventRow) error {
		c.Add(rows)
		return nil
	})
	c.Stats.Files = ss.Files
	if err != nil {
		return nil, c.Stats, err
	}
	if ss.Files == 0 {
		return nil, c.Stats, nil
	}
	return c.Result(), c.Stats, nil
}
