package gunzip

import (
	"bytes"
	"io"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// BenchmarkGunzip decompresses the real CloudTrail files whole, with
// Decoder and with klauspost/compress's streaming reader (what ingest used
// before, and what bench/floor uses). SetBytes counts decompressed bytes.
func BenchmarkGunzip(b *testing.B) {
	var files [][]byte
	var total int64
	for _, l := range realLogs(b) {
		files = append(files, l.raw)
		total += int64(len(l.data))
	}
	b.Run("iamlens", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		var d Decoder
		for b.Loop() {
			for _, f := range files {
				if _, err := d.Decode(f, 1<<30); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		var zr *kgzip.Reader
		var out bytes.Buffer
		for b.Loop() {
			for _, f := range files {
				var err error
				if zr == nil {
					zr, err = kgzip.NewReader(bytes.NewReader(f))
				} else {
					err = zr.Reset(bytes.NewReader(f))
				}
				if err != nil {
					b.Fatal(err)
				}
				out.Reset()
				if _, err := io.Copy(&out, zr); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
