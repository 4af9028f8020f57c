package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// keys the tests ask a Splitter for, in slot order.
var testKeys = []string{"eventID", "eventTime", "userIdentity", "requestParameters", "responseElements",
	"errorCode", "readOnly", "resources", "eventName", "tlsDetails", "managementEvent", "apiVersion"}

func testSplitter() *Splitter {
	return &Splitter{Fields: len(testKeys), Slot: func(k string) int {
		for i, w := range testKeys {
			if k == w {
				return i
			}
		}
		return -1
	}}
}

// realLogs reads every real log file (ingesttest.CloudTrailDirs),
// decompressed.
func realLogs(t *testing.T) map[string][]byte {
	t.Helper()
	out := realLogsUnder(t)
	if len(out) < 55 {
		t.Fatalf("only %d log files", len(out))
	}
	return out
}

// realLogsUnder reads the log files of every folder of real logs.
func realLogsUnder(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, root := range ingesttest.CloudTrailDirs(t) {
		maps.Copy(out, logsUnder(t, root))
	}
	return out
}

// logsUnder reads the log files below root (Classify), decompressed by
// the package's Reader, by path.
func logsUnder(t testing.TB, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var rd Reader
	isLog := func(p string) bool { return Classify(p) == KindLog }
	ingesttest.Files(t, root, isLog, func(p string, raw []byte) {
		data, err := rd.Read(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[p] = bytes.Clone(data)
	})
	return out
}

// Every value the Splitter hands out is the value gjson finds for the same
// key, on every real record.
func TestSplitAgreesWithGJSON(t *testing.T) {
	sp := testSplitter()
	records := 0
	for path, data := range realLogs(t) {
		want := gjson.GetBytes(data, "Records")
		n, err := sp.Split(data)
		if !want.IsArray() {
			if !errors.Is(err, ErrNotLog) && !errors.Is(err, ErrInvalidJSON) {
				t.Errorf("%s: no Records array, Split says %d, %v", path, n, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		elems := want.Array()
		if n != len(elems) {
			t.Fatalf("%s: %d records, gjson sees %d", path, n, len(elems))
		}
		for i, rec := range elems {
			records++
			if got := sp.Record(i); string(data[got.Start:got.End]) != rec.Raw {
				t.Fatalf("%s record %d: span %q, gjson %q", path, i, data[got.Start:got.End], rec.Raw)
			}
			vals := sp.Values(i)
			for slot, key := range testKeys {
				g := rec.Get(gjson.Escape(key))
				v := vals[slot].Result(data)
				if v.Exists() != g.Exists() || v.Raw != g.Raw || v.Str != g.Str || v.Type != g.Type {
					t.Fatalf("%s record %d key %s: got %v %q %q, gjson %v %q %q", path, i, key, v.Type, v.Raw, v.Str, g.Type, g.Raw, g.Str)
				}
			}
		}
	}
	if records < 2900 {
		t.Fatalf("compared only %d records", records)
	}
}

// Split accepts exactly the documents encoding/json accepts, apart from raw
// control characters inside strings (accepted, by design), on hand-written
// cases and on thousands of mutations of a real file.
func TestSplitValidation(t *testing.T) {
	cases := []string{
		`{"Records":[]}`, `{"Records":[{}]}`, ` {"a":1,"Records":[{"eventID":"x"}],"b":[true,false,null,-0.5e+3]} `,
		`{"Records":[1,"s",[],null]}`, `{"Records":[{"k":"\u00e9\n\"\\"}]}`, `{}`, `[]`, `"x"`, `0`,
		``, ` `, `{`, `{"Records":[`, `{"Records":[}`, `{"Records":[{"a":}]}`, `{"Records":[{"a" 1}]}`,
		`{"Records":[{"a":1,}]}`, `{"Records":[1,]}`, `{"Records":[]}x`, `{"Records":[]}{}`, `{"a":tru}`,
		`{"a":nul}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":.5}`, `{"a":"\x"}`, `{"a":"\u12"}`,
		`{"a":"\u12g4"}`, `{"a":"abc}`, `{'a':1}`, `{"a":1}}`, `{"a":[1,2}`, `{"a":{"b":[}]}`, `{"Records":{"a":1}}`,
		strings.Repeat("[", 600) + strings.Repeat("]", 600), `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
	}
	sp := testSplitter()
	check := func(doc []byte) {
		t.Helper()
		checkSplit(t, sp, doc)
	}
	for _, c := range cases {
		check([]byte(c))
	}
	data := realLogs(t)
	var base []byte
	for _, d := range data {
		if len(d) > 2000 && len(d) < 20000 {
			base = d
			break
		}
	}
	if base == nil {
		t.Fatal("no real file of 2-20 kB")
	}
	// Every truncation point, and random single-byte changes.
	for i := 0; i < len(base); i += 7 {
		check(base[:i])
	}
	alphabet := []byte(`{}[]":,\ tfnrue0123456789.-+Ea/`)
	rng := rand.New(rand.NewSource(1))
	buf := make([]byte, len(base))
	for n := 0; n < 5000; n++ {
		copy(buf, base)
		for k := 0; k < 1+rng.Intn(3); k++ {
			buf[rng.Intn(len(buf))] = alphabet[rng.Intn(len(alphabet))]
		}
		check(buf)
	}
}

// checkSplit splits doc and holds the answer to encoding/json's and
// gjson's: Split accepts exactly what json.Valid accepts (but for raw
// control characters inside strings, and nesting deeper than maxDepth),
// and every record and wanted value it hands out is the one gjson finds
// (for a repeated key, the first one, as gjson's Get has it).
func checkSplit(t *testing.T, sp *Splitter, doc []byte) {
	t.Helper()
	n, err := sp.Split(doc)
	valid := json.Valid(doc)
	got := !errors.Is(err, ErrInvalidJSON)
	if valid != got && !hasControlInString(doc) {
		// The only intended difference besides control characters: nesting deeper than 512.
		if valid && bytes.Count(doc, []byte("["))+bytes.Count(doc, []byte("{")) > maxDepth {
			return
		}
		t.Fatalf("json.Valid=%v but Split err=%v for %q", valid, err, truncate(doc))
	}
	if err != nil {
		if n != 0 {
			t.Fatalf("Split failed (%v) but reports %d records", err, n)
		}
		return
	}
	elems := ingesttest.RecordsArray(doc).Array()
	if n != len(elems) {
		t.Fatalf("%d records, gjson sees %d in %q", n, len(elems), truncate(doc))
	}
	for i, rec := range elems {
		if sp := sp.Record(i); string(doc[sp.Start:sp.End]) != rec.Raw {
			t.Fatalf("record %d: span %q, gjson %q", i, doc[sp.Start:sp.End], rec.Raw)
		}
		first := map[string]gjson.Result{}
		rec.ForEach(func(k, v gjson.Result) bool {
			if _, ok := first[k.Str]; !ok {
				first[k.Str] = v
			}
			return true
		})
		vals := sp.Values(i)
		for slot, key := range testKeys {
			g := first[key]
			v := vals[slot].Result(doc)
			if v.Exists() != g.Exists() || v.Raw != g.Raw || v.Str != g.Str || v.Type != g.Type {
				t.Fatalf("record %d key %s: got %v %q %q, gjson %v %q %q", i, key, v.Type, v.Raw, v.Str, g.Type, g.Raw, g.Str)
			}
		}
	}
}

// FuzzSplit holds Split to checkSplit's rules on any input: it never
// panics, accepts what encoding/json accepts, and hands out what gjson
// finds. The seeds are small real log files and hand-written shapes; run
// it longer with go test ./ingest/cloudtrail -run '^$' -fuzz FuzzSplit.
func FuzzSplit(f *testing.F) {
	for _, seed := range []string{`{"Records":[]}`, `{"Records":[{"eventID":"a","eventID":"b","readOnly":true}]}`,
		`{"x":{"Records":[1]},"Records":[{"userIdentity":{"type":"Root"},"resources":[{"ARN":"a"}]}],"Records":[2]}`,
		"{\"Records\":[{\"eventName\":\"a\\\"b\\u00e9\"}]}\n", ` { "Records" : [ { "eventTime" : -1.5e3 } ] } `} {
		f.Add([]byte(seed))
	}
	for _, data := range logsUnder(f, filepath.Join(ingesttest.Sample(f), "AWSLogs")) {
		if len(data) < 4000 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkSplit(t, testSplitter(), doc)
	})
}

func TestSplitNotLog(t *testing.T) {
	sp := testSplitter()
	for _, doc := range []string{`{}`, `[]`, `{"records":[]}`, `{"Records":{"a":1}}`, `"x"`,
		`{"Records":"x","Records":[{"eventID":"a"}]}`, `{"Records":null,"Records":[{"eventID":"a"}]}`} { // the first Records decides
		if _, err := sp.Split([]byte(doc)); !errors.Is(err, ErrNotLog) {
			t.Errorf("%s: got %v, want ErrNotLog", doc, err)
		}
	}
	// After a bad file, nothing from it is left behind.
	if _, err := sp.Split([]byte(`{"Records":[{"eventID":"a"},{"eventID":"b"}],"x":tru}`)); err == nil {
		t.Fatal("bad literal accepted")
	}
	n, err := sp.Split([]byte(`{"Records":[{"eventID":"c"}]}`))
	if err != nil || n != 1 || sp.Values(0)[0].Result([]byte(`{"Records":[{"eventID":"c"}]}`)).Str != "c" {
		t.Fatalf("after a bad file: n=%d err=%v", n, err)
	}
}

// hasControlInString reports raw bytes below 0x20 inside a JSON string,
// which json.Valid rejects and Split deliberately accepts.
func hasControlInString(doc []byte) bool {
	in := false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case in && c < 0x20:
			return true
		}
	}
	return false
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

func BenchmarkSplit(b *testing.B) {
	var all [][]byte
	var size int64
	for _, data := range logsUnder(b, filepath.Join(ingesttest.Sample(b), "AWSLogs")) {
		all = append(all, data)
		size += int64(len(data))
	}
	if len(all) == 0 {
		b.Fatal("no invictus files")
	}
	b.Run("splitter", func(b *testing.B) {
		sp := testSplitter()
		b.SetBytes(size)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, d := range all {
				if _, err := sp.Split(d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("gjson", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			for _, d := range all {
				_, err := Records(d, func(rec gjson.Result) bool {
					rec.ForEach(func(k, v gjson.Result) bool { return true })
					return true
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// TestStrFindsTheEnd: str's word-at-a-time start and its IndexByte loop
// agree with a byte-by-byte scan on strings with a quote, an escape or a
// multi-byte character at every position of the first words, and with
// the string's end near the end of the input.
func TestStrFindsTheEnd(t *testing.T) {
	scan := func(d []byte) (end int, esc, ok bool) {
		for i := 1; i < len(d); i++ {
			switch d[i] {
			case '\\':
				esc = true
				i++
			case '"':
				return i + 1, esc, true
			}
		}
		return 0, false, false
	}
	inserts := []string{`\"`, `\\`, `\n`, `\u00e9`, `é`, "\x7f", "\xa2", `"`}
	var docs []string
	for n := 0; n < 48; n++ {
		body := strings.Repeat("a", n)
		docs = append(docs, `"`+body+`"`, `"`+body+`"tail`, `"`+body)
		for _, ins := range inserts {
			for at := 0; at <= n; at++ {
				s := `"` + body[:at] + ins + body[at:] + `"`
				docs = append(docs, s, s+`,"next":1}`, s[:len(s)-1])
			}
		}
	}
	var sp Splitter
	for _, doc := range docs {
		sp.d = []byte(doc)
		end, esc, err := sp.str(0)
		wend, wesc, wok := scan(sp.d)
		if (err == nil) != wok || (wok && (end != wend || esc != wesc)) {
			t.Errorf("str(%q) = %d, %v, %v; want %d, %v (ok %v)", doc, end, esc, err, wend, wesc, wok)
		}
	}
	if len(docs) < 10000 {
		t.Fatalf("only %d strings checked", len(docs))
	}
}
