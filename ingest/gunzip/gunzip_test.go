package gunzip

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// realLog is one real CloudTrail log file: as delivered, and decompressed
// by compress/gzip.
type realLog struct {
	path      string
	raw, data []byte
}

// realLogs reads the real CloudTrail log files (the sample and the
// third-party logs of testdata).
func realLogs(t testing.TB) []realLog {
	t.Helper()
	var logs []realLog
	for _, root := range ingesttest.CloudTrailDirs(t) {
		ingesttest.GzipFiles(t, root, func(p string, raw []byte) {
			data, err := stdDecode(raw)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			logs = append(logs, realLog{p, raw, data})
		})
	}
	if len(logs) < 56 {
		t.Fatalf("%d real log files under %v", len(logs), ingesttest.CloudTrailDirs(t))
	}
	return logs
}

// stdDecode is the reference: compress/gzip, reading every member.
func stdDecode(src []byte) ([]byte, error) {
	zr, err := stdgzip.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// gz compresses data with klauspost's gzip writer, stdGz with the
// standard library's.
func gz(t testing.TB, data []byte, level int) []byte {
	var b bytes.Buffer
	zw, err := kgzip.NewWriterLevel(&b, level)
	return written(t, &b, zw, err, data)
}

func stdGz(t testing.TB, data []byte, level int) []byte {
	var b bytes.Buffer
	zw, err := stdgzip.NewWriterLevel(&b, level)
	return written(t, &b, zw, err, data)
}

// written writes data through a new gzip writer into b and closes it.
func written(t testing.TB, b *bytes.Buffer, zw io.WriteCloser, err error, data []byte) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// inputs are contents of many shapes: empty, tiny, runs (distance 1),
// short-period patterns (distances 2..7), text, incompressible bytes
// (stored blocks), two-letter bytes (literal codes of a bit or two, so the
// decode loop takes dozens of literals a turn, and between them long
// matches of what came before), and the real CloudTrail logs.
func inputs(t testing.TB) map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 200_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var twoLetters []byte
	for len(twoLetters) < 200_000 {
		for range 20 + rng.IntN(60) {
			twoLetters = append(twoLetters, "ab"[rng.IntN(2)])
		}
		if len(twoLetters) > 1000 && rng.IntN(2) == 0 {
			at := rng.IntN(len(twoLetters) - 600)
			twoLetters = append(twoLetters, twoLetters[at:at+258+rng.IntN(300)]...)
		}
	}
	words := strings.Fields("the quick brown fox jumps over the lazy dog eventName AssumeRole s3.amazonaws.com")
	var text strings.Builder
	for text.Len() < 300_000 {
		text.WriteString(words[rng.IntN(len(words))])
		text.WriteByte(" \n,{}"[rng.IntN(5)])
	}
	in := map[string][]byte{
		"empty":  {},
		"one":    []byte("a"),
		"run":    bytes.Repeat([]byte{'x'}, 100_000),
		"period": bytes.Repeat([]byte("abc"), 50_000),
		"p7":     bytes.Repeat([]byte("abcdefg"), 20_000),
		"text":   []byte(text.String()),
		"random": random,
		"ab":     twoLetters,
		"mixed":  append(append([]byte(text.String()[:50_000]), random[:70_000]...), bytes.Repeat([]byte("ab"), 40_000)...),
	}
	for _, l := range realLogs(t)[:12] {
		in["real/"+filepath.Base(l.path)] = l.data
	}
	return in
}

