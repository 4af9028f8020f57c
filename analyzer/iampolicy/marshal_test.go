package iampolicy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// refJSON is the reference encoding of a document: each element encoded
// by encoding/json (HTML escaping off), the objects in the documented
// order, the conditions through a map of maps as encoding/json sorts them.
func refJSON(t testing.TB, d Document) []byte {
	enc := func(v any) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	type kv struct{ k, v string }
	obj := func(members []kv) string {
		var parts []string
		for _, m := range members {
			parts = append(parts, enc(m.k)+":"+m.v)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	principal := func(p *Principal) string {
		if p.Wildcard {
			return `"*"`
		}
		m := map[string][]string{}
		for k, v := range p.Types {
			if v == nil {
				v = Values{}
			}
			m[k] = v
		}
		return enc(m)
	}
	var sts []string
	for _, s := range d.Statement {
		var ms []kv
		if s.Sid != "" {
			ms = append(ms, kv{"Sid", enc(s.Sid)})
		}
		ms = append(ms, kv{"Effect", enc(s.Effect)})
		if s.Principal != nil {
			ms = append(ms, kv{"Principal", principal(s.Principal)})
		}
		if s.NotPrincipal != nil {
			ms = append(ms, kv{"NotPrincipal", principal(s.NotPrincipal)})
		}
		for _, f := range []struct {
			k string
			v Values
		}{{"Action", s.Action}, {"NotAction", s.NotAction}, {"Resource", s.Resource}, {"NotResource", s.NotResource}} {
			if f.v != nil {
				ms = append(ms, kv{f.k, enc([]string(f.v))})
			}
		}
		if len(s.Condition) > 0 {
			m := map[string]map[string][]string{}
			for _, c := range s.Condition {
				if m[c.Operator] == nil {
					m[c.Operator] = map[string][]string{}
				}
				vals := c.Values
				if vals == nil {
					vals = []string{}
				}
				m[c.Operator][c.Key] = append(m[c.Operator][c.Key], vals...)
			}
			ms = append(ms, kv{"Condition", enc(m)})
		}
		sts = append(sts, obj(ms))
	}
	var top []kv
	if d.Version != "" {
		top = append(top, kv{"Version", enc(d.Version)})
	}
	if d.ID != "" {
		top = append(top, kv{"Id", enc(d.ID)})
	}
	top = append(top, kv{"Statement", "[" + strings.Join(sts, ",") + "]"})
	return []byte(obj(top))
}

// docFrom makes a document of the strings in in (split on '|'), with every
// kind of element: principals, lists nil, empty and not, conditions that
// repeat an operator and key.
func docFrom(in string) Document {
	f := strings.Split(in, "|")
	at := func(i int) string { return f[i%len(f)] }
	d := Document{Version: at(0), ID: at(1)}
	for i := 0; i < len(f); i += 3 {
		s := Statement{Sid: at(i), Effect: at(i + 1), Action: Values{at(i + 2), at(i)}}
		switch i % 4 {
		case 0:
			s.Principal = &Principal{Wildcard: true}
			s.Resource = Values{}
		case 1:
			s.NotPrincipal = &Principal{Types: map[string]Values{at(i + 1): {at(i)}, at(i + 2): nil}}
			s.NotAction, s.Action = s.Action, nil
		case 2:
			s.Principal = &Principal{Types: map[string]Values{}}
			s.NotResource = Values{at(i + 1)}
		}
		s.Condition = Conditions{
			{Operator: at(i + 2), Key: at(i), Values: []string{at(i + 1)}},
			{Operator: at(i), Key: at(i + 1)},
			{Operator: at(i + 2), Key: at(i), Values: []string{at(i), at(i + 2)}},
			{Operator: at(i + 1), Key: at(i + 1), Values: []string{}},
		}[:i%5]
		d.Statement = append(d.Statement, s)
	}
	return d
}

func checkAppendJSON(t *testing.T, d Document) {
	t.Helper()
	want := refJSON(t, d)
	if got := d.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON:\n%s\nwant\n%s", got, want)
	}
	// As a value inside other JSON (encoding/json checks it).
	if got, err := json.Marshal(d); err != nil || !json.Valid(got) {
		t.Fatalf("json.Marshal: %v", err)
	}
}

// AppendJSON writes encoding/json's bytes: for the documents of the
// package's tests and the managed policies' shapes, and for documents of
// strings that need escaping.
func TestAppendJSONMatchesEncoder(t *testing.T) {
	for _, in := range []string{
		"2012-10-17|id|s3:GetObject|arn:aws:s3:::b/*|Allow|Deny",
		"a&b<c>|\"q\"\\|\u2028\u2029|\x00\x1f\x7f|\xff\xfe|é😀|\t\n\r\b\f",
		"", "|||", "x",
	} {
		checkAppendJSON(t, docFrom(in))
	}
	checkAppendJSON(t, Document{})
	checkAppendJSON(t, Document{Statement: []Statement{}})
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("2012-10-17|id|s3:GetObject|arn:aws:s3:::b/*|Allow")
	f.Add("a&b<c>|\"q\"\\|\u2028|\x00\x1f|\xff|é😀")
	f.Fuzz(func(t *testing.T, in string) {
		checkAppendJSON(t, docFrom(in))
	})
}
