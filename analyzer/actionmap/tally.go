package actionmap

import "sort"

// Unmatched is one (eventSource, eventName) the mapper could not map, with
// how often it occurred.
type Unmatched struct {
	EventSource string `json:"event_source"`
	EventName   string `json:"event_name"`
	Reason      string `json:"reason"`
	Count       int    `json:"count"`
}

// Tally counts mapping outcomes so that commands can show users what could
// not be mapped. It is not safe for concurrent use.
type Tally struct {
	counts   map[Status]int
	unmapped map[[2]string]*Unmatched
}

// NewTally returns an empty tally.
func NewTally() *Tally {
	return &Tally{counts: map[Status]int{}, unmapped: map[[2]string]*Unmatched{}}
}

// Add records the result of mapping c.
func (t *Tally) Add(c *Call, r Result) {
	t.counts[r.Status]++
	if r.Status != Unmapped {
		return
	}
	k := [2]string{c.EventSource, c.EventName}
	u, ok := t.unmapped[k]
	if !ok {
		u = &Unmatched{EventSource: c.EventSource, EventName: c.EventName, Reason: r.Reason}
		t.unmapped[k] = u
	}
	u.Count++
}

// Counts returns the number of calls per status.
func (t *Tally) Counts() map[Status]int { return t.counts }

// Unmapped returns the unmapped calls, most frequent first, then by name.
func (t *Tally) Unmapped() []Unmatched {
	out := make([]Unmatched, 0, len(t.unmapped))
	for _, u := range t.unmapped {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].EventSource != out[j].EventSource {
			return out[i].EventSource < out[j].EventSource
		}
		return out[i].EventName < out[j].EventName
	})
	return out
}
