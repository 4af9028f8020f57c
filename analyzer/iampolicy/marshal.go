package iampolicy

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// This file writes documents as JSON by appending to one buffer: the bytes
// encoding/json would write for the same elements (HTML characters not
// escaped: ARNs and conditions keep their & < >), without an encoder and a
// copy at every level. Generated policies are encoded to be measured
// (their size against IAM's limit) and again in every report; through
// nested encoders each level's output was copied and checked again
// (docs/performance.md, "The JSON report"). TestAppendJSONMatchesEncoder
// and FuzzAppendJSON hold it to encoding/json's bytes.

// AppendJSON appends the document's JSON (MarshalJSON's) to b.
func (d Document) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	if d.Version != "" {
		b = appendName(b, "Version", &first)
		b = appendString(b, d.Version)
	}
	if d.ID != "" {
		b = appendName(b, "Id", &first)
		b = appendString(b, d.ID)
	}
	b = appendName(b, "Statement", &first)
	b = append(b, '[')
	for i, s := range d.Statement {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.appendJSON(b)
	}
	return append(b, ']', '}')
}

func (s Statement) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	if s.Sid != "" {
		b = appendName(b, "Sid", &first)
		b = appendString(b, s.Sid)
	}
	b = appendName(b, "Effect", &first)
	b = appendString(b, s.Effect)
	if s.Principal != nil {
		b = appendName(b, "Principal", &first)
		b = s.Principal.appendJSON(b)
	}
	if s.NotPrincipal != nil {
		b = appendName(b, "NotPrincipal", &first)
		b = s.NotPrincipal.appendJSON(b)
	}
	for _, m := range [...]struct {
		name string
		v    Values
	}{{"Action", s.Action}, {"NotAction", s.NotAction}, {"Resource", s.Resource}, {"NotResource", s.NotResource}} {
		if m.v != nil {
			b = appendName(b, m.name, &first)
			b = m.v.appendJSON(b)
		}
	}
	if len(s.Condition) > 0 {
		b = appendName(b, "Condition", &first)
		b = s.Condition.appendJSON(b)
	}
	return append(b, '}')
}

// appendJSON writes a list ([] when empty), or null for nil.
func (v Values) appendJSON(b []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return appendStrings(b, v)
}

func appendStrings(b []byte, vs []string) []byte {
	b = append(b, '[')
	for i, s := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func (p *Principal) appendJSON(b []byte) []byte {
	if p.Wildcard {
		return append(b, `"*"`...)
	}
	b = append(b, '{')
	first := true
	for _, t := range sortedKeys(p.Types) {
		b = appendName(b, t, &first)
		b = appendStrings(b, p.Types[t])
	}
	return append(b, '}')
}

// appendJSON writes {"Operator": {"Key": [values]}}, operators and keys
// sorted; the values of conditions with the same operator and key are
// listed together, in order (null when there are none, as encoding/json
// writes the nil slice that appending nothing to nothing gives).
func (cs Conditions) appendJSON(b []byte) []byte {
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		if c := strings.Compare(cs[x].Operator, cs[y].Operator); c != 0 {
			return c
		}
		return strings.Compare(cs[x].Key, cs[y].Key)
	})
	b = append(b, '{')
	for i := 0; i < len(order); {
		op := cs[order[i]].Operator
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, op)
		b = append(b, ':', '{')
		for j := i; i < len(order) && cs[order[i]].Operator == op; {
			key := cs[order[i]].Key
			if i > j {
				b = append(b, ',')
			}
			b = appendString(b, key)
			b = append(b, ':')
			n := 0
			for k := i; k < len(order) && cs[order[k]].Operator == op && cs[order[k]].Key == key; k++ {
				n += len(cs[order[k]].Values)
			}
			if n == 0 {
				b = append(b, "null"...)
			} else {
				b = append(b, '[')
			}
			m := 0
			for ; i < len(order) && cs[order[i]].Operator == op && cs[order[i]].Key == key; i++ {
				for _, v := range cs[order[i]].Values {
					if m > 0 {
						b = append(b, ',')
					}
					b = appendString(b, v)
					m++
				}
			}
			if n > 0 {
				b = append(b, ']')
			}
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendName appends an object member's name and colon, after a comma
// unless it is the first.
func appendName(b []byte, name string, first *bool) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = appendString(b, name)
	return append(b, ':')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string as encoding/json writes it with
// HTML escaping off: quotes, backslashes and control characters escaped,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
