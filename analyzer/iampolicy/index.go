package iampolicy

import (
	"math/bits"
	"sort"
	"strings"
	"sync"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

// index numbers the catalogue's actions (sorted by lower-case full name) so
// that the actions a statement covers are a bit set.
type index struct {
	cat     *catalog.Catalog
	actions []*catalog.Action
	names   []string          // "service:Action"
	lower   []string          // lower-case "service:action"
	bySvc   map[string][2]int // service prefix → [from, to) in actions
	pos     map[string]int    // lower-case full name → position
	// types[i] are the resource-type patterns of actions[i] (nil: none),
	// per partition.
	typesMu sync.Mutex
	types   map[string][][]typePattern
}

// typePattern is one resource type of an action: its formats as one union.
type typePattern struct {
	id    string // "service/type", for caching
	union []pattern
}

var (
	indexMu sync.Mutex
	indexes = map[*catalog.Catalog]*index{}
)

func indexOf(cat *catalog.Catalog) *index {
	indexMu.Lock()
	defer indexMu.Unlock()
	if ix, ok := indexes[cat]; ok {
		return ix
	}
	ix := &index{cat: cat, bySvc: map[string][2]int{}, pos: map[string]int{}, types: map[string][][]typePattern{}}
	for _, p := range cat.Services() {
		svc, _ := cat.Service(p)
		ix.actions = append(ix.actions, svc.Actions...)
	}
	lowers := make(map[*catalog.Action]string, len(ix.actions))
	for _, a := range ix.actions {
		lowers[a] = strings.ToLower(a.FullName())
	}
	sort.Slice(ix.actions, func(i, j int) bool { return lowers[ix.actions[i]] < lowers[ix.actions[j]] })
	ix.names = make([]string, len(ix.actions))
	ix.lower = make([]string, len(ix.actions))
	for i, a := range ix.actions {
		ix.names[i] = a.FullName()
		ix.lower[i] = lowers[a]
		ix.pos[ix.lower[i]] = i
		r := ix.bySvc[a.Service]
		if r[1] == 0 {
			r[0] = i
		}
		r[1] = i + 1
		ix.bySvc[a.Service] = r
	}
	indexes[cat] = ix
	return ix
}

// typesOf returns the resource-type patterns of action i in a partition.
func (ix *index) typesOf(i int, partition string) []typePattern {
	ix.typesMu.Lock()
	defer ix.typesMu.Unlock()
	all := ix.types[partition]
	if all == nil {
		all = make([][]typePattern, len(ix.actions))
		ix.types[partition] = all
	}
	if all[i] != nil || len(ix.actions[i].Resources) == 0 {
		return all[i]
	}
	a := ix.actions[i]
	svc, _ := ix.cat.Service(a.Service)
	var out []typePattern
	for _, r := range a.Resources {
		rt, ok := svc.ResourceTypes[r.Type]
		if !ok || len(rt.ARNFormats) == 0 {
			continue
		}
		tp := typePattern{id: a.Service + "/" + r.Type}
		for _, f := range rt.ARNFormats {
			tp.union = append(tp.union, formatPattern(f, partition))
		}
		out = append(out, tp)
	}
	if out == nil {
		// Resource types without formats: any ARN may be one.
		out = []typePattern{{id: a.Service + "/?", union: []pattern{{{kind: clsAny, star: true}}}}}
	}
	all[i] = out
	return out
}

// bitset is a set of action positions.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}
func (b bitset) invert(n int) {
	for i := range b {
		b[i] = ^b[i]
	}
	b.trim(n)
}
func (b bitset) trim(n int) {
	if r := n % 64; r != 0 {
		b[len(b)-1] &= (1 << r) - 1
	}
}

// any reports whether the set holds a position.
func (b bitset) any() bool {
	for _, w := range b {
		if w != 0 {
			return true
		}
	}
	return false
}

// each calls f for every position in the set, in order.
func (b bitset) each(f func(int)) {
	for w, word := range b {
		for word != 0 {
			t := bits.TrailingZeros64(word)
			f(w*64 + t)
			word &= word - 1
		}
	}
}

// cover returns the catalogue actions that the action patterns (lower
// case) match; a pattern whose service part has no wildcard is tried only
// on that service's actions.
func (ix *index) cover(pats []pattern, raw []string) bitset {
	b := newBitset(len(ix.actions))
	for k, p := range pats {
		if p.everything() {
			for i := range b {
				b[i] = ^uint64(0)
			}
			b.trim(len(ix.actions))
			return b
		}
		from, to := 0, len(ix.actions)
		if svc, _, ok := strings.Cut(raw[k], ":"); ok && !strings.ContainsAny(svc, "*?") {
			r, known := ix.bySvc[svc]
			if !known {
				continue
			}
			from, to = r[0], r[1]
		}
		if lit, ok := p.literal(); ok {
			if i, found := ix.pos[lit]; found && i >= from && i < to {
				b.set(i)
			}
			continue
		}
		for i := from; i < to; i++ {
			if p.match(ix.lower[i]) {
				b.set(i)
			}
		}
	}
	return b
}
