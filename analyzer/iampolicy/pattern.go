package iampolicy

import (
	"strings"
	"unicode/utf8"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

// This file holds the string patterns of the evaluator: IAM's wildcards in
// Action and Resource, ARN formats of the catalogue, and the question the
// resource-type rules need: is there a string that some patterns accept and
// others do not ("is there an object ARN under arn:aws:s3:::b/* that no Deny
// statement names?").
//
// A pattern is a list of tokens, each one character of a class, once or any
// number of times (star). A policy's "*" is a star of any character, "?" one
// character; a catalogue variable such as ${BucketName} is one or more
// characters other than ':' and '/'. Matching a string runs the pattern as a
// non-deterministic automaton over its runes (no backtracking, so no pattern
// is slow); the existence question runs all patterns together, determinised
// on the fly over a small alphabet: every literal rune the patterns name plus
// one rune none of them names.

// class kinds
const (
	clsLit   = iota // one given rune
	clsAny          // any rune
	clsNotIn        // any rune but those in set
)

type token struct {
	kind uint8
	star bool
	r    rune   // clsLit
	set  string // clsNotIn
}

func (t token) accepts(c rune) bool {
	switch t.kind {
	case clsLit:
		return c == t.r
	case clsAny:
		return true
	default:
		return !strings.ContainsRune(t.set, c)
	}
}

// pattern is one glob or ARN format.
type pattern []token

// compileGlob reads an IAM glob: * any run of characters, ? exactly one.
// With vars (policy language 2012-10-17), ${*}, ${?} and ${$} are the
// literal characters and any other ${…} is a policy variable, read as "*"
// (hasVar reports one).
//
// With arn (Resource, NotResource, ArnLike), the wildcards stay within one
// colon-separated segment of the ARN, except a * that ends its segment
// (followed by ':' or the end of the pattern), which may reach across
// colons: "arn:aws:iam::*" matches every IAM ARN, "arn:aws:s3:::b/*x" no
// key holding a colon. That is the rule AWS documents for the Resource
// element.
func compileGlob(s string, vars, arn bool) (p pattern, hasVar bool) {
	for i := 0; i < len(s); {
		if vars && strings.HasPrefix(s[i:], "${") {
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				name := s[i+2 : i+end]
				switch name {
				case "*", "?", "$":
					p = append(p, token{kind: clsLit, r: rune(name[0])})
				default:
					p = appendStar(p, token{kind: clsAny, star: true})
					hasVar = true
				}
				i += end + 1
				continue
			}
		}
		c, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case c == '*' && arn && i < len(s) && s[i] != ':' && s[i] != '*':
			p = appendStar(p, token{kind: clsNotIn, set: ":", star: true})
		case c == '*':
			p = appendStar(p, token{kind: clsAny, star: true})
		case c == '?' && arn:
			p = append(p, token{kind: clsNotIn, set: ":"})
		case c == '?':
			p = append(p, token{kind: clsAny})
		default:
			p = append(p, token{kind: clsLit, r: c})
		}
	}
	return p, hasVar
}

// appendStar adds a star, merged with a star the pattern already ends in
// (the wider of the two stays).
func appendStar(p pattern, t token) pattern {
	if n := len(p); n > 0 && p[n-1].star && p[n-1].kind != clsLit {
		if t.kind == clsAny {
			p[n-1] = t
		}
		return p
	}
	return append(p, t)
}

// everything reports whether the pattern accepts every string (it is only
// stars: "*", "**").
func (p pattern) everything() bool {
	for _, t := range p {
		if !t.star || t.kind != clsAny {
			return false
		}
	}
	return true
}

// literal returns the pattern's string when it has no wildcard.
func (p pattern) literal() (string, bool) {
	var b strings.Builder
	for _, t := range p {
		if t.star || t.kind != clsLit {
			return "", false
		}
		b.WriteRune(t.r)
	}
	return b.String(), true
}

// match reports whether the pattern accepts s. The leading literals are
// compared first, so most patterns ("s3:Get*") answer without the
// automaton.
func (p pattern) match(s string) bool {
	i := 0
	for i < len(p) && p[i].kind == clsLit && !p[i].star {
		c, n := utf8.DecodeRuneInString(s)
		if n == 0 || c != p[i].r {
			return false
		}
		s = s[n:]
		i++
	}
	p = p[i:]
	switch {
	case len(p) == 0:
		return s == ""
	case p.everything():
		return true
	}
	cur := make([]bool, len(p)+1)
	next := make([]bool, len(p)+1)
	p.close(cur, 0)
	for _, c := range s {
		clear(next)
		moved := false
		for i, on := range cur[:len(p)] {
			if !on || !p[i].accepts(c) {
				continue
			}
			moved = true
			if p[i].star {
				p.close(next, i)
			} else {
				p.close(next, i+1)
			}
		}
		if !moved {
			return false
		}
		cur, next = next, cur
	}
	return cur[len(p)]
}

