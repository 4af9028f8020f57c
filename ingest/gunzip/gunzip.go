// Package gunzip decompresses whole gzip files held in memory.
//
// CloudTrail delivers small gzip files (kilobytes to a few megabytes) that
// ingest reads whole anyway, so nothing is gained by streaming them and a
// good deal is lost: a streaming inflater (compress/flate, klauspost's flate)
// decodes into a 32 KiB window, copies out of it, and checks for the end of
// its input at every byte. Decoder instead decodes from one byte slice
// straight into another, so a match is copied eight bytes at a time from the
// output itself, the input is read eight bytes at a time into a 64-bit bit
// buffer, and a Huffman symbol costs one table lookup (two for the rare long
// codes). The design is libdeflate's (Eric Biggers); the code is written for
// Go, where bounds checks and the lack of unaligned pointer loads shape it.
//
// It accepts exactly what compress/gzip accepts (several members one after
// another, header fields, complete Huffman codes or the degenerate one-code
// kind zlib writes) and checks every member's CRC-32 and length.
package gunzip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
)

// ErrCorrupt means the data is not valid gzip: a bad header, an invalid
// deflate stream, a checksum or length mismatch, or data cut short.
var ErrCorrupt = errors.New("corrupt gzip")

// ErrTooLarge means the decompressed data exceeds the caller's limit.
var ErrTooLarge = errors.New("decompressed data exceeds the limit")

// IsGzip reports whether data starts with the gzip magic bytes.
func IsGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

func tooLarge(limit int) error { return fmt.Errorf("%w of %d bytes", ErrTooLarge, limit) }

// KeepBytes is how much output buffer a Decoder (and cloudtrail.Reader's
// input buffer) keeps between calls when the next file is much smaller:
// CloudTrail's files are a few megabytes at most.
const KeepBytes = 16 << 20

// Decoder decompresses gzip data. It keeps its tables and output buffer
// between calls; one Decoder belongs to one goroutine.
type Decoder struct {
	out []byte
	lit [litTableSize]uint32
	dst [distTableSize]uint32
	pre [1 << preBits]uint32
	len [maxLit + maxDist]uint8
}

// Decode decompresses every gzip member in src and returns the
// concatenated content, at most limit bytes. The result aliases the
// Decoder's buffer and is valid until the next call.
func (d *Decoder) Decode(src []byte, limit int) ([]byte, error) {
	if len(src) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrCorrupt)
	}
	// The last member's trailer gives the size of a one-member file (the
	// usual case): allocate it once.
	if len(src) >= 18 {
		// Deflate expands at most 1032 times, so a trailer that claims
		// more is not believed.
		hint := min(int(binary.LittleEndian.Uint32(src[len(src)-4:])), limit, 1032*len(src))
		want := hint + slack
		// One huge file must not pin its buffer for the rest of a run.
		if c := cap(d.out); c < want || (c > KeepBytes && c > 4*want) {
			d.out = make([]byte, want)
		}
	}
	d.out = d.out[:cap(d.out)]
	op := 0
	for pos := 0; pos < len(src); {
		hdr, err := header(src[pos:])
		if err != nil {
			return nil, err
		}
		pos += hdr
		start := op
		n, end, err := d.inflate(src[pos:], op, limit)
		if err != nil {
			return nil, err
		}
		op, pos = end, pos+n
		if op > limit {
			return nil, tooLarge(limit)
		}
		if len(src)-pos < 8 {
			return nil, fmt.Errorf("%w: unexpected end of data in the trailer", ErrCorrupt)
		}
		sum := binary.LittleEndian.Uint32(src[pos:])
		size := binary.LittleEndian.Uint32(src[pos+4:])
		pos += 8
		if got := crc32.ChecksumIEEE(d.out[start:op]); got != sum {
			return nil, fmt.Errorf("%w: checksum mismatch (stored %08x, computed %08x)", ErrCorrupt, sum, got)
		}
		if uint32(op-start) != size {
			return nil, fmt.Errorf("%w: length mismatch (stored %d, decoded %d)", ErrCorrupt, size, uint32(op-start))
		}
	}
	return d.out[:op], nil
}

// gzip header flags (RFC 1952).
const (
	fHCRC    = 1 << 1
	fExtra   = 1 << 2
	fName    = 1 << 3
	fComment = 1 << 4
)

var errShortHeader = fmt.Errorf("%w: unexpected end of data in the header", ErrCorrupt)

// header checks a member header and returns its length.
func header(b []byte) (int, error) {
	if len(b) < 10 {
		if len(b) >= 2 && !IsGzip(b) {
			return 0, fmt.Errorf("%w: data after the last member is not gzip", ErrCorrupt)
		}
		return 0, errShortHeader
	}
	if !IsGzip(b) {
		return 0, fmt.Errorf("%w: bad magic bytes", ErrCorrupt)
	}
	if b[2] != 8 {
		return 0, fmt.Errorf("%w: compression method %d is not deflate", ErrCorrupt, b[2])
	}
	// Reserved flag bits are ignored, as compress/gzip (and so every Go
	// gzip reader iamlens used before) ignores them.
	flg := b[3]
	n := 10
	if flg&fExtra != 0 {
		if len(b) < n+2 {
			return 0, errShortHeader
		}
		n += 2 + int(binary.LittleEndian.Uint16(b[n:]))
		if n > len(b) {
			return 0, errShortHeader
		}
	}
	for _, f := range []byte{fName, fComment} {
		if flg&f == 0 {
			continue
		}
		i := n
		for i < len(b) && b[i] != 0 {
			i++
		}
		if i >= len(b) {
			return 0, errShortHeader
		}
		n = i + 1
	}
	if flg&fHCRC != 0 {
		if len(b) < n+2 {
			return 0, errShortHeader
		}
		if uint16(crc32.ChecksumIEEE(b[:n])) != binary.LittleEndian.Uint16(b[n:]) {
			return 0, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
		}
		n += 2
	}
	return n, nil
}

