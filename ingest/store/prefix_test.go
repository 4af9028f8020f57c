package store

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// strs returns every string of up to n bytes over alphabet, and a few
// longer ones built from them.
func strs(alphabet string, n int) []string {
	out := []string{""}
	level := []string{""}
	for range n {
		var next []string
		for _, s := range level {
			for i := range len(alphabet) {
				next = append(next, s+alphabet[i:i+1])
			}
		}
		out = append(out, next...)
		level = next
	}
	for _, s := range level {
		out = append(out, s+s, s+"\x00"+s+s)
	}
	return out
}

// TestPrefix8KeepsOrder: a strict order of prefixes is the strings' order,
// and the strings' order never reverses their prefixes', for short strings,
// strings ending in NUL bytes and strings that differ after their eighth.
func TestPrefix8KeepsOrder(t *testing.T) {
	all := strs("\x00\x01a\xff", 5)
	for _, a := range all {
		for _, b := range all {
			pa, pb := prefix8(a), prefix8(b)
			if pa < pb && !(a < b) {
				t.Fatalf("prefix8(%q) < prefix8(%q) but the strings are not in that order", a, b)
			}
			if a < b && pa > pb {
				t.Fatalf("%q < %q but prefix8 reverses them", a, b)
			}
		}
	}
}

// TestSeeStrBounds: the bounds seeStr keeps are the least and greatest
// value seen, in any order of arrival.
func TestSeeStrBounds(t *testing.T) {
	all := strs("\x00a\xff", 4)
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		vals := make([]string, 1+r.IntN(40))
		for i := range vals {
			vals[i] = all[r.IntN(len(all))]
		}
		var s chunkState
		for _, v := range vals {
			s.seeStr(v)
		}
		if lo, hi := slices.Min(vals), slices.Max(vals); s.pmin != lo || s.pmax != hi {
			t.Fatalf("%q: bounds [%q, %q], want [%q, %q]", vals, s.pmin, s.pmax, lo, hi)
		}
	}
}