// close marks position i and every position reachable from it by skipping
// stars.
func (p pattern) close(set []bool, i int) {
	for {
		set[i] = true
		if i == len(p) || !p[i].star {
			return
		}
		i++
	}
}

// formatPattern compiles a catalogue ARN format for one partition.
func formatPattern(format, partition string) pattern {
	var p pattern
	for _, part := range catalog.FormatParts(format) {
		switch {
		case part.Var == "":
			for _, c := range part.Literal {
				p = append(p, token{kind: clsLit, r: c})
			}
		case part.Var == "Partition":
			for _, c := range partition {
				p = append(p, token{kind: clsLit, r: c})
			}
		default:
			t := token{kind: clsNotIn, set: ":/"}
			switch {
			case part.Slash && part.Colon:
				t = token{kind: clsAny}
			case part.Slash:
				t.set = ":"
			}
			if !part.Empty {
				p = append(p, t)
			}
			t.star = true
			p = append(p, t)
		}
	}
	return p
}

// union is a set of patterns read as one: a string is in it when one of
// them accepts it. A constraint asks for a string in the union (Not false)
// or outside it (Not true).
type constraint struct {
	union []pattern
	not   bool
}

// maxStates bounds the searches below; past it the answer is "yes" (the
// caller's conservative reading: a resource may exist).
const maxStates = 20000

// satisfiable reports whether some string meets every constraint. It picks
// one pattern of each positive constraint at a time and:
//  1. drops the choice when the patterns share no string (literal prefixes
//     first, then a product automaton);
//  2. keeps the negative patterns that meet the choice; with none, yes;
//  3. tries a few shortest common strings (different filler runes): one
//     that no negative pattern accepts answers yes;
//  4. answers no when one negative pattern alone holds the whole choice;
//  5. else searches every pattern together (subsetStates).
//
// Steps 1-4 answer the questions real policies raise in microseconds; 5 is
// for what is left.
func satisfiable(cs []constraint) bool {
	var pos [][]pattern
	var neg []pattern
	for _, c := range cs {
		if c.not {
			neg = append(neg, c.union...)
		} else {
			pos = append(pos, c.union)
		}
	}
	choice := make([]pattern, len(pos))
	var try func(k int) bool
	try = func(k int) bool {
		if k < len(pos) {
			for _, p := range pos[k] {
				choice[k] = p
				if !prefixesAgree(choice[:k+1]) {
					continue
				}
				if try(k + 1) {
					return true
				}
			}
			return false
		}
		if _, ok := witness(choice, 'x'); !ok {
			return false
		}
		var meet []pattern
		for _, n := range neg {
			if _, ok := witness(append(choice[:len(choice):len(choice)], n), 'x'); ok {
				meet = append(meet, n)
			}
		}
		if len(meet) == 0 {
			return true
		}
		for _, filler := range []rune{'x', '0', 0xE000} {
			w, _ := witness(choice, filler)
			escaped := true
			for _, n := range meet {
				if n.match(w) {
					escaped = false
					break
				}
			}
			if escaped {
				return true
			}
		}
		sub := make([]constraint, 0, len(choice)+1)
		for _, p := range choice {
			sub = append(sub, constraint{union: []pattern{p}})
		}
		for _, n := range meet {
			if !subsetStates(append(sub[:len(sub):len(sub)], constraint{union: []pattern{n}, not: true})) {
				return false
			}
		}
		return subsetStates(append(sub, constraint{union: meet, not: true}))
	}
	return try(0)
}

// prefixesAgree compares the patterns' leading literals: two that differ
// before either pattern's first wildcard accept no common string.
func prefixesAgree(ps []pattern) bool {
	for i := 0; ; i++ {
		var lit rune = -1
		for _, p := range ps {
			if i >= len(p) || p[i].kind != clsLit || p[i].star {
				return true
			}
			if lit >= 0 && p[i].r != lit {
				return false
			}
			lit = p[i].r
		}
	}
}

// commonRune returns a rune every token accepts: their literal if they
// name one, else filler when all accept it, else a rune outside every
// excluded set.
func commonRune(ts []token, filler rune) (rune, bool) {
	var lit rune = -1
	for _, t := range ts {
		if t.kind == clsLit {
			if lit >= 0 && lit != t.r {
				return 0, false
			}
			lit = t.r
		}
	}
	cands := []rune{lit}
	if lit < 0 {
		cands = []rune{filler, 'x', 0xE000}
	}
	for _, c := range cands {
		ok := true
		for _, t := range ts {
			if !t.accepts(c) {
				ok = false
				break
			}
		}
		if ok {
			return c, true
		}
	}
	return 0, false
}

