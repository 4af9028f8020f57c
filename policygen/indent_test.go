package policygen

import (
	"bytes"
	"encoding/json"
	"testing"
)

// appendIndented writes what json.Indent writes, for any JSON that
// encoding/json encodes: the values are decoded from the fuzzer's bytes
// and encoded again, so every input is encoding/json's own output.
func FuzzAppendIndented(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `{"a":[]}`, `[{},[],{"":""}]`, `"x"`, `1.5e-7`, `null`, `true`,
		`{"a":"b\"c\\d","e":[1,2,{"f":{}}]}`,
		`{"k:,":"{[\u2028]}","x":"\u00e9\u0001\ud83d\ude00"}`,
		`[[[[[]]]],{"a":{"b":{"c":[null,false]}}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		compact := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		for _, ind := range [][2]string{{"", "  "}, {"  ", "  "}, {">", "\t"}} {
			var want bytes.Buffer
			if err := json.Indent(&want, compact, ind[0], ind[1]); err != nil {
				t.Fatal(err)
			}
			if got := appendIndented(nil, compact, ind[0], ind[1]); !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("%q indented with %q %q:\n%s\nwant\n%s", compact, ind[0], ind[1], got, want.Bytes())
			}
		}
	})
}
