package gunzip

import (
	"encoding/binary"
	"fmt"
)

// bitState is the bit reader's state: buf holds n unread bits, low bit first,
// taken from in[:pos]. Past the end of the input it reads zero bytes (pos
// counts them) so that refilling never branches on the end in the common
// case; the stream is truncated if any of those bits are consumed.
//
// buf may hold, above its n bits, bits of the bytes at in[pos:]: a refill
// loads eight bytes and counts only the whole bytes that fit, and the next
// refill ORs the same bits in at the same places again.
type bitState struct {
	buf uint64
	n   uint
	pos int
}

// maxOverread bounds how far past the end of its input a stream may be
// read before it is certainly truncated (the bit buffer holds under eight
// bytes).
const maxOverread = 8

var errTruncated = fmt.Errorf("%w: unexpected end of data", ErrCorrupt)

// refill tops the buffer up to at least 56 bits.
func (s *bitState) refill(in []byte) error {
	var err error
	s.buf, s.n, s.pos, err = refill(in, s.buf, s.n, s.pos)
	return err
}

// refill is bitState.refill on values, so the hot loop keeps its bit
// state in registers. The common case (eight bytes left) inlines.
func refill(in []byte, buf uint64, n uint, pos int) (uint64, uint, int, error) {
	if pos+8 <= len(in) {
		buf |= binary.LittleEndian.Uint64(in[pos:]) << (n & 63)
		return buf, n | 56, pos + int((63-n)>>3), nil
	}
	return refillSlow(in, buf, n, pos)
}

// refillSlow refills byte by byte near the end of the input, with zero
// bytes past it.
func refillSlow(in []byte, buf uint64, n uint, pos int) (uint64, uint, int, error) {
	for n <= 56 {
		if pos < len(in) {
			buf |= uint64(in[pos]) << (n & 63)
		} else if pos-len(in) >= maxOverread {
			return buf, n, pos, errTruncated
		}
		pos++
		n += 8
	}
	return buf, n, pos, nil
}

// lookup decodes the entry of the next codeword in a table with bits main
// bits: the main table's entry, or the subtable's it points to.
func lookup(t []uint32, buf uint64, bits uint) uint32 {
	e := t[buf&(1<<bits-1)]
	if e&kindMask == kindSub {
		e = t[(e>>16)+uint32(buf>>bits)&(1<<(e>>6&15)-1)]
	}
	return e
}

// literal writes a literal entry's byte at out[op] and drops its code
// from the bit buffer.
func literal(e uint32, buf uint64, n uint, out []byte, op int) (uint64, uint, int) {
	out[op] = byte(e >> 16)
	return buf >> (e & 63), n - uint(e&63), op + 1
}

// value is a length or distance entry's base plus its extra bits (which
// follow the codeword in buf), and the bits the two take.
func value(e uint32, buf uint64) (int, uint) {
	total, cl := e&63, e>>6&15
	return int(e>>16) + int((buf&(1<<total-1))>>cl), uint(total)
}

func (s *bitState) take(n uint) uint64 {
	v := s.buf & (1<<n - 1)
	s.buf >>= n & 63
	s.n -= n
	return v
}

// align drops the bits up to the next byte boundary and gives back the
// whole bytes the buffer still holds, so s.pos is where byte-aligned data
// resumes.
func (s *bitState) align() {
	s.pos -= int(s.n >> 3)
	s.buf, s.n = 0, 0
}

// grow makes room for need bytes past op, within limit plus slack.
func (d *Decoder) grow(op, need, limit int) error {
	if op+need > limit+slack {
		return tooLarge(limit)
	}
	n := 2 * len(d.out)
	if n < op+need {
		n = op + need
	}
	if n > limit+slack {
		n = limit + slack
	}
	out := make([]byte, n)
	copy(out, d.out[:op])
	d.out = out
	return nil
}

