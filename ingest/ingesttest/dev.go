package ingesttest

import (
	"bufio"
	"bytes"
	"encoding/json"
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

// DevRecords returns every record of the real logs (CloudTrailDirs, the
// committed copy of the shared data's cloudtrail/dev, named as there),
// whatever its form: delivered log files (.json.gz with a Records array),
// JSON arrays, single-event files, rule-test lines ({"event": ...}) and
// one-record-per-line exports. Files that are not JSON (some upstream
// samples are not) are skipped.
func DevRecords(t testing.TB) []DevRecord {
	t.Helper()
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
	kept := func(p string) bool {
		for _, ext := range []string{".json.gz", ".jsonl", ".json", ".cloudtrail"} {
			if strings.HasSuffix(p, ext) {
				return true
			}
		}
		return false
	}
	sample := Sample(t)
	for _, root := range CloudTrailDirs(t) {
		Files(t, root, kept, func(p string, raw []byte) {
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			if root == sample {
				rel = "invictus-ir-aws_dataset/" + rel // its name under cloudtrail/dev
			}
			switch {
			case strings.HasSuffix(p, ".json.gz"):
				if strings.Contains(rel, "trailscraper-fixtures") {
					return // the same records as the .json beside it
				}
				if b, err := gunzip(raw); err == nil {
					addDoc(rel, gjson.ParseBytes(b))
				}
			case strings.HasSuffix(p, ".jsonl"):
				lines(rel, raw)
			case strings.HasSuffix(p, "STATS.json") || strings.Contains(rel, "/smoke/policy-"):
			case json.Valid(raw):
				addDoc(rel, gjson.ParseBytes(raw))
			default:
				lines(rel, raw)
			}
		})
	}
	if len(out) < 3000 {
		t.Fatalf("only %d records under %v", len(out), CloudTrailDirs(t))
	}
	return out
}