// TestDecodeAgreesWithStdlib decompresses every input written at every
// level by two gzip writers (stored, fixed-Huffman, Huffman-only, and
// dynamic blocks) and compares with compress/gzip.
func TestDecodeAgreesWithStdlib(t *testing.T) {
	var d Decoder
	levels := []int{kgzip.NoCompression, kgzip.HuffmanOnly, kgzip.BestSpeed, 2, 3, 4, 5, 6, 7, 8, kgzip.BestCompression}
	checked := 0
	for name, data := range inputs(t) {
		for _, level := range levels {
			for w, src := range [][]byte{gz(t, data, level), stdGz(t, data, max(level, -2))} {
				got, err := d.Decode(src, 1<<30)
				if err != nil {
					t.Fatalf("%s level %d writer %d: %v", name, level, w, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("%s level %d writer %d: %d bytes decoded, want %d", name, level, w, len(got), len(data))
				}
				checked++
			}
		}
	}
	t.Logf("%d streams decoded", checked)
}

// TestRealLogFiles decodes every real CloudTrail file as delivered.
func TestRealLogFiles(t *testing.T) {
	var d Decoder
	for _, l := range realLogs(t) {
		got, err := d.Decode(l.raw, 1<<30)
		if err != nil || !bytes.Equal(got, l.data) {
			t.Fatalf("%s: %v (%d bytes, want %d)", l.path, err, len(got), len(l.data))
		}
	}
}

// TestFixedHuffmanBlock decodes a hand-written fixed-Huffman stream: zlib's
// deflate of "a" is 4b 04 00.
func TestFixedHuffmanBlock(t *testing.T) {
	src := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x4b, 0x04, 0x00,
		0x43, 0xbe, 0xb7, 0xe8, 1, 0, 0, 0} // CRC-32 of "a", length 1
	var d Decoder
	got, err := d.Decode(src, 100)
	if err != nil || string(got) != "a" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// TestMembersAndHeaderFields: several members one after another, with the
// optional header fields (name, comment, extra, header CRC).
func TestMembersAndHeaderFields(t *testing.T) {
	var b bytes.Buffer
	var want []byte
	for i, part := range []string{"first member ", "", "third member with a name and comment"} {
		zw := kgzip.NewWriter(&b)
		zw.Name = "part.json"
		zw.Comment = "member " + string(rune('0'+i))
		zw.Extra = []byte("xx")
		zw.Write([]byte(part))
		zw.Close()
		want = append(want, part...)
	}
	// A header CRC (FHCRC), written by hand: no Go writer sets it.
	hdr := []byte{0x1f, 0x8b, 8, fHCRC | fName, 0, 0, 0, 0, 0, 0xff, 'n', 0}
	crc := crc32.ChecksumIEEE(hdr)
	hdr = append(hdr, byte(crc), byte(crc>>8))
	body := gz(t, []byte("hcrc"), 6)[10:] // the deflate stream and trailer
	b.Write(append(hdr, body...))
	want = append(want, "hcrc"...)

	var d Decoder
	got, err := d.Decode(b.Bytes(), 1<<20)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	ref, err := stdDecode(b.Bytes())
	if err != nil || !bytes.Equal(ref, want) {
		t.Fatalf("compress/gzip disagrees: %q, %v", ref, err)
	}
	hdr[len(hdr)-1] ^= 1 // a wrong header CRC
	if _, err := d.Decode(append(hdr, body...), 100); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong header CRC: %v", err)
	}
}

// TestEveryTruncationFails cuts a file at every length: each must fail as
// corrupt, never panic or succeed.
func TestEveryTruncationFails(t *testing.T) {
	data := inputs(t)["text"][:20_000]
	for _, level := range []int{kgzip.NoCompression, kgzip.HuffmanOnly, 1, 9} {
		src := gz(t, data, level)
		var d Decoder
		for n := 0; n < len(src); n++ {
			if _, err := d.Decode(src[:n], 1<<20); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("level %d cut at %d of %d: %v", level, n, len(src), err)
			}
		}
	}
}

// TestCorruptionIsCaught flips bytes all over real files: every result is
// either an error or, where compress/gzip also accepts the bytes, its
// exact output.
func TestCorruptionIsCaught(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var d Decoder
	errorsSeen := 0
	for name, data := range inputs(t) {
		if len(data) == 0 {
			continue
		}
		src := gz(t, data, 6)
		for i := 0; i < 40; i++ {
			bad := bytes.Clone(src)
			for k := 0; k < 1+rng.IntN(3); k++ {
				bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
			}
			got, err := d.Decode(bad, 1<<30)
			ref, refErr := stdDecode(bad)
			if err != nil {
				errorsSeen++
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: %v is not ErrCorrupt", name, err)
				}
				continue
			}
			if refErr != nil || !bytes.Equal(got, ref) {
				t.Fatalf("%s: accepted bytes compress/gzip rejects (%v) or decoded them differently", name, refErr)
			}
		}
	}
	if errorsSeen == 0 {
		t.Fatal("no corruption was caught")
	}
}