// witness returns a shortest string every pattern accepts, reading filler
// wherever the patterns leave the rune open: a breadth-first search of the
// product automaton, whose states are tuples of positions.
func witness(ps []pattern, filler rune) (string, bool) {
	if !prefixesAgree(ps) {
		return "", false
	}
	n := len(ps)
	type node struct {
		pos    []int
		parent int
		r      rune // read to get here; -1 for a star skipped
	}
	key := func(pos []int) string {
		b := make([]byte, 0, 2*n)
		for _, p := range pos {
			b = append(b, byte(p), byte(p>>8))
		}
		return string(b)
	}
	nodes := []node{{pos: make([]int, n), parent: -1, r: -1}}
	visited := map[string]bool{key(nodes[0].pos): true}
	push := func(pos []int, parent int, r rune) {
		k := key(pos)
		if !visited[k] {
			visited[k] = true
			nodes = append(nodes, node{pos: pos, parent: parent, r: r})
		}
	}
	ts := make([]token, n)
	for at := 0; at < len(nodes); at++ {
		if at >= maxStates {
			return "", true
		}
		pos := nodes[at].pos
		end := true
		for i, p := range pos {
			if p < len(ps[i]) {
				end = false
			}
		}
		if end {
			var rs []rune
			for k := at; k > 0; k = nodes[k].parent {
				if nodes[k].r >= 0 {
					rs = append(rs, nodes[k].r)
				}
			}
			for l, r := 0, len(rs)-1; l < r; l, r = l+1, r-1 {
				rs[l], rs[r] = rs[r], rs[l]
			}
			return string(rs), true
		}
		for i, p := range pos {
			if p < len(ps[i]) && ps[i][p].star {
				next := append([]int(nil), pos...)
				next[i]++
				push(next, at, -1)
			}
		}
		readable := true
		for i, p := range pos {
			if p == len(ps[i]) {
				readable = false
				break
			}
			ts[i] = ps[i][p]
		}
		if !readable {
			continue
		}
		r, ok := commonRune(ts, filler)
		if !ok {
			continue
		}
		next := append([]int(nil), pos...)
		for i := range next {
			if !ps[i][next[i]].star {
				next[i]++
			}
		}
		push(next, at, r)
	}
	return "", false
}

// subsetStates reports whether some string meets every constraint, running
// every pattern together, determinised on the fly over a small alphabet:
// each literal rune the patterns name plus one rune none of them names. A
// state is the set of positions reached in every pattern, one bit each.
func subsetStates(cs []constraint) bool {
	type ref struct {
		c, off int
		p      pattern
	}
	var refs []ref
	bitsN := 0
	seen := map[rune]bool{}
	var alpha []rune
	for ci, c := range cs {
		for _, p := range c.union {
			refs = append(refs, ref{c: ci, off: bitsN, p: p})
			bitsN += len(p) + 1
			for _, t := range p {
				switch t.kind {
				case clsLit:
					if !seen[t.r] {
						seen[t.r] = true
						alpha = append(alpha, t.r)
					}
				case clsNotIn:
					for _, r := range t.set {
						if !seen[r] {
							seen[r] = true
							alpha = append(alpha, r)
						}
					}
				}
			}
		}
	}
	other := rune(0xE000)
	for seen[other] {
		other++
	}
	alpha = append(alpha, other)
	words := (bitsN + 63) / 64
	closeIn := func(st []uint64, rf ref, i int) {
		for {
			b := rf.off + i
			st[b/64] |= 1 << (b % 64)
			if i == len(rf.p) || !rf.p[i].star {
				return
			}
			i++
		}
	}
	on := func(st []uint64, b int) bool { return st[b/64]&(1<<(b%64)) != 0 }
	key := func(st []uint64) string {
		b := make([]byte, 8*len(st))
		for i, w := range st {
			for k := 0; k < 8; k++ {
				b[8*i+k] = byte(w >> (8 * k))
			}
		}
		return string(b)
	}
	start := make([]uint64, words)
	for _, rf := range refs {
		closeIn(start, rf, 0)
	}
	inC := make([]bool, len(cs))
	alive := make([]bool, len(cs))
	judge := func(st []uint64) (accept, dead bool) {
		clear(inC)
		clear(alive)
		for _, rf := range refs {
			if on(st, rf.off+len(rf.p)) {
				inC[rf.c] = true
			}
			for i := 0; i <= len(rf.p); i++ {
				if on(st, rf.off+i) {
					alive[rf.c] = true
					break
				}
			}
		}
		accept = true
		for ci, c := range cs {
			if inC[ci] == c.not {
				accept = false
			}
			if !c.not && !alive[ci] {
				return false, true
			}
		}
		return accept, false
	}
	visited := map[string]bool{key(start): true}
	queue := [][]uint64{start}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		accept, dead := judge(st)
		if accept {
			return true
		}
		if dead {
			continue
		}
		for _, r := range alpha {
			next := make([]uint64, words)
			for _, rf := range refs {
				for i, t := range rf.p {
					if on(st, rf.off+i) && t.accepts(r) {
						if t.star {
							closeIn(next, rf, i)
						} else {
							closeIn(next, rf, i+1)
						}
					}
				}
			}
			k := key(next)
			if visited[k] {
				continue
			}
			if len(visited) >= maxStates {
				return true
			}
			visited[k] = true
			queue = append(queue, next)
		}
	}
	return false
}
