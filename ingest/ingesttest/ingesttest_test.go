package ingesttest

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"
)

// TestLogRecords: the walk reads the sample's 55 files and 2,900 records
// (testdata/sample/SOURCE.txt); GzipFiles hands out the files as stored.
func TestLogRecords(t *testing.T) {
	raw := 0
	GzipFiles(t, Sample(t), func(p string, b []byte) {
		if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("%s: not gzip as stored", p)
		}
		raw++
	})
	if raw != 55 {
		t.Errorf("GzipFiles: %d files, want 55", raw)
	}
	files, recs := 0, 0
	LogFiles(t, Sample(t), func(string, []byte) { files++ })
	LogRecords(t, Sample(t), func(_ string, r gjson.Result) {
		if r.Get("eventID").Exists() {
			recs++
		}
	})
	if files != 55 || recs != 2900 {
		t.Errorf("%d files, %d records; want 55, 2900", files, recs)
	}
}

// TestLogFilesSkipsAbsentShared: an absent folder under ../shared skips
// the test; one elsewhere fails it.
func TestLogFilesSkipsAbsentShared(t *testing.T) {
	var sub *testing.T
	t.Run("absent", func(t *testing.T) {
		sub = t
		LogFiles(t, filepath.Join(t.TempDir(), "shared", "data", "nope"), func(string, []byte) {})
		t.Error("LogFiles went on past an absent ../shared folder")
	})
	if !sub.Skipped() {
		t.Error("an absent ../shared folder did not skip the test")
	}
}
