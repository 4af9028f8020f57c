package ingesttest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// DevRecord is one record of the real logs, with the file it came from
// (relative to cloudtrail/dev) and its position there.
type DevRecord struct {
	Where string
	Index int
	Rec   gjson.Result
}

// Name names the record in test output: its file and eventID (or its
// position when it has none).
func (d DevRecord) Name() string {
	if id := d.Rec.Get("eventID").Str; id != "" {
		return d.Where + " " + id
	}
	return d.Where + " #" + itoa(d.Index)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// DevRecords returns every record of the real logs under the shared data's
// cloudtrail/dev, whatever its form: delivered log files (.json.gz with a
// Records array), JSON arrays, single-event files, rule-test lines
// ({"event": ...}) and one-record-per-line exports. Files that are not
// JSON (some upstream samples are not) are skipped.
func DevRecords(t testing.TB) []DevRecord {
	t.Helper()
	root := filepath.Join(SharedData(t), "cloudtrail", "dev")
	var out []DevRecord
	addDoc := func(where string, doc gjson.Result) {
		add := func(r gjson.Result) {
			// a CloudTrail record, not a catalogue entry describing an
			// event (traildiscover's events.json)
			if r.Get("eventSource").Exists() && (r.Get("userIdentity").Exists() || r.Get("eventTime").Exists()) {
				out = append(out, DevRecord{Where: where, Index: len(out), Rec: r})
			}
		}
		switch {
		case doc.Get("Records").IsArray():
			doc.Get("Records").ForEach(func(_, r gjson.Result) bool { add(r); return true })
		case doc.IsArray():
			doc.ForEach(func(_, r gjson.Result) bool {
				if r.IsObject() {
					add(r)
				}
				return true
			})
		case doc.Get("event").IsObject():
			add(doc.Get("event"))
		case doc.Get("eventName").Exists():
			add(doc)
		}
	}
	lines := func(where string, data []byte) {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if l := bytes.TrimSpace(sc.Bytes()); json.Valid(l) {
				addDoc(where, gjson.ParseBytes(append([]byte(nil), l...)))
			}
		}
	}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasSuffix(p, ".json.gz"):
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				return nil
			}
			b, err := io.ReadAll(zr)
			if err != nil {
				return nil
			}
			if strings.Contains(rel, "trailscraper-fixtures") {
				return nil // the same records as the .json beside it
			}
			addDoc(rel, gjson.ParseBytes(b))
		case strings.HasSuffix(p, ".jsonl"):
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lines(rel, b)
		case strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".cloudtrail"):
			if strings.HasSuffix(p, "STATS.json") || strings.Contains(rel, "/smoke/policy-") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if json.Valid(b) {
				addDoc(rel, gjson.ParseBytes(b))
			} else {
				lines(rel, b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 3000 {
		t.Fatalf("only %d records under %s", len(out), root)
	}
	return out
}