// inflate decodes the deflate stream at the start of in into d.out from
// op on. It returns the bytes of in the stream took and the new end of the
// output.
func (d *Decoder) inflate(in []byte, op, limit int) (int, int, error) {
	start := op // a match may not reach back into an earlier member
	var s bitState
	for final := false; !final; {
		if err := s.refill(in); err != nil {
			return 0, 0, err
		}
		final = s.take(1) == 1
		var lt *[litTableSize]uint32
		var dt *[distTableSize]uint32
		switch s.take(2) {
		case 0:
			s.align()
			if s.pos+4 > len(in) {
				return 0, 0, errTruncated
			}
			n := int(binary.LittleEndian.Uint16(in[s.pos:]))
			if uint16(n) != ^binary.LittleEndian.Uint16(in[s.pos+2:]) {
				return 0, 0, fmt.Errorf("%w: stored block length check failed", ErrCorrupt)
			}
			s.pos += 4
			if s.pos+n > len(in) {
				return 0, 0, errTruncated
			}
			if op+n > limit {
				return 0, 0, tooLarge(limit)
			}
			if len(d.out)-op < n+slack {
				if err := d.grow(op, n+slack, limit); err != nil {
					return 0, 0, err
				}
			}
			op += copy(d.out[op:], in[s.pos:s.pos+n])
			s.pos += n
			continue
		case 1:
			lt, dt = &fixedLit, &fixedDist
		case 2:
			if err := d.dynamic(in, &s); err != nil {
				return 0, 0, err
			}
			lt, dt = &d.lit, &d.dst
		default:
			return 0, 0, fmt.Errorf("%w: invalid block type", ErrCorrupt)
		}
		var err error
		op, err = d.block(in, &s, lt, dt, op, start, limit)
		if err != nil {
			return 0, 0, err
		}
	}
	s.align()
	if s.pos > len(in) {
		return 0, 0, errTruncated
	}
	return s.pos, op, nil
}

// block decodes one Huffman-coded block's symbols up to its end-of-block
// code. This is the hot loop: the bit state lives in locals and the output
// has room for a longest match (plus the eight-byte copy's overshoot)
// before every symbol.
func (d *Decoder) block(in []byte, s *bitState, lt *[litTableSize]uint32, dt *[distTableSize]uint32, op, start, limit int) (int, error) {
	buf, n, pos := s.buf, s.n, s.pos
	out := d.out
	for {
		if len(out)-op < slack {
			if err := d.grow(op, slack, limit); err != nil {
				return 0, err
			}
			out = d.out
		}
		// Refill to at least 56 bits: enough for three literals (at most
		// 15 bits each), or a length (at most 15+5 bits) after two. A
		// fourth literal is tried while 20 bits remain: a literal, or a
		// length after the third. Four literals and a longest match fit
		// the output's slack. (Two literals a refill, as before, decoded
		// the corpus in 6-7% more CPU; a loop while 20 bits remain,
		// which takes dozens of short codes a turn, was slower than the
		// four written out.)
		var err error
		if buf, n, pos, err = refill(in, buf, n, pos); err != nil {
			return 0, err
		}
		e := lookup(lt[:], buf, litBits)
		if e&kindMask == kindLiteral {
			buf, n, op = literal(e, buf, n, out, op)
			e = lookup(lt[:], buf, litBits)
			if e&kindMask == kindLiteral {
				buf, n, op = literal(e, buf, n, out, op)
				e = lookup(lt[:], buf, litBits)
				if e&kindMask == kindLiteral {
					buf, n, op = literal(e, buf, n, out, op)
					if n < 20 {
						continue
					}
					e = lookup(lt[:], buf, litBits)
					if e&kindMask == kindLiteral {
						buf, n, op = literal(e, buf, n, out, op)
						continue
					}
				}
			}
		}
		switch e & kindMask {
		case kindLength:
		case kindEnd:
			buf >>= e & 63
			n -= uint(e & 63)
			s.buf, s.n, s.pos = buf, n, pos
			return op, nil
		default:
			return 0, fmt.Errorf("%w: invalid literal/length code", ErrCorrupt)
		}
		length, used := value(e, buf)
		buf >>= used
		n -= used
		// A distance takes at most 15+13 bits.
		if n < 28 {
			if buf, n, pos, err = refill(in, buf, n, pos); err != nil {
				return 0, err
			}
		}
		e = lookup(dt[:], buf, distBits)
		if e&kindMask != kindLiteral { // distance entries carry kind 0
			return 0, fmt.Errorf("%w: invalid distance code", ErrCorrupt)
		}
		dist, used := value(e, buf)
		buf >>= used
		n -= used
		if dist > op-start {
			return 0, fmt.Errorf("%w: distance %d reaches before the start of the data", ErrCorrupt, dist)
		}
		from := op - dist
		switch {
		case dist >= 8 && length <= 16:
			// Most matches: two eight-byte moves, whose overshoot lands
			// in the slack. Each load reads bytes already written.
			binary.LittleEndian.PutUint64(out[op:], binary.LittleEndian.Uint64(out[from:]))
			binary.LittleEndian.PutUint64(out[op+8:], binary.LittleEndian.Uint64(out[from+8:]))
		case dist >= length:
			copy(out[op:op+length], out[from:from+length])
		case dist >= 8:
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(out[op+i:], binary.LittleEndian.Uint64(out[from+i:]))
			}
		case dist == 1:
			v := uint64(out[from]) * 0x0101010101010101
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(out[op+i:], v)
			}
		default:
			w := out[op : op+length]
			for i := range w {
				w[i] = out[from+i]
			}
		}
		op += length
	}
}

