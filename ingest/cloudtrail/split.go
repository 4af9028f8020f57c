package cloudtrail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Span is one value in a log file: where its raw JSON lies and what kind of
// JSON value it is. Spans index the file's bytes, so they are small, hold no
// pointers, and are only meaningful together with those bytes.
type Span struct {
	Start, End int32 // data[Start:End] is the raw JSON of the value
	// Kind is the value's first byte class: '"' string, '{' object,
	// '[' array, 't' true, 'f' false, 'n' null, '0' number; 0 if absent.
	Kind byte
	// Esc is set for strings that contain escape sequences.
	Esc bool
}

// Exists reports whether the key was present.
func (s Span) Exists() bool { return s.Kind != 0 }

// Result returns the value as a gjson.Result aliasing data, so code written
// against gjson can read it without parsing the value again. Strings are
// unescaped only when they contain escapes.
func (s Span) Result(data []byte) gjson.Result {
	if s.Kind == 0 {
		return gjson.Result{}
	}
	raw := unsafe.String(unsafe.SliceData(data[s.Start:]), int(s.End-s.Start))
	switch s.Kind {
	case '"':
		if s.Esc {
			return gjson.Parse(raw) // the rare path: gjson unescapes
		}
		return gjson.Result{Type: gjson.String, Raw: raw, Str: raw[1 : len(raw)-1]}
	case '{', '[':
		return gjson.Result{Type: gjson.JSON, Raw: raw}
	case 't':
		return gjson.Result{Type: gjson.True, Raw: raw}
	case 'f':
		return gjson.Result{Type: gjson.False, Raw: raw}
	case 'n':
		return gjson.Result{Type: gjson.Null, Raw: raw}
	default:
		n, _ := strconv.ParseFloat(raw, 64)
		return gjson.Result{Type: gjson.Number, Raw: raw, Num: n}
	}
}

// Splitter validates a log file and splits each element of its Records
// array into the values of the top-level keys it is asked for, in one pass
// over the bytes. It replaces three passes of a general JSON library
// (validate, walk the array, walk each record) on ingest's hot path.
//
// Validation is structural and complete (every object, array, string
// escape, number and literal, nesting capped at 512 levels, nothing after
// the top-level value) except that control characters inside strings are
// accepted as they are, which lets strings be skipped with a vectorised
// byte search.
//
// A Splitter belongs to one goroutine and reuses its memory between files.
type Splitter struct {
	// Slot maps a top-level key of a record to a field index in [0, Fields),
	// or -1 for keys that are not wanted. When a key repeats, the first
	// value wins, as everywhere in iamlens (gjson's Get; docs/duplicate-keys.md).
	Slot func(key string) int
	// Fields is the number of field indexes Slot returns.
	Fields int

	d     []byte
	depth int
	keyed bool // the file's top-level object had a "Records" member
	found bool // and it was an array: the records
	vals  []Span
	recs  []Span
}

// maxDepth bounds nesting, so a hostile file cannot exhaust the stack.
const maxDepth = 512

var errSyntax = errors.New("syntax error")

// Split validates data and splits its Records array. On any error nothing
// is split: a file is good or bad as a whole. Records and Values read the
// result until the next call.
func (s *Splitter) Split(data []byte) (int, error) {
	s.d = data
	s.depth = 0
	s.vals = s.vals[:0]
	s.recs = s.recs[:0]
	n, err := s.file()
	if err != nil {
		s.vals, s.recs = s.vals[:0], s.recs[:0]
		return 0, err
	}
	return n, nil
}

// Record returns the span of the i-th element of Records (Kind '{' for a
// proper record).
func (s *Splitter) Record(i int) Span { return s.recs[i] }

// Values returns the wanted fields of the i-th record, indexed by slot.
func (s *Splitter) Values(i int) []Span { return s.vals[i*s.Fields : (i+1)*s.Fields] }

func (s *Splitter) invalid(i int, what string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrInvalidJSON, what, i)
}

