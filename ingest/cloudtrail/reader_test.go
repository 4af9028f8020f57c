package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/gunzip"
)

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReader reads gzip and plain files, detects gzip by its magic bytes,
// and reports corrupt and oversized files by kind.
func TestReader(t *testing.T) {
	log := []byte(`{"Records":[{"eventID":"a"}]}`)
	r := Reader{MaxBytes: int64(len(log))}
	for name, src := range map[string][]byte{"gzip": gzipped(t, log), "plain": log} {
		got, err := r.Read(bytes.NewReader(src))
		if err != nil || !bytes.Equal(got, log) {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	truncated := gzipped(t, log)
	truncated = truncated[:len(truncated)-5]
	if _, err := r.Read(bytes.NewReader(truncated)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: %v", err)
	}
	small := Reader{MaxBytes: int64(len(log)) - 1}
	for name, src := range map[string][]byte{"gzip": gzipped(t, log), "plain": log} {
		if _, err := small.Read(bytes.NewReader(src)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s over the cap: %v", name, err)
		}
	}
	// Compressed data far past what the cap can decompress from is not
	// read whole: the reader stops at the cap's worth of input.
	huge := strings.NewReader(strings.Repeat("x", 1<<20))
	if _, err := (&Reader{MaxBytes: 1024}).Read(huge); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge plain file: %v", err)
	}
	if read := 1<<20 - huge.Len(); read > 70_000 {
		t.Errorf("%d bytes of a 1 MiB file were read for a 1 KiB cap", read)
	}
}

// TestReaderDoesNotKeepHugeBuffers: after a file above gunzip.KeepBytes,
// the next file does not keep the big input buffer.
func TestReaderDoesNotKeepHugeBuffers(t *testing.T) {
	var r Reader
	big := bytes.Repeat([]byte(" "), 2*gunzip.KeepBytes)
	if _, err := r.Read(bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	if cap(r.raw) < 2*gunzip.KeepBytes {
		t.Fatalf("the big file was read into %d bytes", cap(r.raw))
	}
	if _, err := r.Read(bytes.NewReader([]byte(`{"Records":[]}`))); err != nil {
		t.Fatal(err)
	}
	if cap(r.raw) > gunzip.KeepBytes {
		t.Fatalf("%d bytes of input buffer kept after a small file", cap(r.raw))
	}
}
