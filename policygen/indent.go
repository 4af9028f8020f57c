package policygen

// appendIndented appends src, compact JSON as encoding/json writes it, to
// dst indented as json.Indent would indent it (each element on a line of
// its own, after prefix and one indent a level; a space after each colon;
// empty objects and arrays kept as {} and []).
//
// The JSON report of analyze --all is over a hundred megabytes:
// encoding/json's indenter runs its validating scanner over every byte
// (docs/performance.md, "The JSON report"). src here is encoding/json's
// own output, valid by construction, so this only tracks strings and
// nesting. FuzzAppendIndented holds it to json.Indent's bytes.
func appendIndented(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	open := false // after { or [: the newline waits for a value
	for i := 0; i < len(src); i++ {
		c := src[i]
		if open && c != '}' && c != ']' {
			open = false
			depth++
			dst = appendNewline(dst, prefix, indent, depth)
		}
		switch c {
		case '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return append(dst, src[i:]...)
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			open = true
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				dst = appendNewline(dst, prefix, indent, depth)
			}
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, prefix, indent, depth)
		case ':':
			dst = append(dst, c, ' ')
		default:
			j := i + 1
			for j < len(src) && !special(src[j]) {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j - 1
		}
	}
	return dst
}

func special(c byte) bool {
	switch c {
	case '"', '{', '}', '[', ']', ',', ':':
		return true
	}
	return false
}

func appendNewline(dst []byte, prefix, indent string, depth int) []byte {
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	for range depth {
		dst = append(dst, indent...)
	}
	return dst
}