func (s *Splitter) file() (int, error) {
	d := s.d
	i := s.ws(0)
	if i >= len(d) {
		return 0, s.invalid(i, "empty file")
	}
	if d[i] != '{' {
		end, _, _, err := s.value(i)
		if err != nil {
			return 0, err
		}
		if s.ws(end) != len(d) {
			return 0, s.invalid(end, "data after the top-level value")
		}
		return 0, ErrNotLog
	}
	s.keyed, s.found = false, false
	i, err := s.members(i, nil, true)
	if err != nil {
		return 0, err
	}
	if s.ws(i) != len(d) {
		return 0, s.invalid(i, "data after the top-level value")
	}
	if !s.found {
		return 0, ErrNotLog
	}
	return len(s.recs), nil
}

// records walks the Records array at d[i] == '['.
func (s *Splitter) records(i int) (int, error) {
	d := s.d
	i = s.ws(i + 1)
	if i < len(d) && d[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= len(d) {
			return 0, s.invalid(i, "unexpected end in Records")
		}
		start := i
		var kind byte
		var err error
		base := len(s.vals)
		s.vals = slices.Grow(s.vals, s.Fields)[:base+s.Fields]
		clear(s.vals[base:])
		if d[i] == '{' {
			kind = '{'
			i, err = s.members(i, s.vals[base:base+s.Fields], false)
		} else {
			i, kind, _, err = s.value(i)
		}
		if err != nil {
			return 0, err
		}
		s.recs = append(s.recs, Span{Start: int32(start), End: int32(i), Kind: kind})
		var done bool
		if i, done, err = s.next(i, ']'); done || err != nil {
			return i, err
		}
	}
}

// members walks the object at d[i] == '{'. With vals, each key is looked up
// with Slot and the values of wanted keys are recorded; without, the object
// is only validated. In the file's top-level object (top), the first
// "Records" member is walked as the records if it is an array (a file
// whose first Records is anything else is not a log).
func (s *Splitter) members(i int, vals []Span, top bool) (int, error) {
	d := s.d
	i = s.ws(i + 1)
	if i < len(d) && d[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return 0, s.invalid(i, "expected a key")
		}
		ks := i
		ke, kesc, err := s.str(i)
		if err != nil {
			return 0, err
		}
		slot := -1
		switch {
		case vals == nil:
		case kesc:
			slot = s.Slot(gjson.Parse(string(d[ks:ke])).Str)
		default:
			slot = s.Slot(unsafe.String(unsafe.SliceData(d[ks+1:]), ke-ks-2))
		}
		i = s.ws(ke)
		if i >= len(d) || d[i] != ':' {
			return 0, s.invalid(i, "expected ':'")
		}
		i = s.ws(i + 1)
		vs := i
		var end int
		var kind byte
		var esc bool
		records := top && !s.keyed && isRecords(d[ks:ke], kesc) // the first Records member
		s.keyed = s.keyed || records
		switch {
		case records && i < len(d) && d[i] == '[':
			s.found = true
			end, err = s.records(i)
		case i < len(d) && d[i] == '"': // most values: no dispatch
			end, esc, err = s.str(i)
			kind = '"'
		default:
			end, kind, esc, err = s.value(i)
		}
		if err != nil {
			return 0, err
		}
		if slot >= 0 && slot < len(vals) && vals[slot].Kind == 0 { // the first of a repeated key
			vals[slot] = Span{Start: int32(vs), End: int32(end), Kind: kind, Esc: esc}
		}
		// The separator: a ',' straight after the value in CloudTrail's
		// compact JSON; anything else goes the long way.
		if end < len(d) && d[end] == ',' && end+1 < len(d) && d[end+1] > ' ' {
			i = end + 1
			continue
		}
		var done bool
		if i, done, err = s.next(end, '}'); done || err != nil {
			return i, err
		}
	}
}

// isRecords reports whether the quoted key (escaped if esc) is Records.
func isRecords(key []byte, esc bool) bool {
	if esc {
		return gjson.Parse(string(key)).Str == "Records"
	}
	return string(key) == `"Records"`
}

// next reads the separator after a member or element at or after d[i]: the
// start of the next one after a ',' (done false), or the index after close
// (done true).
func (s *Splitter) next(i int, close byte) (int, bool, error) {
	d := s.d
	i = s.ws(i)
	if i < len(d) && d[i] == ',' {
		return s.ws(i + 1), false, nil
	}
	if i < len(d) && d[i] == close {
		return i + 1, true, nil
	}
	return 0, false, s.invalid(i, "expected ',' or '"+string(close)+"'")
}

