package cloudtrail

import (
	"math/bits"

	"github.com/tidwall/gjson"
)

// eachMember calls fn with the key (unquoted), the raw value and whether
// the value is a string with an escape in it, for each member of the JSON
// object raw, in order. It is the userIdentity block's
// reader on the decoder's hot path: the splitter has already validated the
// block, so it only finds where each string and value ends, a word at a
// time, where gjson's ForEach decodes every value it passes. On input that
// is not an object it calls fn for no member, and on a malformed object it
// stops at the malformation, never reading out of bounds.
func eachMember(raw string, fn func(key, val string, esc bool)) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return
	}
	for {
		i = skipSpace(raw, i+1) // past '{' or ','
		if i >= len(raw) || raw[i] != '"' {
			return // '}' or malformed
		}
		end, esc := stringEnd(raw, i)
		if end < 0 {
			return
		}
		key := raw[i+1 : end-1]
		if esc {
			key = gjson.Parse(raw[i:end]).Str
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return
		}
		i = skipSpace(raw, i+1)
		vend, esc := valueEnd(raw, i)
		if vend < 0 {
			return
		}
		fn(key, raw[i:vend], esc)
		i = skipSpace(raw, vend)
		if i >= len(raw) || raw[i] != ',' {
			return
		}
	}
}

// memberResult is a member's raw value as gjson.Result: strings without
// escapes (nearly all of them) are cut from the raw text, the rest parsed.
func memberResult(v string, esc bool) gjson.Result {
	switch {
	case !esc && len(v) >= 2 && v[0] == '"':
		return gjson.Result{Type: gjson.String, Raw: v, Str: v[1 : len(v)-1]}
	case len(v) > 0 && (v[0] == '{' || v[0] == '['):
		return gjson.Result{Type: gjson.JSON, Raw: v}
	}
	return gjson.Parse(v)
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that opens at s[i], -1
// when it does not end, and whether the string has an escape.
func stringEnd(s string, i int) (end int, esc bool) {
	i++
	for {
		for i+8 <= len(s) {
			m := specials(le64(s, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
			break
		}
		for i < len(s) && s[i] != '"' && s[i] != '\\' {
			i++
		}
		switch {
		case i >= len(s):
			return -1, esc
		case s[i] == '"':
			return i + 1, esc
		}
		i += 2 // a backslash and the character it escapes
		esc = true
	}
}

// valueEnd returns the index just past the value that starts at s[i], -1
// when it does not end, and whether it is a string with an escape.
func valueEnd(s string, i int) (int, bool) {
	if i >= len(s) {
		return -1, false
	}
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				if i, _ = stringEnd(s, i); i < 0 {
					return -1, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, false
				}
			}
			i++
		}
		return -1, false
	}
	for i < len(s) && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
		i++
	}
	return i, false
}

// le64 is the little-endian word at s[i:i+8] (the compiler makes it one load).
func le64(s string, i int) uint64 {
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}