// TestTrailerChecks: a wrong CRC-32, a wrong length and trailing garbage.
func TestTrailerChecks(t *testing.T) {
	src := gz(t, []byte("hello, trailer"), 6)
	var d Decoder
	for name, mutate := range map[string]func([]byte) []byte{
		"crc":     func(b []byte) []byte { b[len(b)-8] ^= 1; return b },
		"length":  func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"garbage": func(b []byte) []byte { return append(b, "junk after"...) },
		"zeros":   func(b []byte) []byte { return append(b, 0, 0, 0, 0) },
	} {
		if _, err := d.Decode(mutate(bytes.Clone(src)), 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestLimit: output past the limit fails with ErrTooLarge, however it is
// made (a run of matches, stored blocks, several members), and output at
// the limit succeeds.
func TestLimit(t *testing.T) {
	var d Decoder
	for _, level := range []int{kgzip.NoCompression, 9} {
		data := bytes.Repeat([]byte("0123456789"), 10_000)
		src := gz(t, data, level)
		if got, err := d.Decode(src, len(data)); err != nil || len(got) != len(data) {
			t.Fatalf("level %d at the limit: %d bytes, %v", level, len(got), err)
		}
		if _, err := d.Decode(src, len(data)-1); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("level %d one past the limit: %v", level, err)
		}
		two := append(bytes.Clone(src), src...)
		if _, err := d.Decode(two, len(data)+10); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("level %d two members: %v", level, err)
		}
	}
	// A lying length in the trailer must not make Decode allocate it.
	bomb := gz(t, make([]byte, 1<<20), 9)
	var small Decoder
	if _, err := small.Decode(bomb, 4096); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("bomb: %v", err)
	}
	if cap(small.out) > 4096+slack {
		t.Fatalf("the output grew to %d bytes past a 4096-byte limit", cap(small.out))
	}
}