// dynamic reads a dynamic block's header (RFC 1951 3.2.7) and builds its
// literal/length and distance tables.
func (d *Decoder) dynamic(in []byte, s *bitState) error {
	if err := s.refill(in); err != nil {
		return err
	}
	nlit := int(s.take(5)) + 257
	ndist := int(s.take(5)) + 1
	npre := int(s.take(4)) + 4
	if nlit > 286 || ndist > 30 {
		return fmt.Errorf("%w: too many literal/length or distance codes", ErrCorrupt)
	}
	var preLens [19]uint8
	for i := 0; i < npre; i++ {
		if s.n < 3 {
			if err := s.refill(in); err != nil {
				return err
			}
		}
		preLens[preOrder[i]] = uint8(s.take(3))
	}
	if !buildTable(d.pre[:], preLens[:], preInfo[:], preBits) {
		return fmt.Errorf("%w: invalid code-length code", ErrCorrupt)
	}
	lens := d.len[:nlit+ndist]
	for i := 0; i < len(lens); {
		if s.n < preBits+7 {
			if err := s.refill(in); err != nil {
				return err
			}
		}
		e := d.pre[s.buf&(1<<preBits-1)]
		if e&kindMask == kindInvalid {
			return fmt.Errorf("%w: invalid code-length code", ErrCorrupt)
		}
		s.take(uint(e & 63))
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return fmt.Errorf("%w: code length repeated with none before it", ErrCorrupt)
			}
			rep, v = 3+int(s.take(2)), lens[i-1]
		case 17:
			rep = 3 + int(s.take(3))
		default:
			rep = 11 + int(s.take(7))
		}
		if i+rep > len(lens) {
			return fmt.Errorf("%w: code lengths overflow", ErrCorrupt)
		}
		for ; rep > 0; rep-- {
			lens[i] = v
			i++
		}
	}
	if !buildTable(d.lit[:], lens[:nlit], litInfo[:], litBits) {
		return fmt.Errorf("%w: invalid literal/length code", ErrCorrupt)
	}
	if !buildTable(d.dst[:], lens[nlit:], distInfo[:], distBits) {
		return fmt.Errorf("%w: invalid distance code", ErrCorrupt)
	}
	return nil
}
