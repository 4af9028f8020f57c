// Package suggest finds the names a mistyped one was probably meant to be:
// the one "did you mean" of iamlens, for principals, services, actions and
// flag values alike.
package suggest

import (
	"sort"
	"strings"
)

// Closest returns up to max of candidates that resemble word, closest
// first (ties in candidate order). key, when not nil, is the part of a
// candidate to compare (the name of a principal ARN, say); the comparison
// ignores case. A candidate resembles word when its key is within an edit
// distance of max(2, len(word)/4), or when one contains the other (the
// contained one at least 4 characters long when it is the key).
func Closest(word string, candidates []string, max int, key func(string) string) []string {
	w := strings.ToLower(word)
	if w == "" || max <= 0 {
		return nil
	}
	type cand struct {
		s    string
		dist int
		i    int
	}
	limit := 2
	if len(w)/4 > limit {
		limit = len(w) / 4
	}
	var cs []cand
	for i, c := range candidates {
		k := c
		if key != nil {
			k = key(c)
		}
		k = strings.ToLower(k)
		d := Distance(w, k)
		if strings.Contains(k, w) || (len(k) >= 4 && strings.Contains(w, k)) {
			d = min(d, 1)
		}
		if d <= limit {
			cs = append(cs, cand{c, d, i})
		}
	}
	sort.Slice(cs, func(a, b int) bool {
		if cs[a].dist != cs[b].dist {
			return cs[a].dist < cs[b].dist
		}
		return cs[a].i < cs[b].i
	})
	var out []string
	for _, c := range cs {
		if len(out) == max {
			break
		}
		out = append(out, c.s)
	}
	return out
}

// Distance is the Levenshtein distance between a and b, in bytes: the
// fewest insertions, deletions and substitutions that turn one into the
// other.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