// TestBadCodes: streams whose Huffman codes are over-subscribed,
// incomplete, or use reserved symbols, built bit by bit.
func TestBadCodes(t *testing.T) {
	cases := map[string][]bool{
		// BFINAL=1, BTYPE=11 (reserved).
		"reserved block type": lsb(1, 1, 3, 2),
		// BFINAL=1 BTYPE=01 (fixed), then literal/length symbol 286:
		// 8-bit code 11000110, written most significant bit first.
		"symbol 286": append(lsb(1, 1, 1, 2), msb(0b11000110, 8)...),
		// Fixed: length symbol 257 (0000001, 7 bits), then distance code
		// 30 (11110): a distance with no data before it anyway, but the
		// code itself is invalid.
		"distance code 30": append(append(lsb(1, 1, 1, 2), msb(0b0000001, 7)...), msb(0b11110, 5)...),
		// Fixed: length 3 at distance 1 with no output yet.
		"distance too far": append(append(lsb(1, 1, 1, 2), msb(0b0000001, 7)...), msb(0, 5)...),
		// Dynamic: HLIT=0 HDIST=0 HCLEN=0 (4 code-length codes, for
		// symbols 16 17 18 0), all with length 1: over-subscribed.
		"over-subscribed": append(lsb(1, 1, 2, 2, 0, 5, 0, 5, 0, 4), lsb(1, 3, 1, 3, 1, 3, 1, 3)...),
		// Dynamic: code-length code with two codes of length 2:
		// incomplete.
		"incomplete": append(lsb(1, 1, 2, 2, 0, 5, 0, 5, 0, 4), lsb(2, 3, 2, 3, 0, 3, 0, 3)...),
	}
	var d Decoder
	for name, stream := range cases {
		src := member(pack(stream), []byte{})
		if _, err := d.Decode(src, 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := stdDecode(src); err == nil {
			t.Errorf("%s: compress/gzip accepts it, so the case tests nothing", name)
		}
	}
}

// lsb writes values least significant bit first, as deflate's header
// fields are: value, width pairs.
func lsb(vw ...int) []bool {
	var out []bool
	for i := 0; i < len(vw); i += 2 {
		for k := 0; k < vw[i+1]; k++ {
			out = append(out, vw[i]>>k&1 == 1)
		}
	}
	return out
}

// msb writes a Huffman codeword, most significant bit first.
func msb(code, width int) []bool {
	var out []bool
	for k := width - 1; k >= 0; k-- {
		out = append(out, code>>k&1 == 1)
	}
	return out
}

func pack(b []bool) []byte {
	out := make([]byte, (len(b)+7)/8+8) // padding: the decoder must not need it
	for i, v := range b {
		if v {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

// member wraps a deflate stream in a gzip header and a trailer for want.
func member(deflate, want []byte) []byte {
	src := append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, deflate...)
	c := crc32.ChecksumIEEE(want)
	return append(src, byte(c), byte(c>>8), byte(c>>16), byte(c>>24), byte(len(want)), byte(len(want)>>8), 0, 0)
}

// FuzzDecode: whatever the bytes, Decode never panics, and it accepts
// exactly what compress/gzip accepts, with the same output.
func FuzzDecode(f *testing.F) {
	for _, data := range [][]byte{nil, []byte("a"), bytes.Repeat([]byte("abc"), 100), []byte(`{"Records":[{"eventName":"GetObject"}]}`)} {
		for _, level := range []int{0, -2, 1, 9} {
			f.Add(gz(f, data, level))
		}
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := d.Decode(src, 1<<20)
		ref, refErr := stdDecode(src)
		if len(ref) > 1<<20 {
			return
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("Decode: %v; compress/gzip: %v", err, refErr)
		}
		if err == nil && !bytes.Equal(got, ref) {
			t.Fatalf("outputs differ")
		}
	})
}

// TestHugeFileBufferIsNotKept: after a file far above KeepBytes, a small
// file gets a small buffer again.
func TestHugeFileBufferIsNotKept(t *testing.T) {
	var d Decoder
	big := gz(t, make([]byte, 3*KeepBytes), 1)
	if got, err := d.Decode(big, 1<<30); err != nil || len(got) != 3*KeepBytes {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	if cap(d.out) < 3*KeepBytes {
		t.Fatalf("the big file decoded into %d bytes of buffer", cap(d.out))
	}
	if got, err := d.Decode(gz(t, []byte("small"), 6), 1<<30); err != nil || string(got) != "small" {
		t.Fatalf("%q, %v", got, err)
	}
	if cap(d.out) > KeepBytes {
		t.Fatalf("%d bytes of buffer kept after a small file", cap(d.out))
	}
}

// A trailer whose length lies sizes the output buffer wrong, so the decode
// loop meets the buffer's end anywhere in a turn. The worst turn is dozens
// of one-bit literals and then a longest match: a hand-made dynamic block
// where 'a' is one bit and a 258-byte match at distance 1 is three, after n
// literals, for every n up to a hundred and every lie up to 1,500 bytes.
// Each such stream fails its trailer check; none may write past the room
// the loop checked for (a panic).
func TestLyingLengthNeverOverruns(t *testing.T) {
	var d Decoder
	for lits := 1; lits <= 100; lits++ {
		src := oneBitLiterals(lits, 3)
		for size := 1; size < 1500; size++ {
			binary.LittleEndian.PutUint32(src[len(src)-4:], uint32(size))
			var fresh Decoder // its buffer is the lie's size plus the slack
			if _, err := fresh.Decode(src, 1<<30); err == nil {
				t.Fatalf("%d literals: length %d accepted", lits, size)
			}
		}
		// The true length is accepted.
		want := bytes.Repeat([]byte{'a'}, lits+3*258)
		binary.LittleEndian.PutUint32(src[len(src)-4:], uint32(len(want)))
		binary.LittleEndian.PutUint32(src[len(src)-8:], crc32.ChecksumIEEE(want))
		if got, err := d.Decode(src, 1<<30); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d literals: %d bytes, %v", lits, len(got), err)
		}
	}
}

// oneBitLiterals is a gzip member of one dynamic block: lits literal 'a's
// (code 0, one bit), then matches 258-byte matches at distance 1 (length
// code 285 as 11, distance code 0 as 0), then end of block (10). Its
// trailer is zero.
func oneBitLiterals(lits, matches int) []byte {
	var w struct {
		out  []byte
		acc  uint64
		nacc uint
	}
	bits := func(v uint64, n uint) { // LSB first, as deflate packs header fields
		w.acc |= v << w.nacc
		w.nacc += n
		for w.nacc >= 8 {
			w.out = append(w.out, byte(w.acc))
			w.acc >>= 8
			w.nacc -= 8
		}
	}
	code := func(c uint64, n uint) { // a Huffman code, most significant bit first
		for i := int(n) - 1; i >= 0; i-- {
			bits(c>>uint(i)&1, 1)
		}
	}
	bits(1, 1)  // BFINAL
	bits(2, 2)  // dynamic
	bits(29, 5) // HLIT: 286 literal/length codes
	bits(0, 5)  // HDIST: 1 distance code
	bits(15, 4) // HCLEN: all 19 code-length code lengths
	// Code-length codes 0, 1, 2 and 18 of two bits each: 00, 01, 10, 11.
	for _, sym := range []int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15} {
		switch sym {
		case 0, 1, 2, 18:
			bits(2, 3)
		default:
			bits(0, 3)
		}
	}
	zeros := func(n int) { // runs of zero lengths with code 18 (11 to 138)
		for n > 0 {
			k := min(n, 138)
			code(3, 2)
			bits(uint64(k-11), 7)
			n -= k
		}
	}
	zeros(97)  // 0..96
	code(1, 2) // 'a' (97): length 1
	zeros(158) // 98..255
	code(2, 2) // 256 (end of block): length 2
	zeros(28)  // 257..284
	code(2, 2) // 285 (length 258): length 2
	code(1, 2) // distance code 0: length 1
	for range lits {
		code(0, 1)
	}
	for range matches {
		code(3, 2) // length 258
		code(0, 1) // distance 1
	}
	code(2, 2) // end of block
	bits(0, 7) // flush to a byte
	gz := append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, w.out...)
	return append(gz, make([]byte, 8)...)
}