// Table entries (uint32):
//
//	bits 0-5    bits to consume: codeword and extra bits (a subtable
//	            pointer: the main table's bits, consumed by nothing)
//	bits 6-9    codeword length (a subtable pointer: the subtable's bits)
//	bits 10-12  kind
//	bits 16-31  literal byte, length or distance base, subtable offset,
//	            or code-length symbol
const (
	kindLiteral = iota << 10
	kindLength
	kindEnd
	kindSub
	kindInvalid
	kindMask = 7 << 10
)

const (
	litBits  = 11 // main table bits of the literal/length code
	distBits = 8  // main table bits of the distance code
	preBits  = 7  // the code-length code's table (its codes are at most 7 bits)
	maxLit   = 288
	maxDist  = 32
	maxLen   = 15 // longest codeword
	// Largest tables the bits above can need, subtables included, for any
	// complete code (zlib's "enough" program, as libdeflate uses them).
	litTableSize  = 2342
	distTableSize = 402
	// slack is room past the output's end for what one turn of the decode
	// loop writes, so it checks for room once a turn: up to four literals,
	// then a longest match and its eight-byte copies' overshoot (at most 4
	// + 264 bytes; TestLyingLengthNeverOverruns meets the buffer's end at
	// every point of such turns).
	slack = 258 + 16
)

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	preOrder    = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	// Each symbol's entry without its codeword length, which buildTable
	// adds to the bits-to-consume and codeword-length fields.
	litInfo, distInfo [maxLit]uint32
	preInfo           [19]uint32

	// The fixed codes of block type 1.
	fixedLit  [litTableSize]uint32
	fixedDist [distTableSize]uint32
)

func init() {
	for s := 0; s < maxLit; s++ {
		switch {
		case s < 256:
			litInfo[s] = kindLiteral | uint32(s)<<16
		case s == 256:
			litInfo[s] = kindEnd
		case s < 286:
			litInfo[s] = kindLength | uint32(lengthBase[s-257])<<16 | uint32(lengthExtra[s-257])
		default:
			litInfo[s] = kindInvalid
		}
	}
	for s := 0; s < maxDist; s++ {
		if s < 30 {
			distInfo[s] = uint32(distBase[s])<<16 | uint32(distExtra[s])
		} else {
			distInfo[s] = kindInvalid
		}
	}
	for s := range preInfo {
		preInfo[s] = uint32(s) << 16
	}
	var lens [maxLit]uint8
	for s := range lens {
		switch {
		case s < 144:
			lens[s] = 8
		case s < 256:
			lens[s] = 9
		case s < 280:
			lens[s] = 7
		default:
			lens[s] = 8
		}
	}
	if !buildTable(fixedLit[:], lens[:], litInfo[:], litBits) {
		panic("gunzip: fixed literal/length code")
	}
	for s := 0; s < maxDist; s++ {
		lens[s] = 5
	}
	if !buildTable(fixedDist[:], lens[:maxDist], distInfo[:], distBits) {
		panic("gunzip: fixed distance code")
	}
}

// buildTable fills t with the decoding table of the canonical Huffman code
// whose codeword lengths are lens, each symbol's entry taken from info. It
// returns false for a code that over-subscribes or (except for a single
// one-bit code, or no code at all) leaves codewords unused, the codes
// compress/flate rejects.
func buildTable(t []uint32, lens []uint8, info []uint32, tableBits uint) bool {
	var count [maxLen + 1]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	maxl := 0
	left := 1
	for l := 1; l <= maxLen; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return false // over-subscribed
		}
		if count[l] > 0 {
			maxl = l
		}
	}
	main := t[:1<<tableBits]
	if left > 0 {
		if maxl != 0 && (maxl != 1 || count[1] != 1) {
			return false // incomplete
		}
		for i := range main {
			main[i] = kindInvalid
		}
		if maxl == 0 {
			return true // an empty code: any use of it is an error
		}
	}
	// Symbols in canonical order: by codeword length, then by symbol.
	var offs [maxLen + 2]int
	for l := 1; l <= maxLen; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	var sorted [maxLit]uint16
	for s, l := range lens {
		if l != 0 {
			sorted[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	mask := 1<<tableBits - 1
	next := 1 << tableBits // where the next subtable goes
	prefix, subStart, subBits := -1, 0, 0
	code, k := 0, 0
	for l := 1; l <= maxl; l++ {
		for n := count[l]; n > 0; n-- {
			s := sorted[k]
			k++
			e := info[s] + uint32(l) | uint32(l)<<6
			rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
			code++
			if l <= int(tableBits) {
				for i := rev; i <= mask; i += 1 << l {
					main[i] = e
				}
				continue
			}
			if p := rev & mask; p != prefix {
				// A new subtable: as many bits as the codes that share
				// this prefix need, counted from the codes not yet placed.
				prefix, subStart = p, next
				subBits = l - int(tableBits)
				room := 1 << subBits
				for subBits+int(tableBits) < maxl {
					room -= count[subBits+int(tableBits)]
					if room <= 0 {
						break
					}
					subBits++
					room <<= 1
				}
				next += 1 << subBits
				main[p] = kindSub | uint32(subStart)<<16 | uint32(subBits)<<6 | uint32(tableBits)
			}
			for i := rev >> tableBits; i < 1<<subBits; i += 1 << (l - int(tableBits)) {
				t[subStart+i] = e
			}
			count[l]-- // placed: no longer counts towards later subtables' sizes
		}
		code <<= 1
	}
	return true
}