func (s *Splitter) ws(i int) int {
	d := s.d
	// CloudTrail writes no whitespace: one comparison tells most tokens.
	for i < len(d) && d[i] <= ' ' {
		switch d[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return i
}

// value validates the value at d[i] and returns the index after it.
func (s *Splitter) value(i int) (int, byte, bool, error) {
	d := s.d
	if i >= len(d) {
		return 0, 0, false, s.invalid(i, "unexpected end")
	}
	switch c := d[i]; c {
	case '"':
		end, esc, err := s.str(i)
		return end, '"', esc, err
	case '{':
		end, err := s.object(i)
		return end, '{', false, err
	case '[':
		end, err := s.array(i)
		return end, '[', false, err
	case 't':
		return s.literal(i, "true", 't')
	case 'f':
		return s.literal(i, "false", 'f')
	case 'n':
		return s.literal(i, "null", 'n')
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			end, err := s.number(i)
			return end, '0', false, err
		}
		return 0, 0, false, s.invalid(i, "unexpected character")
	}
}

func (s *Splitter) literal(i int, lit string, kind byte) (int, byte, bool, error) {
	if len(s.d)-i < len(lit) || string(s.d[i:i+len(lit)]) != lit {
		return 0, 0, false, s.invalid(i, "bad literal")
	}
	return i + len(lit), kind, false, nil
}

// str scans the string whose opening quote is at d[i]. Strings are skipped
// with IndexByte (vectorised); escapes are checked where they occur.
func (s *Splitter) str(i int) (int, bool, error) {
	d := s.d
	i++
	// Most strings (keys, names, IDs) are short: look for their end in
	// the next 32 bytes a word at a time first.
	for w := 0; w < 4 && i+8 <= len(d); w++ {
		m := specials(binary.LittleEndian.Uint64(d[i:]))
		if m == 0 {
			i += 8
			continue
		}
		j := i + bits.TrailingZeros64(m)/8
		if d[j] == '"' {
			return j + 1, false, nil
		}
		break // a backslash: the loop below checks the escapes
	}
	esc := false
	for {
		j := bytes.IndexByte(d[i:], '"')
		if j < 0 {
			return 0, false, s.invalid(len(d), "unterminated string")
		}
		k := bytes.IndexByte(d[i:i+j], '\\')
		if k < 0 {
			return i + j + 1, esc, nil
		}
		esc = true
		p := i + k + 1
		if p >= len(d) {
			return 0, false, s.invalid(p, "unterminated escape")
		}
		switch d[p] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i = p + 1
		case 'u':
			if len(d)-p < 5 || !isHex4(d[p+1:p+5]) {
				return 0, false, s.invalid(p, "bad \\u escape")
			}
			i = p + 5
		default:
			return 0, false, s.invalid(p, "bad escape")
		}
	}
}

// specials has the high bit set of each byte of x that is '"' or '\\'
// (and may set it for a byte after one of them, never before).
func specials(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q := x ^ ('"' * lo)
	b := x ^ ('\\' * lo)
	return ((q-lo)&^q | (b-lo)&^b) & hi
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *Splitter) number(i int) (int, error) {
	d := s.d
	start := i
	if d[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(d) && d[i] == '0' {
		i++
	} else if digits() == 0 {
		return 0, s.invalid(start, "bad number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			return 0, s.invalid(start, "bad number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, s.invalid(start, "bad number")
		}
	}
	return i, nil
}

func (s *Splitter) object(i int) (int, error) {
	if s.depth++; s.depth > maxDepth {
		return 0, s.invalid(i, "nesting too deep")
	}
	end, err := s.members(i, nil, false)
	s.depth-- // on an error too, though Split starts the next file at 0
	return end, err
}

func (s *Splitter) array(i int) (int, error) {
	if s.depth++; s.depth > maxDepth {
		return 0, s.invalid(i, "nesting too deep")
	}
	end, err := s.elements(i)
	s.depth--
	return end, err
}

// elements walks the elements of the array at d[i] == '['.
func (s *Splitter) elements(i int) (int, error) {
	d := s.d
	i = s.ws(i + 1)
	if i < len(d) && d[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, _, _, err = s.value(i); err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = s.next(i, ']'); done || err != nil {
			return i, err
		}
	}
}
