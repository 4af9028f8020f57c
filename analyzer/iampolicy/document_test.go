package iampolicy

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"testing"
)

func TestParseShapes(t *testing.T) {
	const doc = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`
	want := &Document{Version: Version, Statement: []Statement{{
		Effect: Allow, Action: Values{"s3:GetObject"}, Resource: Values{"arn:aws:s3:::b/*"},
	}}}
	quoted, _ := json.Marshal(doc)
	encoded, _ := json.Marshal(url.QueryEscape(doc))
	for name, in := range map[string]string{"object": doc, "string": string(quoted), "url-encoded": string(encoded)} {
		got, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

func TestParseEveryElement(t *testing.T) {
	const in = `{"Id":"x","Version":"2012-10-17","Statement":[
	 {"Sid":"a","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"NotAction":["iam:*"],"NotResource":"*",
	  "Condition":{"Bool":{"aws:MultiFactorAuthPresent":false},"NumericLessThan":{"s3:max-keys":[10,"20"]},
	  "ForAnyValue:StringLikeIfExists":{"aws:TagKeys":"team-*"}}},
	 {"Effect":"Allow","Principal":"*","Action":[],"Resource":["a","b"]}]}`
	d, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Statement[0]
	if d.ID != "x" || s.Sid != "a" || s.Effect != Deny || s.Action != nil || !reflect.DeepEqual(s.NotAction, Values{"iam:*"}) ||
		!reflect.DeepEqual(s.NotResource, Values{"*"}) || s.Resource != nil {
		t.Errorf("statement 0: %+v", s)
	}
	if s.NotPrincipal == nil || !reflect.DeepEqual(s.NotPrincipal.Types["AWS"], Values{"arn:aws:iam::111122223333:root"}) {
		t.Errorf("NotPrincipal: %+v", s.NotPrincipal)
	}
	wantCond := Conditions{
		{Operator: "Bool", Key: "aws:MultiFactorAuthPresent", Values: []string{"false"}},
		{Operator: "ForAnyValue:StringLikeIfExists", Key: "aws:TagKeys", Values: []string{"team-*"}},
		{Operator: "NumericLessThan", Key: "s3:max-keys", Values: []string{"10", "20"}},
	}
	if !reflect.DeepEqual(s.Condition, wantCond) {
		t.Errorf("conditions: %+v", s.Condition)
	}
	q, base, ifExists := s.Condition[1].Parts()
	if q != "ForAnyValue" || base != "StringLike" || !ifExists {
		t.Errorf("Parts: %q %q %v", q, base, ifExists)
	}
	s1 := d.Statement[1]
	if s1.Principal == nil || !s1.Principal.Wildcard || s1.Action == nil || len(s1.Action) != 0 {
		t.Errorf("statement 1: %+v", s1)
	}
}

func TestMarshalDeterministic(t *testing.T) {
	const in = `{"Statement":[{"Condition":{"StringEquals":{"b":"1","a":["2"]},"Bool":{"c":true}},"Resource":"*","Action":"s3:*","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com","AWS":["arn:aws:iam::1:root"]}}],"Version":"2012-10-17"}`
	const want = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root"],"Service":["ec2.amazonaws.com"]},"Action":["s3:*"],"Resource":["*"],"Condition":{"Bool":{"c":["true"]},"StringEquals":{"a":["2"],"b":["1"]}}}]}`
	for i := 0; i < 20; i++ {
		d, err := Parse([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Fatalf("got  %s\nwant %s", b, want)
		}
		again, err := Parse(b)
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("round trip: %v %+v", err, again)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{`[]`, `"not a policy"`, `{"Version":"2012-10-17"}`, `{"Statement":[{"Action":5}]}`,
		`{"Statement":[{"Principal":"arn:aws:iam::1:root"}]}`, `{"Statement":[{"Condition":{"Bool":{"k":{}}}}]}`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: parsed", in)
		}
	}
	if _, err := Parse([]byte(`{"Version":"2012-10-17"}`)); !errors.Is(err, ErrNotDocument) {
		t.Errorf("no Statement: %v", err)
	}
}
